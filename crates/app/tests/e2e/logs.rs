//! The real binary's JSON logs: one line per request with its method, route
//! template, status, latency, size and request id; never the API key or
//! the query string.

use std::process::Stdio;

use garage_infra::testing::TestDb;

use crate::helpers::{spawn_binary, stop_and_read, Binary};
use serde_json::Value;

const KEY: &str = "log-test-key-0123456789abcdef";

#[actix_web::test]
async fn each_request_is_one_json_line_without_secrets() {
    let db = TestDb::postgres();
    let Binary {
        mut child, base, ..
    } = spawn_binary(
        &db,
        &[("APP__LOG__FORMAT", "json"), ("APP__AUTH__API_KEYS", KEY)],
        Stdio::piped(),
    )
    .await;
    let client = awc::Client::default();
    let created = client
        .post(format!("{base}/api/v1/garages"))
        .insert_header(("authorization", format!("Bearer {KEY}")))
        .insert_header(("x-request-id", "log-test-1"))
        .send_json(&serde_json::json!({"name": "Logged", "address": "1 rue X"}))
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let missing = client
        .get(format!("{base}/api/v1/garages/424242?secret=hunter2"))
        .insert_header(("x-request-id", "log-test-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let output = stop_and_read(&mut child).await;

    let lines: Vec<Value> = output
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let request = |id: &str| {
        lines
            .iter()
            .find(|l| l["message"] == "request" && l["span"]["request_id"] == id)
            .unwrap_or_else(|| panic!("no request line for {id} in {output:#?}"))
    };
    let post = request("log-test-1");
    assert_eq!(post["method"], "POST");
    assert_eq!(post["route"], "/api/v1/garages");
    assert_eq!(post["status"], 201);
    assert!(post["latency_ms"].as_f64().unwrap() > 0.0);
    assert!(post["bytes"].as_u64().unwrap() > 0);
    let get = request("log-test-2");
    assert_eq!(get["route"], "/api/v1/garages/{id}");
    assert_eq!(get["status"], 404);

    let all = output.join("\n");
    for secret in [KEY, "hunter2", "Bearer"] {
        assert!(!all.contains(secret), "{secret} leaked into the logs");
    }
}
