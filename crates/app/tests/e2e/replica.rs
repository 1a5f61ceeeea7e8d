//! With a read replica, plain reads go to it; writes, and what they answer,
//! go to the primary; a client reads its own writes; a replica that fails
//! hands its reads to the primary until it is back.

use std::time::{Duration, Instant};

use garage_infra::testing::{Cluster, TestDb};
use serde_json::json;

use crate::helpers::{sample, spawn_app_at, spawn_app_with, TestApp};

#[actix_web::test]
async fn reads_go_to_the_replica_and_writes_to_the_primary() {
    // Two separate databases stand for a primary and a replica that has
    // not caught up: what each answer shows tells where it was read.
    let replica = TestDb::postgres();
    let app = spawn_app_with(TestDb::postgres(), &[("DATABASE_READ_URL", replica.url())]).await;
    let created = app
        .post(
            "/api/v1/garages",
            json!({"name": "Primary only", "address": "1 rue X"}),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(
        created.body["name"], "Primary only",
        "a write answers from the primary"
    );
    let id = created.body["id"].as_i64().unwrap();

    let listed = app.get("/api/v1/garages").await;
    assert_eq!(listed.status, 200);
    assert_eq!(
        listed.body["items"],
        json!([]),
        "reads come from the replica"
    );
    assert_eq!(app.get(&format!("/api/v1/garages/{id}")).await.status, 404);

    let renamed = app
        .patch(&format!("/api/v1/garages/{id}"), json!({"name": "Renamed"}))
        .await;
    assert_eq!(renamed.status, 200, "a change finds the row on the primary");
    assert_eq!(renamed.body["name"], "Renamed");
    assert_eq!(app.get("/health/ready").await.status, 200);
}

/// A metric's value, summed over the lines that start with `prefix`.
async fn metric(app: &TestApp, prefix: &str) -> f64 {
    sample(&app.metrics().await, prefix)
}

#[actix_web::test]
async fn a_streaming_standby_serves_reads_and_clients_read_their_own_writes() {
    let primary = Cluster::primary();
    let standby = Cluster::standby_of(&primary);
    let app = spawn_app_at(
        &primary.url(),
        &[
            ("DATABASE_READ_URL", &standby.url()),
            ("APP__METRICS__ADDR", "127.0.0.1:0"),
        ],
    )
    .await;
    let on_replica = "db_pool_checkouts_total{pool=\"replica\"}";

    // Plain reads are served by the standby.
    let before = metric(&app, on_replica).await;
    for _ in 0..5 {
        assert_eq!(app.get("/api/v1/garages").await.status, 200);
    }
    assert!(metric(&app, on_replica).await >= before + 5.0);

    // With replay paused the standby stands still: a write is visible at
    // once to the client that sends its token, not to one without it.
    standby.sql("SELECT pg_wal_replay_pause()");
    let created = app
        .post(
            "/api/v1/garages",
            json!({"name": "Nord", "address": "1 rue X"}),
        )
        .await;
    assert_eq!(created.status, 201);
    let token = created
        .header("garage-written")
        .expect("a token")
        .to_owned();
    assert!(
        created
            .header("set-cookie")
            .is_some_and(|c| c.starts_with(&format!("garage_written={token};"))),
        "browsers get it as a cookie"
    );
    let path = format!("/api/v1/garages/{}", created.body["id"]);
    let mine = app
        .send_with("GET", &path, None, &[("Garage-Written", &token)])
        .await;
    assert_eq!(mine.status, 200, "the writer reads its write");
    let cookie = format!("garage_written={token}");
    let by_cookie = app
        .send_with("GET", &path, None, &[("Cookie", &cookie)])
        .await;
    assert_eq!(by_cookie.status, 200, "so does a browser");
    assert_eq!(
        app.get(&path).await.status,
        404,
        "a read without the token is the standby's, which has not replayed it"
    );

    // Replay resumed: the standby catches up and serves the token's reads.
    standby.sql("SELECT pg_wal_replay_resume()");
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get(&path).await.status != 200 {
        assert!(Instant::now() < deadline, "the standby never caught up");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let before = metric(&app, on_replica).await;
    let again = app
        .send_with("GET", &path, None, &[("Garage-Written", &token)])
        .await;
    assert_eq!(again.status, 200);
    assert!(
        metric(&app, on_replica).await > before,
        "caught up, the standby serves it"
    );

    // Several connections to the standby, all of them broken by its stop
    // and restart: each is dropped as it is found, none keeps reads away.
    let reads = (0..8).map(|_| app.get(&path));
    for read in futures_util::future::join_all(reads).await {
        assert_eq!(read.status, 200);
    }

    // The standby stops: reads go to the primary, the service stays ready,
    // and once no connection to the standby can be made, a metric says
    // reads are degraded.
    standby.stop();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert_eq!(app.get(&path).await.status, 200);
        assert_eq!(app.get("/health/ready").await.status, 200);
        if metric(&app, "db_replica_degraded").await == 1.0 {
            break;
        }
        assert!(Instant::now() < deadline, "reads never said degraded");
    }

    // Back again: reads return to it.
    standby.start();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert_eq!(app.get(&path).await.status, 200);
        if metric(&app, "db_replica_degraded").await == 0.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "reads never went back to the standby"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    let before = metric(&app, on_replica).await;
    assert_eq!(app.get(&path).await.status, 200);
    assert!(metric(&app, on_replica).await > before);
}
