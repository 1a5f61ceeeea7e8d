//! The OpenAPI 3.1 document of the API, generated from the handlers' and
//! wire types' annotations, served at `/api/v1/openapi.json`, and the
//! Swagger UI page that renders it (its assets are compiled in: it works
//! offline).

use std::sync::OnceLock;

use actix_web::http::header::ContentType;
use actix_web::HttpResponse;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Garage API",
        description = "Garages and the vehicles they hold. Errors are RFC 9457 problem documents (`application/problem+json`).\n\nAccess: send `Authorization: Bearer <key>`. Each operation names the scope it needs (`read` < `write` < `admin`); a key limited to some garages sees and changes only those and their vehicles. Without a key, a caller may read (unless the server protects reads), and write only while no key exists at all. A bad key is a 401; too narrow a scope a 403.\n\nRate limits: every response carries `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers); past the budget, a 429 with `Retry-After`. Failed authentications are limited per address.",
        license(name = "MIT OR Apache-2.0"),
    ),
    components(schemas(
        crate::problem::Problem,
        crate::problem::ProblemItem,
        crate::problem::ProblemCode
    )),
    tags(
        (name = "overview", description = "The fleet at a glance"),
        (name = "garages", description = "Places that keep vehicles"),
        (name = "vehicles", description = "Vehicles, each kept in one garage"),
        (name = "care", description = "Odometer readings, care plans (service, inspection, insurance…), work done, reminders and their calendar feed"),
        (name = "access", description = "Who is calling, and the API keys"),
        (name = "webhooks", description = "Endpoints that receive the events, signed (Standard Webhooks); admin keys only"),
        (name = "events", description = "What changed, who changed it and when: the feed and the histories"),
        (name = "meta", description = "This document"),
    ),
)]
struct ApiDoc;

/// Adds the bearer scheme, and the answers any operation may give, to every
/// operation, so each documents every status it can return.
struct CommonResponses;

/// A problem document answered with this description.
fn problem_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        crate::PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    problem_response(description).build().into()
}

/// A 429: the problem, and the headers that say when to come back.
fn too_many(description: &str) -> RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::header::HeaderBuilder;
    let header = |text: &str, kind: Type| {
        HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(kind)))
            .description(Some(text))
            .build()
    };
    problem_response(description)
        .header(
            "Retry-After",
            header("Seconds to wait before the next request", Type::Integer),
        )
        .header(
            "RateLimit-Policy",
            header(
                "The budget spent, e.g. `\"requests\";q=100;w=2` (draft-ietf-httpapi-ratelimit-headers-10); every API response carries it",
                Type::String,
            ),
        )
        .header(
            "RateLimit",
            header(
                "What is left of it, e.g. `\"requests\";r=0;t=1`; every API response carries it",
                Type::String,
            ),
        )
        .build()
        .into()
}

/// The problem types, as the `type` property's enumeration, each described.
fn problem_type_schema() -> RefOr<Schema> {
    let mut description = String::from(
        "A path naming the kind of problem; the same `title` always goes with it. The types:\n",
    );
    for kind in crate::ProblemType::ALL {
        description.push_str(&format!(
            "\n- `{}` ({}): {}",
            kind.uri(),
            kind.status().as_u16(),
            kind.when()
        ));
    }
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(crate::ProblemType::ALL.iter().map(|kind| kind.uri())))
        .description(Some(description))
        .into()
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        if let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") {
            problem
                .properties
                .insert("type".to_owned(), problem_type_schema());
        }
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "An API key (`gar_…`), created with `garage keys create` or `POST /api/v1/keys`, or a key configured in `APP__AUTH__API_KEYS` (admin).".into(),
        );
        components.add_security_scheme("bearerAuth", SecurityScheme::Http(bearer));
        for e in crate::ENDPOINTS.iter() {
            let Some(item) = openapi
                .paths
                .paths
                .get_mut(&format!("{}{}", crate::PREFIX, e.path))
            else {
                continue;
            };
            let operation = match e.method {
                actix_web::http::Method::GET => &mut item.get,
                actix_web::http::Method::POST => &mut item.post,
                actix_web::http::Method::PATCH => &mut item.patch,
                actix_web::http::Method::PUT => &mut item.put,
                actix_web::http::Method::DELETE => &mut item.delete,
                _ => continue,
            };
            if let Some(operation) = operation {
                add_access(operation, e.scope);
            }
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                add_common(operation);
            }
        }
    }
}

fn add_common(operation: &mut Operation) {
    let mut common = vec![
        (
            "400",
            "Malformed request: unreadable JSON or header, bad query or path",
        ),
        (
            "401",
            "An invalid API key, or none where one is required",
        ),
        (
            "429",
            "Request budget spent (or too many failed authentications from this address); see `Retry-After`, `RateLimit` and `RateLimit-Policy`",
        ),
        ("500", "Failed on the server's side (logged)"),
        ("503", "The database is unavailable; see `Retry-After`"),
    ];
    if operation.request_body.is_some() {
        common.push((
            "408",
            "The body did not arrive within the deadline; the connection is closed",
        ));
        common.push(("413", "The body is too large"));
        common.push(("415", "The body is not of the documented media type"));
    }
    let is_meta = operation
        .tags
        .as_ref()
        .is_some_and(|tags| tags.iter().any(|t| t == "meta"));
    for (status, description) in common {
        if is_meta && status != "500" {
            continue;
        }
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                if status == "429" {
                    too_many(description)
                } else {
                    problem(description)
                }
            });
    }
}

/// The scope an operation needs: its security requirement, a 403, and a
/// line of its description. Reads (and, while no key exists, writes) may
/// also be made without a key, hence the empty requirement beside.
fn add_access(operation: &mut Operation, scope: Option<garage_domain::access::Scope>) {
    use garage_domain::access::Scope;
    use utoipa::openapi::security::SecurityRequirement;

    let Some(scope) = scope else {
        operation.security = Some(vec![
            SecurityRequirement::default(),
            SecurityRequirement::new::<_, _, &str>("bearerAuth", []),
        ]);
        return;
    };
    let mut security = Vec::new();
    if scope < Scope::Admin {
        security.push(SecurityRequirement::default());
    }
    security.push(SecurityRequirement::new("bearerAuth", [scope.as_str()]));
    operation.security = Some(security);
    operation
        .responses
        .responses
        .entry("403".to_owned())
        .or_insert_with(|| problem(&format!("The key lacks the `{scope}` scope")));
    let note = format!("Needs the `{scope}` scope.");
    operation.description = Some(match operation.description.take() {
        Some(text) if !text.is_empty() => format!("{text}\n\n{note}"),
        _ => note,
    });
}

/// The document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        // The paths come from the route table, which registers the same
        // handlers; the answers every operation shares are added to them.
        let mut document = ApiDoc::openapi();
        document.merge(crate::routes::Operations::openapi());
        CommonResponses.modify(&mut document);
        document
    })
}

/// The document as served and committed: pretty JSON with a final newline.
pub fn json() -> String {
    let mut text = serde_json::to_string_pretty(document()).unwrap_or_default();
    text.push('\n');
    text
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", operation_id = "openapi",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json")))]
pub(crate) async fn serve() -> HttpResponse {
    static JSON: OnceLock<String> = OnceLock::new();
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(JSON.get_or_init(json).as_str())
}

/// The interactive documentation at `/docs/` (and `/docs` redirecting
/// there), reading the served document. Swagger UI sets inline styles, so
/// these pages carry their own content security policy allowing them.
pub fn docs(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_web::http::header;
    use actix_web::{middleware::DefaultHeaders, web};

    let ui = utoipa_swagger_ui::SwaggerUi::new("/{_:.*}").config(
        utoipa_swagger_ui::Config::from(format!("{}/openapi.json", crate::PREFIX))
            .try_it_out_enabled(true),
    );
    cfg.route(
        "/docs",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, "/docs/"))
                .finish()
        }),
    )
    .service(
        web::scope("/docs")
            .wrap(DefaultHeaders::new().add((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
            )))
            .service(ui),
    );
}
