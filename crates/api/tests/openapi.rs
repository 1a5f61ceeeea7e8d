//! The OpenAPI document against the routes: every route documented, every
//! documented route served, and the committed copy current.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use actix_web::{test as web_test, App};
use garage_domain::*;

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn the_committed_document_is_current() {
    let generated = garage_api::openapi::json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(committed_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date: run `make openapi` and commit it"
    );
}

fn documented() -> BTreeSet<(String, String)> {
    let document = serde_json::to_value(garage_api::openapi::document()).unwrap();
    let mut found = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete", "head", "options"]
                .contains(&method.as_str())
            {
                found.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

fn routed() -> BTreeSet<(String, String)> {
    garage_api::ENDPOINTS
        .iter()
        .map(|e| {
            (
                e.method.to_string(),
                format!("{}{}", garage_api::PREFIX, e.path),
            )
        })
        .collect()
}

#[test]
fn every_route_is_documented_and_every_documented_route_is_routed() {
    let (documented, routed) = (documented(), routed());
    assert_eq!(
        documented.difference(&routed).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented but not routed"
    );
    assert_eq!(
        routed.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routed but not documented"
    );
    assert!(documented.len() >= 14);
}

#[test]
fn the_document_is_openapi_3_1_and_every_operation_lists_its_failures() {
    let document = serde_json::to_value(garage_api::openapi::document()).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key("500"), "{method} {path}");
            if path.contains("{id}") {
                assert!(responses.contains_key("404"), "{method} {path}");
            }
            if operation.get("requestBody").is_some() {
                for status in ["413", "415"] {
                    assert!(responses.contains_key(status), "{method} {path} {status}");
                }
            }
        }
    }
    let problem = &document["components"]["schemas"]["Problem"];
    assert!(problem["properties"]["errors"].is_object(), "{problem}");
}

/// Sends each documented operation with input it refuses before reaching
/// the store: the answer must come from that route (a 4xx of its own), not
/// from the fallback's 404 or a 405.
#[actix_web::test]
async fn every_documented_route_is_served() {
    let app = web_test::init_service(App::new().configure(garage_api::configure(
        FleetService::new(
            Arc::new(MockGarageRepository::new()),
            Arc::new(MockVehicleRepository::new()),
        ),
        common::no_care(),
        common::no_events(),
        common::no_webhooks(),
        Arc::new(MockIdempotencyStore::new()),
        common::open_edge(),
    )))
    .await;
    for (method, path) in documented() {
        let uri = format!(
            "{}?limit=0&format=xml&dry_run=perhaps",
            path.replace("{id}", "not-an-id")
        );
        let req = web_test::TestRequest::default()
            .method(method.parse().unwrap())
            .uri(&uri)
            .insert_header(("content-type", "application/json"))
            .set_payload("{");
        let resp = web_test::call_service(&app, req.to_request()).await;
        let status = resp.status().as_u16();
        let body = web_test::read_body(resp).await;
        let text = String::from_utf8_lossy(&body);
        assert!(
            status != 405 && !text.contains("no such API resource"),
            "{method} {path}: {status} {text}"
        );
    }
}
