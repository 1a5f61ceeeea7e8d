//! Fleet care through the real server: readings, plans, work done, the
//! reminders as a list, a CSV file and a calendar feed read by a calendar
//! parser, and the reminders' events recorded once by two instances.

use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{Days, Months, NaiveDate, Utc};
use garage_infra::testing::TestDb;
use icalendar::{Component, DatePerhapsTime};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app_at, spawn_app_with, text, vehicle, Reply, TestApp};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn ymd(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// The service as one API key calls it.
struct Keyed<'a> {
    app: &'a TestApp,
    auth: String,
}

impl Keyed<'_> {
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.send_if(method, path, body, None).await
    }

    /// With an `If-Match`, when given.
    async fn send_if(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Reply {
        let mut headers = vec![("authorization", self.auth.as_str())];
        if let Some(tag) = if_match {
            headers.push(("if-match", tag));
        }
        self.app.send_with(method, path, body, &headers).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None).await
    }
}

/// A vehicle in `garage` registered on `registered_on`; its id.
async fn car(app: &Keyed<'_>, garage: i64, plate: &str, registered_on: NaiveDate) -> i64 {
    let mut body = vehicle(garage, plate);
    body["registered_on"] = json!(ymd(registered_on));
    let reply = app.post("/api/v1/vehicles", body).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.body["registered_on"], json!(ymd(registered_on)));
    reply.body["id"].as_i64().unwrap()
}

fn plates_of(reminders: &Value) -> Vec<(String, String, String)> {
    reminders["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["license_plate"].as_str().unwrap().to_owned(),
                r["kind"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The feed at `path`, parsed by a calendar parser: each event's summary
/// and day.
async fn calendar(app: &TestApp, path: &str) -> Vec<(String, NaiveDate, String)> {
    let body = text(&app.client, &format!("{}{path}", app.base)).await;
    let parsed = icalendar::Calendar::from_str(&body).expect("an iCalendar document");
    let mut events: Vec<_> = parsed
        .events()
        .map(|e| {
            let day = match e.get_start() {
                Some(DatePerhapsTime::Date(day)) => day,
                other => panic!("an all-day event, not {other:?}"),
            };
            // An all-day event ends the next day.
            assert_eq!(
                e.get_end(),
                Some(DatePerhapsTime::Date(day.succ_opt().unwrap()))
            );
            (
                e.get_summary().unwrap().to_owned(),
                day,
                e.get_uid().unwrap().to_owned(),
            )
        })
        .collect();
    events.sort();
    events
}

#[actix_web::test]
async fn a_vehicles_care_from_readings_to_the_calendar_it_feeds() {
    const KEY: &str = "care-test-bootstrap-key-0123456789";
    let server = spawn_app_with(TestDb::sqlite(), &[("APP__AUTH__API_KEYS", KEY)]).await;
    let made = server
        .as_key(
            KEY,
            "POST",
            "/api/v1/keys",
            Some(json!({"name": "atelier", "scope": "write"})),
        )
        .await;
    let app = Keyed {
        app: &server,
        auth: format!("Bearer {}", made.body["secret"].as_str().unwrap()),
    };
    let garage = app
        .post(
            "/api/v1/garages",
            json!({"name": "Dépôt Lyon", "address": "1 quai Perrache"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let today = today();
    // Registered almost four years ago: its contrôle technique is due in ten days.
    let registered = today
        .checked_sub_months(Months::new(48))
        .unwrap()
        .checked_add_days(Days::new(10))
        .unwrap();
    let id = car(&app, garage, "AB-123-CD", registered).await;
    let care = |path: &str| format!("/api/v1/vehicles/{id}{path}");

    // Readings: forwards only; the vehicle shows the latest, with a new ETag.
    let before = app.get(&care("")).await;
    let reading = app
        .post(
            &care("/odometer"),
            json!({"km": 9_500, "read_on": ymd(today)}),
        )
        .await;
    assert_eq!(reading.status, 201, "{reading:?}");
    let after = app.get(&care("")).await;
    assert_eq!(after.body["odometer_km"], json!(9_500));
    assert_ne!(before.header("etag"), after.header("etag"));
    let backwards = app.post(&care("/odometer"), json!({"km": 9_000})).await;
    assert_problem(&backwards, 409);
    assert_eq!(backwards.body["type"], "/problems/odometer-backwards");
    assert_eq!(backwards.body["errors"][0]["field"], "km");
    assert_eq!(backwards.body["errors"][0]["code"], "out_of_range");
    assert_eq!(backwards.body["errors"][0]["min"], json!(9_500));
    // Only an admin corrects.
    let correction = app
        .post(&care("/odometer"), json!({"km": 9_000, "correction": true}))
        .await;
    assert_problem(&correction, 403);
    // Tomorrow is today somewhere; the day after is not.
    let after_tomorrow = ymd(today.checked_add_days(Days::new(2)).unwrap());
    let future = app
        .post(
            &care("/odometer"),
            json!({"km": 9_600, "read_on": after_tomorrow}),
        )
        .await;
    assert_problem(&future, 422);
    assert_eq!(future.body["errors"][0]["field"], "read_on");

    // Plans: the contrôle technique from the preset, a service every
    // 10,000 km from 0, an insurance that ran out yesterday.
    let inspection = app
        .send(
            "PUT",
            &care("/plans/inspection"),
            Some(json!({"preset": "controle_technique"})),
        )
        .await;
    assert_eq!(inspection.status, 200, "{inspection:?}");
    let due = registered.checked_add_months(Months::new(48)).unwrap();
    assert_eq!(inspection.body["next_due_on"], json!(ymd(due)));
    assert_eq!(inspection.body["every_months"], json!(24));
    assert_eq!(inspection.body["status"], "due_soon");
    let service = app
        .send(
            "PUT",
            &care("/plans/service"),
            Some(json!({"every_km": 10_000, "last_done_on": ymd(registered), "last_done_km": 0})),
        )
        .await;
    assert_eq!(service.status, 200, "{service:?}");
    assert_eq!(service.body["next_due_km"], json!(10_000));
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap();
    let insurance = app
        .send(
            "PUT",
            &care("/plans/insurance"),
            Some(json!({"due_on": ymd(yesterday), "every_months": 12})),
        )
        .await;
    assert_eq!(insurance.body["status"], "overdue", "{insurance:?}");
    // If-Match: a plan that is not there is a 412, `*` included; a tag
    // whose plan and cycle are current passes, whatever its status part.
    let absent = app
        .send_if(
            "PUT",
            &care("/plans/tyres"),
            Some(json!({"every_months": 6})),
            Some("*"),
        )
        .await;
    assert_problem(&absent, 412);
    let tag = insurance.header("etag").unwrap().to_owned();
    let plan_of_tag = tag.trim_matches('"').rsplit_once('.').unwrap().0.to_owned();
    let tags = format!("\"{plan_of_tag}.0\", \"1.1.1\"");
    let renewed = app
        .send_if(
            "PUT",
            &care("/plans/insurance"),
            Some(json!({"due_on": ymd(yesterday), "every_months": 12})),
            Some(&tags),
        )
        .await;
    assert_eq!(renewed.status, 200, "{renewed:?}");
    let stale = app
        .send_if(
            "PUT",
            &care("/plans/insurance"),
            Some(json!({"due_on": ymd(yesterday), "every_months": 12})),
            Some(&tag),
        )
        .await;
    assert_problem(&stale, 412);

    // Inputs are checked like the rest.
    let empty = app
        .send("PUT", &care("/plans/tyres"), Some(json!({})))
        .await;
    assert_problem(&empty, 422);
    assert_eq!(empty.body["errors"][0]["code"], "refused");
    let bad = app
        .send(
            "PUT",
            &care("/plans/Bad%20Kind"),
            Some(json!({"every_km": 5})),
        )
        .await;
    assert_problem(&bad, 400);
    let bad = app
        .send(
            "PUT",
            &care("/plans/tyres"),
            Some(json!({"every_months": 0, "due_on": "31/12/2027"})),
        )
        .await;
    assert_problem(&bad, 422);
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["every_months", "due_on"]);
    assert_problem(&app.get("/api/v1/vehicles/999999/care").await, 404);
    assert_problem(&app.get(&care("/plans/brakes")).await, 404);

    // Reminders: overdue first, then by due date, distance-only last.
    let reminders = app.get("/api/v1/reminders").await;
    assert_eq!(
        plates_of(&reminders.body),
        [
            ("AB123CD".into(), "insurance".into(), "overdue".into()),
            ("AB123CD".into(), "inspection".into(), "due_soon".into()),
            ("AB123CD".into(), "service".into(), "due_soon".into()),
        ]
    );
    let overdue = app.get("/api/v1/reminders?status=overdue").await;
    assert_eq!(overdue.body["items"].as_array().unwrap().len(), 1);
    assert_problem(&app.get("/api/v1/reminders?status=late").await, 400);
    let csv = text(
        &server.client,
        &format!("{}/api/v1/reminders.csv", server.base),
    )
    .await;
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(
        csv.lines().nth(1).unwrap().contains(",insurance,overdue,"),
        "{csv}"
    );

    // A calendar subscription: its token in the URL, one event per reminder.
    let calendar_token = app
        .post("/api/v1/calendars", json!({"name": "Atelier"}))
        .await;
    assert_eq!(calendar_token.status, 201, "{calendar_token:?}");
    let feed = calendar_token.body["feed"].as_str().unwrap().to_owned();
    let events = calendar(&server, &feed).await;
    let summaries: Vec<(&str, NaiveDate)> =
        events.iter().map(|(s, d, _)| (s.as_str(), *d)).collect();
    assert_eq!(
        summaries,
        [
            ("AB123CD inspection: due soon", due),
            ("AB123CD insurance: overdue", yesterday),
            ("AB123CD service: due soon", today),
        ]
    );
    // The same feed again: the same events, the same UIDs.
    assert_eq!(calendar(&server, &feed).await, events);
    // A key that is not a named one makes no calendar (nothing could revoke it with the key).
    let unnamed = server
        .as_key(KEY, "POST", "/api/v1/calendars", Some(json!({"name": "x"})))
        .await;
    assert_problem(&unnamed, 403);

    // The service is done: it leaves the reminders and the feed.
    let done = app
        .post(
            &care("/plans/service/done"),
            json!({"km": 9_600, "note": "Vidange et filtres"}),
        )
        .await;
    assert_eq!(done.status, 201, "{done:?}");
    assert_eq!(done.body["plan"]["next_due_km"], json!(19_600));
    assert_eq!(done.body["plan"]["status"], "ok");
    assert_eq!(done.body["record"]["note"], "Vidange et filtres");
    let left = app.get("/api/v1/reminders").await;
    assert_eq!(left.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(calendar(&server, &feed).await.len(), 2);
    let view = app.get(&care("/care")).await;
    assert_eq!(view.body["records"][0]["km"], json!(9_600));
    assert_eq!(view.body["odometer_km"], json!(9_500));
    assert_eq!(view.body["plans"].as_array().unwrap().len(), 3);

    // The vehicle export carries the registration and the odometer; an
    // import of it takes the date back and leaves readings to readings.
    let export = text(
        &server.client,
        &format!("{}/api/v1/vehicles/export?format=csv", server.base),
    )
    .await;
    let mut lines = export.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cell = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(cell("registered_on"), ymd(registered));
    assert_eq!(cell("odometer_km"), "9500");
    let reimport = server
        .client
        .post(format!(
            "{}/api/v1/vehicles/import?mode=upsert",
            server.base
        ))
        .insert_header(("content-type", "text/csv"))
        .insert_header(("authorization", app.auth.as_str()))
        .send_body(export.clone())
        .await
        .unwrap()
        .status();
    assert_eq!(reimport.as_u16(), 200);
    assert_eq!(app.get(&care("")).await.body["odometer_km"], json!(9_500));

    // Its key revoked, the calendar reads nothing.
    let second = app
        .post("/api/v1/calendars", json!({"name": "Bureau"}))
        .await;
    let second = second.body["feed"].as_str().unwrap().to_owned();
    assert_eq!(calendar(&server, &second).await.len(), 2);
    let key = made.body["id"].as_i64().unwrap();
    let revoked = server
        .as_key(KEY, "DELETE", &format!("/api/v1/keys/{key}"), None)
        .await;
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert_problem(&server.get(&second).await, 404);
    let app = Keyed {
        app: &server,
        auth: format!("Bearer {KEY}"),
    };

    // Its calendars are gone with it: no longer listed, nothing to revoke.
    let listed = app.get("/api/v1/calendars").await;
    assert_eq!(listed.body["items"], json!([]), "{listed:?}");
    let id = calendar_token.body["id"].as_i64().unwrap();
    assert_problem(&app.delete(&format!("/api/v1/calendars/{id}")).await, 404);

    // Revoked, unknown, or an API key: no calendar.
    assert_problem(&app.get(&feed).await, 404);
    assert_problem(&app.get("/api/v1/reminders.ics").await, 404);
    assert_problem(
        &app.get("/api/v1/reminders.ics?token=gar_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
            .await,
        404,
    );
}

#[actix_web::test]
async fn a_calendar_token_reads_only_the_reminders_of_its_garages() {
    const KEY: &str = "care-test-admin-key-0123456789ab";
    let app = spawn_app_with(
        TestDb::sqlite(),
        &[
            ("APP__AUTH__API_KEYS", KEY),
            ("APP__AUTH__PROTECT_READS", "true"),
        ],
    )
    .await;
    let admin = format!("Bearer {KEY}");
    let as_admin = |method: &'static str, path: String, body: Option<Value>| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.send_with(method, &path, body, &[("authorization", &admin)])
                .await
        }
    };
    let mut garages = Vec::new();
    for name in ["Nord", "Sud"] {
        let reply = as_admin(
            "POST",
            "/api/v1/garages".into(),
            Some(json!({"name": name, "address": "1 rue X"})),
        )
        .await;
        garages.push(reply.body["id"].as_i64().unwrap());
    }
    let yesterday = ymd(today().checked_sub_days(Days::new(1)).unwrap());
    for (garage, plate) in [(garages[0], "AA-001-AA"), (garages[1], "BB-002-BB")] {
        let car = as_admin(
            "POST",
            "/api/v1/vehicles".into(),
            Some(vehicle(garage, plate)),
        )
        .await;
        let id = car.body["id"].as_i64().unwrap();
        let plan = as_admin(
            "PUT",
            format!("/api/v1/vehicles/{id}/plans/insurance"),
            Some(json!({"due_on": yesterday})),
        )
        .await;
        assert_eq!(plan.status, 200, "{plan:?}");
    }
    // A key limited to Nord makes a calendar: it shows Nord only.
    let key = as_admin(
        "POST",
        "/api/v1/keys".into(),
        Some(json!({"name": "nord", "scope": "write", "garages": [garages[0]]})),
    )
    .await;
    assert_eq!(key.status, 201, "{key:?}");
    let nord = format!("Bearer {}", key.body["secret"].as_str().unwrap());
    let made = app
        .send_with(
            "POST",
            "/api/v1/calendars",
            Some(json!({"name": "Nord"})),
            &[("authorization", &nord)],
        )
        .await;
    assert_eq!(made.status, 201, "{made:?}");
    let events = calendar(&app, made.body["feed"].as_str().unwrap()).await;
    assert_eq!(events.len(), 1);
    assert!(events[0].0.starts_with("AA001AA"), "{events:?}");
    // The token is no API key: it opens nothing else.
    let token = made.body["token"].as_str().unwrap();
    let refused = app
        .send_with(
            "GET",
            "/api/v1/reminders",
            None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_problem(&refused, 401);
    // A correction by an admin key goes in.
    let cars = as_admin("GET", "/api/v1/vehicles".into(), None).await;
    let id = cars.body["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/vehicles/{id}/odometer");
    let first = as_admin("POST", path.clone(), Some(json!({"km": 5_000}))).await;
    assert_eq!(first.status, 201);
    let fixed = as_admin("POST", path, Some(json!({"km": 500, "correction": true}))).await;
    assert_eq!(fixed.status, 201, "{fixed:?}");
    assert_eq!(fixed.body["correction"], json!(true));
}

/// The `care.*` events of the feed: per vehicle, how many; and the
/// instances that recorded them.
async fn reminder_events(app: &TestApp) -> (Vec<i64>, std::collections::BTreeSet<String>) {
    let feed = app
        .get("/api/v1/events?type=care.overdue,care.due_soon&limit=200")
        .await;
    assert_eq!(feed.status, 200, "{feed:?}");
    let items = feed.body["items"].as_array().unwrap();
    let vehicles = items
        .iter()
        .map(|e| e["vehicle_id"].as_i64().unwrap())
        .collect();
    let by = items
        .iter()
        .map(|e| e["request_id"].as_str().unwrap().to_owned())
        .collect();
    (vehicles, by)
}

#[actix_web::test]
async fn two_instances_record_each_reminder_event_once() {
    let db = TestDb::postgres();
    let fast = [("APP__CARE__REMINDER_INTERVAL_MS", "100")];
    let first = spawn_app_at(db.url(), &fast).await;
    let second = spawn_app_at(db.url(), &fast).await;
    let garage = first.garage("Nord", None).await;
    let yesterday = ymd(today().checked_sub_days(Days::new(1)).unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut vehicles = Vec::new();
    // Overdue plans keep coming, through either instance, until both
    // instances have recorded reminders: they raced for every one.
    loop {
        let app = if vehicles.len() % 2 == 0 {
            &first
        } else {
            &second
        };
        let plate = format!("CC-{:03}-CC", vehicles.len() + 1);
        let car = app.post("/api/v1/vehicles", vehicle(garage, &plate)).await;
        let id = car.body["id"].as_i64().unwrap();
        let plan = app
            .send(
                "PUT",
                &format!("/api/v1/vehicles/{id}/plans/insurance"),
                Some(json!({"due_on": yesterday})),
            )
            .await;
        assert_eq!(plan.status, 200, "{plan:?}");
        vehicles.push(id);
        // Wait for this one's reminder.
        let by = loop {
            let (seen, by) = reminder_events(&first).await;
            if seen.contains(&id) {
                break by;
            }
            assert!(Instant::now() < deadline, "no reminder for vehicle {id}");
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        };
        if by.len() >= 2 && vehicles.len() >= 5 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "one instance recorded every reminder: {by:?}"
        );
    }
    // Each plan's reminder once, whoever recorded it.
    let (mut seen, _) = reminder_events(&second).await;
    seen.sort_unstable();
    assert_eq!(seen, vehicles);
}

/// The fleet's days are counted in its zone: a reading sent without a date,
/// and an odometer imported from a file, are read on the zone's day. The
/// zone is chosen, by the hour the test runs, to be on another day than
/// UTC: Kiritimati (UTC+14) from 10:00 UTC, Pago Pago (UTC-11) before;
/// neither keeps summer time.
#[actix_web::test]
async fn readings_are_dated_in_the_fleets_time_zone() {
    use chrono::Timelike;

    // Not in the last minute before midnight UTC, when Kiritimati's day
    // and UTC's are about to be one.
    while Utc::now().num_seconds_from_midnight() >= 86_340 {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    }
    let (zone, hours) = if Utc::now().hour() >= 10 {
        ("Pacific/Kiritimati", 14)
    } else {
        ("Pacific/Pago_Pago", -11)
    };
    let app = spawn_app_with(TestDb::sqlite(), &[("APP__CARE__TIME_ZONE", zone)]).await;
    let zone_day = || {
        let now = Utc::now();
        let day = (now + chrono::Duration::hours(hours)).date_naive();
        assert_ne!(
            day,
            now.date_naive(),
            "the test needs a day apart from UTC's"
        );
        day
    };
    let garage = app.garage("Tarawa", None).await;
    let created = app
        .post("/api/v1/vehicles", vehicle(garage, "KI-001"))
        .await;
    let id = created.body["id"].as_i64().unwrap();

    let before = zone_day();
    let reading = app
        .post(
            &format!("/api/v1/vehicles/{id}/odometer"),
            json!({"km": 100}),
        )
        .await;
    let after = zone_day();
    assert_eq!(reading.status, 201, "{reading:?}");
    let day = NaiveDate::from_str(reading.body["read_on"].as_str().unwrap()).unwrap();
    assert!(day == before || day == after, "{day}, not {before}");

    let csv = format!(
        "garage_id,brand,model,year,license_plate,odometer_km\n{garage},Renault,Clio,2021,KI-002,500\n"
    );
    let before = zone_day();
    let imported = app
        .client
        .post(format!("{}/api/v1/vehicles/import", app.base))
        .insert_header(("content-type", "text/csv"))
        .send_body(csv)
        .await
        .expect("an answer");
    let after = zone_day();
    assert_eq!(imported.status().as_u16(), 200);
    let found = app
        .send("GET", "/api/v1/vehicles?plate_contains=KI002", None)
        .await;
    let second = found.body["items"][0]["id"].as_i64().unwrap();
    let readings = app
        .send("GET", &format!("/api/v1/vehicles/{second}/odometer"), None)
        .await;
    let day = NaiveDate::from_str(readings.body["items"][0]["read_on"].as_str().unwrap()).unwrap();
    assert!(day == before || day == after, "{day}, not {before}");
    assert_eq!(readings.body["items"][0]["km"], json!(500));

    // An export is named after the fleet's day, too.
    let before = zone_day();
    let export = app
        .client
        .get(format!("{}/api/v1/vehicles/export?format=csv", app.base))
        .send()
        .await
        .expect("an answer");
    let after = zone_day();
    let named = export
        .headers()
        .get("content-disposition")
        .expect("a file name")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        [before, after]
            .iter()
            .any(|day| named.contains(&format!("vehicles-{day}.csv"))),
        "{named}, not of {before}"
    );
}

/// A zone that is not one stops the service at start, naming the setting,
/// before the database is touched (the SQLite file is never made).
#[actix_web::test]
async fn an_unknown_time_zone_is_refused_at_start() {
    use std::io::Read;

    let dir = std::env::temp_dir().join(format!("garage_zone_{}", std::process::id()));
    let file = dir.join("never.db");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_garage"))
        .env("DATABASE_URL", format!("sqlite://{}", file.display()))
        .env("APP__SERVER__PORT", "0")
        .env("APP__SERVER__STATIC_DIR", "no-ui-in-tests")
        .env("APP__CARE__TIME_ZONE", "Europe/Lyon")
        .env_remove("GLIBC_TUNABLES")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the service started with an unknown time zone");
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    let mut printed = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    assert!(!status.success());
    assert!(
        printed.contains("care.time_zone: \"Europe/Lyon\" is not an IANA time zone"),
        "{printed}"
    );
    assert!(!file.exists(), "the database was opened");
    let _ = std::fs::remove_dir_all(&dir);
}
