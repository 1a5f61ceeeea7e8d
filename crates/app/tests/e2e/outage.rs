//! A database outage, made by cutting a TCP proxy that this test owns
//! between the app and PostgreSQL: requests fail fast with 503, readiness
//! turns 503, and both recover by themselves when the database returns.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use garage_infra::testing::{Cluster, TestDb};
use serde_json::json;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{assert_problem, spawn_app_at, spawn_app_with, vehicle};

/// Forwards connections to `target` until cut; a cut also closes the
/// connections already open, as a crashed server would.
struct Proxy {
    port: u16,
    up: watch::Sender<bool>,
}

impl Proxy {
    fn start(target: SocketAddr) -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let (up, watcher) = watch::channel(true);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                loop {
                    let Ok((mut inbound, _)) = listener.accept().await else {
                        break;
                    };
                    if !*watcher.borrow() {
                        continue; // Dropped: the connection is refused.
                    }
                    let mut cut = watcher.clone();
                    tokio::spawn(async move {
                        let Ok(mut outbound) = TcpStream::connect(target).await else {
                            return;
                        };
                        tokio::select! {
                            _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = cut.wait_for(|up| !*up) => {}
                        }
                    });
                }
            });
        });
        Self { port, up }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

/// `url` with its host and port replaced by the proxy's.
fn through(url: &str, port: u16) -> (String, SocketAddr) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((user, hostport)) => (format!("{user}@"), hostport),
        None => (String::new(), authority),
    };
    let hostport = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:5432")
    };
    let target = hostport.to_socket_addrs().unwrap().next().unwrap();
    (
        format!("{scheme}://{userinfo}127.0.0.1:{port}/{path}"),
        target,
    )
}

#[actix_web::test]
async fn requests_fail_fast_during_an_outage_and_recover_after_it() {
    let db = TestDb::postgres();
    let (_, target) = through(db.url(), 0);
    let proxy = Proxy::start(target);
    let (url, _) = through(db.url(), proxy.port);
    let app = spawn_app_with(
        db,
        &[
            ("DATABASE_URL", url.as_str()),
            ("APP__DATABASE__POOL_TIMEOUT", "1"),
            ("APP__DATABASE__POOL_MAX_SIZE", "4"),
        ],
    )
    .await;
    let before = app
        .post(
            "/api/v1/garages",
            json!({"name": "Before", "address": "1 rue X"}),
        )
        .await;
    assert_eq!(before.status, 201);
    let garage = before.body["id"].as_i64().unwrap();
    assert_eq!(app.get("/health/ready").await.status, 200);

    proxy.cut();
    // Each request fails within the database deadline (2 s) and a margin;
    // their sum is no bound, since each may wait out the deadline.
    let within = Duration::from_secs(3);
    for _ in 0..3 {
        let started = Instant::now();
        let reply = app.get("/api/v1/garages").await;
        assert!(
            started.elapsed() < within,
            "failing took {:?}",
            started.elapsed()
        );
        assert_problem(&reply, 503);
        assert_eq!(reply.header("retry-after"), Some("1"));
    }
    let started = Instant::now();
    assert_problem(
        &app.post("/api/v1/vehicles", vehicle(garage, "OUT-1")).await,
        503,
    );
    assert!(
        started.elapsed() < within,
        "failing took {:?}",
        started.elapsed()
    );
    assert_eq!(app.get("/health/ready").await.status, 503);
    assert_eq!(
        app.get("/health/live").await.status,
        200,
        "the process itself is fine"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.get("/health/ready").await.status != 200 {
        assert!(Instant::now() < deadline, "the service did not recover");
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    let after = app
        .post(
            "/api/v1/garages",
            json!({"name": "After", "address": "2 rue Y"}),
        )
        .await;
    assert_eq!(after.status, 201, "{after:?}");
    let names: Vec<_> = app.get("/api/v1/garages").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        ["Before", "After"],
        "every acknowledged write is kept, and only those"
    );
    let in_garage = app.get(&format!("/api/v1/garages/{garage}/vehicles")).await;
    assert_eq!(in_garage.body["items"], json!([]));
}

/// A PostgreSQL that stops answering without closing anything (SIGSTOP, as
/// a hung host or a silent network looks): every request gets its 503
/// within 3 s, a second wave too (the pool is not wedged), readiness says
/// 503, and service returns by itself once the server goes on.
#[actix_web::test]
async fn a_hung_database_costs_seconds_not_a_wedged_service() {
    let cluster = Cluster::primary();
    let app = spawn_app_at(
        &cluster.url(),
        &[
            ("APP__DATABASE__POOL_MAX_SIZE", "4"),
            ("APP__METRICS__ADDR", "127.0.0.1:0"),
        ],
    )
    .await;
    let garage = app
        .post(
            "/api/v1/garages",
            json!({"name": "G", "address": "1 rue X"}),
        )
        .await;
    assert_eq!(garage.status, 201);
    let garage = garage.body["id"].as_i64().unwrap();
    assert_eq!(app.get("/health/ready").await.status, 200);

    cluster.freeze();
    for wave in 0..2 {
        let calls = (0..24).map(|i| {
            let app = &app;
            async move {
                let started = Instant::now();
                let reply = match i % 3 {
                    0 => app.get("/api/v1/garages").await,
                    1 => app.get(&format!("/api/v1/garages/{garage}")).await,
                    _ => {
                        app.post(
                            "/api/v1/vehicles",
                            vehicle(garage, &format!("HUNG-{wave}{i}")),
                        )
                        .await
                    }
                };
                (reply, started.elapsed())
            }
        });
        let mut took = Vec::new();
        for (reply, elapsed) in futures_util::future::join_all(calls).await {
            assert_problem(&reply, 503);
            took.push(elapsed);
        }
        let slowest = took.iter().max().unwrap();
        assert!(
            *slowest < Duration::from_secs(3),
            "wave {wave}: the slowest 503 took {slowest:?}"
        );
    }
    let started = Instant::now();
    assert_eq!(app.get("/health/ready").await.status, 503);
    assert!(started.elapsed() < Duration::from_secs(3));
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("db_deadline_exceeded_total") && !l.ends_with(" 0")),
        "{metrics}"
    );

    cluster.thaw();
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.get("/health/ready").await.status != 200 {
        assert!(Instant::now() < deadline, "the service did not come back");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.get("/api/v1/garages").await.status, 200);
    let after = app
        .post("/api/v1/vehicles", vehicle(garage, "AFTER-1"))
        .await;
    assert_eq!(after.status, 201, "{after:?}");
}
