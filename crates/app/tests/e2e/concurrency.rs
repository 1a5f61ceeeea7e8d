//! The fleet's rules under concurrent requests, through the whole stack.

use futures_util::future::join_all;
use garage_infra::testing::TestDb;

use crate::helpers::{spawn_app, spawn_app_with, vehicle, TestApp};

/// Sends the creations at once and counts the answers by status.
async fn create_all(app: &TestApp, bodies: Vec<serde_json::Value>) -> (usize, usize, usize) {
    let replies = join_all(bodies.into_iter().map(|b| app.post("/api/v1/vehicles", b))).await;
    let count = |s| replies.iter().filter(|r| r.status == s).count();
    (
        count(201),
        count(409),
        replies.len() - count(201) - count(409),
    )
}

async fn one_plate_fifty_times(app: TestApp) {
    let garage = app.garage("Central", None).await;
    let spellings = ["AA-001-AA", "aa001aa", "AA 001 AA"];
    let bodies = (0..50).map(|i| vehicle(garage, spellings[i % 3])).collect();
    assert_eq!(create_all(&app, bodies).await, (1, 49, 0));
    let listed = app.get(&format!("/api/v1/garages/{garage}/vehicles")).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

async fn twenty_into_five(app: TestApp) {
    let garage = app.garage("Small", Some(5)).await;
    let bodies = (0..20)
        .map(|i| vehicle(garage, &format!("CAP-{i:03}")))
        .collect();
    assert_eq!(create_all(&app, bodies).await, (5, 15, 0));
    let shown = app.get(&format!("/api/v1/garages/{garage}")).await;
    assert_eq!(shown.body["vehicle_count"], 5);
    let listed = app.get(&format!("/api/v1/garages/{garage}/vehicles")).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 5);
}

#[actix_web::test]
async fn fifty_concurrent_posts_of_one_plate_give_one_201_on_postgres() {
    one_plate_fifty_times(spawn_app(TestDb::postgres()).await).await;
}

#[actix_web::test]
async fn fifty_concurrent_posts_of_one_plate_give_one_201_on_sqlite() {
    one_plate_fifty_times(spawn_app(TestDb::sqlite()).await).await;
}

#[actix_web::test]
async fn twenty_concurrent_posts_into_a_garage_of_five_give_five_201_on_postgres() {
    twenty_into_five(spawn_app(TestDb::postgres()).await).await;
}

#[actix_web::test]
async fn twenty_concurrent_posts_into_a_garage_of_five_give_five_201_on_sqlite() {
    twenty_into_five(spawn_app(TestDb::sqlite()).await).await;
}

/// Concurrent creations and deletions on PostgreSQL go through the gathered
/// statements: each is answered as alone, the counts and events agree, and
/// the metrics show every write made by a batch.
#[actix_web::test]
async fn concurrent_creations_and_deletions_are_written_in_batches_on_postgres() {
    let app = spawn_app_with(TestDb::postgres(), &[("APP__METRICS__ADDR", "127.0.0.1:0")]).await;
    let garages = [
        app.garage("Nord", None).await,
        app.garage("Sud", None).await,
        app.garage("Est", Some(100)).await,
    ];
    let replies = join_all((0..60).map(|i: usize| {
        app.post(
            "/api/v1/vehicles",
            vehicle(garages[i % 3], &format!("BT-{i:03}-AA")),
        )
    }))
    .await;
    assert!(replies.iter().all(|r| r.status == 201), "{replies:?}");
    for garage in garages {
        let shown = app.get(&format!("/api/v1/garages/{garage}")).await;
        assert_eq!(shown.body["vehicle_count"], 20);
    }
    let paths: Vec<_> = replies
        .iter()
        .map(|r| format!("/api/v1/vehicles/{}", r.body["id"]))
        .collect();
    let deleted = join_all(paths.iter().map(|path| app.delete(path))).await;
    assert!(deleted.iter().all(|r| r.status == 204), "{deleted:?}");
    for garage in garages {
        let shown = app.get(&format!("/api/v1/garages/{garage}")).await;
        assert_eq!(shown.body["vehicle_count"], 0);
    }
    let events = app.get("/api/v1/events?limit=200").await;
    let kinds: Vec<_> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    let count = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
    assert_eq!(
        (count("vehicle.created"), count("vehicle.deleted")),
        (60, 60)
    );

    let metrics = app.metrics().await;
    let value = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}{{pool=\"primary\"}} ")))
            .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
            .parse::<f64>()
            .unwrap()
    };
    // Every write was made by a batch statement (of one, or of many).
    assert_eq!(value("db_batched_writes_total"), 120.0);
    assert_eq!(value("db_writes_queued"), 0.0);
}
