//! `/api/v1/garages`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use garage_domain::{FleetService, GarageId};

use crate::conditional::{not_modified, tagged, Precondition};

use super::wire::{
    CreateGarage, GarageBody, GaragePage, GarageQuery, MoveVehicles, MovedBody, UpdateGarage,
};
use crate::problem::ApiError;
use crate::vehicles::VehiclePage;
use crate::wire::InPath;
use crate::wire::PageQuery;

type Result<T = HttpResponse> = std::result::Result<T, ApiError>;

/// Lists garages a page at a time, in id order unless `sort` says otherwise.
#[utoipa::path(get, path = "/api/v1/garages", tag = "garages", operation_id = "list_garages",
    params(GarageQuery),
    responses((status = 200, description = "A page of garages", body = GaragePage)))]
pub(crate) async fn list(fleet: crate::edge::Fleet, query: web::Query<GarageQuery>) -> Result {
    let (filter, page) = query.into_inner().try_into_domain()?;
    let sort = filter.sort;
    let page = fleet.list_garages(filter, page).await?;
    let page = GaragePage::from_sorted_page(page, |last, id| {
        crate::wire::cursor_of(sort, id, sort.by.value_of(last))
    });
    crate::body::json(HttpResponse::Ok(), &page)
}

/// Creates a garage.
#[utoipa::path(post, path = "/api/v1/garages", tag = "garages", operation_id = "create_garage",
    params(crate::idempotency::IdempotencyKeyParam),
    request_body = CreateGarage,
    responses(
        (status = 201, description = "Created; `Location` names it", body = GarageBody,
            headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "A request with this Idempotency-Key is in progress", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or an Idempotency-Key used for another request", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create(
    fleet: crate::edge::Fleet,
    body: crate::body::JsonObject<CreateGarage>,
) -> Result {
    let garage = fleet.create_garage(body.0.try_into_domain()?).await?;
    Ok(tagged(HttpResponse::Created(), garage.version)
        .insert_header((header::LOCATION, format!("/api/v1/garages/{}", garage.id)))
        .json(GarageBody::from(garage)))
}

/// One garage, with its vehicle count.
#[utoipa::path(get, path = "/api/v1/garages/{id}", tag = "garages", operation_id = "get_garage",
    params(crate::wire::InPath<GarageId>, crate::conditional::IfNoneMatchParam),
    responses(
        (status = 200, description = "The garage", body = GarageBody, headers(("ETag" = String, description = "The version of what was returned, for If-Match and If-None-Match"))),
        (status = 304, response = inline(crate::conditional::NotModified)),
        (status = 404, description = "No such garage", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show(
    req: HttpRequest,
    fleet: crate::edge::Fleet,
    InPath(id): InPath<GarageId>,
) -> Result {
    let garage = fleet.garage(id).await?;
    if let Some(not_modified) = not_modified(&req, garage.version) {
        return Ok(not_modified);
    }
    Ok(tagged(HttpResponse::Ok(), garage.version).json(GarageBody::from(garage)))
}

/// The version an `If-Match` on garage `id` asks for.
async fn expected(
    req: &HttpRequest,
    fleet: &FleetService,
    id: GarageId,
) -> Result<Option<garage_domain::Version>> {
    Precondition::from_request(req)?
        .version(async { Ok(fleet.garage(id).await?.version) })
        .await
}

/// Changes some fields of a garage; `capacity: null` removes the limit.
#[utoipa::path(patch, path = "/api/v1/garages/{id}", tag = "garages", operation_id = "update_garage",
    params(crate::wire::InPath<GarageId>, crate::conditional::IfMatchParam),
    request_body = UpdateGarage,
    responses(
        (status = 200, description = "The changed garage", body = GarageBody, headers(("ETag" = String, description = "The version of what was returned, for If-Match and If-None-Match"))),
        (status = 404, description = "No such garage", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new capacity is below the vehicles it holds", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = inline(crate::conditional::PreconditionFailed)),
        (status = 422, description = "Invalid fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn update(
    req: HttpRequest,
    fleet: crate::edge::Fleet,
    InPath(id): InPath<GarageId>,
    body: crate::body::JsonObject<UpdateGarage>,
) -> Result {
    let changes = body.0.try_into_domain()?;
    let expected = expected(&req, &fleet, id).await?;
    let garage = fleet.update_garage(id, changes, expected).await?;
    Ok(tagged(HttpResponse::Ok(), garage.version).json(GarageBody::from(garage)))
}

/// Deletes an empty garage; one that holds vehicles is refused, never emptied.
#[utoipa::path(delete, path = "/api/v1/garages/{id}", tag = "garages", operation_id = "delete_garage",
    params(crate::wire::InPath<GarageId>, crate::conditional::IfMatchParam),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such garage", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "It still holds vehicles", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = inline(crate::conditional::PreconditionFailed)),
    ))]
pub(crate) async fn delete(
    req: HttpRequest,
    fleet: crate::edge::Fleet,
    InPath(id): InPath<GarageId>,
) -> Result {
    let expected = expected(&req, &fleet, id).await?;
    fleet.delete_garage(id, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The vehicles a garage holds, in id order, a page at a time.
#[utoipa::path(get, path = "/api/v1/garages/{id}/vehicles", tag = "garages", operation_id = "list_garage_vehicles",
    params(crate::wire::InPath<GarageId>, PageQuery),
    responses(
        (status = 200, description = "A page of its vehicles", body = VehiclePage),
        (status = 404, description = "No such garage", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn vehicles(
    fleet: crate::edge::Fleet,
    InPath(id): InPath<GarageId>,
    query: web::Query<PageQuery>,
) -> Result {
    let page = query.into_inner().try_into_domain()?;
    let page = fleet.garage_vehicles(id, page).await?;
    crate::body::json(HttpResponse::Ok(), &VehiclePage::from_page(page))
}

/// Moves every vehicle of a garage into another at once: all of them, or
/// none when the other lacks places (the 409 says how many).
#[utoipa::path(post, path = "/api/v1/garages/{id}/vehicles/move", tag = "garages", operation_id = "move_garage_vehicles",
    params(crate::wire::InPath<GarageId>),
    request_body = MoveVehicles,
    responses(
        (status = 200, description = "Moved; how many", body = MovedBody),
        (status = 404, description = "No such garage", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too few places in `to_garage_id`: `errors[0].missing` says how many lack", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No `to_garage_id`, or no such garage", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn move_vehicles(
    fleet: crate::edge::Fleet,
    InPath(id): InPath<GarageId>,
    body: crate::body::JsonObject<MoveVehicles>,
) -> Result {
    let to = body.0.try_into_domain()?;
    let moved = fleet.move_all_vehicles(id, to).await?;
    crate::body::json(HttpResponse::Ok(), &MovedBody { moved })
}
