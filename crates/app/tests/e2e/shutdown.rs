//! SIGTERM to the real binary while requests are in flight: it drains
//! (readiness 503, still answering), then refuses new connections, lets the
//! requests in flight complete, and exits within its grace period.

use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use garage_domain::{PageRequest, VehicleFilter, VehicleRepository};
use garage_infra::testing::TestDb;

use crate::helpers::{spawn_binary, Binary};
use garage_infra::{Database, DatabaseUrl, DieselVehicleRepository, PoolOptions};
use std::io::{Read, Write};
use std::net::TcpStream;

#[actix_web::test]
async fn sigterm_lets_in_flight_requests_finish_and_refuses_new_ones() {
    let db = TestDb::sqlite();
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let Binary {
        mut child,
        port,
        base,
    } = spawn_binary(
        &db,
        &[
            ("APP__SERVER__SHUTDOWN_TIMEOUT", "5"),
            ("APP__SERVER__DRAIN_SECONDS", "1"),
            ("APP__LOG__LEVEL", "warn"),
            ("APP__METRICS__ADDR", &metrics_addr),
        ],
        Stdio::null(),
    )
    .await;
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(20))
        .finish();
    let garage = crate::helpers::create_garage(&client, &base, "G").await;

    // Slow uploads on connections of their own: each sends half its body,
    // says so, and sends the rest only once SIGTERM has landed.
    let (sent_half, halves) = mpsc::channel();
    let go = Arc::new(Barrier::new(11));
    let slow: Vec<_> = (0..10)
        .map(|i| {
            let body = serde_json::json!({
                "garage_id": garage, "brand": "Renault", "model": "Zoe", "year": 2022,
                "license_plate": format!("SIG-{i:02}"),
            })
            .to_string();
            let (sent_half, go) = (sent_half.clone(), go.clone());
            std::thread::spawn(move || -> std::io::Result<String> {
                let mut conn = TcpStream::connect(("127.0.0.1", port))?;
                write!(
                    conn,
                    "POST /api/v1/vehicles HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )?;
                let (head, tail) = body.split_at(body.len() / 2);
                conn.write_all(head.as_bytes())?;
                let _ = sent_half.send(());
                go.wait();
                conn.write_all(tail.as_bytes())?;
                let mut answer = String::new();
                conn.read_to_string(&mut answer)?;
                Ok(answer)
            })
        })
        .collect();
    for _ in 0..10 {
        halves
            .recv_timeout(Duration::from_secs(10))
            .expect("every upload started");
    }
    // The server holds all ten, waiting for their bodies.
    let in_flight = async || {
        let text = client
            .get(format!("http://{metrics_addr}/metrics"))
            .send()
            .await
            .ok()?
            .body()
            .await
            .ok()?;
        String::from_utf8_lossy(&text)
            .lines()
            .find_map(|l| l.strip_prefix("http_requests_in_flight "))
            .and_then(|n| n.trim().parse::<i64>().ok())
    };
    let waiting = Instant::now();
    while in_flight().await != Some(10) {
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "the uploads never reached the server"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    drop(client);

    let stopped_at = Instant::now();
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    // Draining: still answering, but no longer ready (once the signal is
    // handled).
    let draining = loop {
        let answer = awc::Client::default()
            .get(format!("{base}/health/ready"))
            .send()
            .await
            .expect("answered while draining");
        if answer.status() == 503 {
            break answer;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(1),
            "still ready after SIGTERM"
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(
        draining.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..]),
        "a draining instance sends keep-alive clients elsewhere"
    );
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            stopped_at.elapsed() < Duration::from_secs(3),
            "new connections are still accepted after SIGTERM"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    actix_web::rt::task::spawn_blocking(move || go.wait())
        .await
        .unwrap();

    let answers = actix_web::rt::task::spawn_blocking(move || {
        slow.into_iter()
            .map(|t| t.join().unwrap().map_err(|e| e.to_string()))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for answer in &answers {
        let answer = answer
            .as_ref()
            .expect("an in-flight request was answered, not reset");
        assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    }
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success(), "exited with {exit}");
            break;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(7),
            "still running past the grace period"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }

    let pool = Database::connect(
        &DatabaseUrl::parse(db.url()).unwrap(),
        &PoolOptions::default(),
    )
    .unwrap();
    let stored = DieselVehicleRepository::new(pool)
        .list(VehicleFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(stored.items.len(), 10, "every acknowledged write is stored");
}
