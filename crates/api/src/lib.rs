//! Garage's HTTP adapter: the `/api/v1` routes, their wire types, and the
//! mapping of every failure to an RFC 9457 problem.

mod body;
pub mod bulk;
mod conditional;
#[doc(hidden)]
pub mod dto;
mod error;
mod garages;
pub mod idempotency;
mod vehicles;

use std::sync::Arc;

use actix_web::web;
use garage_domain::{FleetService, IdempotencyStore};

pub use error::{ApiError, PROBLEM_JSON};

/// The largest JSON body accepted; larger ones get a 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Registers the API under `/api/v1`, with extractors whose failures are
/// problem documents too.
pub fn configure(
    service: FleetService,
    keys: Arc<dyn IdempotencyStore>,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(service))
            .app_data(web::Data::new(keys))
            .app_data(
                web::JsonConfig::default()
                    .limit(MAX_BODY_BYTES)
                    .error_handler(error::json_error),
            )
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            .service(
                web::scope("/api/v1")
                    .service(garages::scope())
                    .service(vehicles::scope())
                    .default_service(web::to(error::no_route)),
            );
    }
}
