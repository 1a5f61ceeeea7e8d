//! Through the real server: bulk import and export at scale, idempotent
//! creations under concurrency, conditional writes between two editors.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use garage_infra::testing::TestDb;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, vehicle, TestApp};

const ROWS: usize = 100_000;

/// One imported vehicle, as both ends of the round trip see it.
#[derive(Debug, PartialEq, Eq, Clone)]
struct Row {
    garage_id: i64,
    brand: String,
    model: String,
    year: i64,
    vin: String,
}

/// Rows with text that CSV must quote (commas, quotes) and non-ASCII letters.
fn rows(garages: &[i64]) -> BTreeMap<String, Row> {
    let brands = ["Renault", "Citroën", "Škoda", "Mercedes-Benz", "Alfa Romeo"];
    let models = [
        "Clio",
        "Zoe, E-Tech",
        "C4 \"Cactus\"",
        "Octavia",
        "Classe A",
    ];
    (0..ROWS)
        .map(|i| {
            let plate = format!("RT{i:06}");
            let row = Row {
                garage_id: garages[i % garages.len()],
                brand: brands[i % 5].to_owned(),
                model: models[(i / 5) % 5].to_owned(),
                year: 1990 + (i % 35) as i64,
                vin: if i % 2 == 0 {
                    format!("VF1{i:014}")
                } else {
                    String::new()
                },
            };
            (plate, row)
        })
        .collect()
}

fn to_csv(rows: &BTreeMap<String, Row>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        // The columns every row fills; the optional ones after them are left out.
        .write_record(&garage_api::vehicles::IMPORT_COLUMNS[..6])
        .unwrap();
    for (plate, r) in rows {
        writer
            .write_record([
                r.garage_id.to_string().as_str(),
                &r.brand,
                &r.model,
                &r.year.to_string(),
                plate,
                &r.vin,
            ])
            .unwrap();
    }
    writer.into_inner().unwrap()
}

async fn raw(app: &TestApp, method: &str, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut resp = app
        .client
        .request(method, format!("{}{path}", app.base))
        .timeout(std::time::Duration::from_secs(300))
        .insert_header(("content-type", "text/csv"))
        .send_body(body)
        .await
        .expect("an answer");
    let bytes = resp.body().limit(256 << 20).await.expect("a body");
    (resp.status().as_u16(), bytes.to_vec())
}

#[actix_web::test]
async fn a_hundred_thousand_rows_import_and_export_losslessly_on_postgres() {
    let app = spawn_app(TestDb::postgres()).await;
    let mut garages = Vec::new();
    for name in ["North", "South", "East"] {
        garages.push(app.garage(name, None).await);
    }
    let sent = rows(&garages);
    let csv = to_csv(&sent);

    // A dry run checks it all, says what it would do, and writes nothing.
    let (status, body) = raw(
        &app,
        "POST",
        "/api/v1/vehicles/import?dry_run=true",
        csv.clone(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let report: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        report,
        json!({"dry_run": true, "rows": ROWS, "imported": ROWS, "updated": 0, "unchanged": 0})
    );
    let shown = app.get(&format!("/api/v1/garages/{}", garages[0])).await;
    assert_eq!(shown.body["vehicle_count"], 0);

    let (status, body) = raw(&app, "POST", "/api/v1/vehicles/import", csv).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let report: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        report,
        json!({"dry_run": false, "rows": ROWS, "imported": ROWS, "updated": 0, "unchanged": 0})
    );
    let mut counts = 0;
    for g in &garages {
        let shown = app.get(&format!("/api/v1/garages/{g}")).await;
        counts += shown.body["vehicle_count"].as_i64().unwrap();
    }
    assert_eq!(counts, ROWS as i64);

    let (status, body) = raw(&app, "GET", "/api/v1/vehicles/export", Vec::new()).await;
    assert_eq!(status, 200);
    let mut reader = csv::Reader::from_reader(body.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (g, b, m, y, p, v) = (
        column("garage_id"),
        column("brand"),
        column("model"),
        column("year"),
        column("license_plate"),
        column("vin"),
    );
    let received: BTreeMap<String, Row> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[p].to_owned(),
                Row {
                    garage_id: r[g].parse().unwrap(),
                    brand: r[b].to_owned(),
                    model: r[m].to_owned(),
                    year: r[y].parse().unwrap(),
                    vin: r[v].to_owned(),
                },
            )
        })
        .collect();
    assert_eq!(received.len(), ROWS);
    assert!(received == sent, "the export differs from the import");

    let (status, body) = raw(
        &app,
        "GET",
        "/api/v1/vehicles/export?format=json",
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    let items: Vec<Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(items.len(), ROWS);
    for item in items.iter().step_by(997) {
        let plate = item["license_plate"].as_str().unwrap();
        let row = &sent[plate];
        assert_eq!(item["model"], row.model.as_str());
        assert_eq!(item["vin"].as_str().unwrap_or(""), row.vin);
    }

    // The export takes the list's filters.
    let (_, body) = raw(
        &app,
        "GET",
        &format!(
            "/api/v1/vehicles/export?format=json&garage_id={}&brand=%C5%A0KODA",
            garages[1]
        ),
        Vec::new(),
    )
    .await;
    let items: Vec<Value> = serde_json::from_slice(&body).unwrap();
    let expected = sent
        .values()
        .filter(|r| r.garage_id == garages[1] && r.brand == "Škoda")
        .count();
    assert_eq!(items.len(), expected);
    assert!(expected > 0);
}

async fn same_key_at_once(app: TestApp) {
    let body = json!({"name": "Keyed", "address": "1 rue du Port"});
    let replies = join_all((0..10).map(|_| {
        app.send_with(
            "POST",
            "/api/v1/garages",
            Some(body.clone()),
            &[("Idempotency-Key", "create-keyed-garage")],
        )
    }))
    .await;
    let created: Vec<_> = replies.iter().filter(|r| r.status == 201).collect();
    let busy = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!(created.len() + busy, 10, "{replies:#?}");
    assert!(!created.is_empty());
    // However many 201s, they are one garage.
    let ids: std::collections::HashSet<_> = created.iter().map(|r| r.body["id"].clone()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let list = app.get("/api/v1/garages?q=Keyed").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    // A retry after the fact replays the first answer exactly.
    let again = app
        .send_with(
            "POST",
            "/api/v1/garages",
            Some(body.clone()),
            &[("Idempotency-Key", "create-keyed-garage")],
        )
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, created[0].body);
    assert_eq!(again.location, created[0].location);
    assert_eq!(again.header("etag"), created[0].header("etag"));
    assert!(again.header("etag").is_some());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    let other = app
        .send_with(
            "POST",
            "/api/v1/garages",
            Some(json!({"name": "Other", "address": "2 rue du Port"})),
            &[("Idempotency-Key", "create-keyed-garage")],
        )
        .await;
    assert_eq!(other.status, 422);
    assert_eq!(other.body["type"], "/problems/idempotency-key-reused");
    assert_eq!(
        app.get("/api/v1/garages?q=Other").await.body["items"],
        json!([])
    );
}

#[actix_web::test]
async fn ten_posts_with_one_key_create_one_garage_on_postgres() {
    same_key_at_once(spawn_app(TestDb::postgres()).await).await;
}

#[actix_web::test]
async fn ten_posts_with_one_key_create_one_garage_on_sqlite() {
    same_key_at_once(spawn_app(TestDb::sqlite()).await).await;
}

async fn two_editors(app: TestApp) {
    let garage = app.garage("Shared", None).await;
    let created = app.post("/api/v1/vehicles", vehicle(garage, "ED-1")).await;
    let path = created.location.clone().unwrap();
    let read = app.get(&path).await;
    let tag = read.header("etag").unwrap().to_owned();
    assert_eq!(created.header("etag"), Some(tag.as_str()));

    // Both editors read the same version and save at once: one wins.
    let if_match = [("If-Match", tag.as_str())];
    let saves =
        join_all(["Zoe", "Megane"].map(|model| {
            app.send_with("PATCH", &path, Some(json!({ "model": model })), &if_match)
        }))
        .await;
    let mut statuses: Vec<u16> = saves.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{saves:#?}");
    let winner = saves.iter().find(|r| r.status == 200).unwrap();
    let now = app.get(&path).await;
    assert_eq!(now.body["model"], winner.body["model"]);
    let new_tag = now.header("etag").unwrap().to_owned();
    assert_ne!(new_tag, tag);

    let cached = app
        .send_with("GET", &path, None, &[("If-None-Match", new_tag.as_str())])
        .await;
    assert_eq!(cached.status, 304);
    let stale = app
        .send_with("DELETE", &path, None, &[("If-Match", tag.as_str())])
        .await;
    assert_eq!(stale.status, 412);
    let deleted = app
        .send_with("DELETE", &path, None, &[("If-Match", new_tag.as_str())])
        .await;
    assert_eq!(deleted.status, 204);
}

#[actix_web::test]
async fn two_editors_cannot_overwrite_each_other_on_postgres() {
    two_editors(spawn_app(TestDb::postgres()).await).await;
}

#[actix_web::test]
async fn two_editors_cannot_overwrite_each_other_on_sqlite() {
    two_editors(spawn_app(TestDb::sqlite()).await).await;
}

#[actix_web::test]
async fn a_keyed_import_sent_twice_imports_once_on_postgres() {
    let app = spawn_app(TestDb::postgres()).await;
    let garage = app.garage("Twice", None).await;
    let csv =
        format!("garage_id,brand,model,year,license_plate\n{garage},Renault,Clio,2020,TW-1\n");
    let send = || async {
        let mut resp = app
            .client
            .post(format!("{}/api/v1/vehicles/import", app.base))
            .insert_header(("content-type", "text/csv"))
            .insert_header(("Idempotency-Key", "import-twice"))
            .send_body(csv.clone())
            .await
            .unwrap();
        let replayed = resp.headers().contains_key("idempotent-replayed");
        (resp.status().as_u16(), replayed, resp.body().await.unwrap())
    };
    let first = send().await;
    let second = send().await;
    assert_eq!((first.0, first.1), (200, false));
    assert_eq!((second.0, second.1), (200, true));
    assert_eq!(first.2, second.2);
    let shown = app.get(&format!("/api/v1/garages/{garage}")).await;
    assert_eq!(shown.body["vehicle_count"], 1);
}

async fn garage_tags(app: TestApp) {
    let id = app.garage("Tagged", Some(3)).await;
    let path = format!("/api/v1/garages/{id}");
    let read = app.get(&path).await;
    let tag = read.header("etag").unwrap().to_owned();
    let cached = app
        .send_with("GET", &path, None, &[("If-None-Match", tag.as_str())])
        .await;
    assert_eq!(cached.status, 304);

    // A vehicle taking a place changes what the garage shows: a new tag.
    app.post("/api/v1/vehicles", vehicle(id, "TAG-1")).await;
    let after = app.get(&path).await;
    assert_ne!(after.header("etag"), Some(tag.as_str()));
    let stale = app
        .send_with(
            "PATCH",
            &path,
            Some(json!({"name": "Renamed"})),
            &[("If-Match", tag.as_str())],
        )
        .await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.body["type"], "/problems/precondition-failed");
    let fresh = after.header("etag").unwrap().to_owned();
    let saved = app
        .send_with(
            "PATCH",
            &path,
            Some(json!({"name": "Renamed"})),
            &[("If-Match", fresh.as_str())],
        )
        .await;
    assert_eq!(saved.status, 200);
    assert_eq!(saved.body["name"], "Renamed");
}

#[actix_web::test]
async fn a_garage_tag_follows_its_vehicle_count_on_postgres() {
    garage_tags(spawn_app(TestDb::postgres()).await).await;
}

#[actix_web::test]
async fn a_garage_tag_follows_its_vehicle_count_on_sqlite() {
    garage_tags(spawn_app(TestDb::sqlite()).await).await;
}

/// A client that sends a keyed import and hangs up before the answer: the
/// server finishes the request (actix polls a handler to the end), so the
/// retry gets the stored answer, not a key claimed for minutes nor a
/// refusal of every row as already registered.
#[actix_web::test]
async fn a_keyed_import_whose_client_hung_up_answers_its_retry_on_postgres() {
    use tokio::io::AsyncWriteExt;

    let app = spawn_app(TestDb::postgres()).await;
    let garage = app.garage("Hung up", None).await;
    let mut csv = String::from("garage_id,brand,model,year,license_plate\n");
    for i in 0..20_000 {
        csv.push_str(&format!("{garage},Renault,Clio,2020,HU{i:06}\n"));
    }
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/vehicles/import HTTP/1.1\r\nHost: {address}\r\nContent-Type: text/csv\r\n\
         Idempotency-Key: hung-up\r\nContent-Length: {}\r\n\r\n",
        csv.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(csv.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    drop(stream);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let (status, body) = loop {
        let mut resp = app
            .client
            .post(format!("{}/api/v1/vehicles/import", app.base))
            .insert_header(("content-type", "text/csv"))
            .insert_header(("Idempotency-Key", "hung-up"))
            .send_body(csv.clone())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = serde_json::from_slice(&resp.body().limit(1 << 20).await.unwrap())
            .unwrap_or(Value::Null);
        if status != 409 || std::time::Instant::now() > deadline {
            break (status, body);
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 20_000);
    let shown = app.get(&format!("/api/v1/garages/{garage}")).await;
    assert_eq!(shown.body["vehicle_count"], 20_000);
}
