//! The events through the real server: who made each change and in which
//! request, the feed's cursor, histories after a deletion, and what a key
//! limited to some garages may see.

use garage_infra::testing::TestDb;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app_with, vehicle};

const KEY: &str = "events-test-admin-key-0123456789";

fn kinds(reply: &Value) -> Vec<&str> {
    reply["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn every_change_is_told_once_with_its_author_and_request() {
    let app = spawn_app_with(
        TestDb::postgres(),
        &[
            ("APP__AUTH__API_KEYS", KEY),
            ("APP__AUTH__PROTECT_READS", "true"),
        ],
    )
    .await;
    let alice = app
        .as_key(
            KEY,
            "POST",
            "/api/v1/keys",
            Some(json!({"name": "alice", "scope": "write"})),
        )
        .await;
    let (alice_id, alice) = (
        alice.body["id"].as_i64().unwrap(),
        alice.body["secret"].as_str().unwrap().to_owned(),
    );
    let auth = format!("Bearer {alice}");
    let nord = app
        .send_with(
            "POST",
            "/api/v1/garages",
            Some(json!({"name": "Garage Nord", "address": "1 rue de Lille"})),
            &[("authorization", &auth), ("x-request-id", "trace-1")],
        )
        .await;
    assert_eq!(nord.status, 201);
    let nord = nord.body["id"].as_i64().unwrap();
    let lyon = app
        .create_as(
            &alice,
            "/api/v1/garages",
            json!({"name": "Dépôt Lyon", "address": "2 quai X"}),
        )
        .await;
    let van = app
        .create_as(&alice, "/api/v1/vehicles", vehicle(nord, "AB-123-CD"))
        .await;
    let moved = app
        .as_key(
            &alice,
            "PATCH",
            &format!("/api/v1/vehicles/{van}"),
            Some(json!({"garage_id": lyon, "brand": "Citroën"})),
        )
        .await;
    assert_eq!(moved.status, 200, "{moved:?}");
    let gone = app
        .as_key(&alice, "DELETE", &format!("/api/v1/vehicles/{van}"), None)
        .await;
    assert_eq!(gone.status, 204);

    // The admin reads everything, the key's creation included.
    let feed = app
        .as_key(KEY, "GET", "/api/v1/events?limit=200", None)
        .await;
    assert_eq!(feed.status, 200, "{feed:?}");
    assert_eq!(
        kinds(&feed.body),
        [
            "key.created",
            "garage.created",
            "garage.created",
            "vehicle.created",
            "vehicle.moved",
            "vehicle.deleted"
        ]
    );
    let items = feed.body["items"].as_array().unwrap();
    assert_eq!(
        items[1]["actor"],
        json!({"key_id": alice_id, "name": "alice"})
    );
    assert_eq!(items[1]["request_id"], "trace-1");
    assert_eq!(items[1]["changes"]["name"], "Garage Nord");
    // Every request has an id, given or not.
    assert!(items[2]["request_id"]
        .as_str()
        .is_some_and(|id| id.len() == 32));
    assert_eq!(
        items[4]["changes"],
        json!({"garage_id": {"from": nord, "to": lyon}, "brand": {"from": "Peugeot", "to": "Citroën"}})
    );
    assert_eq!(items[4]["garage_id"], lyon);

    // Resuming from the last cursor gives nothing new, and the same cursor.
    let cursor = feed.body["next_cursor"].as_str().unwrap().to_owned();
    let again = app
        .as_key(KEY, "GET", &format!("/api/v1/events?after={cursor}"), None)
        .await;
    assert_eq!(again.body["items"], json!([]));
    assert_eq!(again.body["next_cursor"], cursor.as_str());
    let moves = app
        .as_key(
            KEY,
            "GET",
            "/api/v1/events?type=vehicle.moved,vehicle.deleted&limit=1",
            None,
        )
        .await;
    assert_eq!(kinds(&moves.body), ["vehicle.moved"]);

    // The recent activity, newest first, filtered like the feed.
    let recent = app
        .as_key(KEY, "GET", "/api/v1/activity?limit=2", None)
        .await;
    assert_eq!(kinds(&recent.body), ["vehicle.deleted", "vehicle.moved"]);
    let older = app
        .as_key(
            KEY,
            "GET",
            &format!(
                "/api/v1/activity?cursor={}",
                recent.body["next_cursor"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(
        kinds(&older.body),
        [
            "vehicle.created",
            "garage.created",
            "garage.created",
            "key.created"
        ]
    );
    let created = app
        .as_key(&alice, "GET", "/api/v1/activity?type=garage.created", None)
        .await;
    assert_eq!(kinds(&created.body), ["garage.created", "garage.created"]);

    // A write key does not read the key events.
    let as_alice = app.as_key(&alice, "GET", "/api/v1/events", None).await;
    assert_eq!(kinds(&as_alice.body)[0], "garage.created");

    // The vehicle's history outlives it, newest first, paged.
    let history = app
        .as_key(
            &alice,
            "GET",
            &format!("/api/v1/vehicles/{van}/history?limit=2"),
            None,
        )
        .await;
    assert_eq!(history.status, 200, "{history:?}");
    assert_eq!(kinds(&history.body), ["vehicle.deleted", "vehicle.moved"]);
    let rest = app
        .as_key(
            &alice,
            "GET",
            &format!(
                "/api/v1/vehicles/{van}/history?cursor={}",
                history.body["next_cursor"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(kinds(&rest.body), ["vehicle.created"]);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let nord_history = app
        .as_key(
            &alice,
            "GET",
            &format!("/api/v1/garages/{nord}/history"),
            None,
        )
        .await;
    assert_eq!(
        kinds(&nord_history.body),
        ["vehicle.moved", "garage.created"]
    );

    // A key limited to Lyon sees Lyon's events (the move into it too), not
    // Nord's, nor the keys'.
    let lyon_reader = app
        .as_key(
            KEY,
            "POST",
            "/api/v1/keys",
            Some(json!({"name": "lyon", "scope": "read", "garages": [lyon]})),
        )
        .await;
    let lyon_reader = lyon_reader.body["secret"].as_str().unwrap().to_owned();
    let seen = app
        .as_key(&lyon_reader, "GET", "/api/v1/events", None)
        .await;
    assert_eq!(
        kinds(&seen.body),
        ["garage.created", "vehicle.moved", "vehicle.deleted"]
    );
    assert_problem(
        &app.as_key(
            &lyon_reader,
            "GET",
            &format!("/api/v1/garages/{nord}/history"),
            None,
        )
        .await,
        404,
    );

    // What the API cannot read is a 400, and what never existed a 404.
    for bad in [
        "after=12",
        "after=1-x",
        "type=vehicle.exploded",
        "limit=0",
        "garage_id=0",
    ] {
        let reply = app
            .as_key(KEY, "GET", &format!("/api/v1/events?{bad}"), None)
            .await;
        assert_problem(&reply, 400);
    }
    assert_problem(
        &app.as_key(KEY, "GET", "/api/v1/vehicles/999999/history", None)
            .await,
        404,
    );
}
