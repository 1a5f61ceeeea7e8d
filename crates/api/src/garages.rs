//! `/api/v1/garages`.

use actix_web::http::header;
use actix_web::{web, HttpResponse, Scope};
use garage_domain::{FleetService, GarageId};

use crate::dto::{
    CreateGarage, GarageBody, GarageQuery, PageBody, PageQuery, UpdateGarage, VehicleBody,
};
use crate::error::{method_not_allowed, ApiError};

type Result<T = HttpResponse> = std::result::Result<T, ApiError>;

pub(crate) fn scope() -> Scope {
    web::scope("/garages")
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
        .service(
            web::resource("/{id}/vehicles")
                .get(vehicles)
                .default_service(web::to(method_not_allowed)),
        )
}

async fn list(fleet: web::Data<FleetService>, query: web::Query<GarageQuery>) -> Result {
    let (filter, page) = query.into_inner().try_into_domain()?;
    let page = fleet.list_garages(filter, page).await?;
    crate::body::json(HttpResponse::Ok(), &PageBody::<GarageBody>::from_page(page))
}

async fn create(fleet: web::Data<FleetService>, body: web::Json<CreateGarage>) -> Result {
    let garage = fleet
        .create_garage(body.into_inner().try_into_domain()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/garages/{}", garage.id)))
        .json(GarageBody::from(garage)))
}

async fn show(fleet: web::Data<FleetService>, id: web::Path<i64>) -> Result {
    let garage = fleet.garage(GarageId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(GarageBody::from(garage)))
}

async fn update(
    fleet: web::Data<FleetService>,
    id: web::Path<i64>,
    body: web::Json<UpdateGarage>,
) -> Result {
    let changes = body.into_inner().try_into_domain()?;
    let garage = fleet
        .update_garage(GarageId(id.into_inner()), changes)
        .await?;
    Ok(HttpResponse::Ok().json(GarageBody::from(garage)))
}

async fn delete(fleet: web::Data<FleetService>, id: web::Path<i64>) -> Result {
    fleet.delete_garage(GarageId(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn vehicles(
    fleet: web::Data<FleetService>,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result {
    let page = query.into_inner().try_into_domain()?;
    let page = fleet
        .garage_vehicles(GarageId(id.into_inner()), page)
        .await?;
    crate::body::json(
        HttpResponse::Ok(),
        &PageBody::<VehicleBody>::from_page(page),
    )
}
