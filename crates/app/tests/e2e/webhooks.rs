//! Webhooks end to end: a receiver on 127.0.0.1 that checks every
//! signature with its own implementation of the Standard Webhooks
//! algorithm, answering as each test scripts it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use garage_infra::testing::TestDb;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{
    assert_problem, spawn_app_at, spawn_app_with, spawn_binary, vehicle, TestApp,
};

const KEY: &str = "webhooks-test-admin-key-01234567";

/// What the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) id: String,
    timestamp: i64,
    signatures: Vec<String>,
    body: Value,
    raw: Vec<u8>,
    at: Instant,
}

impl Received {
    /// Whether one of the `v1,` signatures is HMAC-SHA256 of
    /// `id.timestamp.body` under `secret` (`whsec_` + base64 key).
    pub(crate) fn signed_with(&self, secret: &str) -> bool {
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.", self.id, self.timestamp).as_bytes());
        mac.update(&self.raw);
        let expected = format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        );
        self.signatures.contains(&expected)
    }
}

#[derive(Default)]
struct Script {
    /// Answers to give, in order: (status, Retry-After); 200 once empty.
    answers: VecDeque<(u16, Option<u64>)>,
    /// Once set, every request gets this answer.
    always: Option<u16>,
    received: Vec<Received>,
}

#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) url: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    pub(crate) async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = script.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .route("/hook", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            script,
        }
    }

    fn answer(&self, status: u16, retry_after: Option<u64>) {
        self.script
            .lock()
            .unwrap()
            .answers
            .push_back((status, retry_after));
    }

    fn always(&self, status: Option<u16>) {
        self.script.lock().unwrap().always = status;
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    /// Polls until `done` holds of what was received; fails after 30 s.
    pub(crate) async fn until(
        &self,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(Instant::now() < deadline, "{what}: got {received:#?}");
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    script: web::Data<Arc<Mutex<Script>>>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut script = script.lock().unwrap();
    script.received.push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp").parse().unwrap_or(-1),
        signatures: header("webhook-signature")
            .split(' ')
            .map(str::to_owned)
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw: body.to_vec(),
        at: Instant::now(),
    });
    let (status, retry_after) = match script.always {
        Some(status) => (status, None),
        None => script.answers.pop_front().unwrap_or((200, None)),
    };
    let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    if let Some(seconds) = retry_after {
        answer.insert_header(("retry-after", seconds.to_string()));
    }
    answer.finish()
}

/// Private targets allowed (the receiver is on loopback), waits between
/// attempts cut to a hundredth, and a quick poll.
const FAST: [(&str, &str); 5] = [
    ("APP__AUTH__API_KEYS", KEY),
    ("APP__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
    ("APP__WEBHOOKS__BACKOFF_SCALE", "0.01"),
    ("APP__WEBHOOKS__POLL_INTERVAL_MS", "50"),
    ("APP__RATE_LIMIT__PER_SECOND", "0"),
];

async fn admin(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> crate::helpers::Reply {
    app.as_key(KEY, method, path, body).await
}

async fn subscribe(app: &TestApp, url: &str, events: Value) -> (i64, String) {
    let created = admin(
        app,
        "POST",
        "/api/v1/webhooks",
        Some(json!({"url": url, "events": events, "description": "test receiver"})),
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    (created.body["id"].as_i64().unwrap(), secret)
}

#[actix_web::test]
async fn deliveries_are_signed_retried_as_asked_and_stopped_by_gone() {
    let receiver = Receiver::start().await;
    let app = spawn_app_with(TestDb::postgres(), &FAST).await;
    let (hook, secret) = subscribe(
        &app,
        &receiver.url,
        json!(["garage.created", "vehicle.created"]),
    )
    .await;

    // A failure, then a wait the receiver asks for, then success.
    receiver.answer(500, None);
    receiver.answer(503, Some(1));
    let garage = app
        .create_as(
            KEY,
            "/api/v1/garages",
            json!({"name": "Garage Nord", "address": "1 rue X"}),
        )
        .await;
    let got = receiver.until("three attempts", |r| r.len() >= 3).await;
    assert!(got.iter().all(|r| r.signed_with(&secret)), "{got:#?}");
    assert!(got.iter().all(|r| r.id == got[0].id), "one message, one id");
    assert_eq!(got[0].body["type"], "garage.created");
    assert_eq!(got[0].body["data"]["garage_id"], garage);
    assert_eq!(got[0].body["data"]["changes"]["name"], "Garage Nord");
    assert!(
        got[2].at - got[1].at >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured: {:?}",
        got[2].at - got[1].at
    );
    // The metrics count the attempts by result, once the worker has
    // recorded the last answer (the receiver may see it first).
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let metrics = admin(&app, "GET", "/metrics", None).await;
        let text = metrics.body.as_str().unwrap().to_owned();
        if text.contains("webhook_deliveries_total{result=\"delivered\"} 1")
            || Instant::now() > deadline
        {
            break text;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        text.contains("webhook_deliveries_total{result=\"retrying\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("webhook_deliveries_total{result=\"delivered\"} 1"),
        "{text}"
    );
    assert!(text.contains("webhook_outbox_oldest_seconds"), "{text}");
    let deliveries = admin(
        &app,
        "GET",
        &format!("/api/v1/webhooks/{hook}/deliveries"),
        None,
    )
    .await;
    let first = &deliveries.body["items"][0];
    assert_eq!(first["state"], "delivered", "{deliveries:?}");
    assert_eq!(first["attempts"], 3);
    assert_eq!(first["status_code"], 200);

    // Not subscribed: nothing is sent.
    let other = app
        .create_as(
            KEY,
            "/api/v1/garages",
            json!({"name": "Autre", "address": "1 rue X"}),
        )
        .await;
    let _ = other;
    // A test message.
    let test = admin(&app, "POST", &format!("/api/v1/webhooks/{hook}/test"), None).await;
    assert_eq!(test.status, 202, "{test:?}");
    let got = receiver
        .until("the test message", |r| {
            r.iter().any(|m| m.body["type"] == "webhook.test")
        })
        .await;
    // The second garage's creation came too (subscribed); nothing else.
    assert!(got.iter().all(|m| m.signed_with(&secret)));

    // After a rotation, both secrets sign for a day.
    let rotated = admin(
        &app,
        "POST",
        &format!("/api/v1/webhooks/{hook}/rotate-secret"),
        None,
    )
    .await;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    let new_secret = rotated.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    let before = receiver.received().len();
    let van = admin(
        &app,
        "POST",
        "/api/v1/vehicles",
        Some(vehicle(garage, "WH-001-AA")),
    )
    .await;
    assert_eq!(van.status, 201);
    let got = receiver
        .until("the vehicle's creation", |r| {
            r[before..]
                .iter()
                .any(|m| m.body["type"] == "vehicle.created")
        })
        .await;
    let message = got[before..]
        .iter()
        .find(|m| m.body["type"] == "vehicle.created")
        .unwrap();
    assert_eq!(message.signatures.len(), 2);
    assert!(message.signed_with(&secret) && message.signed_with(&new_secret));

    // 410 Gone disables the endpoint; nothing more is sent.
    receiver.always(Some(410));
    let before = receiver.received().len();
    admin(
        &app,
        "POST",
        "/api/v1/vehicles",
        Some(vehicle(garage, "WH-002-AA")),
    )
    .await;
    receiver.until("the 410", |r| r.len() > before).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let disabled = loop {
        let hook = admin(&app, "GET", &format!("/api/v1/webhooks/{hook}"), None).await;
        if hook.body["enabled"] == false {
            break hook;
        }
        assert!(Instant::now() < deadline, "still enabled: {hook:?}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        disabled.body["disabled_reason"],
        "the endpoint answered 410 Gone"
    );
    let count = receiver.received().len();
    admin(
        &app,
        "POST",
        "/api/v1/vehicles",
        Some(vehicle(garage, "WH-003-AA")),
    )
    .await;
    // Enabling it again sends what queued meanwhile.
    receiver.always(None);
    let enabled = admin(
        &app,
        "PATCH",
        &format!("/api/v1/webhooks/{hook}"),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(enabled.body["enabled"], true);
    assert_eq!(enabled.body["disabled_reason"], Value::Null);
    receiver
        .until("the queued creation", |r| {
            r[count..]
                .iter()
                .any(|m| m.body["data"]["changes"]["license_plate"] == "WH003AA")
        })
        .await;
}

#[actix_web::test]
async fn private_and_plain_http_targets_are_refused_by_default() {
    let app = spawn_app_with(
        TestDb::sqlite(),
        &[
            ("APP__AUTH__API_KEYS", KEY),
            ("APP__WEBHOOKS__POLL_INTERVAL_MS", "50"),
        ],
    )
    .await;
    let plain = admin(
        &app,
        "POST",
        "/api/v1/webhooks",
        Some(json!({"url": "http://hooks.example.com/x", "events": ["*"]})),
    )
    .await;
    assert_problem(&plain, 422);
    for bad in [
        json!({"url": "https://x.example", "events": []}),
        json!({"url": "ftp://x", "events": ["*"]}),
    ] {
        assert_problem(
            &admin(&app, "POST", "/api/v1/webhooks", Some(bad)).await,
            422,
        );
    }
    // Accepted as a URL, refused when sent: 127.0.0.1 is loopback.
    let receiver = Receiver::start().await;
    let https_loopback = receiver.url.replace("http://", "https://");
    let (hook, _) = subscribe(&app, &https_loopback, json!(["*"])).await;
    app.create_as(
        KEY,
        "/api/v1/garages",
        json!({"name": "Nord", "address": "1 rue X"}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let delivery = loop {
        let list = admin(
            &app,
            "GET",
            &format!("/api/v1/webhooks/{hook}/deliveries"),
            None,
        )
        .await;
        let first = list.body["items"][0].clone();
        if first["attempts"].as_u64().unwrap_or(0) >= 1 {
            break first;
        }
        assert!(Instant::now() < deadline, "no attempt: {list:?}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(delivery["state"], "pending");
    assert_eq!(delivery["status_code"], Value::Null);
    assert!(
        delivery["error"].as_str().unwrap().contains("private"),
        "{delivery}"
    );
    assert!(receiver.received().is_empty());
    // Only admin keys manage webhooks; an unknown one is a 404.
    assert_problem(&app.get("/api/v1/webhooks").await, 401);
    assert_problem(&admin(&app, "GET", "/api/v1/webhooks/999", None).await, 404);
    assert_problem(
        &admin(
            &app,
            "POST",
            &format!("/api/v1/webhooks/{hook}/deliveries/999/retry"),
            None,
        )
        .await,
        404,
    );
}

#[actix_web::test]
async fn two_instances_deliver_each_event_once() {
    let receiver = Receiver::start().await;
    let db = TestDb::postgres();
    let one = spawn_app_at(db.url(), &FAST).await;
    let two = spawn_app_at(db.url(), &FAST).await;
    let (hook, secret) = subscribe(&one, &receiver.url, json!(["garage.created"])).await;
    for i in 0..12 {
        let app = if i % 2 == 0 { &one } else { &two };
        app.create_as(
            KEY,
            "/api/v1/garages",
            json!({"name": &format!("G{i}"), "address": "1 rue X"}),
        )
        .await;
    }
    receiver.until("twelve messages", |r| r.len() >= 12).await;
    // Every delivery done: no more sends can come.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = admin(
            &two,
            "GET",
            &format!("/api/v1/webhooks/{hook}/deliveries?limit=50"),
            None,
        )
        .await;
        let items = list.body["items"].as_array().unwrap().clone();
        if items.len() == 12 && items.iter().all(|d| d["state"] == "delivered") {
            break;
        }
        assert!(Instant::now() < deadline, "{list:?}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let got = receiver.received();
    let mut ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (12, 12), "{got:#?}");
    assert!(got.iter().all(|r| r.signed_with(&secret)));
    drop(db);
}

#[actix_web::test]
async fn a_restart_in_the_middle_of_retries_loses_nothing() {
    let receiver = Receiver::start().await;
    // Two failures, each asking for two seconds: time to stop the first
    // process between attempts. Then the receiver answers 200.
    receiver.answer(503, Some(2));
    receiver.answer(503, Some(2));
    let db = TestDb::postgres();
    let mut first = spawn_binary(&db, &FAST, std::process::Stdio::null()).await;
    let client = awc::Client::default();
    let created = client
        .post(format!("{}/api/v1/webhooks", first.base))
        .insert_header(("authorization", format!("Bearer {KEY}")))
        .send_json(&json!({"url": receiver.url, "events": ["garage.created"]}))
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let garage = client
        .post(format!("{}/api/v1/garages", first.base))
        .insert_header(("authorization", format!("Bearer {KEY}")))
        .send_json(&json!({"name": "Redémarrage", "address": "1 rue X"}))
        .await
        .unwrap();
    assert_eq!(garage.status(), 201);
    receiver
        .until("two failed attempts", |r| r.len() >= 2)
        .await;
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    // Another process takes over from the store.
    let before = receiver.received().len();
    let _second = spawn_app_at(db.url(), &FAST).await;
    // A lease cut off by the kill expires within a minute.
    let deadline = Instant::now() + Duration::from_secs(75);
    loop {
        let got = receiver.received();
        if got.len() > before {
            assert!(
                got.iter().all(|r| r.id == got[0].id),
                "one message throughout"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never delivered after the restart"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}
