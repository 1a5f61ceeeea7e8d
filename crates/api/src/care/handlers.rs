//! `/api/v1/vehicles/{id}/odometer`, `…/plans`, `…/care`, `/api/v1/reminders`
//! and `/api/v1/calendars`.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{web, HttpResponse};
use garage_domain::care::CareService;
use garage_domain::care::PlanVersion;
use garage_domain::CalendarId;

use super::wire::{
    CalendarBody, CalendarList, CalendarQuery, CalendarWithToken, CareBody, CreateCalendar,
    CreateReading, DoneBody, MarkDone, PlanBody, PlanPath, PlanTag, PutPlan, ReadingBody,
    ReadingPage, RecordBody, RecordPage, ReminderBody, ReminderPageBody, ReminderQuery,
};
use crate::conditional::{not_modified, tagged, Precondition};
use crate::edge::Care;
use crate::problem::ApiError;
use crate::wire::{InPath, PageQuery};

crate::wire::path_id!(CalendarId, "id", "The calendar token's id", "calendar");

type Result<T = HttpResponse> = std::result::Result<T, ApiError>;

/// The vehicle's odometer readings, the latest recorded first.
#[utoipa::path(get, path = "/api/v1/vehicles/{id}/odometer", tag = "care", operation_id = "list_readings",
    params(InPath<garage_domain::VehicleId>, PageQuery),
    responses(
        (status = 200, description = "A page of readings", body = ReadingPage),
        (status = 404, description = "No such vehicle", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_readings(
    care: Care,
    InPath(id): InPath<garage_domain::VehicleId>,
    query: web::Query<PageQuery>,
) -> Result {
    let page = care
        .readings(id, query.into_inner().try_into_domain()?)
        .await?;
    crate::body::json(HttpResponse::Ok(), &ReadingPage::from_page(page))
}

/// Records an odometer reading. It may not go below a reading taken
/// before it (nor above one taken after it), unless an admin key marks it
/// as a correction; the vehicle's `odometer_km` shows the latest reading.
#[utoipa::path(post, path = "/api/v1/vehicles/{id}/odometer", tag = "care", operation_id = "record_reading",
    params(InPath<garage_domain::VehicleId>, crate::idempotency::IdempotencyKeyParam),
    request_body = CreateReading,
    responses(
        (status = 201, description = "Recorded", body = ReadingBody),
        (status = 403, description = "A correction by a key that is not an admin's", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such vehicle", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Below an earlier reading (or above a later one)", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a date to come", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn record_reading(
    care: Care,
    InPath(id): InPath<garage_domain::VehicleId>,
    body: crate::body::JsonObject<CreateReading>,
) -> Result {
    let reading = body.0.try_into_domain(care.today())?;
    let reading = care.record_reading(id, reading).await?;
    crate::body::json(HttpResponse::Created(), &ReadingBody::from(reading))
}

/// The vehicle's care: its odometer, its plans with when each is due and
/// how urgent, and the latest work done.
#[utoipa::path(get, path = "/api/v1/vehicles/{id}/care", tag = "care", operation_id = "get_care",
    params(InPath<garage_domain::VehicleId>),
    responses(
        (status = 200, description = "The vehicle's care", body = CareBody),
        (status = 404, description = "No such vehicle", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_care(care: Care, InPath(id): InPath<garage_domain::VehicleId>) -> Result {
    let view = care.care(id).await?;
    crate::body::json(HttpResponse::Ok(), &CareBody::of(id, view))
}

/// The work done on the vehicle, the latest recorded first.
#[utoipa::path(get, path = "/api/v1/vehicles/{id}/records", tag = "care", operation_id = "list_records",
    params(InPath<garage_domain::VehicleId>, PageQuery),
    responses(
        (status = 200, description = "A page of work done", body = RecordPage),
        (status = 404, description = "No such vehicle", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_records(
    care: Care,
    InPath(id): InPath<garage_domain::VehicleId>,
    query: web::Query<PageQuery>,
) -> Result {
    let page = care
        .records(id, query.into_inner().try_into_domain()?)
        .await?;
    crate::body::json(HttpResponse::Ok(), &RecordPage::from_page(page))
}

/// The plan and its status; its `ETag` moves on with each new due point.
async fn plan_of(care: &CareService, path: &PlanPath) -> Result<PlanBody> {
    plan_if_any(care, path).await?.ok_or_else(|| {
        ApiError::from(garage_domain::Error::PlanNotFound {
            vehicle: path.vehicle,
            kind: path.kind.to_string(),
        })
    })
}

/// The plan, or `None` when the vehicle (which must exist) has none.
async fn plan_if_any(care: &CareService, path: &PlanPath) -> Result<Option<PlanBody>> {
    Ok(care
        .plan(path.vehicle, &path.kind)
        .await?
        .map(|(plan, due, status)| PlanBody::of(plan, due, status)))
}

/// One plan of the vehicle, with when it is next due.
#[utoipa::path(get, path = "/api/v1/vehicles/{id}/plans/{kind}", tag = "care", operation_id = "get_plan",
    params(PlanPath, crate::conditional::IfNoneMatchParam),
    responses(
        (status = 200, description = "The plan", body = PlanBody, headers(("ETag" = String))),
        (status = 304, response = inline(crate::conditional::NotModified)),
        (status = 404, description = "No such vehicle or plan", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_plan(req: actix_web::HttpRequest, care: Care, path: PlanPath) -> Result {
    let plan = plan_of(&care, &path).await?;
    if let Some(not_modified) = not_modified(&req, plan.tag()) {
        return Ok(not_modified);
    }
    Ok(tagged(HttpResponse::Ok(), plan.tag()).json(plan))
}

/// The plan an `If-Match` asks for.
async fn expected(
    req: &actix_web::HttpRequest,
    care: &CareService,
    path: &PlanPath,
) -> Result<Option<PlanVersion>> {
    // With any If-Match, the plan must be there (RFC 9110 §13.1.1): a
    // write that would create it is a 412, `*` included.
    let current = async {
        plan_if_any(care, path)
            .await?
            .map(|p| p.tag())
            .ok_or(ApiError::PreconditionFailed)
    };
    let any = req
        .headers()
        .get(actix_web::http::header::IF_MATCH)
        .is_some_and(|v| v.as_bytes().trim_ascii() == b"*");
    if any {
        return Ok(Some(current.await?.version));
    }
    let tag = Precondition::<PlanTag>::from_request(req)?
        .version(current)
        .await?;
    Ok(tag.map(|t| t.version))
}

/// Sets up the vehicle's plan of this kind, or replaces it: due every so
/// many months and/or km from when it was last done, or on a date, or as
/// a preset says. A replaced plan keeps when it was last done unless told,
/// and its reminders start again. With `If-Match`, only over the plan at
/// that `ETag`.
#[utoipa::path(put, path = "/api/v1/vehicles/{id}/plans/{kind}", tag = "care", operation_id = "put_plan",
    params(PlanPath, crate::conditional::IfMatchParam),
    request_body = PutPlan,
    responses(
        (status = 200, description = "The plan", body = PlanBody, headers(("ETag" = String))),
        (status = 404, description = "No such vehicle", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = inline(crate::conditional::PreconditionFailed)),
        (status = 422, description = "Invalid fields, no schedule, a preset the vehicle lacks a date for, or a distance without a reading to count from", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn put_plan(
    req: actix_web::HttpRequest,
    care: Care,
    path: PlanPath,
    body: crate::body::JsonObject<PutPlan>,
) -> Result {
    let input = body.0.try_into_domain()?;
    let expected = expected(&req, &care, &path).await?;
    care.put_plan(path.vehicle, path.kind.clone(), input, expected)
        .await?;
    let plan = plan_of(&care, &path).await?;
    Ok(tagged(HttpResponse::Ok(), plan.tag()).json(plan))
}

/// Deletes the plan (with `If-Match`, only at that `ETag`); the work
/// recorded on it stays.
#[utoipa::path(delete, path = "/api/v1/vehicles/{id}/plans/{kind}", tag = "care", operation_id = "delete_plan",
    params(PlanPath, crate::conditional::IfMatchParam),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such vehicle or plan", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = inline(crate::conditional::PreconditionFailed)),
    ))]
pub(crate) async fn delete_plan(req: actix_web::HttpRequest, care: Care, path: PlanPath) -> Result {
    let expected = expected(&req, &care, &path).await?;
    care.delete_plan(path.vehicle, path.kind, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Records work done on the plan: it then counts from this date and
/// distance, and a new cycle of reminders begins.
#[utoipa::path(post, path = "/api/v1/vehicles/{id}/plans/{kind}/done", tag = "care", operation_id = "mark_done",
    params(PlanPath, crate::idempotency::IdempotencyKeyParam),
    request_body = MarkDone,
    responses(
        (status = 201, description = "Recorded; the plan advanced", body = DoneBody),
        (status = 404, description = "No such vehicle or plan", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = inline(crate::conditional::PreconditionFailed)),
        (status = 422, description = "Invalid fields, or a date to come", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn mark_done(
    care: Care,
    path: PlanPath,
    body: crate::body::JsonObject<MarkDone>,
) -> Result {
    let done = body.0.try_into_domain(care.today())?;
    let (_, record) = care
        .mark_done(path.vehicle, path.kind.clone(), done)
        .await?;
    let plan = plan_of(&care, &path).await?;
    crate::body::json(
        HttpResponse::Created(),
        &DoneBody {
            plan,
            record: RecordBody::from(record),
        },
    )
}

/// The plans due soon or overdue across the fleet (the caller's garages):
/// overdue first, then by due date; those due by distance only last.
#[utoipa::path(get, path = "/api/v1/reminders", tag = "care", operation_id = "list_reminders",
    params(ReminderQuery),
    responses((status = 200, description = "A page of reminders", body = ReminderPageBody)))]
pub(crate) async fn list_reminders(care: Care, query: web::Query<ReminderQuery>) -> Result {
    let (filter, after, limit) = query.into_inner().try_into_domain()?;
    let page = care.reminders(filter, after, limit).await?;
    crate::body::json(
        HttpResponse::Ok(),
        &ReminderPageBody {
            items: page.items.into_iter().map(ReminderBody::from).collect(),
            next_cursor: page.next.map(|c| c.to_string()),
        },
    )
}

/// The reminders as CSV, every page of them, filtered as the list is.
#[utoipa::path(get, path = "/api/v1/reminders.csv", tag = "care", operation_id = "export_reminders",
    params(ReminderQuery),
    responses((status = 200, description = "The reminders as CSV", content_type = "text/csv", body = String)))]
pub(crate) async fn export_reminders(care: Care, query: web::Query<ReminderQuery>) -> Result {
    let (filter, _, _) = query.into_inner().try_into_domain()?;
    let reminders = super::all_reminders(&care, filter).await?;
    let body = super::export::csv(&reminders).map_err(|err| {
        tracing::error!(error = %err, "writing reminders as CSV");
        ApiError::Internal
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"reminders-{}.csv\"",
                care.today().format("%Y-%m-%d")
            ),
        ))
        .body(body))
}

/// The reminders as an iCalendar feed, for a calendar application to
/// subscribe to: one all-day event per plan due soon or overdue, on its
/// due date (today for one due by distance only), its UID stable for the
/// plan's due point. Calendar applications send no headers, so the feed
/// takes a calendar token in its URL: read-only, revocable, never an API
/// key. An unknown or revoked token is a 404.
#[utoipa::path(get, path = "/api/v1/reminders.ics", tag = "care", operation_id = "reminders_calendar",
    params(CalendarQuery),
    security(()),
    responses(
        (status = 200, description = "The feed", content_type = "text/calendar", body = String),
        (status = 404, description = "No such calendar", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn reminders_calendar(
    care: web::Data<CareService>,
    query: web::Query<CalendarQuery>,
) -> Result {
    let token = query.into_inner().token.unwrap_or_default();
    let Some(care) = care.calendar(&token).await? else {
        return Err(ApiError::NotFound("no such calendar".into()));
    };
    let reminders = super::all_reminders(&care, Default::default()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(CacheControl(vec![
            CacheDirective::Private,
            CacheDirective::NoCache,
        ]))
        .body(super::calendar::feed(&reminders, care.today())))
}

/// The calendar tokens within the caller's garages.
#[utoipa::path(get, path = "/api/v1/calendars", tag = "care", operation_id = "list_calendars",
    responses((status = 200, description = "The tokens, without their secrets", body = CalendarList)))]
pub(crate) async fn list_calendars(care: Care) -> Result {
    let tokens = care.tokens().await?;
    crate::body::json(
        HttpResponse::Ok(),
        &CalendarList {
            items: tokens.into_iter().map(CalendarBody::from).collect(),
        },
    )
}

/// A calendar token for the reminders' feed, limited to the caller's
/// garages; its secret is shown this once.
#[utoipa::path(post, path = "/api/v1/calendars", tag = "care", operation_id = "create_calendar",
    request_body = CreateCalendar,
    responses(
        (status = 201, description = "The token and the feed's address", body = CalendarWithToken),
        (status = 422, description = "Invalid fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_calendar(
    care: Care,
    body: crate::body::JsonObject<CreateCalendar>,
) -> Result {
    let (token, secret) = care.create_token(body.0.try_into_domain()?).await?;
    let body = CalendarWithToken {
        calendar: CalendarBody::from(token),
        token: secret.expose().to_owned(),
        feed: format!("{}/reminders.ics?token={}", crate::PREFIX, secret.expose()),
    };
    let mut response = HttpResponse::Created();
    response.insert_header(CacheControl(vec![CacheDirective::NoStore]));
    crate::body::json(response, &body)
}

/// Revokes a calendar token: its feed answers 404 from now on.
#[utoipa::path(delete, path = "/api/v1/calendars/{id}", tag = "care", operation_id = "revoke_calendar",
    params(InPath<CalendarId>),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such calendar", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn revoke_calendar(care: Care, InPath(id): InPath<CalendarId>) -> Result {
    care.revoke_token(id).await?;
    Ok(HttpResponse::NoContent().finish())
}
