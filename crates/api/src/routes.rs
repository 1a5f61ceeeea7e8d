//! The API's routes: one table that `configure` registers under
//! `/api/v1`, each entry with the scope it needs and the body it takes, and
//! that the OpenAPI document is checked against.

use std::sync::Arc;

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::web;
use garage_domain::access::Scope;
use garage_domain::care::CareService;
use garage_domain::events::EventService;
use garage_domain::webhooks::WebhookService;
use garage_domain::{FleetService, IdempotencyStore};

use crate::edge::Edge;

/// One route of the API. Its method and path are those its handler's
/// `#[utoipa::path]` documents: each route is declared once, in the
/// `routes!` table below, which both registers it and lists it in the
/// OpenAPI document.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub method: Method,
    /// Under [`crate::PREFIX`], in actix's `{param}` syntax (OpenAPI's too).
    pub path: String,
    handler: fn(Method) -> actix_web::Route,
    /// The scope a caller needs; `None` for a public route.
    pub scope: Option<Scope>,
    /// The largest body it takes; a larger `Content-Length` is a 413 at once.
    pub max_body: usize,
    /// Takes an `Idempotency-Key`.
    idempotent: bool,
}

/// What guards a route: the scope it needs, the body it takes, whether it
/// takes an `Idempotency-Key`.
#[derive(Debug, Clone, Copy)]
struct Guard {
    scope: Option<Scope>,
    max_body: usize,
    idempotent: bool,
}

const fn public() -> Guard {
    Guard {
        scope: None,
        max_body: 0,
        idempotent: false,
    }
}

const fn read() -> Guard {
    Guard {
        scope: Some(Scope::Read),
        max_body: 0,
        idempotent: false,
    }
}

const fn write() -> Guard {
    Guard {
        scope: Some(Scope::Write),
        max_body: crate::MAX_BODY_BYTES,
        idempotent: false,
    }
}

const fn create() -> Guard {
    Guard {
        idempotent: true,
        ..write()
    }
}

const fn admin() -> Guard {
    Guard {
        scope: Some(Scope::Admin),
        ..write()
    }
}

/// A write whose body may be as large as `bytes`.
const fn upload(bytes: usize) -> Guard {
    Guard {
        max_body: bytes,
        ..write()
    }
}

fn actix_method(method: &utoipa::openapi::path::HttpMethod) -> Method {
    use utoipa::openapi::path::HttpMethod;
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// `routes! { guard[arg] (module) handler, … }`: every route, in matching order
/// (literal segments before `{id}`). Builds `ENDPOINTS` from each handler's
/// documented method and path, and `Operations`, the OpenAPI paths of the
/// same handlers.
macro_rules! routes {
    ($( $guard:ident $([$arg:expr])? ($($module:ident)::+) $name:ident ),* $(,)?) => {
        /// Every route, in matching order.
        pub static ENDPOINTS: std::sync::LazyLock<Vec<Endpoint>> = std::sync::LazyLock::new(|| {
            let mut all = Vec::new();
            $(
                pastey::paste! {{
                    let guard = $guard($($arg)?);
                    type Doc = crate::$($module)::+::[<__path_ $name>];
                    let path = <Doc as utoipa::Path>::path();
                    for method in <Doc as utoipa::Path>::methods() {
                        let method = actix_method(&method);
                        // A read takes no body, whatever its scope.
                        let max_body = if method == Method::GET { 0 } else { guard.max_body };
                        all.push(Endpoint {
                            method,
                            path: path
                                .strip_prefix(crate::PREFIX)
                                .unwrap_or(&path)
                                .to_owned(),
                            handler: |method| web::route().method(method).to(crate::$($module)::+::$name),
                            scope: guard.scope,
                            max_body,
                            idempotent: guard.idempotent,
                        });
                    }
                }}
            )*
            all
        });

        /// The OpenAPI paths of the same handlers.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($(crate::$($module)::+::$name),*))]
        pub(crate) struct Operations;
    };
}

routes! {
    public (openapi) serve,
    public (access) me,
    admin (access) list_keys,
    // Not idempotent: a stored answer would keep the secret.
    admin (access) create_key,
    admin (access) revoke_key,
    read (overview::handlers) stats,
    read (garages::handlers) list,
    create (garages::handlers) create,
    read (garages::handlers) show,
    write (garages::handlers) update,
    write (garages::handlers) delete,
    read (garages::handlers) vehicles,
    write (garages::handlers) move_vehicles,
    read (vehicles::handlers) list,
    create (vehicles::handlers) create,
    read (vehicles::export) export,
    upload[crate::vehicles::MAX_IMPORT_BYTES] (vehicles::import) import,
    read (vehicles::handlers) show,
    read (care::handlers) list_readings,
    create (care::handlers) record_reading,
    read (care::handlers) get_care,
    read (care::handlers) list_records,
    read (care::handlers) get_plan,
    write (care::handlers) put_plan,
    write (care::handlers) delete_plan,
    create (care::handlers) mark_done,
    read (care::handlers) list_reminders,
    read (care::handlers) export_reminders,
    // Public: the feed checks its own calendar token (calendar
    // applications send no headers).
    public (care::handlers) reminders_calendar,
    read (care::handlers) list_calendars,
    // Not idempotent: a stored answer would keep the secret.
    write (care::handlers) create_calendar,
    write (care::handlers) revoke_calendar,
    read (events::handlers) vehicle_history,
    read (events::handlers) garage_history,
    read (events::handlers) feed,
    read (events::handlers) activity,
    admin (webhooks::handlers) list_webhooks,
    admin (webhooks::handlers) create_webhook,
    admin (webhooks::handlers) get_webhook,
    admin (webhooks::handlers) update_webhook,
    admin (webhooks::handlers) delete_webhook,
    admin (webhooks::handlers) rotate_webhook_secret,
    admin (webhooks::handlers) test_webhook,
    admin (webhooks::handlers) list_webhook_deliveries,
    admin (webhooks::handlers) retry_webhook_delivery,
    write (vehicles::handlers) update,
    write (vehicles::handlers) delete,
}

/// Registers the API under [`crate::PREFIX`], with extractors whose failures are
/// problem documents too.
/// Every request under it first meets the edge (who calls, within which
/// budget), then its route's guard (which scope it needs, how large a body
/// it takes): the guards belong to the routes, whatever the spelling of the
/// path that reached them.
#[allow(clippy::too_many_arguments)]
pub fn configure(
    service: FleetService,
    care: CareService,
    events: EventService,
    webhooks: WebhookService,
    keys: Arc<dyn IdempotencyStore>,
    edge: Edge,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(service))
            .app_data(web::Data::new(care))
            .app_data(web::Data::new(events))
            .app_data(web::Data::new(webhooks))
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
    for e in ENDPOINTS.iter() {
        if !paths.contains(&e.path.as_str()) {
            paths.push(&e.path);
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
    let route = (e.handler)(e.method.clone());
    let route = if e.idempotent {
        route.wrap(from_fn(crate::idempotency::idempotent))
    } else {
        route
    };
    route.wrap(from_fn(move |req, next| {
        crate::edge::authorize(scope, max_body, req, next)
    }))
}
