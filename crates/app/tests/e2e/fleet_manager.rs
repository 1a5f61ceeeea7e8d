//! What a fleet manager's screens ask of the API, through the real server on
//! both backends: the overview's figures.

use garage_infra::testing::TestDb;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app_with, TestApp};

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

#[actix_web::test]
async fn move_all_on_postgres() {
    move_all(app(TestDb::postgres()).await).await;
}

#[actix_web::test]
async fn move_all_on_sqlite() {
    move_all(app(TestDb::sqlite()).await).await;
}

async fn move_all(app: TestApp) {
    let target = app
        .create_as(ADMIN, "/api/v1/garages", garage("Cible", Some(4)))
        .await;
    let a = app
        .create_as(ADMIN, "/api/v1/garages", garage("A", None))
        .await;
    let b = app
        .create_as(ADMIN, "/api/v1/garages", garage("B", None))
        .await;
    for i in 0..3 {
        for (g, letter) in [(a, "A"), (b, "B")] {
            let car = car(g, &format!("MV-{letter}{i}"), "Renault", 2020);
            app.create_as(ADMIN, "/api/v1/vehicles", car).await;
        }
    }
    let move_all = |from: i64, body: Value| {
        let app = &app;
        async move {
            app.as_key(
                ADMIN,
                "POST",
                &format!("/api/v1/garages/{from}/vehicles/move"),
                Some(body),
            )
            .await
        }
    };
    // Both depots at once into a garage with room for one of them.
    let (first, second) = tokio::join!(
        move_all(a, json!({"to_garage_id": target})),
        move_all(b, json!({"to_garage_id": target})),
    );
    let (done, refused) = if first.status == 200 {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(done.body, json!({"moved": 3}), "{done:?}");
    assert_problem(&refused, 409);
    assert_eq!(refused.body["type"], "/problems/garage-full");
    assert_eq!(
        refused.body["errors"][0],
        json!({"field": "to_garage_id", "code": "not_enough_room", "missing": 2,
               "message": refused.body["errors"][0]["message"]})
    );
    let held = app
        .as_key(ADMIN, "GET", &format!("/api/v1/garages/{target}"), None)
        .await;
    assert_eq!(held.body["vehicle_count"], 3);

    // Refusals: no such source (404), no such target or none given (422).
    assert_problem(&move_all(999_999, json!({"to_garage_id": a})).await, 404);
    let unknown = move_all(a, json!({"to_garage_id": 999_999})).await;
    assert_problem(&unknown, 422);
    assert_eq!(unknown.body["errors"][0]["code"], "unknown_garage");
    let missing = move_all(a, json!({})).await;
    assert_problem(&missing, 422);
    assert_eq!(missing.body["errors"][0]["code"], "required");
    assert_problem(&move_all(a, json!({"to_garage_id": "x"})).await, 400);
}

#[actix_web::test]
async fn lists_sort_filter_and_search_on_postgres() {
    lists(app(TestDb::postgres()).await).await;
}

#[actix_web::test]
async fn lists_sort_filter_and_search_on_sqlite() {
    lists(app(TestDb::sqlite()).await).await;
}

/// Every page of `path` (which has its query already), `limit` at a time.
async fn walk(app: &TestApp, path: &str, limit: u32) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            None => format!("{path}&limit={limit}"),
            Some(c) => format!("{path}&limit={limit}&cursor={}", urlencode(c)),
        };
        let page = app.as_key(ADMIN, "GET", &url, None).await;
        assert_eq!(page.status, 200, "{url}: {page:?}");
        items.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

async fn lists(app: TestApp) {
    let names = [
        "Dépôt Lyon Part-Dieu",
        "Zone Nord",
        "atelier Est",
        "Ünïcødé",
    ];
    let mut ids = Vec::new();
    for name in names {
        ids.push(
            app.create_as(ADMIN, "/api/v1/garages", garage(name, None))
                .await,
        );
    }
    let cars = [
        ("LS-001-AA", "Renault", 2015),
        ("LS-002-BB", "Peugeot", 2021),
        ("XX-123-LS", "Renault", 2019),
        ("LS-004-DD", "Citroën", 2019),
        ("AB-555-CD", "Dacia", 2023),
    ];
    for (i, (plate, brand, year)) in cars.into_iter().enumerate() {
        let car = car(ids[i % ids.len()], plate, brand, year);
        app.create_as(ADMIN, "/api/v1/vehicles", car).await;
    }
    let field = |items: &[Value], name: &str| -> Vec<String> {
        items
            .iter()
            .map(|i| match &i[name] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    };

    // Garage search ignores case, accents and punctuation.
    for (q, expected) in [
        ("depot", "Dépôt Lyon Part-Dieu"),
        ("part%20dieu", "Dépôt Lyon Part-Dieu"),
        ("%C3%BCn%C3%AFc%C3%B8d%C3%A9", "Ünïcødé"),
        ("ATELIER", "atelier Est"),
    ] {
        let found = walk(&app, &format!("/api/v1/garages?q={q}"), 50).await;
        assert_eq!(field(&found, "name"), [expected], "q={q}");
    }
    // Sorted by name, accents and case aside, a page at a time.
    let by_name = walk(&app, "/api/v1/garages?sort=name", 1).await;
    assert_eq!(
        field(&by_name, "name"),
        [
            "atelier Est",
            "Dépôt Lyon Part-Dieu",
            "Ünïcødé",
            "Zone Nord"
        ]
    );
    let reversed = walk(&app, "/api/v1/garages?sort=-name", 3).await;
    assert_eq!(
        field(&reversed, "name"),
        [
            "Zone Nord",
            "Ünïcødé",
            "Dépôt Lyon Part-Dieu",
            "atelier Est"
        ]
    );

    // Vehicles: every sort pages through the same vehicles as one page.
    for sort in [
        "year",
        "-year",
        "license_plate",
        "-license_plate",
        "brand",
        "-brand",
        "model",
        "garage_id",
        "-updated_at",
        "-id",
    ] {
        let paged = walk(&app, &format!("/api/v1/vehicles?sort={sort}"), 2).await;
        let whole = walk(&app, &format!("/api/v1/vehicles?sort={sort}"), 200).await;
        assert_eq!(paged, whole, "sort={sort}");
        assert_eq!(whole.len(), 5, "sort={sort}");
    }
    let by_year = walk(&app, "/api/v1/vehicles?sort=-year", 2).await;
    assert_eq!(
        field(&by_year, "license_plate"),
        ["AB555CD", "LS002BB", "LS004DD", "XX123LS", "LS001AA"]
    );
    // Filters, together with a sort.
    let some = walk(
        &app,
        "/api/v1/vehicles?plate_contains=ls-00&year_min=2016&sort=-license_plate",
        1,
    )
    .await;
    assert_eq!(field(&some, "license_plate"), ["LS004DD", "LS002BB"]);
    let range = walk(&app, "/api/v1/vehicles?year_min=2019&year_max=2019", 50).await;
    assert_eq!(field(&range, "license_plate"), ["XX123LS", "LS004DD"]);

    // Refusals are 400s naming the parameter.
    for (query, param) in [
        ("sort=colour", "sort"),
        ("sort=--year", "sort"),
        ("plate_contains=%25", "plate_contains"),
        ("year_min=1700", "year_min"),
        ("sort=year&cursor=license_plate%3A3%3AtAB", "cursor"),
        ("sort=year&cursor=12", "cursor"),
        ("sort=year&cursor=year%3A3%3Atnope", "cursor"),
        ("sort=year&cursor=year%3A3%3Ai99999999999", "cursor"),
        ("sort=brand&cursor=brand%3A3%3At%00", "cursor"),
        ("sort=garage_id&cursor=garage_id%3A3%3Ai-1", "cursor"),
    ] {
        let refused = app
            .as_key(ADMIN, "GET", &format!("/api/v1/vehicles?{query}"), None)
            .await;
        assert_eq!(refused.status, 400, "{query}: {refused:?}");
        assert_eq!(refused.body["errors"][0]["field"], param, "{query}");
    }
}
