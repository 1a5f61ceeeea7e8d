//! What a fleet manager's screens ask of the API, through the real server on
//! both backends: the overview's figures.

use garage_infra::testing::TestDb;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};

/// The operator's key: writes need it once it is configured.
const ADMIN: &str = "fleet-manager-test-key-0123456789";

async fn app(db: TestDb) -> TestApp {
    spawn_app_with(
        db,
        &[
            ("APP__AUTH__API_KEYS", ADMIN),
            ("APP__AUTH__PROTECT_READS", "true"),
        ],
    )
    .await
}

#[actix_web::test]
async fn the_overview_on_postgres() {
    overview(app(TestDb::postgres()).await).await;
}

#[actix_web::test]
async fn the_overview_on_sqlite() {
    overview(app(TestDb::sqlite()).await).await;
}

fn garage(name: &str, capacity: Option<u32>) -> Value {
    json!({"name": name, "address": "1 quai du Rhône, Lyon", "capacity": capacity})
}

fn car(garage: i64, plate: &str, brand: &str, year: i32) -> Value {
    json!({"garage_id": garage, "brand": brand, "model": "X", "year": year, "license_plate": plate})
}

async fn overview(app: TestApp) {
    let empty = app.as_key(ADMIN, "GET", "/api/v1/stats", None).await;
    assert_eq!(empty.status, 200, "{empty:?}");
    assert_eq!(
        (
            &empty.body["garages"],
            &empty.body["vehicles"],
            &empty.body["free_places"]
        ),
        (&json!(0), &json!(0), &json!(0))
    );

    let nord = app
        .create_as(ADMIN, "/api/v1/garages", garage("Nord", Some(3)))
        .await;
    let sud = app
        .create_as(ADMIN, "/api/v1/garages", garage("Sud", Some(10)))
        .await;
    let hall = app
        .create_as(ADMIN, "/api/v1/garages", garage("Hall", None))
        .await;
    let this_year = chrono::Datelike::year(&chrono::Utc::now());
    for (garage, plate, brand, age) in [
        (nord, "OV-001", "Renault", 0),
        (nord, "OV-002", "Renault", 4),
        (nord, "OV-003", "Peugeot", 4),
        (sud, "OV-004", "Citroën", 12),
        (hall, "OV-005", "Renault", 20),
    ] {
        let car = car(garage, plate, brand, this_year - age);
        app.create_as(ADMIN, "/api/v1/vehicles", car).await;
    }

    let stats = app.as_key(ADMIN, "GET", "/api/v1/stats", None).await.body;
    assert_eq!(stats["garages"], 3);
    assert_eq!(stats["vehicles"], 5);
    // Nord is full (3 of 3), Sud holds 1 of 10, Hall has no limit.
    assert_eq!(stats["free_places"], 9);
    assert_eq!(stats["unlimited_garages"], 1);
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // Sud and Hall hold one each: the older garage first.
    assert_eq!(names(&stats["busiest"]), ["Nord", "Sud", "Hall"]);
    assert_eq!(names(&stats["fullest"]), ["Nord", "Sud"]);
    assert_eq!(
        stats["brands"],
        json!([
            {"brand": "Renault", "vehicles": 3},
            {"brand": "Citroën", "vehicles": 1},
            {"brand": "Peugeot", "vehicles": 1}
        ])
    );
    assert_eq!(stats["other_brands"], 0);
    assert_eq!(
        stats["ages"],
        json!([
            {"from": 0, "to": 2, "vehicles": 1},
            {"from": 3, "to": 5, "vehicles": 2},
            {"from": 6, "to": 9, "vehicles": 0},
            {"from": 10, "to": 14, "vehicles": 1},
            {"from": 15, "vehicles": 1}
        ])
    );

    // A key limited to one garage sees the figures of that garage only.
    let key = app
        .as_key(
            ADMIN,
            "POST",
            "/api/v1/keys",
            Some(json!({"name": "dépôt sud", "scope": "read", "garages": [sud]})),
        )
        .await;
    assert_eq!(key.status, 201, "{key:?}");
    let secret = key.body["secret"].as_str().unwrap();
    let theirs = app.as_key(secret, "GET", "/api/v1/stats", None).await.body;
    assert_eq!(
        (&theirs["garages"], &theirs["vehicles"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(names(&theirs["busiest"]), ["Sud"]);
    assert_eq!(
        theirs["brands"],
        json!([{"brand": "Citroën", "vehicles": 1}])
    );
}
