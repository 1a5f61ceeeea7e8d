//! `/api/v1/stats`.

use actix_web::HttpResponse;

use super::wire::StatsBody;
use crate::problem::ApiError;

/// The fleet at a glance: totals, free places, the busiest and fullest
/// garages, vehicles by brand and by age; within the caller's garages for a
/// key limited to some.
#[utoipa::path(get, path = "/api/v1/stats", tag = "overview", operation_id = "get_stats",
    responses((status = 200, description = "The figures", body = StatsBody)))]
pub(crate) async fn stats(fleet: crate::edge::Fleet) -> Result<HttpResponse, ApiError> {
    let overview = fleet.overview().await?;
    crate::body::json(HttpResponse::Ok(), &StatsBody::from(overview))
}
