//! The API's routes: one table that `configure` registers under
//! `/api/v1`, each entry with the scope it needs and the body it takes, and
//! that the OpenAPI document is checked against.

use std::sync::Arc;

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::web;
use garage_domain::access::Scope;
use garage_domain::{FleetService, IdempotencyStore};

use crate::edge::Edge;

/// One route of the API: the table below is what `configure` registers and
/// what the OpenAPI document is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub method: &'static Method,
    /// Under [`crate::PREFIX`], in actix's `{param}` syntax (OpenAPI's too).
    pub path: &'static str,
    handler: fn() -> actix_web::Route,
    /// The scope a caller needs; `None` for a public route.
    pub scope: Option<Scope>,
    /// The largest body it takes; a larger `Content-Length` is a 413 at once.
    pub max_body: usize,
    /// Takes an `Idempotency-Key`.
    idempotent: bool,
}

/// A route the scope of its method guards: reads need `read`, writes `write`.
const fn endpoint(
    method: &'static Method,
    path: &'static str,
    handler: fn() -> actix_web::Route,
) -> Endpoint {
    let read = matches!(*method, Method::GET);
    Endpoint {
        method,
        path,
        handler,
        scope: Some(if read { Scope::Read } else { Scope::Write }),
        max_body: if read { 0 } else { crate::MAX_BODY_BYTES },
        idempotent: false,
    }
}

const fn idempotent(mut e: Endpoint) -> Endpoint {
    e.idempotent = true;
    e
}

const fn public(mut e: Endpoint) -> Endpoint {
    e.scope = None;
    e
}

const fn admin(mut e: Endpoint) -> Endpoint {
    e.scope = Some(Scope::Admin);
    e
}

const fn body_up_to(mut e: Endpoint, bytes: usize) -> Endpoint {
    e.max_body = bytes;
    e
}

/// Every route, in matching order: literal segments before `{id}`.
pub const ENDPOINTS: &[Endpoint] = &[
    public(endpoint(&Method::GET, "/openapi.json", || {
        web::get().to(crate::openapi::serve)
    })),
    public(endpoint(&Method::GET, "/me", || {
        web::get().to(crate::access::me)
    })),
    admin(endpoint(&Method::GET, "/keys", || {
        web::get().to(crate::access::list_keys)
    })),
    // Not idempotent: a stored answer would keep the secret.
    admin(endpoint(&Method::POST, "/keys", || {
        web::post().to(crate::access::create_key)
    })),
    admin(endpoint(&Method::DELETE, "/keys/{id}", || {
        web::delete().to(crate::access::revoke_key)
    })),
    endpoint(&Method::GET, "/garages", || {
        web::get().to(crate::garages::list)
    }),
    idempotent(endpoint(&Method::POST, "/garages", || {
        web::post().to(crate::garages::create)
    })),
    endpoint(&Method::GET, "/garages/{id}", || {
        web::get().to(crate::garages::show)
    }),
    endpoint(&Method::PATCH, "/garages/{id}", || {
        web::patch().to(crate::garages::update)
    }),
    endpoint(&Method::DELETE, "/garages/{id}", || {
        web::delete().to(crate::garages::delete)
    }),
    endpoint(&Method::GET, "/garages/{id}/vehicles", || {
        web::get().to(crate::garages::vehicles)
    }),
    endpoint(&Method::GET, "/vehicles", || {
        web::get().to(crate::vehicles::list)
    }),
    idempotent(endpoint(&Method::POST, "/vehicles", || {
        web::post().to(crate::vehicles::create)
    })),
    endpoint(&Method::GET, "/vehicles/export", || {
        web::get().to(crate::vehicles::export)
    }),
    body_up_to(
        endpoint(&Method::POST, "/vehicles/import", || {
            web::post().to(crate::vehicles::import)
        }),
        crate::vehicles::MAX_IMPORT_BYTES,
    ),
    endpoint(&Method::GET, "/vehicles/{id}", || {
        web::get().to(crate::vehicles::show)
    }),
    endpoint(&Method::PATCH, "/vehicles/{id}", || {
        web::patch().to(crate::vehicles::update)
    }),
    endpoint(&Method::DELETE, "/vehicles/{id}", || {
        web::delete().to(crate::vehicles::delete)
    }),
];

/// Registers the API under [`crate::PREFIX`], with extractors whose failures are
/// problem documents too.
/// Every request under it first meets the edge (who calls, within which
/// budget), then its route's guard (which scope it needs, how large a body
/// it takes): the guards belong to the routes, whatever the spelling of the
/// path that reached them.
pub fn configure(
    service: FleetService,
    keys: Arc<dyn IdempotencyStore>,
    edge: Edge,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(service))
            .app_data(web::Data::new(keys))
            .app_data(web::Data::new(edge))
            .app_data(
                web::JsonConfig::default()
                    .limit(crate::MAX_BODY_BYTES)
                    .error_handler(crate::problem::json_error),
            )
            .app_data(web::QueryConfig::default().error_handler(crate::problem::query_error))
            .app_data(web::PathConfig::default().error_handler(crate::problem::path_error))
            .service(
                web::scope(crate::PREFIX)
                    .wrap(from_fn(crate::edge::authenticate))
                    .configure(resources)
                    .default_service(web::to(crate::problem::no_route)),
            );
    }
}

/// One resource per path, holding the routes of its methods; any other
/// method is a 405.
fn resources(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&str> = Vec::new();
    for e in ENDPOINTS {
        if !paths.contains(&e.path) {
            paths.push(e.path);
        }
    }
    for path in paths {
        let endpoints = ENDPOINTS.iter().filter(|e| e.path == path);
        let resource = endpoints
            .clone()
            .fold(web::resource(path), |r, e| r.route(guarded(e)))
            .default_service(web::to(crate::problem::method_not_allowed));
        cfg.service(resource);
    }
}

/// The route of `e`, wrapped in its guard; an idempotent one takes its
/// `Idempotency-Key` inside the guard, so no claim is made, nor answer
/// replayed, for a caller the route refuses.
fn guarded(e: &'static Endpoint) -> actix_web::Route {
    let (scope, max_body) = (e.scope, e.max_body);
    let route = (e.handler)();
    let route = if e.idempotent {
        route.wrap(from_fn(crate::idempotency::idempotent))
    } else {
        route
    };
    route.wrap(from_fn(move |req, next| {
        crate::edge::authorize(scope, max_body, req, next)
    }))
}
