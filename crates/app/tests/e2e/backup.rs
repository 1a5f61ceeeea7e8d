//! `garage backup` while the real binary serves and writes, and `garage
//! restore` refused while it runs, accepted once it stopped: every write
//! acknowledged before the backup began is in the restored database.

use std::collections::BTreeSet;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use garage_infra::testing::TestDb;
use serde_json::json;

use crate::helpers::{spawn_binary, spawn_binary_on, Binary};

fn cli(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_garage"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("APP__LOG__LEVEL", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

/// Every plate in garage `garage`, through the API.
async fn plates(base: &str, garage: i64) -> BTreeSet<String> {
    let client = awc::Client::default();
    let mut plates = BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let page: serde_json::Value = client
            .get(format!(
                "{base}/api/v1/garages/{garage}/vehicles?limit=200{cursor}"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .limit(1 << 20)
            .await
            .unwrap();
        for v in page["items"].as_array().unwrap() {
            plates.insert(v["license_plate"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return plates,
        }
    }
}

#[actix_web::test]
async fn a_backup_under_writes_restores_every_write_acknowledged_before_it() {
    let db = TestDb::sqlite();
    let env = [
        ("APP__LOG__LEVEL", "warn"),
        ("APP__SERVER__DRAIN_SECONDS", "0"),
    ];
    let Binary {
        mut child,
        port,
        base,
    } = spawn_binary(&db, &env, Stdio::null()).await;
    let client = awc::Client::default();
    let garage = crate::helpers::create_garage(&client, &base, "Backup").await;

    // One writer, on and on; what it was told is stored is kept.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let writing = {
        let (acknowledged, base) = (acknowledged.clone(), base.clone());
        actix_web::rt::spawn(async move {
            let client = awc::Client::default();
            for n in 0.. {
                let plate = format!("BK{n:05}");
                let answer = client
                    .post(format!("{base}/api/v1/vehicles"))
                    .send_json(&json!({"garage_id": garage, "brand": "Renault",
                        "model": "Zoe", "year": 2022, "license_plate": plate}))
                    .await;
                match answer {
                    Ok(r) if r.status() == 201 => acknowledged.lock().unwrap().push(plate),
                    _ => return,
                }
            }
        })
    };
    let wait_for = |count: usize| {
        let acknowledged = acknowledged.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            while acknowledged.lock().unwrap().len() < count {
                assert!(Instant::now() < deadline, "the writer is stuck");
                actix_web::rt::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    wait_for(30).await;

    let folder = std::env::temp_dir().join(format!("garage-backup-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let copy = folder.join("copy.db");
    let copy_arg = copy.display().to_string();
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let db_for_backup_url = db.url().to_owned();
    let backed_up = actix_web::rt::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_garage"))
            .args(["backup", &copy_arg])
            .env("DATABASE_URL", db_for_backup_url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        backed_up.status.success(),
        "{}",
        String::from_utf8_lossy(&backed_up.stderr)
    );
    let after_backup = acknowledged.lock().unwrap().len();
    wait_for(after_backup + 20).await;

    // Not under a running service.
    let refused = cli(&db, &["restore", &copy.display().to_string()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("a service is running"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // Nor over an existing copy.
    assert!(!cli(&db, &["backup", &copy.display().to_string()])
        .status
        .success());

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    writing.await.unwrap();
    let all_written = acknowledged.lock().unwrap().len();
    assert!(
        all_written > after_backup,
        "writes went on after the backup"
    );

    let restored = cli(&db, &["restore", &copy.display().to_string()]);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert!(String::from_utf8_lossy(&restored.stdout).contains("kept as"));

    let Binary { mut child, .. } = spawn_binary_on(db.url(), port, &env, Stdio::null()).await;
    let stored = plates(&base, garage).await;
    for plate in &before {
        assert!(
            stored.contains(plate),
            "{plate}, acknowledged before the backup, is missing"
        );
    }
    let last = acknowledged.lock().unwrap()[all_written - 1].clone();
    assert!(
        !stored.contains(&last),
        "the restore is the copy, not the database it replaced"
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn on_postgresql_the_copies_point_to_pg_dump() {
    let db = TestDb::postgres();
    let out = cli(&db, &["backup", "/tmp/never-written.db"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}

/// What `make run` does on a fresh clone: no `data/` folder, the default
/// database URL.
#[actix_web::test]
async fn a_first_start_in_an_empty_folder_serves_the_default_database() {
    let folder = std::env::temp_dir().join(format!(
        "garage-first-start-{}-{}",
        std::process::id(),
        crate::helpers::free_port()
    ));
    std::fs::create_dir_all(&folder).unwrap();
    let port = crate::helpers::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_garage"))
        .current_dir(&folder)
        .env_remove("DATABASE_URL")
        .env_remove("APP__DATABASE__URL")
        .env("APP__SERVER__PORT", port.to_string())
        .env("APP__LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = crate::helpers::Running(child);
    let client = awc::Client::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = client
            .get(format!("http://127.0.0.1:{port}/health/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        if ready {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "it exited: a fresh clone does not start"
        );
        assert!(Instant::now() < deadline, "never ready");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(folder.join("data/garage.db").exists());
    drop(child);
    let _ = std::fs::remove_dir_all(&folder);
}
