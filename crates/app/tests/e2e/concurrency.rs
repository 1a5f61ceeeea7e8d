//! The fleet's rules under concurrent requests, through the whole stack.

use futures_util::future::join_all;
use garage_infra::testing::TestDb;

use crate::helpers::{spawn_app, vehicle, TestApp};

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
