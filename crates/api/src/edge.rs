//! What stands between a request and the API's handlers: where it comes
//! from (the client's address, behind trusted proxies only), who sends it
//! (its key), how fast (its budget), how long its body may take, and the
//! id it is known by. Each
//! wraps the scope or route it guards, so routing decides what is guarded.

mod client;
mod deadline;
mod guard;
mod request_id;

pub use client::{ClientHeader, TrustedProxies};
pub use deadline::{body_deadline, DEFAULT_BODY_DEADLINE};
pub(crate) use guard::{authenticate, authorize, Author, Care, Events, Fleet};
pub use guard::{Caller, Edge};
pub use request_id::{RequestId, REQUEST_ID};

/// A route outside `/api/v1` that only admin keys may call, guarded like
/// the API's own (the metrics, when they share the API's port).
pub fn admin_only(route: actix_web::Route) -> actix_web::Route {
    use actix_web::middleware::from_fn;
    route
        .wrap(from_fn(|req, next| {
            authorize(Some(garage_domain::access::Scope::Admin), 0, req, next)
        }))
        .wrap(from_fn(authenticate))
}
