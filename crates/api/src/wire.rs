//! What every area's wire types share: absent, null and required fields,
//! pages and their cursors. Inputs convert into validated domain values in
//! each area's `wire.rs`, collecting every bad field at once; nothing else
//! reaches the domain.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use garage_domain::{
    FieldErrors, Limit, PageRequest, Reason, Sort, SortKey, SortValue, ValueError,
};
use serde::{Deserialize, Deserializer};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{KnownFormat, ObjectBuilder, Required, SchemaFormat, Type};
use utoipa::IntoParams;

use crate::problem::ApiError;

pub(crate) mod instant;

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A field a creation cannot do without.
pub(crate) fn required<I, O>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<I>,
    parse: impl FnOnce(I) -> Result<O, ValueError>,
) -> Option<O> {
    match value {
        Some(value) => errors.check(field, parse(value)),
        None => {
            errors.push(field, Reason::Required, "is required");
            None
        }
    }
}

/// A field of a change: absent leaves it as it is, `null` is refused.
pub(crate) fn change<I, O>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<Option<I>>,
    parse: impl FnOnce(I) -> Result<O, ValueError>,
) -> Option<O> {
    match value {
        None => None,
        Some(None) => {
            errors.push(field, Reason::Required, "must not be null");
            None
        }
        Some(Some(value)) => errors.check(field, parse(value)),
    }
}

/// An optional field, once checked, for `validated`'s build: absent stays
/// absent (`Some(None)`); given, it holds its value, valid since no field
/// failed (`None` only when its error was recorded).
pub(crate) fn optional<T>(checked: Option<Option<T>>) -> Option<Option<T>> {
    match checked {
        None => Some(None),
        Some(value) => value.map(Some),
    }
}

/// The domain input, once no field failed.
pub(crate) fn validated<T>(
    errors: FieldErrors,
    build: impl FnOnce() -> Option<T>,
) -> Result<T, ApiError> {
    errors.finish().map_err(ApiError::Validation)?;
    // No field failed, so every required value is there.
    build().ok_or(ApiError::Internal)
}

/// A calendar date, `YYYY-MM-DD`, from the first car (1886) to 9999.
pub(crate) fn date(raw: &str) -> Result<chrono::NaiveDate, ValueError> {
    use chrono::Datelike;
    let bad = || ValueError::new(Reason::InvalidFormat, "must be a date, YYYY-MM-DD");
    let date = chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| bad())?;
    if !(1886..=9999).contains(&date.year()) || raw.trim().len() != 10 {
        return Err(bad());
    }
    Ok(date)
}

/// A day that has come (a first registration): a date, and not after
/// tomorrow in UTC, today somewhere on Earth.
pub(crate) fn past_date(date: chrono::NaiveDate) -> Result<chrono::NaiveDate, ValueError> {
    let tomorrow = chrono::Utc::now()
        .date_naive()
        .succ_opt()
        .unwrap_or(chrono::NaiveDate::MAX);
    if date > tomorrow {
        return Err(ValueError::new(
            Reason::Refused,
            "must not be a day to come",
        ));
    }
    Ok(date)
}

/// `limit` and `cursor`, shared by every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Items per page, 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Reads the paging parameters, recording what is wrong with them.
pub(crate) fn page_request(
    errors: &mut FieldErrors,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> PageRequest {
    let limit = limit
        .and_then(|l| errors.check("limit", Limit::parse(l)))
        .unwrap_or_default();
    let after = cursor.and_then(|c| errors.check("cursor", decode_cursor(c)));
    PageRequest { limit, after }
}

/// Cursors are opaque to clients; today they carry the last id seen.
fn decode_cursor(cursor: &str) -> Result<i64, ValueError> {
    cursor
        .parse::<i64>()
        .ok()
        .filter(|id| *id >= 0)
        .ok_or_else(|| ValueError::new(Reason::InvalidFormat, "is not a cursor this API returned"))
}

/// A list's `sort`: a key's name, `-` before it for descending; by id
/// when absent.
pub(crate) fn sort_of<K: SortKey>(errors: &mut FieldErrors, raw: Option<&str>) -> Sort<K> {
    let Some(raw) = raw else {
        return Sort::default();
    };
    let (descending, name) = match raw.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, raw),
    };
    match K::named(name) {
        Some(by) => Sort { by, descending },
        None => {
            let names: Vec<&str> = K::ALL.iter().map(|k| k.name()).collect();
            errors.push(
                "sort",
                Reason::InvalidChoice,
                format!(
                    "must be one of {}, each with - before it to reverse",
                    names.join(", ")
                ),
            );
            Sort::default()
        }
    }
}

fn sort_name<K: SortKey>(sort: Sort<K>) -> String {
    format!(
        "{}{}",
        if sort.descending { "-" } else { "" },
        sort.by.name()
    )
}

/// The cursor of the page after the item `id` whose sort value is `value`:
/// the id alone in id order, else the sort, the id and the value, so a
/// cursor is refused under another sort.
pub(crate) fn cursor_of<K: SortKey>(sort: Sort<K>, id: i64, value: Option<SortValue>) -> String {
    if sort == Sort::default() {
        return id.to_string();
    }
    let value = match value {
        None => String::new(),
        Some(SortValue::Int(n)) => format!(":i{n}"),
        Some(SortValue::Text(text)) => format!(":t{text}"),
        Some(SortValue::Time(at)) => format!(
            ":d{}",
            at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        ),
    };
    format!("{}:{id}{value}", sort_name(sort))
}

/// The paging parameters of a sorted list: the page, and the sort value of
/// the item it starts after.
pub(crate) fn sorted_page_request<K: SortKey>(
    errors: &mut FieldErrors,
    limit: Option<i64>,
    cursor: Option<&str>,
    sort: Sort<K>,
) -> (PageRequest, Option<SortValue>) {
    if sort == Sort::default() {
        return (page_request(errors, limit, cursor), None);
    }
    let mut page = page_request(errors, limit, None);
    let Some(cursor) = cursor else {
        return (page, None);
    };
    match decode_sorted_cursor(cursor, &sort_name(sort)).and_then(|(id, value)| {
        if sort.by.fits(value.as_ref()) {
            Ok((id, value))
        } else {
            Err(ValueError::new(
                Reason::InvalidFormat,
                "is not a cursor this API returned for this sort",
            ))
        }
    }) {
        Ok((id, value)) => {
            page.after = Some(id);
            (page, value)
        }
        Err(err) => {
            errors.push("cursor", err.reason, err.message);
            (page, None)
        }
    }
}

fn decode_sorted_cursor(cursor: &str, sort: &str) -> Result<(i64, Option<SortValue>), ValueError> {
    let bad = || {
        ValueError::new(
            Reason::InvalidFormat,
            "is not a cursor this API returned for this sort",
        )
    };
    let mut parts = cursor.splitn(3, ':');
    if parts.next() != Some(sort) {
        return Err(bad());
    }
    let id = parts
        .next()
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id >= 0)
        .ok_or_else(bad)?;
    let value = match parts.next() {
        None => None,
        Some(value) => Some(match value.split_at_checked(1) {
            Some(("i", n)) => SortValue::Int(n.parse().map_err(|_| bad())?),
            // Never a control character: a name or a plate holds none
            // (and PostgreSQL refuses a NUL).
            Some(("t", text)) if !text.chars().any(char::is_control) => {
                SortValue::Text(text.to_owned())
            }
            Some(("d", at)) => SortValue::Time(
                chrono::DateTime::parse_from_rfc3339(at)
                    .map_err(|_| bad())?
                    .to_utc(),
            ),
            _ => return Err(bad()),
        }),
    };
    Ok((id, value))
}

pub(crate) fn bad_query(errors: FieldErrors) -> Result<(), ApiError> {
    errors.finish().map_err(ApiError::BadQuery)
}

impl PageQuery {
    pub fn try_into_domain(self) -> Result<PageRequest, ApiError> {
        let mut errors = FieldErrors::new();
        let page = page_request(&mut errors, self.limit, self.cursor.as_deref());
        bad_query(errors)?;
        Ok(page)
    }
}

/// An id a request's path names, read through the domain's parser: one no
/// resource can have (zero, negative) names none, a 404; one that is not a
/// number is a 400. The handler takes `InPath<GarageId>`, and the OpenAPI
/// document lists it with `params(InPath<GarageId>)`, from this one place.
pub(crate) trait PathId: Sized {
    /// The path segment, `{id}` in `/garages/{id}`.
    const SEGMENT: &'static str;
    /// Its description in the document.
    const DESCRIPTION: &'static str;
    /// What a 404 calls it.
    const NOUN: &'static str;
    fn parse(raw: i64) -> Result<Self, ValueError>;
}

/// Declares a domain id a path segment (see [`PathId`]).
macro_rules! path_id {
    ($id:ty, $segment:literal, $description:literal, $noun:literal) => {
        impl $crate::wire::PathId for $id {
            const SEGMENT: &'static str = $segment;
            const DESCRIPTION: &'static str = $description;
            const NOUN: &'static str = $noun;
            fn parse(raw: i64) -> ::std::result::Result<Self, garage_domain::ValueError> {
                <$id>::parse(raw)
            }
        }
    };
}
pub(crate) use path_id;

/// The id in the path, parsed (see [`PathId`]).
pub(crate) struct InPath<T>(pub T);

impl<T: PathId> InPath<T> {
    fn read(req: &HttpRequest) -> Result<Self, ApiError> {
        let segment = req.match_info().get(T::SEGMENT).unwrap_or_default();
        let raw: i64 = segment.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "the path is invalid: can not parse {segment:?} to a i64"
            ))
        })?;
        T::parse(raw)
            .map(Self)
            .map_err(|_| ApiError::NotFound(format!("{} {raw} does not exist", T::NOUN)))
    }
}

impl<T: PathId> FromRequest for InPath<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::read(req))
    }
}

impl<T: PathId> IntoParams for InPath<T> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name(T::SEGMENT)
            .parameter_in(ParameterIn::Path)
            .description(Some(T::DESCRIPTION))
            .required(Required::True)
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
            ))
            .build()]
    }
}

/// Declares the page type of a list: the body handlers send and the schema
/// the OpenAPI document shows are one type.
macro_rules! page_of {
    ($(#[$doc:meta])* $page:ident of $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $page {
            items: Vec<$item>,
            /// Where the next page starts; `null` on the last page.
            next_cursor: Option<String>,
        }

        impl $page {
            pub fn from_page<E>(page: garage_domain::Page<E>) -> Self
            where
                $item: From<E>,
            {
                Self {
                    items: page.items.into_iter().map(<$item>::from).collect(),
                    next_cursor: page.next_after.map(|id| id.to_string()),
                }
            }

            /// A page of a sorted list, its cursor made by `cursor` from
            /// its last item and that item's id.
            pub fn from_sorted_page<E>(
                page: garage_domain::Page<E>,
                cursor: impl Fn(&E, i64) -> String,
            ) -> Self
            where
                $item: From<E>,
            {
                let next_cursor = page
                    .next_after
                    .and_then(|id| page.items.last().map(|last| cursor(last, id)));
                Self {
                    items: page.items.into_iter().map(<$item>::from).collect(),
                    next_cursor,
                }
            }
        }
    };
}
pub(crate) use page_of;

#[cfg(test)]
mod tests {
    use garage_domain::FieldError;

    use super::*;
    use crate::garages::{CreateGarage, UpdateGarage};
    use crate::vehicles::{CreateVehicle, VehicleQuery};

    fn fields(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(errors) | ApiError::BadQuery(errors) => {
                errors.into_iter().map(|e: FieldError| e.field).collect()
            }
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn a_creation_lists_every_missing_and_invalid_field() {
        let body: CreateVehicle =
            serde_json::from_str(r#"{"garage_id": 0, "year": 1700, "license_plate": "!"}"#)
                .unwrap();
        assert_eq!(
            fields(body.try_into_domain().unwrap_err()),
            ["garage_id", "brand", "model", "year", "license_plate"]
        );
    }

    #[test]
    fn a_change_refuses_null_but_null_capacity_removes_the_limit() {
        let body: UpdateGarage = serde_json::from_str(r#"{"capacity": null}"#).unwrap();
        assert_eq!(body.try_into_domain().unwrap().capacity, Some(None));
        let body: UpdateGarage = serde_json::from_str(r#"{"name": null}"#).unwrap();
        assert_eq!(fields(body.try_into_domain().unwrap_err()), ["name"]);
        let body: UpdateGarage = serde_json::from_str("{}").unwrap();
        assert!(body.try_into_domain().unwrap().is_empty());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(
            serde_json::from_str::<CreateGarage>(r#"{"name":"a","address":"b","x":1}"#).is_err()
        );
    }

    #[test]
    fn paging_parameters_are_checked() {
        // As actix reads a query string.
        let query = actix_web::web::Query::<VehicleQuery>::from_query(
            "limit=0&cursor=abc&plate=a&garage_id=-1&vin=VF1",
        )
        .unwrap()
        .into_inner();
        assert_eq!(
            fields(query.try_into_domain().unwrap_err()),
            ["limit", "cursor", "plate", "garage_id", "vin"]
        );
    }

    #[actix_web::test]
    async fn a_path_id_is_read_through_the_domain_parser() {
        use actix_web::{test, web, App};
        use garage_domain::{DeliveryId, WebhookId};

        let app = test::init_service(App::new().route(
            "/w/{id}/d/{delivery_id}",
            web::get().to(
                |InPath(w): InPath<WebhookId>, InPath(d): InPath<DeliveryId>| async move {
                    format!("{w} {d}")
                },
            ),
        ))
        .await;
        let get = |uri: &'static str| test::TestRequest::get().uri(uri).to_request();
        let ok = test::call_service(&app, get("/w/3/d/4")).await;
        assert_eq!(ok.status(), 200);
        assert_eq!(test::read_body(ok).await, "3 4");
        for (uri, status, detail) in [
            ("/w/0/d/4", 404, "webhook 0 does not exist"),
            ("/w/3/d/-1", 404, "delivery -1 does not exist"),
            ("/w/x/d/1", 400, "can not parse \"x\""),
            ("/w/1/d/99999999999999999999", 400, "to a i64"),
        ] {
            let answer = test::call_service(&app, get(uri)).await;
            assert_eq!(answer.status(), status, "{uri}");
            let body: serde_json::Value = test::read_body_json(answer).await;
            let said = body["detail"].as_str().unwrap();
            assert!(said.contains(detail), "{uri}: {said}");
        }
    }
}
