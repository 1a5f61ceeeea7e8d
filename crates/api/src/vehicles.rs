//! `/api/v1/vehicles`.

use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{web, HttpRequest, HttpResponse, Scope};
use garage_domain::{FleetService, VehicleId};

use crate::conditional::{not_modified, tagged, Expect};

use crate::dto::{CreateVehicle, PageBody, UpdateVehicle, VehicleBody, VehicleQuery};
use crate::error::{method_not_allowed, ApiError};

type Result<T = HttpResponse> = std::result::Result<T, ApiError>;

pub(crate) fn scope() -> Scope {
    web::scope("/vehicles")
        .service(
            web::resource("")
                .get(list)
                .post(create)
                .default_service(web::to(method_not_allowed))
                .wrap(from_fn(crate::idempotency::idempotent)),
        )
        // Before `/{id}`, which would take these names for ids.
        .service(
            web::resource("/export")
                .get(crate::bulk::export)
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/import")
                .post(crate::bulk::import)
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/{id}")
                .get(show)
                .patch(update)
                .delete(delete)
                .default_service(web::to(method_not_allowed)),
        )
}

async fn list(fleet: web::Data<FleetService>, query: web::Query<VehicleQuery>) -> Result {
    let (filter, page) = query.into_inner().try_into_domain()?;
    let page = fleet.list_vehicles(filter, page).await?;
    crate::body::json(
        HttpResponse::Ok(),
        &PageBody::<VehicleBody>::from_page(page),
    )
}

async fn create(fleet: web::Data<FleetService>, body: web::Json<CreateVehicle>) -> Result {
    let vehicle = fleet
        .create_vehicle(body.into_inner().try_into_domain()?)
        .await?;
    Ok(tagged(HttpResponse::Created(), vehicle.version)
        .insert_header((header::LOCATION, format!("/api/v1/vehicles/{}", vehicle.id)))
        .json(VehicleBody::from(vehicle)))
}

async fn show(req: HttpRequest, fleet: web::Data<FleetService>, id: web::Path<i64>) -> Result {
    let vehicle = fleet.vehicle(VehicleId(id.into_inner())).await?;
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
    Expect::from_request(req)?
        .version(async { Ok(fleet.vehicle(id).await?.version) })
        .await
}

async fn update(
    req: HttpRequest,
    fleet: web::Data<FleetService>,
    id: web::Path<i64>,
    body: web::Json<UpdateVehicle>,
) -> Result {
    let id = VehicleId(id.into_inner());
    let changes = body.into_inner().try_into_domain()?;
    let expected = expected(&req, &fleet, id).await?;
    let vehicle = fleet.update_vehicle(id, changes, expected).await?;
    Ok(tagged(HttpResponse::Ok(), vehicle.version).json(VehicleBody::from(vehicle)))
}

async fn delete(req: HttpRequest, fleet: web::Data<FleetService>, id: web::Path<i64>) -> Result {
    let id = VehicleId(id.into_inner());
    let expected = expected(&req, &fleet, id).await?;
    fleet.delete_vehicle(id, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}
