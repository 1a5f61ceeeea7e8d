//! `/api/v1/vehicles`.

use actix_web::http::header;
use actix_web::{web, HttpResponse, Scope};
use garage_domain::{FleetService, VehicleId};

use crate::dto::{CreateVehicle, PageBody, UpdateVehicle, VehicleBody, VehicleQuery};
use crate::error::{method_not_allowed, ApiError};

type Result<T = HttpResponse> = std::result::Result<T, ApiError>;

pub(crate) fn scope() -> Scope {
    web::scope("/vehicles")
        .service(
            web::resource("")
                .get(list)
                .post(create)
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
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/vehicles/{}", vehicle.id)))
        .json(VehicleBody::from(vehicle)))
}

async fn show(fleet: web::Data<FleetService>, id: web::Path<i64>) -> Result {
    let vehicle = fleet.vehicle(VehicleId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(VehicleBody::from(vehicle)))
}

async fn update(
    fleet: web::Data<FleetService>,
    id: web::Path<i64>,
    body: web::Json<UpdateVehicle>,
) -> Result {
    let changes = body.into_inner().try_into_domain()?;
    let vehicle = fleet
        .update_vehicle(VehicleId(id.into_inner()), changes)
        .await?;
    Ok(HttpResponse::Ok().json(VehicleBody::from(vehicle)))
}

async fn delete(fleet: web::Data<FleetService>, id: web::Path<i64>) -> Result {
    fleet.delete_vehicle(VehicleId(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}
