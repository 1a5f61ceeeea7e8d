//! What an operator relies on: API keys, rate limits, CORS, security
//! headers, request ids and metrics, each through the real server.

use garage_infra::testing::TestDb;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app_with};

const KEY: &str = "test-key-0123456789abcdef";

fn garage() -> serde_json::Value {
    json!({"name": "Garage", "address": "1 rue X"})
}

#[actix_web::test]
async fn writes_need_a_valid_api_key_when_keys_are_configured() {
    let app = spawn_app_with(TestDb::sqlite(), &[("APP__AUTH__API_KEYS", KEY)]).await;
    let missing = app.post("/api/v1/garages", garage()).await;
    assert_problem(&missing, 401);
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    let wrong = app
        .send_with(
            "POST",
            "/api/v1/garages",
            Some(garage()),
            &[("authorization", "Bearer test-key-0123456789abcdeF")],
        )
        .await;
    assert_problem(&wrong, 401);
    let bearer = format!("Bearer {KEY}");
    let created = app
        .send_with(
            "POST",
            "/api/v1/garages",
            Some(garage()),
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let listed = app.get("/api/v1/garages").await;
    assert_eq!(listed.status, 200);
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        1,
        "the refused writes changed nothing"
    );
}

#[actix_web::test]
async fn reads_need_a_key_when_protected() {
    let app = spawn_app_with(
        TestDb::sqlite(),
        &[
            ("APP__AUTH__API_KEYS", KEY),
            ("APP__AUTH__PROTECT_READS", "true"),
        ],
    )
    .await;
    assert_problem(&app.get("/api/v1/garages").await, 401);
    let bearer = format!("Bearer {KEY}");
    let ok = app
        .send_with(
            "GET",
            "/api/v1/garages",
            None,
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        app.get("/health/live").await.status,
        200,
        "probes need no key"
    );
}

#[actix_web::test]
async fn a_client_past_its_budget_gets_429_with_retry_after() {
    let app = spawn_app_with(
        TestDb::sqlite(),
        &[
            ("APP__RATE_LIMIT__PER_SECOND", "0.5"),
            ("APP__RATE_LIMIT__BURST", "3"),
        ],
    )
    .await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/garages").await.status, 200);
    }
    let limited = app.get("/api/v1/garages").await;
    assert_problem(&limited, 429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "retry after {retry}");
    assert_eq!(
        app.get("/health/ready").await.status,
        200,
        "probes are not limited"
    );
}

#[actix_web::test]
async fn cors_allows_configured_origins_only() {
    let app = spawn_app_with(
        TestDb::sqlite(),
        &[("APP__SERVER__CORS_ORIGINS", "https://ui.example.org")],
    )
    .await;
    async fn preflight(app: &crate::helpers::TestApp, origin: &str) -> crate::helpers::Reply {
        app.send_with(
            "OPTIONS",
            "/api/v1/vehicles",
            None,
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "content-type, authorization",
                ),
            ],
        )
        .await
    }
    let allowed = preflight(&app, "https://ui.example.org").await;
    assert_eq!(allowed.status, 200, "{allowed:?}");
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://ui.example.org")
    );
    assert!(allowed
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    // Every method a route takes is allowed: a plan is replaced with PUT.
    let put = app
        .send_with(
            "OPTIONS",
            "/api/v1/vehicles/1/plans/service",
            None,
            &[
                ("origin", "https://ui.example.org"),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "content-type, if-match"),
            ],
        )
        .await;
    assert_eq!(put.status, 200, "{put:?}");
    let methods = put.header("access-control-allow-methods").unwrap();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{method} not in {methods}");
    }
    let refused = preflight(&app, "https://evil.example.com").await;
    assert_eq!(
        refused.header("access-control-allow-origin"),
        None,
        "{refused:?}"
    );

    let simple = app
        .send_with(
            "GET",
            "/api/v1/garages",
            None,
            &[("origin", "https://ui.example.org")],
        )
        .await;
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("https://ui.example.org")
    );
    let same_origin_post = app
        .send_with(
            "POST",
            "/api/v1/garages",
            Some(garage()),
            &[("origin", app.base.as_str())],
        )
        .await;
    assert_eq!(
        same_origin_post.status, 201,
        "same-origin requests are not CORS's business"
    );
}

#[actix_web::test]
async fn responses_carry_security_headers_and_a_request_id() {
    let app = spawn_app_with(TestDb::sqlite(), &[]).await;
    let reply = app.get("/api/v1/garages").await;
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    assert!(reply
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'self'"));
    assert_eq!(
        reply.header("strict-transport-security"),
        None,
        "HSTS only over TLS"
    );
    let id = reply.header("x-request-id").unwrap();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    let echoed = app
        .send_with(
            "GET",
            "/api/v1/garages",
            None,
            &[("x-request-id", "trace-42")],
        )
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-42"));
    let problem = app.get("/api/v1/garages/999").await;
    assert!(
        problem.header("x-request-id").is_some(),
        "errors carry an id too"
    );
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app_with(TestDb::sqlite(), &[("APP__METRICS__ADDR", "127.0.0.1:0")]).await;
    for _ in 0..3 {
        app.get("/api/v1/garages").await;
    }
    app.get("/api/v1/garages/12345").await;
    let text = app.metrics().await;
    let text = text.as_str();
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
            .to_owned()
    };
    assert!(
        line(r#"http_requests_total{method="GET",route="/api/v1/garages",status="200"}"#)
            .ends_with(" 3")
    );
    assert!(
        line(r#"http_requests_total{method="GET",route="/api/v1/garages/{id}",status="404"}"#)
            .ends_with(" 1")
    );
    line(
        r#"http_request_duration_seconds_bucket{le="0.0005",method="GET",route="/api/v1/garages",status="200"}"#,
    );
    line("http_requests_in_flight");
    line(r#"db_pool_max_connections{pool="primary"}"#);
    line(r#"db_pool_checkouts_total{pool="primary"}"#);
    line(r#"db_errors_unavailable_total{pool="primary"} 0"#);
}
