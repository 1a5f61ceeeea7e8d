//! Through actix's test service with mocked ports: entity tags and
//! conditional requests, idempotent creations and retries, VINs,
//! bulk import and export.

mod common;

use std::sync::{Arc, Mutex};

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::{test, App};
use chrono::Utc;
use common::vehicle_from;
use garage_api::idempotency::StoredResponse;
use garage_domain::*;
use serde_json::{json, Value};

fn vehicle(id: i64, version: i64) -> Vehicle {
    Vehicle {
        id: VehicleId::parse(id).unwrap(),
        garage_id: GarageId::parse(1).unwrap(),
        brand: Brand::parse("Renault").unwrap(),
        model: ModelName::parse("Clio").unwrap(),
        year: ModelYear::parse(2020).unwrap(),
        license_plate: LicensePlate::parse(&format!("AB-{id}")).unwrap(),
        vin: Some(Vin::parse("VF1RFB00X12345678").unwrap()),
        registered_on: None,
        odometer: None,
        version: Version::new(version),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

async fn api(
    vehicles: MockVehicleRepository,
    keys: MockIdempotencyStore,
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    // Garages are only ever listed to be named: by id for an export, all
    // of them (1 and 2) for an import that names them.
    let mut garages = MockGarageRepository::new();
    garages.expect_list().returning(|filter, _| {
        let ids = filter
            .within
            .unwrap_or_else(|| vec![GarageId::parse(1).unwrap(), GarageId::parse(2).unwrap()]);
        let items = ids
            .into_iter()
            .map(|id| Garage {
                id,
                name: GarageName::parse(&format!("Dépôt n°{id}")).unwrap(),
                address: Address::parse("1 quai").unwrap(),
                capacity: None,
                vehicle_count: 0,
                version: Version::new(1),
                created_at: Utc::now(),
                updated_at: Utc::now(),
            })
            .collect();
        Ok(Page {
            items,
            next_after: None,
        })
    });
    test::init_service(App::new().configure(garage_api::configure(
        FleetService::new(Arc::new(garages), Arc::new(vehicles)),
        common::no_care(),
        common::no_events(),
        common::no_webhooks(),
        Arc::new(keys),
        common::open_edge(),
    )))
    .await
}

async fn send(
    app: &impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
    req: test::TestRequest,
) -> (StatusCode, header::HeaderMap, Vec<u8>) {
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = test::read_body(resp).await.to_vec();
    (status, headers, body)
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

#[actix_web::test]
async fn a_vehicle_carries_its_etag_and_a_matching_if_none_match_is_304() {
    let mut vehicles = MockVehicleRepository::new();
    vehicles
        .expect_get()
        .returning(|id| Ok(Some(vehicle(id.get(), 7))));
    let app = api(vehicles, MockIdempotencyStore::new()).await;

    let (status, headers, body) =
        send(&app, test::TestRequest::get().uri("/api/v1/vehicles/5")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get(header::ETAG).unwrap(), "\"7\"");
    assert_eq!(json_of(&body)["vin"], "VF1RFB00X12345678");

    let (status, headers, body) = send(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/vehicles/5")
            .insert_header((header::IF_NONE_MATCH, "\"7\"")),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(headers.get(header::ETAG).unwrap(), "\"7\"");
    assert!(body.is_empty());

    let (status, ..) = send(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/vehicles/5")
            .insert_header((header::IF_NONE_MATCH, "\"6\"")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn if_match_reaches_the_store_and_a_stale_one_is_412() {
    let mut vehicles = MockVehicleRepository::new();
    vehicles
        .expect_update()
        .withf(|_, _, expected, _| *expected == Some(Version::new(7)))
        .times(1)
        .returning(|id, _, _, _| Ok(vehicle(id.get(), 8)));
    vehicles
        .expect_delete()
        .withf(|_, expected, _| *expected == Some(Version::new(6)))
        .times(1)
        .returning(|_, _, _| Err(Error::Stale));
    let app = api(vehicles, MockIdempotencyStore::new()).await;

    let (status, headers, _) = send(
        &app,
        test::TestRequest::patch()
            .uri("/api/v1/vehicles/5")
            .insert_header((header::IF_MATCH, "\"7\""))
            .set_json(json!({"model": "Zoe"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get(header::ETAG).unwrap(), "\"8\"");

    let (status, headers, body) = send(
        &app,
        test::TestRequest::delete()
            .uri("/api/v1/vehicles/5")
            .insert_header((header::IF_MATCH, "\"6\"")),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
    assert_eq!(json_of(&body)["type"], "/problems/precondition-failed");
}

#[actix_web::test]
async fn an_if_match_no_version_can_meet_is_412_without_a_write() {
    let mut vehicles = MockVehicleRepository::new();
    vehicles.expect_delete().never();
    let app = api(vehicles, MockIdempotencyStore::new()).await;
    let (status, ..) = send(
        &app,
        test::TestRequest::delete()
            .uri("/api/v1/vehicles/5")
            .insert_header((header::IF_MATCH, "W/\"6\"")),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
}

#[actix_web::test]
async fn a_bad_or_taken_vin_is_refused_by_field() {
    let mut vehicles = MockVehicleRepository::new();
    vehicles
        .expect_create()
        .times(1)
        .returning(|v, _| Err(Error::DuplicateVin(v.vin.unwrap())));
    let app = api(vehicles, MockIdempotencyStore::new()).await;
    let new = |vin: &str| {
        json!({"garage_id": 1, "brand": "Renault", "model": "Clio", "year": 2020,
               "license_plate": "AB-1", "vin": vin})
    };
    let (status, _, body) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/v1/vehicles")
            .set_json(new("VF1RFB00X1234567O")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(&body)["errors"][0]["field"], "vin");

    let (status, _, body) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/v1/vehicles")
            .set_json(new("vf1rfb00x12345678")),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let body = json_of(&body);
    assert_eq!(body["type"], "/problems/duplicate-vin");
    assert_eq!(body["errors"][0]["field"], "vin");
}

fn creation() -> test::TestRequest {
    test::TestRequest::post()
        .uri("/api/v1/vehicles")
        .insert_header(("Idempotency-Key", "order-1"))
        .set_json(json!({"garage_id": 1, "brand": "Renault", "model": "Clio",
                         "year": 2020, "license_plate": "AB-1"}))
}

#[actix_web::test]
async fn a_first_keyed_creation_runs_and_its_response_is_stored() {
    let stored = Arc::new(Mutex::new(None));
    let mut keys = MockIdempotencyStore::new();
    keys.expect_claim().times(1).returning(|_, _, ttl| {
        assert_eq!(ttl.as_secs(), 24 * 3600);
        Ok(Claim::Claimed)
    });
    let kept = stored.clone();
    keys.expect_complete()
        .times(1)
        .returning(move |_, response| {
            *kept.lock().unwrap() = StoredResponse::decode(&response);
            Ok(())
        });
    let mut vehicles = MockVehicleRepository::new();
    vehicles
        .expect_create()
        .times(1)
        .returning(|v, _| Ok(vehicle_from(42, v)));
    let app = api(vehicles, keys).await;
    let (status, headers, body) = send(&app, creation()).await;
    assert_eq!(status, StatusCode::CREATED);
    let stored = stored
        .lock()
        .unwrap()
        .clone()
        .expect("the response was stored");
    assert_eq!(stored.status, 201);
    assert_eq!(stored.location.as_deref(), Some("/api/v1/vehicles/42"));
    assert_eq!(stored.etag.as_deref(), Some("\"1\""));
    assert_eq!(stored.body.as_bytes(), body);
    assert!(headers.get("idempotent-replayed").is_none());
}

#[actix_web::test]
async fn a_repeated_key_replays_the_stored_response_without_a_write() {
    let mut keys = MockIdempotencyStore::new();
    keys.expect_claim().returning(|_, _, _| {
        Ok(Claim::Replay(
            StoredResponse {
                status: 201,
                location: Some("/api/v1/vehicles/42".into()),
                content_type: Some("application/json".into()),
                etag: Some("\"1\"".into()),
                body: r#"{"id":42}"#.into(),
            }
            .encode(),
        ))
    });
    let mut vehicles = MockVehicleRepository::new();
    vehicles.expect_create().never();
    let app = api(vehicles, keys).await;
    let (status, headers, body) = send(&app, creation()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        headers.get(header::LOCATION).unwrap(),
        "/api/v1/vehicles/42"
    );
    assert_eq!(headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(headers.get(header::ETAG).unwrap(), "\"1\"");
    assert_eq!(body, br#"{"id":42}"#);
}

#[actix_web::test]
async fn a_key_reused_or_still_running_is_refused_without_a_write() {
    for (claim, status, kind) in [
        (Claim::Mismatch, 422, "/problems/idempotency-key-reused"),
        (Claim::InProgress, 409, "/problems/idempotency-key-in-use"),
    ] {
        let mut keys = MockIdempotencyStore::new();
        keys.expect_claim().return_once(move |_, _, _| Ok(claim));
        let mut vehicles = MockVehicleRepository::new();
        vehicles.expect_create().never();
        let app = api(vehicles, keys).await;
        let (got, _, body) = send(&app, creation()).await;
        assert_eq!(got.as_u16(), status);
        assert_eq!(json_of(&body)["type"], kind);
    }
}

#[actix_web::test]
async fn a_failed_keyed_creation_releases_its_key() {
    let mut keys = MockIdempotencyStore::new();
    keys.expect_claim().returning(|_, _, _| Ok(Claim::Claimed));
    keys.expect_complete().never();
    keys.expect_release().times(1).returning(|_| Ok(()));
    let mut vehicles = MockVehicleRepository::new();
    vehicles
        .expect_create()
        .returning(|v, _| Err(Error::DuplicatePlate(v.license_plate)));
    let app = api(vehicles, keys).await;
    let (status, ..) = send(&app, creation()).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

/// Without keys (the open server here), callers are told apart by address:
/// two clients never share an idempotency key's answer.
#[actix_web::test]
async fn the_key_is_scoped_to_the_caller_and_the_body_fingerprinted() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut keys = MockIdempotencyStore::new();
    let log = seen.clone();
    keys.expect_claim().returning(move |key, fingerprint, _| {
        log.lock().unwrap().push((key, fingerprint));
        Ok(Claim::InProgress)
    });
    let app = api(MockVehicleRepository::new(), keys).await;
    let (a, b) = (
        "203.0.113.1:40000".parse().unwrap(),
        "203.0.113.2:40000".parse().unwrap(),
    );
    send(&app, creation().peer_addr(a)).await;
    send(&app, creation().peer_addr(b)).await;
    send(
        &app,
        creation().peer_addr(a).set_json(json!({"garage_id": 2})),
    )
    .await;
    let seen = seen.lock().unwrap();
    assert_ne!(seen[0].0, seen[1].0, "two callers share a key space");
    assert_eq!(seen[0].0, seen[2].0);
    assert_ne!(seen[0].1, seen[2].1, "two bodies share a fingerprint");
}

#[actix_web::test]
async fn a_malformed_key_is_400() {
    let mut keys = MockIdempotencyStore::new();
    keys.expect_claim().never();
    let app = api(MockVehicleRepository::new(), keys).await;
    let (status, ..) = send(
        &app,
        creation().insert_header(("Idempotency-Key", "k".repeat(300))),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn csv_import(body: impl AsRef<[u8]>) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/api/v1/vehicles/import?dry_run=true")
        .insert_header((header::CONTENT_TYPE, "text/csv"))
        .set_payload(body.as_ref().to_vec())
}

/// A store that reads every row it is given, as the real one does, and
/// reports the bad ones.
fn reading_store(seen: Arc<Mutex<Vec<ImportRow>>>) -> MockVehicleRepository {
    let mut vehicles = MockVehicleRepository::new();
    vehicles.expect_import().returning(move |rows, options, _| {
        assert!(options.dry_run);
        let mut report = ImportReport::default();
        for row in rows {
            let row = row?;
            report.rows += 1;
            if let Err(fields) = &row.vehicle {
                for f in fields {
                    report.errors.push(RowError {
                        line: row.line,
                        field: f.column.clone(),
                        reason: f.reason,
                        message: f.message.clone(),
                    });
                }
            }
            seen.lock().unwrap().push(row);
        }
        Ok(report)
    });
    vehicles
}

#[actix_web::test]
async fn an_import_reads_columns_in_any_order_and_ignores_export_only_ones() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = api(reading_store(seen.clone()), MockIdempotencyStore::new()).await;
    let csv = "\u{feff}id,license_plate,year,model,brand,garage_id,vin,created_at\n\
               9,ab-1,2020,Clio,Renault,3,vf1rfb00x12345678,2026-01-01T00:00:00Z\n\
               10,\"CD 2\",2019,\"Zoe, E-Tech\",Renault,3,,x\n";
    let (status, _, body) = send(&app, csv_import(csv)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        json_of(&body),
        json!({"dry_run": true, "rows": 2, "imported": 0, "updated": 0, "unchanged": 0})
    );
    let seen = seen.lock().unwrap();
    let first = seen[0].vehicle.as_ref().unwrap();
    assert_eq!((seen[0].line, first.license_plate.as_str()), (2, "AB1"));
    assert_eq!(first.garage_id, GarageId::parse(3).unwrap());
    assert_eq!(first.vin.as_ref().unwrap().as_str(), "VF1RFB00X12345678");
    let second = seen[1].vehicle.as_ref().unwrap();
    assert_eq!(second.model.as_str(), "Zoe, E-Tech");
    assert_eq!(second.vin, None);
}

#[actix_web::test]
async fn an_import_reports_every_bad_row_with_its_line() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = api(reading_store(seen), MockIdempotencyStore::new()).await;
    let csv = "garage_id,brand,model,year,license_plate\n\
               1,Renault,Clio,2020,AB-1\n\
               x,Renault,Clio,1700,AB-2\n\
               1,Renault,Clio\n\
               \n\
               1,Renault,\"Mega\nne\",2020,AB_3\n\
               1,Renault,Clio,2020,AB-4\n\
               \n\
               1,Renault,Clio,2020,AB-5\n\
               2,Renault,Clio,2020,AB-6,extra\n";
    let (status, headers, body) = send(&app, csv_import(csv)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
    let body = json_of(&body);
    assert_eq!(body["type"], "/problems/import-rejected");
    let errors: Vec<(u64, Option<&str>, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str(),
                e["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, Some("garage_id"), "invalid_format"),
            (3, Some("year"), "out_of_range"),
            (4, None, "field_count"),
            (6, Some("model"), "invalid_format"),
            (6, Some("license_plate"), "invalid_format"),
            (11, None, "field_count"),
        ],
        "{body:#}"
    );
    assert!(
        body["detail"].as_str().unwrap().starts_with("4 of 7 rows"),
        "{body}"
    );
}

#[actix_web::test]
async fn an_import_header_must_name_the_required_columns() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = api(reading_store(seen.clone()), MockIdempotencyStore::new()).await;
    let (status, _, body) = send(
        &app,
        csv_import("garage_number,brand,model,year\n1,a,b,2020\n"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(&body);
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("unknown column \"garage_number\"")),
        "{body}"
    );
    assert!(body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["line"] == 1));
    assert_eq!(
        body["detail"],
        "the header line is invalid; this was a dry run"
    );
    let fields: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("garage_number", "unknown_column"),
            ("garage_id", "required"),
            ("license_plate", "required")
        ]
    );
    // No data row was read without its header.
    assert_eq!(seen.lock().unwrap().len(), 1);

    let (status, _, body) = send(&app, csv_import("")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json_of(&body)["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("empty"));
}

#[actix_web::test]
async fn an_import_must_be_csv() {
    let mut vehicles = MockVehicleRepository::new();
    vehicles.expect_import().never();
    let app = api(vehicles, MockIdempotencyStore::new()).await;
    let (status, ..) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/v1/vehicles/import")
            .set_json(json!([])),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

fn pages(total: i64) -> MockVehicleRepository {
    let mut vehicles = MockVehicleRepository::new();
    vehicles.expect_list().returning(move |filter, page| {
        assert_eq!(
            filter.brand.as_deref().map(str::to_lowercase).as_deref(),
            Some("renault")
        );
        let start = page.after.unwrap_or(0) + 1;
        let rows = (start..=total)
            .take(usize::from(page.limit.get()) + 1)
            .map(|id| vehicle(id, 1))
            .collect();
        Ok(Page::from_rows(rows, page.limit, |v| v.id.get()))
    });
    vehicles
}

#[actix_web::test]
async fn an_export_streams_every_page_as_csv() {
    let app = api(pages(450), MockIdempotencyStore::new()).await;
    let (status, headers, body) = send(
        &app,
        test::TestRequest::get().uri("/api/v1/vehicles/export?brand=renault"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "text/csv; charset=utf-8"
    );
    let day = Utc::now().format("%Y-%m-%d").to_string();
    assert!(headers
        .get(header::CONTENT_DISPOSITION)
        .unwrap()
        .to_str()
        .unwrap()
        .contains(&format!("vehicles-{day}.csv")));
    let text = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 451);
    assert_eq!(
        lines[0],
        "id,garage_id,garage,brand,model,year,license_plate,vin,registered_on,odometer_km,created_at,updated_at"
    );
    assert!(lines[450].starts_with("450,1,Dépôt n°1,Renault,Clio,2020,AB450,VF1RFB00X12345678,"));
}

#[actix_web::test]
async fn an_export_for_french_spreadsheets_has_semicolons_and_a_bom() {
    let app = api(pages(3), MockIdempotencyStore::new()).await;
    let (status, _, body) = send(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/vehicles/export?brand=renault&separator=semicolon&bom=true"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..3], b"\xEF\xBB\xBF", "a UTF-8 byte order mark first");
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(
        lines[0].starts_with("id;garage_id;garage;brand;"),
        "{}",
        lines[0]
    );
    assert!(
        lines[3].starts_with("3;1;Dépôt n°1;Renault;Clio;2020;AB3;"),
        "{}",
        lines[3]
    );
    // The BOM is written once, at the very start.
    assert_eq!(text.matches('\u{feff}').count(), 0);
}

#[actix_web::test]
async fn an_export_streams_every_page_as_json() {
    let app = api(pages(201), MockIdempotencyStore::new()).await;
    let (status, _, body) = send(
        &app,
        test::TestRequest::get().uri("/api/v1/vehicles/export?format=json&brand=Renault"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let items = json_of(&body);
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 201);
    assert_eq!(items[200]["id"], 201);

    let empty = api(pages(0), MockIdempotencyStore::new()).await;
    let (_, _, body) = send(
        &empty,
        test::TestRequest::get().uri("/api/v1/vehicles/export?format=json&brand=Renault"),
    )
    .await;
    assert_eq!(json_of(&body), json!([]));
}

#[actix_web::test]
async fn an_export_refuses_unknown_formats_and_filters() {
    let app = api(MockVehicleRepository::new(), MockIdempotencyStore::new()).await;
    for uri in [
        "/api/v1/vehicles/export?format=xml",
        "/api/v1/vehicles/export?colour=red",
        "/api/v1/vehicles/export?vin=123",
    ] {
        let (status, ..) = send(&app, test::TestRequest::get().uri(uri)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
    }
}

#[actix_web::test]
async fn hostile_import_bytes_are_row_errors_not_failures() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = api(reading_store(seen.clone()), MockIdempotencyStore::new()).await;
    let mut body = b"garage_id,brand,model,year,license_plate\n1,Ren\xffault,Clio,2020,AB-1\n1,Re\0nault,Clio,2020,AB-2\n\"unterminated,x".to_vec();
    body.extend(std::iter::repeat_n(b'a', 100_000));
    let req = test::TestRequest::post()
        .uri("/api/v1/vehicles/import?dry_run=true")
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .set_payload(body);
    let (status, _, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(&body);
    let errors: Vec<(u64, Option<&str>)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str()))
        .collect();
    // Bytes that are not UTF-8 read as Windows-1252 (0xFF is ÿ); a NUL is
    // a control character; an unterminated quote ends the file.
    assert_eq!(errors, [(3, Some("brand")), (4, None)], "{body:#}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].vehicle.as_ref().unwrap().brand.as_str(), "Renÿault");
}

#[actix_web::test]
async fn a_garage_name_and_id_that_disagree_are_refused() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = api(reading_store(seen.clone()), MockIdempotencyStore::new()).await;
    let csv = "garage_id;garage;brand;model;year;license_plate\n\
               1;Dépôt n°1;Renault;Clio;2020;AB-1\n\
               1;Dépôt n°2;Renault;Clio;2020;AB-2\n";
    let (status, _, body) = send(&app, csv_import(csv)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(&body);
    assert_eq!(body["errors"][0]["line"], 3);
    assert_eq!(body["errors"][0]["field"], "garage");
    assert_eq!(body["errors"][0]["code"], "garage_mismatch");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_french_excel_file_imports_with_semicolons_windows_1252_and_garage_names() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = api(reading_store(seen.clone()), MockIdempotencyStore::new()).await;
    // As Excel saves "CSV (séparateur : point-virgule)" on a French Windows:
    // Windows-1252 (é is 0xE9, ë 0xEB), `;` between fields, CRLF.
    let mut csv = b"Immatriculation;Marque;Mod\xe8le;Ann\xe9e;Garage;VIN\r\n".to_vec();
    csv.extend_from_slice(b"AB-123-CD;Citro\xebn;C3;2021;D\xe9p\xf4t n\xb01;\r\n");
    csv.extend_from_slice(b"EF-456-GH;Renault;\"Clio; V\";2019;d\xe9p\xf4t N\xb01;\r\n");
    csv.extend_from_slice(b"IJ-789-KL;Renault;Zoe;2020;Nulle part;\r\n");
    let (status, _, body) = send(&app, csv_import(csv)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(&body);
    assert_eq!(
        body["errors"],
        json!([{"line": 4, "field": "garage", "code": "unknown_garage",
                "message": "no garage is named \"Nulle part\""}])
    );
    let seen = seen.lock().unwrap();
    let first = seen[0].vehicle.as_ref().unwrap();
    assert_eq!(first.brand.as_str(), "Citroën");
    assert_eq!(first.license_plate.as_str(), "AB123CD");
    // The garage named, case and accents aside.
    assert_eq!(first.garage_id, GarageId::parse(1).unwrap());
    let second = seen[1].vehicle.as_ref().unwrap();
    assert_eq!(second.model.as_str(), "Clio; V");
    assert_eq!(second.garage_id, GarageId::parse(1).unwrap());
}

#[actix_web::test]
async fn a_keyed_import_runs_once_and_a_dry_run_is_another_request() {
    let fingerprints = Arc::new(Mutex::new(Vec::new()));
    let stored = Arc::new(Mutex::new(None));
    let mut keys = MockIdempotencyStore::new();
    let seen = fingerprints.clone();
    keys.expect_claim().returning(move |_, fingerprint, _| {
        seen.lock().unwrap().push(fingerprint);
        Ok(Claim::Claimed)
    });
    let kept = stored.clone();
    keys.expect_complete()
        .times(1)
        .returning(move |_, response| {
            *kept.lock().unwrap() = StoredResponse::decode(&response);
            Ok(())
        });
    keys.expect_release().times(1).returning(|_| Ok(()));
    let mut vehicles = MockVehicleRepository::new();
    vehicles.expect_import().returning(|rows, options, _| {
        let dry_run = options.dry_run;
        let rows = rows.count() as u64;
        Ok(ImportReport {
            rows,
            imported: if dry_run { 0 } else { rows },
            errors: if dry_run {
                vec![RowError {
                    line: 2,
                    field: None,
                    reason: garage_domain::Reason::InvalidFormat,
                    message: "bad".into(),
                }]
            } else {
                vec![]
            },
            ..ImportReport::default()
        })
    });
    let app = api(vehicles, keys).await;
    let csv = "garage_id,brand,model,year,license_plate\n1,Renault,Clio,2020,AB-1\n";
    let keyed = |uri: &str| {
        test::TestRequest::post()
            .uri(uri)
            .insert_header((header::CONTENT_TYPE, "text/csv"))
            .insert_header(("Idempotency-Key", "nightly-import"))
            .set_payload(csv)
    };
    // A rejected dry run releases its key.
    let (status, ..) = send(&app, keyed("/api/v1/vehicles/import?dry_run=true")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, body) = send(&app, keyed("/api/v1/vehicles/import")).await;
    assert_eq!(status, StatusCode::OK);
    let fingerprints = fingerprints.lock().unwrap();
    assert_ne!(
        fingerprints[0], fingerprints[1],
        "a dry run and an import share a fingerprint"
    );
    let stored = stored.lock().unwrap().clone().unwrap();
    assert_eq!((stored.status, stored.body.into_bytes()), (200, body));
}

#[actix_web::test]
async fn a_repeated_keyed_import_is_replayed_without_reading_the_file() {
    let mut keys = MockIdempotencyStore::new();
    keys.expect_claim().returning(|_, _, _| {
        Ok(Claim::Replay(
            StoredResponse {
                status: 200,
                location: None,
                content_type: Some("application/json".into()),
                etag: None,
                body: r#"{"dry_run":false,"rows":1,"imported":1,"updated":0,"unchanged":0}"#.into(),
            }
            .encode(),
        ))
    });
    let mut vehicles = MockVehicleRepository::new();
    vehicles.expect_import().never();
    let app = api(vehicles, keys).await;
    let req = csv_import("garage_id,brand,model,year,license_plate\n")
        .uri("/api/v1/vehicles/import")
        .insert_header(("Idempotency-Key", "nightly-import"));
    let (status, headers, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(json_of(&body)["imported"], 1);
}

#[actix_web::test]
async fn a_key_on_a_read_of_a_keyed_resource_is_ignored() {
    let mut keys = MockIdempotencyStore::new();
    keys.expect_claim().never();
    let mut vehicles = MockVehicleRepository::new();
    vehicles.expect_list().returning(|_, page| {
        Ok(Page::from_rows(vec![], page.limit, |v: &Vehicle| {
            v.id.get()
        }))
    });
    let app = api(vehicles, keys).await;
    let (status, ..) = send(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/vehicles")
            .insert_header(("Idempotency-Key", "not a valid key")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn an_import_over_the_limit_is_413_and_never_reaches_the_store() {
    let mut vehicles = MockVehicleRepository::new();
    vehicles.expect_import().never();
    let app = api(vehicles, MockIdempotencyStore::new()).await;
    let body = vec![b'a'; garage_api::vehicles::MAX_IMPORT_BYTES + 1];
    let (status, _, body) = send(&app, csv_import("").set_payload(body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json_of(&body)["type"], "/problems/payload-too-large");
}
