use std::sync::Once;

use garage_app::{Application, Settings};
use garage_infra::testing::TestDb;
use serde_json::Value;

/// A running service on a database of its own.
pub struct TestApp {
    pub base: String,
    pub port: u16,
    /// Where `/metrics` is served when apart from the API.
    pub metrics_base: Option<String>,
    pub client: awc::Client,
    pub _db: Option<TestDb>,
}

/// Quiet unless `TEST_LOG` is set.
fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let settings = Settings::from_sources(None, Vec::new()).unwrap();
            garage_app::telemetry::init(&settings.log);
        }
    });
}

pub async fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, &[]).await
}

/// Starts the service with these configuration variables added.
pub async fn spawn_app_with(db: TestDb, extra: &[(&str, &str)]) -> TestApp {
    let mut app = spawn_app_at(db.url(), extra).await;
    app._db = Some(db);
    app
}

/// Starts the service on a database another app may share.
pub async fn spawn_app_at(url: &str, extra: &[(&str, &str)]) -> TestApp {
    init_logs();
    let mut vars = vec![
        ("APP__SERVER__PORT".to_owned(), "0".to_owned()),
        ("APP__SERVER__WORKERS".to_owned(), "2".to_owned()),
        (
            "APP__SERVER__STATIC_DIR".to_owned(),
            "no-ui-in-tests".to_owned(),
        ),
        ("DATABASE_URL".to_owned(), url.to_owned()),
        // Tests send bursts from one address; the limit has tests of its own.
        ("APP__RATE_LIMIT__PER_SECOND".to_owned(), "0".to_owned()),
    ];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let settings = Settings::from_sources(None, vars).expect("test settings");
    let app = Application::build(&settings).await.expect("the app starts");
    let port = app.port();
    let base = format!("http://127.0.0.1:{port}");
    let metrics_base = app.metrics_port().map(|p| format!("http://127.0.0.1:{p}"));
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        base,
        port,
        metrics_base,
        client: awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish(),
        _db: None,
    }
}

/// What a call answered.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub headers: awc::http::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.send_with(method, path, body, &[]).await
    }

    /// Sends a request with these headers added.
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        let mut resp = match body {
            Some(body) => req.send_json(&body).await,
            None => req.send().await,
        }
        .expect("the request is answered");
        let header = |name| {
            resp.headers()
                .get(name)
                .map(|v: &awc::http::header::HeaderValue| v.to_str().unwrap().to_owned())
        };
        let content_type = header(awc::http::header::CONTENT_TYPE).unwrap_or_default();
        let location = header(awc::http::header::LOCATION);
        let headers = resp.headers().clone();
        let bytes = resp.body().limit(4 << 20).await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            // Not every answer is JSON (a refused CORS preflight, say).
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status: resp.status().as_u16(),
            content_type,
            location,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send("PATCH", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None).await
    }

    /// Creates a garage and returns its id.
    pub async fn garage(&self, name: &str, capacity: Option<u32>) -> i64 {
        let reply = self
            .post(
                "/api/v1/garages",
                serde_json::json!({"name": name, "address": "3 quai des Docks, Marseille", "capacity": capacity}),
            )
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
        reply.body["id"].as_i64().unwrap()
    }
}

/// Creates a garage named `name` on the service at `base`; its id.
pub async fn create_garage(client: &awc::Client, base: &str, name: &str) -> i64 {
    let mut created = client
        .post(format!("{base}/api/v1/garages"))
        .send_json(&serde_json::json!({"name": name, "address": "1 rue X"}))
        .await
        .expect("answered");
    assert_eq!(created.status(), 201);
    created.json::<Value>().await.expect("a garage")["id"]
        .as_i64()
        .expect("its id")
}

/// The body at `url`, as text (a metrics page, an export).
pub async fn text(client: &awc::Client, url: &str) -> String {
    let mut answer = client.get(url).send().await.expect("answered");
    let body = answer.body().limit(64 << 20).await.expect("a body");
    String::from_utf8_lossy(&body).into_owned()
}

/// The sum of the samples on the metrics lines that start with `prefix`.
pub fn sample(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

impl TestApp {
    /// Its metrics page, served apart (`APP__METRICS__ADDR`).
    pub async fn metrics(&self) -> String {
        let base = self.metrics_base.as_ref().expect("metrics apart");
        text(&self.client, &format!("{base}/metrics")).await
    }
}

pub fn vehicle(garage_id: i64, plate: &str) -> Value {
    serde_json::json!({
        "garage_id": garage_id,
        "brand": "Peugeot",
        "model": "208",
        "year": 2022,
        "license_plate": plate,
    })
}

/// Asserts an RFC 9457 problem with this status.
#[track_caller]
pub fn assert_problem(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(reply.content_type, "application/problem+json", "{reply:?}");
    assert_eq!(reply.body["status"], status);
    assert!(
        reply.body["type"].is_string()
            && reply.body["title"].is_string()
            && reply.body["detail"].is_string()
    );
}

/// The real `garage` binary on a free port, started with `env` added.
pub struct Binary {
    pub child: Running,
    pub port: u16,
    pub base: String,
}

/// Starts the binary and waits until it is ready; its stdout is `stdout`.
pub async fn spawn_binary(
    db: &TestDb,
    env: &[(&str, &str)],
    stdout: std::process::Stdio,
) -> Binary {
    spawn_binary_on(db.url(), free_port(), env, stdout).await
}

/// A port no one listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the binary on `url` and `port` and waits until it is ready.
pub async fn spawn_binary_on(
    url: &str,
    port: u16,
    env: &[(&str, &str)],
    stdout: std::process::Stdio,
) -> Binary {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_garage"))
        .env("DATABASE_URL", url)
        .env("APP__SERVER__PORT", port.to_string())
        .env("APP__SERVER__STATIC_DIR", "no-ui-in-tests")
        .env("APP__RATE_LIMIT__PER_SECOND", "0")
        .env_remove("RUST_LOG")
        .env_remove("GLIBC_TUNABLES")
        .env_remove(garage_app::memory::RESTARTED)
        .envs(env.iter().copied())
        .stdout(stdout)
        .spawn()
        .expect("the binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = awc::Client::default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .map_or(true, |r| r.status() != 200)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the binary did not become ready"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Binary {
        child: Running(child),
        port,
        base,
    }
}

/// A child process, killed if the test ends (or fails) while it runs.
pub struct Running(pub std::process::Child);

impl std::ops::Deref for Running {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Stops a binary started with its stdout piped (SIGTERM), and returns
/// every line it printed.
pub async fn stop_and_read(child: &mut Running) -> Vec<String> {
    use std::io::{BufRead, BufReader};
    std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let stdout = child.stdout.take().expect("stdout piped");
    let lines = actix_web::rt::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    child.wait().unwrap();
    lines
}
