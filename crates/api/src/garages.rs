//! `/api/v1/garages`.

use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{web, HttpRequest, HttpResponse, Scope};
use garage_domain::{FleetService, GarageId};

use crate::conditional::{not_modified, tagged, Expect};

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
                .default_service(web::to(method_not_allowed))
                .wrap(from_fn(crate::idempotency::idempotent)),
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
    Ok(tagged(HttpResponse::Created(), garage.version)
        .insert_header((header::LOCATION, format!("/api/v1/garages/{}", garage.id)))
        .json(GarageBody::from(garage)))
}

async fn show(req: HttpRequest, fleet: web::Data<FleetService>, id: web::Path<i64>) -> Result {
    let garage = fleet.garage(GarageId(id.into_inner())).await?;
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
    Expect::from_request(req)?
        .version(async { Ok(fleet.garage(id).await?.version) })
        .await
}

async fn update(
    req: HttpRequest,
    fleet: web::Data<FleetService>,
    id: web::Path<i64>,
    body: web::Json<UpdateGarage>,
) -> Result {
    let id = GarageId(id.into_inner());
    let changes = body.into_inner().try_into_domain()?;
    let expected = expected(&req, &fleet, id).await?;
    let garage = fleet.update_garage(id, changes, expected).await?;
    Ok(tagged(HttpResponse::Ok(), garage.version).json(GarageBody::from(garage)))
}

async fn delete(req: HttpRequest, fleet: web::Data<FleetService>, id: web::Path<i64>) -> Result {
    let id = GarageId(id.into_inner());
    let expected = expected(&req, &fleet, id).await?;
    fleet.delete_garage(id, expected).await?;
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
