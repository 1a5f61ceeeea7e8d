//! With a read replica, plain reads go to it; writes, and what they answer,
//! go to the primary.

use garage_infra::testing::TestDb;
use serde_json::json;

use crate::helpers::spawn_app_with;

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
