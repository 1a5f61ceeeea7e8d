//! Wire types: what clients send and receive. Inputs convert into validated
//! domain values here, collecting every bad field at once; nothing else
//! reaches the domain.

use chrono::{DateTime, Utc};
use garage_domain::{
    Address, Brand, Capacity, FieldErrors, Garage, GarageChanges, GarageFilter, GarageId,
    GarageName, LicensePlate, Limit, ModelName, ModelYear, NewGarage, NewVehicle, Page,
    PageRequest, ValueError, Vehicle, VehicleChanges, VehicleFilter, Vin,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A field a creation cannot do without.
fn required<I, O>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<I>,
    parse: impl FnOnce(I) -> Result<O, ValueError>,
) -> Option<O> {
    match value {
        Some(value) => errors.check(field, parse(value)),
        None => {
            errors.push(field, "is required");
            None
        }
    }
}

/// A field of a change: absent leaves it as it is, `null` is refused.
fn change<I, O>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<Option<I>>,
    parse: impl FnOnce(I) -> Result<O, ValueError>,
) -> Option<O> {
    match value {
        None => None,
        Some(None) => {
            errors.push(field, "must not be null");
            None
        }
        Some(Some(value)) => errors.check(field, parse(value)),
    }
}

/// The domain input, once no field failed.
fn validated<T>(errors: FieldErrors, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
    errors.finish().map_err(ApiError::Validation)?;
    // No field failed, so every required value is there.
    build().ok_or(ApiError::Internal)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGarage {
    /// Trimmed; 1 to 100 characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100, example = "Garage du Nord")]
    name: Option<String>,
    /// Trimmed; 1 to 200 characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200, example = "12 rue de Lille, Paris")]
    address: Option<String>,
    /// The most vehicles it may hold; absent or `null` means no limit.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000)]
    capacity: Option<i64>,
}

impl CreateGarage {
    pub fn try_into_domain(self) -> Result<NewGarage, ApiError> {
        let mut errors = FieldErrors::new();
        let name = required(&mut errors, "name", self.name, |s| GarageName::parse(&s));
        let address = required(&mut errors, "address", self.address, |s| Address::parse(&s));
        let capacity = self
            .capacity
            .map(|c| errors.check("capacity", Capacity::parse(c)));
        validated(errors, || {
            Some(NewGarage {
                name: name?,
                address: address?,
                capacity: match capacity {
                    None => None,
                    Some(parsed) => Some(parsed?),
                },
            })
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGarage {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    address: Option<Option<String>>,
    /// `null` removes the limit.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000)]
    capacity: Option<Option<i64>>,
}

impl UpdateGarage {
    pub fn try_into_domain(self) -> Result<GarageChanges, ApiError> {
        let mut errors = FieldErrors::new();
        let name = change(&mut errors, "name", self.name, |s| GarageName::parse(&s));
        let address = change(&mut errors, "address", self.address, |s| Address::parse(&s));
        let capacity = self
            .capacity
            .map(|c| c.map(|c| errors.check("capacity", Capacity::parse(c))));
        validated(errors, || {
            Some(GarageChanges {
                name,
                address,
                capacity: match capacity {
                    None => None,
                    Some(None) => Some(None),
                    Some(Some(parsed)) => Some(Some(parsed?)),
                },
            })
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVehicle {
    /// An existing garage with room for one more vehicle.
    #[schema(value_type = i64, required = true, minimum = 1)]
    garage_id: Option<i64>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 50, example = "Renault")]
    brand: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 50, example = "Clio")]
    model: Option<String>,
    /// From 1886 to next year.
    #[schema(value_type = i64, required = true, minimum = 1886, example = 2021)]
    year: Option<i64>,
    /// Letters, digits, spaces, hyphens and dots; stored as its 2 to 12
    /// letters and digits, upper-cased. Unique.
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9 .-]+$", example = "AB-123-CD")]
    license_plate: Option<String>,
    /// Optional: 17 letters (not I, O or Q) and digits, any case; unique.
    #[schema(value_type = Option<String>, pattern = "^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$", example = "VF1RFB00X12345678")]
    vin: Option<String>,
}

impl CreateVehicle {
    pub fn try_into_domain(self) -> Result<NewVehicle, ApiError> {
        let mut errors = FieldErrors::new();
        let garage_id = required(&mut errors, "garage_id", self.garage_id, GarageId::parse);
        let brand = required(&mut errors, "brand", self.brand, |s| Brand::parse(&s));
        let model = required(&mut errors, "model", self.model, |s| ModelName::parse(&s));
        let year = required(&mut errors, "year", self.year, ModelYear::parse);
        let plate = required(&mut errors, "license_plate", self.license_plate, |s| {
            LicensePlate::parse(&s)
        });
        let vin = self.vin.map(|v| errors.check("vin", Vin::parse(&v)));
        validated(errors, || {
            Some(NewVehicle {
                garage_id: garage_id?,
                brand: brand?,
                model: model?,
                year: year?,
                license_plate: plate?,
                vin: match vin {
                    None => None,
                    Some(parsed) => Some(parsed?),
                },
            })
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVehicle {
    /// Another garage moves the vehicle there, if it has room.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i64, minimum = 1)]
    garage_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 50)]
    brand: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 50)]
    model: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i64, minimum = 1886)]
    year: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, pattern = "^[A-Za-z0-9 .-]+$")]
    license_plate: Option<Option<String>>,
    /// `null` removes the VIN.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = "^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$")]
    vin: Option<Option<String>>,
}

impl UpdateVehicle {
    pub fn try_into_domain(self) -> Result<VehicleChanges, ApiError> {
        let mut errors = FieldErrors::new();
        let vin = self
            .vin
            .map(|v| v.map(|v| errors.check("vin", Vin::parse(&v))));
        let changes = VehicleChanges {
            garage_id: change(&mut errors, "garage_id", self.garage_id, GarageId::parse),
            brand: change(&mut errors, "brand", self.brand, |s| Brand::parse(&s)),
            model: change(&mut errors, "model", self.model, |s| ModelName::parse(&s)),
            year: change(&mut errors, "year", self.year, ModelYear::parse),
            license_plate: change(&mut errors, "license_plate", self.license_plate, |s| {
                LicensePlate::parse(&s)
            }),
            vin: None,
        };
        validated(errors, || {
            Some(VehicleChanges {
                vin: match vin {
                    None => None,
                    Some(None) => Some(None),
                    Some(Some(parsed)) => Some(Some(parsed?)),
                },
                ..changes
            })
        })
    }
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
fn page_request(errors: &mut FieldErrors, limit: Option<i64>, cursor: Option<&str>) -> PageRequest {
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
        .ok_or_else(|| ValueError("is not a cursor this API returned".into()))
}

fn bad_query(errors: FieldErrors) -> Result<(), ApiError> {
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GarageQuery {
    /// Items per page, 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Part of a garage's name, any case.
    #[param(max_length = 100)]
    q: Option<String>,
}

impl GarageQuery {
    pub fn try_into_domain(self) -> Result<(GarageFilter, PageRequest), ApiError> {
        let mut errors = FieldErrors::new();
        let page = page_request(&mut errors, self.limit, self.cursor.as_deref());
        // A search is held to a name's rules (no control characters, which
        // PostgreSQL would refuse), except that an empty one means "all".
        let name_contains = self
            .q
            .filter(|q| !q.trim().is_empty())
            .and_then(|q| errors.check("q", GarageName::parse(&q)))
            .map(GarageName::into_inner);
        bad_query(errors)?;
        Ok((
            GarageFilter {
                name_contains,
                within: None,
            },
            page,
        ))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VehicleQuery {
    /// Items per page, 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// A plate in any spelling.
    plate: Option<String>,
    /// A brand, any case.
    #[param(min_length = 1, max_length = 50)]
    brand: Option<String>,
    #[param(minimum = 1)]
    garage_id: Option<i64>,
    /// A VIN, any case.
    #[param(pattern = "^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$")]
    vin: Option<String>,
}

impl VehicleQuery {
    pub fn try_into_domain(self) -> Result<(VehicleFilter, PageRequest), ApiError> {
        let mut errors = FieldErrors::new();
        let page = page_request(&mut errors, self.limit, self.cursor.as_deref());
        let filter = vehicle_filter(
            &mut errors,
            self.plate,
            self.brand,
            self.garage_id,
            self.vin,
        );
        bad_query(errors)?;
        Ok((filter, page))
    }
}

/// The filters of the vehicle list, shared with the export.
fn vehicle_filter(
    errors: &mut FieldErrors,
    plate: Option<String>,
    brand: Option<String>,
    garage_id: Option<i64>,
    vin: Option<String>,
) -> VehicleFilter {
    VehicleFilter {
        plate: plate.and_then(|p| errors.check("plate", LicensePlate::parse(&p))),
        brand: brand
            .and_then(|b| errors.check("brand", Brand::parse(&b)))
            .map(Brand::into_inner),
        garage_id: garage_id.and_then(|g| errors.check("garage_id", GarageId::parse(g))),
        vin: vin.and_then(|v| errors.check("vin", Vin::parse(&v))),
        within: None,
    }
}

/// The formats of an export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    #[default]
    Csv,
    Json,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `csv` (the default) or `json` (an array of vehicles).
    #[serde(default)]
    #[param(inline)]
    pub format: ExportFormat,
    /// A plate in any spelling.
    plate: Option<String>,
    /// A brand, any case.
    #[param(min_length = 1, max_length = 50)]
    brand: Option<String>,
    #[param(minimum = 1)]
    garage_id: Option<i64>,
    /// A VIN, any case.
    #[param(pattern = "^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$")]
    vin: Option<String>,
}

impl ExportQuery {
    pub fn try_into_domain(self) -> Result<(ExportFormat, VehicleFilter), ApiError> {
        let mut errors = FieldErrors::new();
        let filter = vehicle_filter(
            &mut errors,
            self.plate,
            self.brand,
            self.garage_id,
            self.vin,
        );
        bad_query(errors)?;
        Ok((self.format, filter))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Checks every row and reports, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GarageBody {
    id: i64,
    name: String,
    address: String,
    /// `null`: no limit.
    capacity: Option<u32>,
    /// The vehicles it holds now.
    vehicle_count: u32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Garage> for GarageBody {
    fn from(g: Garage) -> Self {
        Self {
            id: g.id.get(),
            name: g.name.into_inner(),
            address: g.address.into_inner(),
            capacity: g.capacity.map(Capacity::get),
            vehicle_count: g.vehicle_count,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VehicleBody {
    id: i64,
    garage_id: i64,
    brand: String,
    model: String,
    year: u16,
    /// Canonical: upper-case letters and digits.
    license_plate: String,
    /// Upper-case, or `null`.
    vin: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Vehicle> for VehicleBody {
    fn from(v: Vehicle) -> Self {
        Self {
            id: v.id.get(),
            garage_id: v.garage_id.get(),
            brand: v.brand.into_inner(),
            model: v.model.into_inner(),
            year: v.year.get(),
            license_plate: v.license_plate.as_str().to_owned(),
            vin: v.vin.map(|v| v.as_str().to_owned()),
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A page of a list: `next_cursor` is `null` on the last page.
#[derive(Debug, Serialize)]
pub struct PageBody<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

impl<T> PageBody<T> {
    pub fn from_page<E>(page: Page<E>) -> Self
    where
        T: From<E>,
    {
        Self {
            items: page.items.into_iter().map(T::from).collect(),
            next_cursor: page.next_after.map(|id| id.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use garage_domain::FieldError;

    use super::*;

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
        let query = VehicleQuery {
            limit: Some(0),
            cursor: Some("abc".into()),
            plate: Some("a".into()),
            brand: None,
            garage_id: Some(-1),
            vin: Some("VF1".into()),
        };
        assert_eq!(
            fields(query.try_into_domain().unwrap_err()),
            ["limit", "cursor", "plate", "garage_id", "vin"]
        );
    }
}
