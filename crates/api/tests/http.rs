//! The HTTP layer through actix's test service, with mocked ports: status
//! codes, headers and problem bodies for every kind of answer.

mod common;

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{test, App};
use chrono::Utc;
use common::vehicle_from;
use garage_domain::*;
use serde_json::{json, Value};

fn garage(id: i64) -> Garage {
    Garage {
        id: GarageId::parse(id).unwrap(),
        name: GarageName::parse("Garage du Nord").unwrap(),
        address: Address::parse("1 rue de Lille, Paris").unwrap(),
        capacity: Some(Capacity::parse(10).unwrap()),
        vehicle_count: 2,
        version: Version::new(3),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn valid_vehicle() -> Value {
    json!({"garage_id": 1, "brand": "Renault", "model": "Clio", "year": 2020, "license_plate": "ab-123-cd"})
}

macro_rules! app {
    ($garages:expr, $vehicles:expr) => {
        test::init_service(App::new().configure(garage_api::configure(
            FleetService::new(Arc::new($garages), Arc::new($vehicles)),
            common::no_care(),
            common::no_events(),
            common::no_webhooks(),
            Arc::new(MockIdempotencyStore::new()),
            common::open_edge(),
        )))
        .await
    };
}

/// Sends `req` and returns the status, the content type and the JSON body.
macro_rules! call {
    ($app:expr, $req:expr) => {{
        let resp = test::call_service(&$app, $req.to_request()).await;
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let location = resp
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = test::read_body(resp).await;
        let body: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, content_type, location, body)
    }};
}

fn assert_problem(status: StatusCode, content_type: &str, body: &Value, expected: u16) {
    assert_eq!(status.as_u16(), expected, "{body}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["status"], expected);
    assert!(
        body["type"].as_str().unwrap().starts_with("/problems/"),
        "{body}"
    );
    assert!(!body["title"].as_str().unwrap().is_empty());
    assert!(!body["detail"].as_str().unwrap().is_empty());
}

/// Each entry of `errors[]` as `field code`, so a test reads what a client
/// program matches on.
fn error_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let bound = |name: &str| e.get(name).map(|v| format!(" {name}={v}"));
            format!(
                "{} {}{}{}",
                e["field"].as_str().unwrap_or("-"),
                e["code"].as_str().unwrap(),
                bound("min").unwrap_or_default(),
                bound("max").unwrap_or_default(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn creating_a_vehicle_answers_201_with_its_location_and_canonical_plate() {
    let mut vehicles = MockVehicleRepository::new();
    vehicles
        .expect_create()
        .withf(|v, _| {
            v.license_plate.as_str() == "AB123CD" && v.garage_id == GarageId::parse(1).unwrap()
        })
        .times(1)
        .returning(|v, _| Ok(vehicle_from(42, v)));
    let app = app!(MockGarageRepository::new(), vehicles);
    let (status, content_type, location, body) = call!(
        app,
        test::TestRequest::post()
            .uri("/api/v1/vehicles")
            .set_json(valid_vehicle())
    );
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(content_type, "application/json");
    assert_eq!(location.as_deref(), Some("/api/v1/vehicles/42"));
    assert_eq!(body["id"], 42);
    assert_eq!(body["license_plate"], "AB123CD");
    assert_eq!(body["year"], 2020);
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
}

#[actix_web::test]
async fn invalid_values_are_a_422_listing_each_field() {
    let mut vehicles = MockVehicleRepository::new();
    vehicles.expect_create().never();
    let app = app!(MockGarageRepository::new(), vehicles);
    let body = json!({"garage_id": -4, "brand": "  ", "model": "Clio", "year": 1500, "license_plate": "AB_12"});
    let (status, content_type, _, body) = call!(
        app,
        test::TestRequest::post()
            .uri("/api/v1/vehicles")
            .set_json(body)
    );
    assert_problem(status, &content_type, &body, 422);
    let next_year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    assert_eq!(
        error_codes(&body),
        [
            format!("garage_id out_of_range min=1 max={}", i64::MAX),
            "brand required".into(),
            format!("year out_of_range min=1886 max={next_year}"),
            "license_plate invalid_format".into(),
        ]
    );
    assert_eq!(body["type"], "/problems/validation");
}

#[actix_web::test]
async fn malformed_json_wrong_types_and_unknown_fields_are_400() {
    let app = app!(MockGarageRepository::new(), MockVehicleRepository::new());
    let cases: [(&str, &str); 4] = [
        ("/api/v1/vehicles", "{\"garage_id\": 1,"),
        ("/api/v1/vehicles", r#"{"garage_id": "one"}"#),
        (
            "/api/v1/garages",
            r#"{"name": "a", "address": "b", "colour": "red"}"#,
        ),
        ("/api/v1/garages", "[]"),
    ];
    for (uri, payload) in cases {
        let req = test::TestRequest::post()
            .uri(uri)
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(payload);
        let (status, content_type, _, body) = call!(app, req);
        assert_problem(status, &content_type, &body, 400);
    }
}

#[actix_web::test]
async fn bodies_over_64_kib_are_413_and_other_media_types_415() {
    let app = app!(MockGarageRepository::new(), MockVehicleRepository::new());
    let huge = json!({"name": "x".repeat(70 * 1024), "address": "a"});
    let (status, content_type, _, body) = call!(
        app,
        test::TestRequest::post()
            .uri("/api/v1/garages")
            .set_json(huge)
    );
    assert_problem(status, &content_type, &body, 413);
    let req = test::TestRequest::post()
        .uri("/api/v1/garages")
        .insert_header((header::CONTENT_TYPE, "text/plain"))
        .set_payload("name=a");
    let (status, content_type, _, body) = call!(app, req);
    assert_problem(status, &content_type, &body, 415);
}

#[actix_web::test]
async fn a_taken_plate_is_409_naming_the_field() {
    let mut vehicles = MockVehicleRepository::new();
    vehicles
        .expect_create()
        .returning(|v, _| Err(Error::DuplicatePlate(v.license_plate)));
    let app = app!(MockGarageRepository::new(), vehicles);
    let (status, content_type, _, body) = call!(
        app,
        test::TestRequest::post()
            .uri("/api/v1/vehicles")
            .set_json(valid_vehicle())
    );
    assert_problem(status, &content_type, &body, 409);
    assert_eq!(body["type"], "/problems/duplicate-plate");
    assert_eq!(error_codes(&body), ["license_plate duplicate"]);
    assert!(body["detail"].as_str().unwrap().contains("AB123CD"));
}

#[actix_web::test]
async fn a_full_garage_is_409_and_an_unknown_one_422() {
    let mut vehicles = MockVehicleRepository::new();
    let mut calls = 0;
    vehicles.expect_create().times(2).returning(move |v, _| {
        calls += 1;
        if calls == 1 {
            Err(Error::GarageFull {
                garage: v.garage_id,
                capacity: 5,
            })
        } else {
            Err(Error::GarageNotFound(v.garage_id))
        }
    });
    let app = app!(MockGarageRepository::new(), vehicles);
    let (status, content_type, _, body) = call!(
        app,
        test::TestRequest::post()
            .uri("/api/v1/vehicles")
            .set_json(valid_vehicle())
    );
    assert_problem(status, &content_type, &body, 409);
    assert_eq!(body["type"], "/problems/garage-full");
    assert_eq!(error_codes(&body), ["garage_id garage_full"]);
    let (status, content_type, _, body) = call!(
        app,
        test::TestRequest::post()
            .uri("/api/v1/vehicles")
            .set_json(valid_vehicle())
    );
    assert_problem(status, &content_type, &body, 422);
    assert_eq!(error_codes(&body), ["garage_id unknown_garage"]);
}

#[actix_web::test]
async fn garages_list_with_a_cursor_and_search() {
    let mut garages = MockGarageRepository::new();
    garages
        .expect_list()
        .withf(|filter, page| {
            filter.name_contains.as_deref() == Some("nord")
                && page.limit.get() == 2
                && page.after == Some(10)
        })
        .returning(|_, _| {
            Ok(Page {
                items: vec![garage(11), garage(12)],
                next_after: Some(12),
            })
        });
    let app = app!(garages, MockVehicleRepository::new());
    let (status, _, _, body) = call!(
        app,
        test::TestRequest::get().uri("/api/v1/garages?limit=2&cursor=10&q=%20nord%20")
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert_eq!(body["items"][0]["id"], 11);
    assert_eq!(body["items"][0]["capacity"], 10);
    assert_eq!(body["items"][0]["vehicle_count"], 2);
    assert_eq!(body["next_cursor"], "12");
}

#[actix_web::test]
async fn bad_query_parameters_are_400() {
    let app = app!(MockGarageRepository::new(), MockVehicleRepository::new());
    for uri in [
        "/api/v1/garages?limit=0",
        "/api/v1/garages?limit=201",
        "/api/v1/garages?limit=ten",
        "/api/v1/garages?cursor=%27%3B%20DROP%20TABLE%20garages",
        "/api/v1/garages?sort=colour",
        "/api/v1/garages?sort=name&cursor=12",
        "/api/v1/vehicles?year_max=20000",
        "/api/v1/vehicles?plate=%3Cscript%3E",
        "/api/v1/vehicles?garage_id=0",
        "/api/v1/garages/1/vehicles?limit=-1",
    ] {
        let (status, content_type, _, body) = call!(app, test::TestRequest::get().uri(uri));
        assert_problem(status, &content_type, &body, 400);
    }
}

#[actix_web::test]
async fn missing_resources_bad_ids_and_unknown_routes_are_problems() {
    let mut garages = MockGarageRepository::new();
    garages.expect_get().returning(|_| Ok(None));
    let mut vehicles = MockVehicleRepository::new();
    vehicles
        .expect_delete()
        .returning(|id, _, _| Err(Error::VehicleNotFound(id)));
    let app = app!(garages, vehicles);
    for (req, expected) in [
        (test::TestRequest::get().uri("/api/v1/garages/7"), 404),
        (test::TestRequest::get().uri("/api/v1/garages/-7"), 404),
        (test::TestRequest::delete().uri("/api/v1/vehicles/9"), 404),
        (test::TestRequest::get().uri("/api/v1/garages/abc"), 400),
        (
            test::TestRequest::get().uri("/api/v1/garages/99999999999999999999"),
            400,
        ),
        (test::TestRequest::get().uri("/api/v1/nothing"), 404),
        (test::TestRequest::put().uri("/api/v1/garages/7"), 405),
    ] {
        let (status, content_type, _, body) = call!(app, req);
        assert_problem(status, &content_type, &body, expected);
    }
}

#[actix_web::test]
async fn deleting_a_garage_answers_204_or_409_when_it_holds_vehicles() {
    let mut garages = MockGarageRepository::new();
    garages.expect_delete().returning(|id, _, _| {
        if id == GarageId::parse(1).unwrap() {
            Ok(())
        } else {
            Err(Error::GarageNotEmpty {
                garage: id,
                count: 3,
            })
        }
    });
    let app = app!(garages, MockVehicleRepository::new());
    let (status, _, _, body) = call!(app, test::TestRequest::delete().uri("/api/v1/garages/1"));
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    let (status, content_type, _, body) =
        call!(app, test::TestRequest::delete().uri("/api/v1/garages/2"));
    assert_problem(status, &content_type, &body, 409);
    assert_eq!(body["type"], "/problems/garage-not-empty");
}

#[actix_web::test]
async fn patching_a_garage_capacity_below_its_count_is_409() {
    let mut garages = MockGarageRepository::new();
    garages
        .expect_update()
        .withf(|_, changes, _, _| changes.capacity == Some(Some(Capacity::parse(1).unwrap())))
        .returning(|id, _, _, _| {
            Err(Error::CapacityBelowCount {
                garage: id,
                capacity: 1,
                count: 2,
            })
        });
    let app = app!(garages, MockVehicleRepository::new());
    let (status, content_type, _, body) = call!(
        app,
        test::TestRequest::patch()
            .uri("/api/v1/garages/3")
            .set_json(json!({"capacity": 1}))
    );
    assert_problem(status, &content_type, &body, 409);
    assert_eq!(error_codes(&body), ["capacity capacity_below_count"]);
}

#[actix_web::test]
async fn internal_causes_are_logged_never_sent() {
    let mut garages = MockGarageRepository::new();
    garages.expect_get().returning(|_| {
        Err(Error::Internal(anyhow::anyhow!(
            "relation \"garages\" does not exist at postgres://app:s3cret@db"
        )))
    });
    garages
        .expect_list()
        .returning(|_, _| Err(Error::Unavailable(anyhow::anyhow!("pool timed out"))));
    let app = app!(garages, MockVehicleRepository::new());
    let resp = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/garages/1")
            .to_request(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = String::from_utf8(test::read_body(resp).await.to_vec()).unwrap();
    for secret in ["relation", "s3cret", "postgres"] {
        assert!(!text.contains(secret), "{text}");
    }
    let resp = test::call_service(
        &app,
        test::TestRequest::get().uri("/api/v1/garages").to_request(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "1");
}
