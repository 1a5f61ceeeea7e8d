//! `/api/v1/vehicles`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use garage_domain::{FleetService, VehicleId};

use crate::conditional::{not_modified, tagged, Precondition};

use super::wire::{CreateVehicle, UpdateVehicle, VehicleBody, VehiclePage, VehicleQuery};
use crate::problem::ApiError;
use crate::wire::InPath;

type Result<T = HttpResponse> = std::result::Result<T, ApiError>;

/// Lists vehicles a page at a time, in id order unless `sort` says
/// otherwise; every filter given must match.
#[utoipa::path(get, path = "/api/v1/vehicles", tag = "vehicles", operation_id = "list_vehicles",
    params(VehicleQuery),
    responses((status = 200, description = "A page of vehicles", body = VehiclePage)))]
pub(crate) async fn list(fleet: crate::edge::Fleet, query: web::Query<VehicleQuery>) -> Result {
    let (filter, page) = query.into_inner().try_into_domain()?;
    let sort = filter.sort;
    let page = fleet.list_vehicles(filter, page).await?;
    let page = VehiclePage::from_sorted_page(page, |last, id| {
        crate::wire::cursor_of(sort, id, sort.by.value_of(last))
    });
    crate::body::json(HttpResponse::Ok(), &page)
}

/// Registers a vehicle in a garage with room for it, under a plate (and
/// VIN) no other vehicle has.
#[utoipa::path(post, path = "/api/v1/vehicles", tag = "vehicles", operation_id = "create_vehicle",
    params(crate::idempotency::IdempotencyKeyParam),
    request_body = CreateVehicle,
    responses(
        (status = 201, description = "Created; `Location` names it", body = VehicleBody,
            headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "Plate or VIN already registered, garage full, or a request with this Idempotency-Key in progress", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, an unknown garage, or an Idempotency-Key used for another request", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create(
    fleet: crate::edge::Fleet,
    body: crate::body::JsonObject<CreateVehicle>,
) -> Result {
    let vehicle = fleet.create_vehicle(body.0.try_into_domain()?).await?;
    Ok(tagged(HttpResponse::Created(), vehicle.version)
        .insert_header((header::LOCATION, format!("/api/v1/vehicles/{}", vehicle.id)))
        .json(VehicleBody::from(vehicle)))
}

/// One vehicle.
#[utoipa::path(get, path = "/api/v1/vehicles/{id}", tag = "vehicles", operation_id = "get_vehicle",
    params(crate::wire::InPath<VehicleId>, crate::conditional::IfNoneMatchParam),
    responses(
        (status = 200, description = "The vehicle", body = VehicleBody, headers(("ETag" = String, description = "The version of what was returned, for If-Match and If-None-Match"))),
        (status = 304, response = inline(crate::conditional::NotModified)),
        (status = 404, description = "No such vehicle", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show(
    req: HttpRequest,
    fleet: crate::edge::Fleet,
    InPath(id): InPath<VehicleId>,
) -> Result {
    let vehicle = fleet.vehicle(id).await?;
    if let Some(not_modified) = not_modified(&req, vehicle.version) {
        return Ok(not_modified);
    }
    Ok(tagged(HttpResponse::Ok(), vehicle.version).json(VehicleBody::from(vehicle)))
}

/// The version an `If-Match` on vehicle `id` asks for.
async fn expected(
    req: &HttpRequest,
    fleet: &FleetService,
    id: VehicleId,
) -> Result<Option<garage_domain::Version>> {
    Precondition::from_request(req)?
        .version(async { Ok(fleet.vehicle(id).await?.version) })
        .await
}

/// Changes some fields of a vehicle; a new `garage_id` moves it, `vin: null` removes its VIN.
#[utoipa::path(patch, path = "/api/v1/vehicles/{id}", tag = "vehicles", operation_id = "update_vehicle",
    params(crate::wire::InPath<VehicleId>, crate::conditional::IfMatchParam),
    request_body = UpdateVehicle,
    responses(
        (status = 200, description = "The changed vehicle", body = VehicleBody, headers(("ETag" = String, description = "The version of what was returned, for If-Match and If-None-Match"))),
        (status = 404, description = "No such vehicle", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Plate or VIN already registered, or the new garage is full", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = inline(crate::conditional::PreconditionFailed)),
        (status = 422, description = "Invalid fields or an unknown garage", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn update(
    req: HttpRequest,
    fleet: crate::edge::Fleet,
    InPath(id): InPath<VehicleId>,
    body: crate::body::JsonObject<UpdateVehicle>,
) -> Result {
    let changes = body.0.try_into_domain()?;
    let expected = expected(&req, &fleet, id).await?;
    let vehicle = fleet.update_vehicle(id, changes, expected).await?;
    Ok(tagged(HttpResponse::Ok(), vehicle.version).json(VehicleBody::from(vehicle)))
}

/// Deletes a vehicle, freeing its place in its garage.
#[utoipa::path(delete, path = "/api/v1/vehicles/{id}", tag = "vehicles", operation_id = "delete_vehicle",
    params(crate::wire::InPath<VehicleId>, crate::conditional::IfMatchParam),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such vehicle", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = inline(crate::conditional::PreconditionFailed)),
    ))]
pub(crate) async fn delete(
    req: HttpRequest,
    fleet: crate::edge::Fleet,
    InPath(id): InPath<VehicleId>,
) -> Result {
    let expected = expected(&req, &fleet, id).await?;
    fleet.delete_vehicle(id, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}
