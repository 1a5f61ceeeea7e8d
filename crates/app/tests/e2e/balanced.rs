//! Three instances of the real binary on one PostgreSQL (and one Redis),
//! behind HAProxy running `deploy/haproxy/haproxy.cfg`, all on loopback:
//! through the balancer they act as one service, share their rate limits,
//! deliver each webhook once, and a rolling restart under load fails not
//! one request.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use garage_infra::testing::TestDb;
use serde_json::{json, Value};

use crate::helpers::{free_port, sample, spawn_binary_on, text, Binary, Reply, TestApp};

const KEY: &str = "balanced-test-admin-key-0123456789";

/// An instance and where its metrics are served.
struct Instance {
    binary: Binary,
    metrics: String,
    env: Vec<(String, String)>,
}

/// A running HAProxy, killed with its guard.
struct Balancer {
    child: Child,
    base: String,
    port: u16,
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Fleet {
    _db: TestDb,
    url: String,
    instances: Vec<Instance>,
    balancer: Balancer,
    /// The service as its clients see it: through the balancer.
    api: TestApp,
}

/// Three instances with `env` added, and HAProxy in front of them.
async fn fleet(env: &[(&str, &str)]) -> Fleet {
    let db = TestDb::postgres();
    let url = db.url().to_owned();
    let redis = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("garage-balanced-{}-{}", std::process::id(), free_port());
    let mut instances = Vec::new();
    for _ in 0..3 {
        let metrics_port = free_port();
        let mut vars: Vec<(String, String)> = vec![
            ("APP__REDIS__URL".into(), redis.clone()),
            ("APP__REDIS__PREFIX".into(), prefix.clone()),
            ("APP__SERVER__TRUSTED_PROXIES".into(), "127.0.0.1".into()),
            ("APP__SERVER__DRAIN_SECONDS".into(), "4".into()),
            ("APP__SERVER__WORKERS".into(), "2".into()),
            (
                "APP__METRICS__ADDR".into(),
                format!("127.0.0.1:{metrics_port}"),
            ),
            ("APP__LOG__LEVEL".into(), "warn".into()),
        ];
        vars.extend(env.iter().map(|(k, v)| ((*k).into(), (*v).into())));
        instances.push(start(&url, free_port(), vars).await);
    }
    let balancer = haproxy(&instances);
    let api = TestApp {
        base: balancer.base.clone(),
        port: balancer.port,
        metrics_base: None,
        client: awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish(),
        _db: None,
    };
    let fleet = Fleet {
        _db: db,
        url,
        instances,
        balancer,
        api,
    };
    // Every instance takes requests through the balancer before the test goes on.
    for i in 0..3 {
        fleet.wait_routed_to(i).await;
    }
    fleet
}

async fn start(url: &str, port: u16, env: Vec<(String, String)>) -> Instance {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let binary = spawn_binary_on(url, port, &pairs, Stdio::null()).await;
    let metrics = env
        .iter()
        .find(|(k, _)| k == "APP__METRICS__ADDR")
        .map(|(_, v)| format!("http://{v}/metrics"))
        .unwrap();
    Instance {
        binary,
        metrics,
        env,
    }
}

fn haproxy(instances: &[Instance]) -> Balancer {
    let port = free_port();
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/haproxy/haproxy.cfg"
    );
    let mut command = Command::new("haproxy");
    command
        .args(["-f", config, "-db"])
        .env("LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (i, instance) in instances.iter().enumerate() {
        command.env(
            format!("GARAGE_{}", i + 1),
            format!("127.0.0.1:{}", instance.binary.port),
        );
    }
    let child = command.spawn().unwrap_or_else(|err| {
        panic!("cannot run haproxy ({err}): install it (as root): apt-get install -y haproxy")
    });
    let mut balancer = Balancer {
        child,
        base: format!("http://127.0.0.1:{port}"),
        port,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(exit) = balancer.child.try_wait().unwrap() {
            panic!(
                "haproxy exited with {exit}: check deploy/haproxy/haproxy.cfg (haproxy -c -f …)"
            );
        }
        assert!(Instant::now() < deadline, "haproxy did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    balancer
}

impl Fleet {
    /// A call through the balancer, as a client of the service makes it.
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.api.send_with(method, path, body, headers).await
    }

    /// How many requests instance `i` has answered on this route.
    async fn served(&self, i: usize, route: &str) -> f64 {
        let metrics = text(&self.api.client, &self.instances[i].metrics).await;
        let pattern = format!("route=\"{route}\"");
        metrics
            .lines()
            .filter(|l| l.starts_with("http_requests_total{") && l.contains(&pattern))
            .map(|l| sample(l, ""))
            .sum()
    }

    /// Waits until the balancer sends requests to instance `i`.
    async fn wait_routed_to(&self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let before = self.served(i, "/api/v1/garages").await;
        loop {
            assert_eq!(
                self.call("GET", "/api/v1/garages", None, &[]).await.status,
                200
            );
            if self.served(i, "/api/v1/garages").await > before {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "instance {i} never got a request"
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Which instances answered `route` while `work` ran.
    async fn answered_by<F: std::future::Future<Output = ()>>(
        &self,
        route: &str,
        work: F,
    ) -> usize {
        let mut before = Vec::new();
        for i in 0..3 {
            before.push(self.served(i, route).await);
        }
        work.await;
        let mut answered = 0;
        for (i, before) in before.into_iter().enumerate() {
            if self.served(i, route).await > before {
                answered += 1;
            }
        }
        answered
    }
}

fn vehicle(garage: i64, plate: &str) -> Value {
    json!({"garage_id": garage, "brand": "Renault", "model": "Zoe", "year": 2022, "license_plate": plate})
}

#[actix_web::test]
async fn three_instances_behind_haproxy_act_as_one() {
    let fleet = fleet(&[]).await;

    let garage = fleet
        .call(
            "POST",
            "/api/v1/garages",
            Some(json!({"name": "Nord", "address": "1 rue X", "capacity": 2})),
            &[],
        )
        .await;
    assert_eq!(garage.status, 201);
    let garage = garage.body["id"].as_i64().unwrap();

    // Creations and conflicts, whichever instance answers.
    let statuses = fleet
        .answered_by("/api/v1/vehicles", async {
            let mut statuses = Vec::new();
            for plate in ["LB-001", "LB-001", "LB-002", "LB-003"] {
                statuses.push(
                    fleet
                        .call(
                            "POST",
                            "/api/v1/vehicles",
                            Some(vehicle(garage, plate)),
                            &[],
                        )
                        .await
                        .status,
                );
            }
            assert_eq!(
                statuses,
                [201, 409, 201, 409],
                "a taken plate, then a full garage"
            );
        })
        .await;
    assert!(
        statuses >= 2,
        "the creations were spread over {statuses} instance(s)"
    );

    // A retry with the same Idempotency-Key, answered by other instances.
    let key = [("Idempotency-Key", "balanced-retry-1")];
    let body = json!({"name": "Sud", "address": "2 rue Y"});
    let mut ids = BTreeSet::new();
    let mut replayed = 0;
    let answered = fleet
        .answered_by("/api/v1/garages", async {
            for _ in 0..4 {
                let answer = fleet
                    .call("POST", "/api/v1/garages", Some(body.clone()), &key)
                    .await;
                assert_eq!(answer.status, 201);
                ids.insert(answer.body["id"].as_i64().unwrap());
                if answer
                    .headers
                    .get("idempotent-replayed")
                    .is_some_and(|v| v == "true")
                {
                    replayed += 1;
                }
            }
        })
        .await;
    assert_eq!(ids.len(), 1, "one garage, however many retries");
    assert_eq!(replayed, 3);
    assert!(
        answered >= 2,
        "the retries were answered by {answered} instance(s)"
    );

    // An ETag from one instance is honoured by the others.
    let path = format!("/api/v1/garages/{garage}");
    let read = fleet.call("GET", &path, None, &[]).await;
    let etag = read
        .headers
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let answered = fleet
        .answered_by("/api/v1/garages/{id}", async {
            for _ in 0..4 {
                let answer = fleet
                    .call("GET", &path, None, &[("If-None-Match", &etag)])
                    .await;
                assert_eq!(answer.status, 304);
            }
        })
        .await;
    assert!(
        answered >= 2,
        "the conditional reads were answered by {answered} instance(s)"
    );
    let renamed = fleet
        .call(
            "PATCH",
            &path,
            Some(json!({"name": "Nord 2"})),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(renamed.status, 200);
    let stale = fleet
        .call(
            "PATCH",
            &path,
            Some(json!({"name": "Nord 3"})),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(stale.status, 412, "the old ETag is stale on every instance");
}

#[actix_web::test]
async fn the_rate_limit_is_one_for_all_instances() {
    let fleet = fleet(&[
        ("APP__RATE_LIMIT__PER_SECOND", "1"),
        ("APP__RATE_LIMIT__BURST", "12"),
    ])
    .await;
    // Waiting for the instances to be routed spent some of the budget:
    // let it refill.
    actix_web::rt::time::sleep(Duration::from_secs(12)).await;
    let mut accepted = 0;
    let mut refused = 0;
    let answered = fleet
        .answered_by("/api/v1/garages", async {
            for _ in 0..36 {
                match fleet.call("GET", "/api/v1/garages", None, &[]).await.status {
                    200 => accepted += 1,
                    429 => refused += 1,
                    other => panic!("answered {other}"),
                }
            }
        })
        .await;
    assert!(answered >= 2, "spread over {answered} instance(s)");
    // One budget of 12 for the client, not one per instance (36).
    assert!(
        (12..=15).contains(&accepted),
        "{accepted} accepted, {refused} refused"
    );
}

#[actix_web::test]
async fn a_rolling_restart_under_load_fails_no_request() {
    let mut fleet = fleet(&[]).await;
    let garage = fleet
        .call(
            "POST",
            "/api/v1/garages",
            Some(json!({"name": "Roll", "address": "1 rue X"})),
            &[],
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();

    // Steady load through the balancer: reads and creations, four clients.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let base = fleet.balancer.base.clone();
    let load: Vec<_> = (0..4)
        .map(|client| {
            let (stop, sent, base) = (stop.clone(), sent.clone(), base.clone());
            actix_web::rt::spawn(async move {
                let http = awc::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .finish();
                let mut failures = Vec::new();
                let mut created = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let answer = if n % 2 == 0 {
                        let plate = format!("RR-{client}-{n:05}");
                        let answer = http
                            .post(format!("{base}/api/v1/vehicles"))
                            .send_json(&vehicle(garage, &plate))
                            .await;
                        if matches!(&answer, Ok(r) if r.status() == 201) {
                            created.push(plate);
                        }
                        answer.map(|r| r.status().as_u16())
                    } else {
                        http.get(format!("{base}/api/v1/vehicles?limit=5"))
                            .send()
                            .await
                            .map(|r| r.status().as_u16())
                    };
                    sent.fetch_add(1, Ordering::Relaxed);
                    match answer {
                        Ok(200 | 201) => {}
                        other => failures.push(format!("{other:?}")),
                    }
                }
                (failures, created)
            })
        })
        .collect();

    for i in 0..3 {
        let instance = &mut fleet.instances[i];
        let port = instance.binary.port;
        let env = instance.env.clone();
        let status = Command::new("kill")
            .args(["-TERM", &instance.binary.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let waiting = Instant::now();
        while instance.binary.child.try_wait().unwrap().is_none() {
            assert!(
                waiting.elapsed() < Duration::from_secs(40),
                "instance {i} did not stop"
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        let restarted = start(&fleet.url, port, env).await;
        fleet.instances[i] = restarted;
        fleet.wait_routed_to(i).await;
    }
    let during = sent.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);

    let mut created = Vec::new();
    for client in load {
        let (failures, made) = client.await.unwrap();
        assert!(failures.is_empty(), "failed requests: {failures:?}");
        created.extend(made);
    }
    assert!(
        during > 100,
        "only {during} requests were sent during the restart"
    );
    // Every acknowledged creation is there.
    let mut stored = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/garages/{garage}/vehicles?limit=200&cursor={c}"),
            None => format!("/api/v1/garages/{garage}/vehicles?limit=200"),
        };
        let page = fleet.call("GET", &path, None, &[]).await.body;
        for v in page["items"].as_array().unwrap() {
            stored.insert(v["license_plate"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    for plate in &created {
        let canonical = plate.replace('-', "");
        assert!(
            stored.contains(&canonical),
            "{plate} was acknowledged but is missing"
        );
    }
}

#[actix_web::test]
async fn three_instances_deliver_each_webhook_once() {
    let receiver = crate::webhooks::Receiver::start().await;
    let fleet = fleet(&[
        ("APP__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
        ("APP__WEBHOOKS__POLL_INTERVAL_MS", "50"),
        ("APP__AUTH__API_KEYS", KEY),
    ])
    .await;
    let bearer = format!("Bearer {KEY}");
    let admin = [("Authorization", bearer.as_str())];
    let hook = fleet
        .call(
            "POST",
            "/api/v1/webhooks",
            Some(json!({"url": receiver.url, "events": ["garage.created"]})),
            &admin,
        )
        .await;
    assert_eq!(hook.status, 201);
    let secret = hook.body["secret"].as_str().unwrap().to_owned();
    let created = fleet
        .answered_by("/api/v1/garages", async {
            for i in 0..15 {
                let body = json!({"name": format!("G{i}"), "address": "1 rue X"});
                assert_eq!(
                    fleet
                        .call("POST", "/api/v1/garages", Some(body), &admin)
                        .await
                        .status,
                    201
                );
            }
        })
        .await;
    assert_eq!(created, 3, "every instance created some");
    receiver.until("fifteen messages", |r| r.len() >= 15).await;
    // Every instance's worker has had rounds to send a second copy.
    let path = format!("/api/v1/webhooks/{}/deliveries?limit=50", hook.body["id"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = fleet.call("GET", &path, None, &admin).await.body;
        let items = list["items"].as_array().unwrap().clone();
        if items.len() == 15 && items.iter().all(|d| d["state"] == "delivered") {
            break;
        }
        assert!(Instant::now() < deadline, "{list}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let got = receiver.received();
    let ids: BTreeSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!((got.len(), ids.len()), (15, 15), "each message once");
    assert!(got.iter().all(|r| r.signed_with(&secret)));
}
