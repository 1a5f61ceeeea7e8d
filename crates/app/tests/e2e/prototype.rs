//! The prototype's PostgreSQL tables move into a running Garage with
//! `scripts/from-prototype.py`: garages created and mapped, plates
//! canonicalised, clashes and bad rows set aside by line, the rest imported.

use std::process::{Command, Stdio};

use garage_infra::testing::{admin_url, with_database, TestDb};

use crate::helpers::{spawn_binary, text, Binary};

/// A database of the prototype's shape, dropped with its guard.
struct Prototype {
    url: String,
    name: String,
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Prototype {
    fn new() -> Self {
        let name = format!(
            "prototype_{}_{}",
            std::process::id(),
            crate::helpers::free_port()
        );
        psql(&admin_url(), &format!("CREATE DATABASE {name}"));
        let url = with_database(&admin_url(), &name);
        // As SQLAlchemy made them: plates as typed, no canonical form.
        psql(
            &url,
            "CREATE TABLE garages (id serial PRIMARY KEY, name varchar NOT NULL, address varchar NOT NULL);
             CREATE TABLE vehicles (id serial PRIMARY KEY, garage_id integer REFERENCES garages(id),
               brand varchar, model varchar, year integer, license_plate varchar);
             INSERT INTO garages (id, name, address) VALUES
               (7, 'Dépôt Nord', '1 rue de Lille'), (9, 'Garage Sud', '2 quai Rambaud');
             INSERT INTO vehicles (id, garage_id, brand, model, year, license_plate) VALUES
               (1, 7, 'Renault', 'Clio', 2021, 'AB-123-CD'),
               (2, 9, 'Peugeot', '208', 2020, 'ab 123 cd'),
               (3, 7, 'Citroën', 'C4, Cactus', 2019, 'ef.456.gh'),
               (4, 9, 'Dacia', 'Sandero', 2022, 'GH 789 IJ'),
               (5, 9, 'Ford', 'T', 1700, 'ZZ-000-ZZ');",
        );
        Self { url, name }
    }
}

impl Drop for Prototype {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-X", "-q", "-d", &admin_url(), "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[actix_web::test]
async fn the_prototypes_fleet_moves_in_with_its_clashes_set_aside() {
    let prototype = Prototype::new();
    let db = TestDb::postgres();
    let Binary {
        mut child, base, ..
    } = spawn_binary(&db, &[("APP__LOG__LEVEL", "warn")], Stdio::null()).await;
    let out_dir = std::env::temp_dir().join(format!("garage-{}", prototype.name));
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/from-prototype.py"
    );
    let moved = Command::new("python3")
        .arg(script)
        .args(["--from", &prototype.url, "--to", &base, "--out"])
        .arg(&out_dir)
        .output()
        .expect("python3 runs");
    let said = String::from_utf8_lossy(&moved.stdout).into_owned();
    assert_eq!(
        moved.status.code(),
        Some(2),
        "rows were set aside: {said}{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    assert!(said.contains("3 imported, 2 set aside"), "{said}");

    let rejected = std::fs::read_to_string(out_dir.join("rejected.csv")).unwrap();
    let lines: Vec<&str> = rejected.lines().collect();
    assert_eq!(lines.len(), 3, "{rejected}");
    assert!(
        lines[1].starts_with("3,2,"),
        "the second spelling of AB123CD: {rejected}"
    );
    assert!(lines[1].contains("already on line 2"), "{rejected}");
    assert!(lines[2].starts_with("6,5,"), "the year 1700: {rejected}");
    assert!(lines[2].contains("year"), "{rejected}");

    let client = awc::Client::default();
    let get = |path: &str| {
        let url = format!("{base}{path}");
        let client = &client;
        async move { serde_json::from_str::<serde_json::Value>(&text(client, &url).await).unwrap() }
    };
    let garages = get("/api/v1/garages").await;
    let names: Vec<&str> = garages["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Dépôt Nord", "Garage Sud"]);
    let vehicles = get("/api/v1/vehicles").await;
    let mut plates: Vec<(&str, &str)> = vehicles["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["license_plate"].as_str().unwrap(),
                v["model"].as_str().unwrap(),
            )
        })
        .collect();
    plates.sort_unstable();
    assert_eq!(
        plates,
        [
            ("AB123CD", "Clio"),
            ("EF456GH", "C4, Cactus"),
            ("GH789IJ", "Sandero")
        ],
        "canonical plates, the first spelling kept"
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&out_dir);
}
