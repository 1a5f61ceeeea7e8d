//! Hostile and odd input through the whole stack: every case is a 4xx
//! problem, never a 5xx, and leaves the database as it was; text that looks
//! like SQL or script is stored and returned verbatim.

use futures_util::future::join_all;
use garage_infra::testing::TestDb;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, vehicle, TestApp};

/// Everything the API holds, as it lists it.
async fn snapshot(app: &TestApp) -> (Value, Value) {
    let garages = app.get("/api/v1/garages?limit=200").await.body;
    let vehicles = app.get("/api/v1/vehicles?limit=200").await.body;
    (garages, vehicles)
}

/// Sends raw bytes with a content type, as a misbehaving client would.
async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, String) {
    let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.client.request(method, format!("{}{path}", app.base));
    if let Some(content_type) = content_type {
        req = req.insert_header(("content-type", content_type));
    }
    let mut resp = req.send_body(body).await.expect("an answer");
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let _ = resp.body().limit(1 << 20).await;
    (resp.status().as_u16(), content_type)
}

#[track_caller]
fn assert_refused(case: &str, status: u16, content_type: &str) {
    assert!((400..500).contains(&status), "{case}: answered {status}");
    assert_eq!(content_type, "application/problem+json", "{case}");
}

#[actix_web::test]
async fn hostile_input_is_refused_cleanly_and_changes_nothing() {
    let app = spawn_app(TestDb::postgres()).await;
    let garage = app.garage("Target", Some(2)).await;
    let existing = app
        .post("/api/v1/vehicles", vehicle(garage, "AB-123-CD"))
        .await;
    assert_eq!(existing.status, 201);
    let before = snapshot(&app).await;

    let deep_array = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let deep_field = format!(
        r#"{{"name": {}1{}, "address": "x"}}"#,
        "[".repeat(3000),
        "]".repeat(3000)
    );
    let bodies: Vec<(&str, &str, Option<&str>, Vec<u8>)> = vec![
        ("a 1 MiB body", "/api/v1/garages", Some("application/json"), vec![b' '; 1 << 20]),
        ("deeply nested JSON", "/api/v1/garages", Some("application/json"), deep_array.into_bytes()),
        ("a deeply nested field", "/api/v1/garages", Some("application/json"), deep_field.into_bytes()),
        ("invalid UTF-8", "/api/v1/garages", Some("application/json"), b"{\"name\": \"\xff\xfe\", \"address\": \"x\"}".to_vec()),
        ("text/plain", "/api/v1/vehicles", Some("text/plain"), b"garage_id=1".to_vec()),
        ("a form", "/api/v1/vehicles", Some("application/x-www-form-urlencoded"), b"garage_id=1".to_vec()),
        ("no content type", "/api/v1/garages", None, br#"{"name":"a","address":"b"}"#.to_vec()),
        ("an empty body", "/api/v1/garages", Some("application/json"), Vec::new()),
        ("a JSON string", "/api/v1/garages", Some("application/json"), br#""garage""#.to_vec()),
        ("a null byte in a name", "/api/v1/garages", Some("application/json"), br#"{"name":"a\u0000b","address":"x"}"#.to_vec()),
        ("a huge year", "/api/v1/vehicles", Some("application/json"), format!(r#"{{"garage_id":{garage},"brand":"a","model":"b","year":1e30,"license_plate":"ZZ11"}}"#).into_bytes()),
        ("an out-of-range year", "/api/v1/vehicles", Some("application/json"), format!(r#"{{"garage_id":{garage},"brand":"a","model":"b","year":99999999999,"license_plate":"ZZ11"}}"#).into_bytes()),
        ("a huge garage id", "/api/v1/vehicles", Some("application/json"), br#"{"garage_id":99999999999999999999,"brand":"a","model":"b","year":2020,"license_plate":"ZZ11"}"#.to_vec()),
        ("a negative garage id", "/api/v1/vehicles", Some("application/json"), br#"{"garage_id":-1,"brand":"a","model":"b","year":2020,"license_plate":"ZZ11"}"#.to_vec()),
        ("a plate with SQL", "/api/v1/vehicles", Some("application/json"), format!(r#"{{"garage_id":{garage},"brand":"a","model":"b","year":2020,"license_plate":"AB'; DROP TABLE vehicles;--"}}"#).into_bytes()),
        ("a duplicate plate", "/api/v1/vehicles", Some("application/json"), format!(r#"{{"garage_id":{garage},"brand":"a","model":"b","year":2020,"license_plate":"ab 123 cd"}}"#).into_bytes()),
    ];
    for (case, path, content_type, body) in bodies {
        let (status, answer_type) = raw(&app, "POST", path, content_type, body).await;
        assert_refused(case, status, &answer_type);
    }

    let gets = [
        "/api/v1/garages/-1",
        "/api/v1/garages/0",
        "/api/v1/garages/9223372036854775807",
        "/api/v1/garages/9223372036854775808",
        "/api/v1/garages/1e3",
        "/api/v1/garages/%00",
        "/api/v1/garages/1%27%20OR%201=1",
        "/api/v1/vehicles/abc",
        "/api/v1/garages?limit=0",
        "/api/v1/garages?limit=-1",
        "/api/v1/garages?limit=201",
        "/api/v1/garages?limit=99999999999999999999",
        "/api/v1/garages?limit=",
        "/api/v1/garages?cursor=abc",
        "/api/v1/garages?cursor=-1",
        "/api/v1/garages?cursor=%27%20OR%201%3D1%20--",
        "/api/v1/garages?cursor=99999999999999999999",
        "/api/v1/garages?q=%00",
        "/api/v1/garages?q=nord%0Asud",
        "/api/v1/vehicles?plate=%3Cscript%3E",
        "/api/v1/vehicles?garage_id=abc",
        "/api/v1/vehicles?order=id",
        "/api/v1/garages/-7/vehicles",
        "/api/v1/garages/1/vehicles?cursor=x",
    ];
    for path in gets {
        let (status, answer_type) = raw(&app, "GET", path, None, Vec::new()).await;
        assert_refused(path, status, &answer_type);
    }
    let long_cursor = format!("/api/v1/garages?cursor={}", "9".repeat(10_000));
    let (status, answer_type) = raw(&app, "GET", &long_cursor, None, Vec::new()).await;
    assert_refused("a 10,000-digit cursor", status, &answer_type);
    for (method, path) in [
        ("DELETE", "/api/v1/vehicles/-5"),
        ("DELETE", "/api/v1/garages/0"),
        ("PUT", "/api/v1/garages"),
        ("PATCH", "/api/v1/vehicles/0"),
    ] {
        let (status, answer_type) =
            raw(&app, method, path, Some("application/json"), b"{}".to_vec()).await;
        assert_refused(path, status, &answer_type);
    }

    // A JSON array is not an object of fields: never an empty change.
    let vehicle_id = existing.body["id"].as_i64().unwrap();
    for (method, path) in [
        ("PATCH", format!("/api/v1/garages/{garage}")),
        ("PATCH", format!("/api/v1/vehicles/{vehicle_id}")),
        ("POST", "/api/v1/garages".to_owned()),
        ("POST", "/api/v1/vehicles".to_owned()),
    ] {
        for array in [&b"[]"[..], br#"["name"]"#] {
            let (status, answer_type) = raw(
                &app,
                method,
                &path,
                Some("application/json"),
                array.to_vec(),
            )
            .await;
            assert_eq!(status, 400, "{method} {path} with an array");
            assert_refused(&path, status, &answer_type);
        }
    }

    assert_eq!(
        snapshot(&app).await,
        before,
        "refused requests changed nothing"
    );

    // Text that looks like SQL or script is data: stored and returned as sent.
    for name in [
        "Robert'); DROP TABLE garages;--",
        "<script>alert('x')</script>",
        "\u{202e}évidemment ñ 日本 🚗",
    ] {
        let created = app
            .post(
                "/api/v1/garages",
                json!({"name": name, "address": "1 rue X"}),
            )
            .await;
        assert_eq!(created.status, 201, "{name}");
        let id = created.body["id"].as_i64().unwrap();
        assert_eq!(
            app.get(&format!("/api/v1/garages/{id}")).await.body["name"],
            name
        );
    }
    assert_eq!(
        app.get("/api/v1/garages?limit=200").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[actix_web::test]
async fn two_hundred_concurrent_creates_with_twenty_plates_make_twenty_vehicles() {
    let app = spawn_app(TestDb::postgres()).await;
    let garage = app.garage("Busy", None).await;
    let bodies: Vec<_> = (0..200)
        .map(|i| {
            let plate = format!("PL-{:02}", i % 20);
            let spelled = if i % 2 == 0 {
                plate
            } else {
                plate.to_lowercase().replace('-', " ")
            };
            vehicle(garage, &spelled)
        })
        .collect();
    let replies = join_all(bodies.into_iter().map(|b| app.post("/api/v1/vehicles", b))).await;
    let count = |s: u16| replies.iter().filter(|r| r.status == s).count();
    assert_eq!(
        (count(201), count(409)),
        (20, 180),
        "no other answer, no 5xx"
    );
    let listed = app
        .get(&format!("/api/v1/garages/{garage}/vehicles?limit=200"))
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 20);
    assert_eq!(
        app.get(&format!("/api/v1/garages/{garage}")).await.body["vehicle_count"],
        20
    );
}

#[actix_web::test]
async fn concurrent_moves_into_a_garage_at_capacity_never_exceed_it() {
    let app = spawn_app(TestDb::postgres()).await;
    let target = app.garage("Target", Some(3)).await;
    let sources = [app.garage("A", None).await, app.garage("B", None).await];
    let mut ids = Vec::new();
    for i in 0..12 {
        let created = app
            .post(
                "/api/v1/vehicles",
                vehicle(sources[i % 2], &format!("MV-{i:02}")),
            )
            .await;
        ids.push(created.body["id"].as_i64().unwrap());
    }
    let paths: Vec<_> = ids
        .iter()
        .map(|id| format!("/api/v1/vehicles/{id}"))
        .collect();
    let replies = join_all(
        paths
            .iter()
            .map(|path| app.patch(path, json!({"garage_id": target}))),
    )
    .await;
    let count = |s: u16| replies.iter().filter(|r| r.status == s).count();
    assert_eq!((count(200), count(409)), (3, 9));
    let shown = app.get(&format!("/api/v1/garages/{target}")).await.body;
    assert_eq!(shown["vehicle_count"], 3);
    let held = app
        .get(&format!("/api/v1/garages/{target}/vehicles"))
        .await
        .body;
    assert_eq!(held["items"].as_array().unwrap().len(), 3);
}
