//! The edge, tried from outside as an attacker would: odd spellings of
//! every route, junk and guessed keys, spoofed proxy headers, scoped and
//! revoked keys, slow and oversized bodies, and rate limits shared through
//! Redis that survive Redis going silent.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use garage_infra::testing::TestDb;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{assert_problem, spawn_app_at, spawn_app_with, vehicle, Reply, TestApp};

const KEY: &str = "edge-test-key-0123456789abcdef";
/// "Within a second", with room for a loaded machine.
const SECOND: Duration = Duration::from_millis(1500);
const POLL: Duration = Duration::from_millis(50);

fn bearer(secret: &str) -> String {
    format!("Bearer {secret}")
}

/// Polls `done` every `every` until it holds; fails if it still does not
/// after `within`.
async fn until(within: Duration, every: Duration, what: &str, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < within, "{what} after {within:?}");
        tokio::time::sleep(every).await;
    }
}

impl TestApp {
    /// Creates with `secret`'s key; returns the new id.
    pub(crate) async fn create_as(&self, secret: &str, path: &str, body: Value) -> i64 {
        let created = self.as_key(secret, "POST", path, Some(body)).await;
        assert_eq!(created.status, 201, "{created:?}");
        created.body["id"].as_i64().unwrap()
    }

    /// Sends a request with `Authorization: Bearer <secret>`.
    pub(crate) async fn as_key(
        &self,
        secret: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        self.send_with(method, path, body, &[("authorization", &bearer(secret))])
            .await
    }
}

/// What the server answered to bytes sent as they are: the status, the
/// whole answer, and whether the server closed the connection after it.
struct Raw {
    status: u16,
    text: String,
    closed: bool,
}

/// Writes `head` then `body` as they are (no client normalises the path),
/// and reads the answer; `None` when nothing came within `wait`.
async fn raw_http(port: u16, head: &str, body: &[u8], wait: Duration) -> Option<Raw> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    read_answer(&mut stream, wait).await
}

/// Reads one answer: its head, and its body by `Content-Length`; then
/// waits a little to see whether the server closes the connection.
async fn read_answer(stream: &mut TcpStream, wait: Duration) -> Option<Raw> {
    let deadline = Instant::now() + wait;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut closed = false;
    loop {
        let text = String::from_utf8_lossy(&buffer).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                break;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
            Err(_) => break,
        }
    }
    if buffer.is_empty() {
        return None;
    }
    if !closed {
        closed = matches!(
            tokio::time::timeout(Duration::from_millis(500), stream.read(&mut chunk)).await,
            Ok(Ok(0)) | Ok(Err(_))
        );
    }
    let text = String::from_utf8_lossy(&buffer).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Some(Raw {
        status,
        text,
        closed,
    })
}

/// The spellings of `path` that must never reach its handler unguarded.
fn variants(path: &str) -> Vec<String> {
    let rest = path.strip_prefix("/api/v1").unwrap();
    let mut all = vec![
        path.to_owned(),
        format!("/%61pi/v1{rest}"),
        format!("/ap%69/v1{rest}"),
        format!("/%61%70%69/v1{rest}"),
        format!("/api/%76%31{rest}"),
        format!("/api%2Fv1{rest}"),
        format!("/api%2fv1{rest}"),
        format!("/api/v1%2F{}", &rest[1..]),
        format!("//api/v1{rest}"),
        format!("/api//v1{rest}"),
        format!("/api/v1/.{rest}"),
        format!("/api/v1/x/..{rest}"),
        format!("{path}/"),
        format!("{path}%2F"),
        format!("{path}?"),
        format!("{path}#frag"),
        path.to_uppercase(),
        format!("/API/v1{rest}"),
    ];
    // The first letter of the resource, percent-encoded.
    let first = rest.as_bytes()[1];
    all.push(format!("/api/v1/%{first:02X}{}", &rest[2..]));
    all.push(format!("/api/v1/%{first:02x}{}", &rest[2..]));
    all
}

/// Every entry of the route table, under each spelling, without a key, on
/// a server whose every route needs one: the answer is the guard's (401),
/// or the path routes nowhere (404, 405, 400); never a handler's, and
/// nothing changes.
#[actix_web::test]
async fn no_spelling_of_any_route_reaches_a_handler_unguarded() {
    let app = spawn_app_with(
        TestDb::postgres(),
        &[
            ("APP__AUTH__API_KEYS", KEY),
            ("APP__AUTH__PROTECT_READS", "true"),
        ],
    )
    .await;
    let garage = app
        .create_as(
            KEY,
            "/api/v1/garages",
            json!({"name": "Cible", "address": "1 rue X"}),
        )
        .await;
    let vehicle_id = app
        .create_as(KEY, "/api/v1/vehicles", vehicle(garage, "ED-001-GE"))
        .await;
    let before = app
        .as_key(KEY, "GET", "/api/v1/vehicles/export", None)
        .await;

    let mut tried = 0;
    for e in garage_api::ENDPOINTS.iter().filter(|e| e.scope.is_some()) {
        let path = format!("/api/v1{}", e.path)
            .replace("/garages/{id}", &format!("/garages/{garage}"))
            .replace("/vehicles/{id}", &format!("/vehicles/{vehicle_id}"))
            .replace("/keys/{id}", "/keys/1");
        let body = if e.path.ends_with("/import") {
            ("text/csv", format!("garage_id,brand,model,year,license_plate,vin\n{garage},Renault,Clio,2020,ED-002-GE,\n"))
        } else if e.path.starts_with("/vehicles") {
            ("application/json", vehicle(garage, "ED-003-GE").to_string())
        } else if e.path.starts_with("/keys") {
            (
                "application/json",
                json!({"name": "intrus", "scope": "admin"}).to_string(),
            )
        } else {
            (
                "application/json",
                json!({"name": "Intrus", "address": "2 rue Y"}).to_string(),
            )
        };
        // Reads go without a body, as clients send them.
        let body = if e.method == awc::http::Method::GET {
            ("application/json", String::new())
        } else {
            body
        };
        // The spellings of one route at once: a refused body keeps its
        // connection up to a second before it is closed.
        let answers = join_all(variants(&path).into_iter().map(|spelling| {
            let head = format!(
                "{} {spelling} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                e.method,
                body.0,
                body.1.len()
            );
            let body = body.1.clone();
            async move {
                let answer = raw_http(app.port, &head, body.as_bytes(), Duration::from_secs(5)).await;
                (spelling, answer)
            }
        }))
        .await;
        for (spelling, answer) in answers {
            let answer = answer.unwrap_or_else(|| panic!("{} {spelling}: no answer", e.method));
            assert!(
                [400, 401, 404, 405].contains(&answer.status),
                "{} {spelling} reached a handler: {}",
                e.method,
                answer.text
            );
            if spelling == path {
                assert_eq!(answer.status, 401, "{} {path}: {}", e.method, answer.text);
            }
            tried += 1;
        }
    }
    assert!(tried > 200, "{tried} requests");
    let after = app
        .as_key(KEY, "GET", "/api/v1/vehicles/export", None)
        .await;
    assert_eq!(before.body, after.body, "no spelling changed the fleet");
    let garages = app.as_key(KEY, "GET", "/api/v1/garages", None).await;
    assert_eq!(garages.body["items"].as_array().unwrap().len(), 1);
    let keys = app.as_key(KEY, "GET", "/api/v1/keys", None).await;
    assert_eq!(keys.body["items"], json!([]), "no key was created");
}

#[actix_web::test]
async fn five_hundred_junk_tokens_meet_429() {
    let app = spawn_app_with(TestDb::sqlite(), &[]).await;
    let mut statuses = Vec::new();
    for batch in 0..10 {
        let replies = join_all((0..50).map(|i| {
            let token = format!("junk-{batch}-{i}-{}", "x".repeat(i % 40));
            let app = &app;
            async move { app.as_key(&token, "GET", "/api/v1/garages", None).await }
        }))
        .await;
        statuses.extend(replies.iter().map(|r| r.status));
    }
    let count = |s: u16| statuses.iter().filter(|x| **x == s).count();
    assert_eq!(count(200), 0, "an unverified token is never served");
    assert!(count(401) <= 10, "{} failures allowed", count(401));
    assert_eq!(count(401) + count(429), 500);
    let limited = app.as_key("junk", "GET", "/api/v1/garages", None).await;
    assert_problem(&limited, 429);
    assert!(limited.header("retry-after").is_some());
    assert!(limited
        .header("ratelimit-policy")
        .unwrap()
        .starts_with("\"failed-sign-ins\";q=10;w=60"));
    // Anonymous reads from the address are a budget of their own.
    assert_eq!(app.get("/api/v1/garages").await.status, 200);
}

#[actix_web::test]
async fn three_hundred_wrong_keys_meet_429_and_lock_the_address_out_for_a_while() {
    let app = spawn_app_with(TestDb::sqlite(), &[("APP__AUTH__API_KEYS", KEY)]).await;
    let mut statuses = Vec::new();
    for i in 0..300 {
        let guess = format!("edge-test-key-0123456789abcd{i:02}");
        let reply = app
            .as_key(
                &guess,
                "POST",
                "/api/v1/garages",
                Some(json!({"name": "Intrus", "address": "x"})),
            )
            .await;
        statuses.push(reply.status);
    }
    let count = |s: u16| statuses.iter().filter(|x| **x == s).count();
    assert_eq!(count(201), 0);
    assert!(
        count(429) >= 290,
        "{} guesses were not slowed",
        300 - count(429)
    );
    // Locked out, the address gets no answer on any key, the right one too,
    // until its budget lets one more attempt through.
    let garage = json!({"name": "Légitime", "address": "x"});
    let locked = app
        .as_key(KEY, "POST", "/api/v1/garages", Some(garage.clone()))
        .await;
    assert_problem(&locked, 429);
    let wait: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=7).contains(&wait), "retry after {wait} s");
    let lockout = Duration::from_secs(wait + 2);
    until(
        lockout,
        Duration::from_millis(200),
        "still locked out",
        async || {
            let right = app
                .as_key(KEY, "POST", "/api/v1/garages", Some(garage.clone()))
                .await;
            assert!([201, 429].contains(&right.status), "{right:?}");
            right.status == 201
        },
    )
    .await;
}

#[actix_web::test]
async fn a_spoofed_forwarded_entry_does_not_change_the_bucket() {
    let app = spawn_app_with(
        TestDb::sqlite(),
        &[
            ("APP__SERVER__TRUSTED_PROXIES", "127.0.0.1"),
            ("APP__RATE_LIMIT__PER_SECOND", "0.01"),
            ("APP__RATE_LIMIT__BURST", "3"),
        ],
    )
    .await;
    let mut spoofed = Vec::new();
    for i in 0..5 {
        let xff = format!("10.0.0.{i}, 203.0.113.9");
        let reply = app
            .send_with("GET", "/api/v1/garages", None, &[("x-forwarded-for", &xff)])
            .await;
        spoofed.push(reply.status);
        if i == 0 {
            assert_eq!(
                reply.header("ratelimit-policy"),
                Some("\"requests\";q=3;w=300")
            );
            assert!(reply
                .header("ratelimit")
                .unwrap()
                .starts_with("\"requests\";r=2;t="));
        }
    }
    assert_eq!(spoofed, [200, 200, 200, 429, 429], "one client, one bucket");
    // `Forwarded` is not read unless chosen: the peer (the proxy) is the client.
    let mut forwarded = Vec::new();
    for i in 0..5 {
        let header = format!("for=10.0.0.{i}");
        let reply = app
            .send_with("GET", "/api/v1/garages", None, &[("forwarded", &header)])
            .await;
        forwarded.push(reply.status);
    }
    assert_eq!(forwarded, [200, 200, 200, 429, 429]);
    // Another client behind the proxy has a budget of its own.
    let other = app
        .send_with(
            "GET",
            "/api/v1/garages",
            None,
            &[("x-forwarded-for", "203.0.113.10")],
        )
        .await;
    assert_eq!(other.status, 200);
}

/// Scopes, garage-limited keys, revocation, on one backend.
async fn keys_scope_what_they_reach(db: TestDb) {
    let app = spawn_app_with(
        db,
        &[
            ("APP__AUTH__API_KEYS", KEY),
            ("APP__AUTH__PROTECT_READS", "true"),
        ],
    )
    .await;
    let create = async |path: &str, body: Value| app.create_as(KEY, path, body).await;
    let garage = |name: &str| json!({"name": name, "address": "1 quai X"});
    let a = create("/api/v1/garages", garage("Dépôt A")).await;
    let b = create("/api/v1/garages", garage("Dépôt B")).await;
    let in_a = create("/api/v1/vehicles", vehicle(a, "AA-100-AA")).await;
    let in_b = create("/api/v1/vehicles", vehicle(b, "BB-100-BB")).await;

    let created = app
        .as_key(
            KEY,
            "POST",
            "/api/v1/keys",
            Some(json!({"name": "tableau de bord", "scope": "read"})),
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let reader = created.body["secret"].as_str().unwrap().to_owned();
    assert!(reader.starts_with("gar_") && reader.len() >= 47, "{reader}");
    let reader_id = created.body["id"].as_i64().unwrap();

    assert_eq!(
        app.as_key(&reader, "GET", "/api/v1/garages", None)
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let write = app
        .as_key(
            &reader,
            "POST",
            "/api/v1/garages",
            Some(json!({"name": "X", "address": "Y"})),
        )
        .await;
    assert_problem(&write, 403);
    assert_problem(
        &app.as_key(&reader, "DELETE", &format!("/api/v1/vehicles/{in_a}"), None)
            .await,
        403,
    );
    assert_problem(&app.as_key(&reader, "GET", "/api/v1/keys", None).await, 403);
    assert_problem(&app.as_key(&reader, "GET", "/metrics", None).await, 403);

    let depot = app
        .as_key(
            KEY,
            "POST",
            "/api/v1/keys",
            Some(json!({"name": "Dépôt A", "scope": "write", "garages": [a]})),
        )
        .await;
    assert_eq!(depot.body["garages"], json!([a]));
    let depot = depot.body["secret"].as_str().unwrap().to_owned();
    let me = app.as_key(&depot, "GET", "/api/v1/me", None).await;
    assert_eq!(
        (
            &me.body["name"],
            &me.body["scope"],
            &me.body["garages"],
            &me.body["open"]
        ),
        (
            &json!("Dépôt A"),
            &json!("write"),
            &json!([a]),
            &json!(false)
        )
    );
    let seen = app.as_key(&depot, "GET", "/api/v1/garages", None).await;
    assert_eq!(seen.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(seen.body["items"][0]["id"], a);
    assert_problem(
        &app.as_key(&depot, "GET", &format!("/api/v1/garages/{b}"), None)
            .await,
        404,
    );
    assert_problem(
        &app.as_key(
            &depot,
            "GET",
            &format!("/api/v1/garages/{b}/vehicles"),
            None,
        )
        .await,
        404,
    );
    assert_problem(
        &app.as_key(&depot, "GET", &format!("/api/v1/vehicles/{in_b}"), None)
            .await,
        404,
    );
    assert_problem(
        &app.as_key(&depot, "DELETE", &format!("/api/v1/vehicles/{in_b}"), None)
            .await,
        404,
    );
    let listed = app.as_key(&depot, "GET", "/api/v1/vehicles", None).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let searched = app
        .as_key(&depot, "GET", "/api/v1/vehicles?plate=BB-100-BB", None)
        .await;
    assert_eq!(searched.body["items"], json!([]));
    let moved = app
        .as_key(
            &depot,
            "PATCH",
            &format!("/api/v1/vehicles/{in_a}"),
            Some(json!({"garage_id": b})),
        )
        .await;
    assert_problem(&moved, 422);
    assert_problem(
        &app.as_key(
            &depot,
            "POST",
            "/api/v1/vehicles",
            Some(vehicle(b, "BB-200-BB")),
        )
        .await,
        422,
    );
    assert_problem(
        &app.as_key(
            &depot,
            "POST",
            "/api/v1/garages",
            Some(json!({"name": "C", "address": "D"})),
        )
        .await,
        403,
    );
    let export = app
        .client
        .get(format!("{}/api/v1/vehicles/export", app.base))
        .insert_header(("authorization", bearer(&depot)))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let export = String::from_utf8_lossy(&export).to_string();
    assert!(
        export.contains("AA100AA") && !export.contains("BB100BB"),
        "{export}"
    );
    let csv = format!("garage_id,brand,model,year,license_plate,vin\n{a},Renault,Clio,2020,AA-300-AA,\n{b},Renault,Clio,2020,BB-300-BB,\n");
    let import = app
        .client
        .post(format!("{}/api/v1/vehicles/import", app.base))
        .insert_header(("authorization", bearer(&depot)))
        .insert_header(("content-type", "text/csv"))
        .send_body(csv)
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(import["status"], 422, "{import}");
    assert_eq!(import["errors"][0]["line"], 3, "{import}");
    assert_eq!(import["errors"][0]["field"], "garage_id", "{import}");

    let keys = app.as_key(KEY, "GET", "/api/v1/keys", None).await;
    let items = keys.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|k| k.get("secret").is_none()));
    assert!(items[0]["last_used_at"].is_string(), "{items:?}");

    let revoked = app
        .as_key(KEY, "DELETE", &format!("/api/v1/keys/{reader_id}"), None)
        .await;
    assert_eq!(revoked.status, 200);
    assert!(revoked.body["revoked_at"].is_string());
    assert_problem(
        &app.as_key(&reader, "GET", "/api/v1/garages", None).await,
        401,
    );
    assert_problem(
        &app.as_key(KEY, "DELETE", "/api/v1/keys/999", None).await,
        404,
    );
    assert_problem(
        &app.as_key(
            KEY,
            "POST",
            "/api/v1/keys",
            Some(json!({"name": "x", "scope": "read", "garages": [9999]})),
        )
        .await,
        422,
    );
    assert_problem(
        &app.as_key(
            KEY,
            "POST",
            "/api/v1/keys",
            Some(json!({"name": " ", "scope": "root"})),
        )
        .await,
        400,
    );
    let limited_admin = json!({"name": "chef", "scope": "admin", "garages": [a]});
    assert_problem(
        &app.as_key(KEY, "POST", "/api/v1/keys", Some(limited_admin))
            .await,
        422,
    );
}

#[actix_web::test]
async fn keys_scope_what_they_reach_on_postgres() {
    keys_scope_what_they_reach(TestDb::postgres()).await;
}

#[actix_web::test]
async fn keys_scope_what_they_reach_on_sqlite() {
    keys_scope_what_they_reach(TestDb::sqlite()).await;
}

#[actix_web::test]
async fn a_key_revoked_on_one_instance_fails_on_another_within_a_second() {
    let db = TestDb::postgres();
    let settings = [("APP__AUTH__API_KEYS", KEY)];
    let first = spawn_app_at(db.url(), &settings).await;
    let second = spawn_app_at(db.url(), &settings).await;
    let created = first
        .as_key(
            KEY,
            "POST",
            "/api/v1/keys",
            Some(json!({"name": "temp", "scope": "read"})),
        )
        .await;
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(
        second
            .as_key(&secret, "GET", "/api/v1/me", None)
            .await
            .status,
        200
    );
    first
        .as_key(KEY, "DELETE", &format!("/api/v1/keys/{id}"), None)
        .await;
    until(
        SECOND,
        POLL,
        "the revoked key is still accepted",
        async || {
            second
                .as_key(&secret, "GET", "/api/v1/me", None)
                .await
                .status
                == 401
        },
    )
    .await;
}

#[actix_web::test]
async fn open_until_a_key_exists_and_me_says_so() {
    let app = spawn_app_with(TestDb::sqlite(), &[]).await;
    let me = app.get("/api/v1/me").await;
    assert_eq!(
        me.body,
        json!({"name": "anonymous", "key_id": null, "scope": "write", "garages": null, "open": true})
    );
    assert_problem(&app.get("/api/v1/keys").await, 401);
    assert_problem(&app.get("/metrics").await, 401);
}

/// A TCP relay to the machine's Redis that a test can freeze: bytes stop
/// flowing both ways (a hung server, a dropped network), then resume.
struct Relay {
    port: u16,
    frozen: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (frozen, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(redis_address()).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pipe(cr, sw, watch.clone()));
                tokio::spawn(pipe(sr, cw, watch.clone()));
            }
        });
        Self { port, frozen }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn freeze(&self, frozen: bool) {
        self.frozen.send_replace(frozen);
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: tokio::sync::watch::Receiver<bool>,
) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while *frozen.borrow() {
            if frozen.changed().await.is_err() {
                return;
            }
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

/// The test Redis (`TEST_REDIS_URL`, which `make test` sets).
fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Its `host:port`.
fn redis_address() -> String {
    let url = redis_url();
    let rest = url.trim_start_matches("redis://");
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.rsplit('@').next().unwrap_or(authority).to_owned()
}

fn unique_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("garage-test:{nanos}:")
}

#[actix_web::test]
async fn two_instances_share_one_redis_budget() {
    let db = TestDb::sqlite();
    let prefix = unique_prefix();
    let redis = redis_url();
    let settings = [
        ("APP__REDIS__URL", redis.as_str()),
        ("APP__REDIS__PREFIX", prefix.as_str()),
        ("APP__RATE_LIMIT__PER_SECOND", "0.01"),
        ("APP__RATE_LIMIT__BURST", "4"),
    ];
    let one = spawn_app_at(db.url(), &settings).await;
    let two = spawn_app_at(db.url(), &settings).await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let app = if i % 2 == 0 { &one } else { &two };
        statuses.push(app.get("/api/v1/garages").await.status);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 429, 429, 429, 429],
        "two instances, one budget of 4"
    );
}

#[actix_web::test]
async fn redis_going_silent_fails_no_request_and_says_so() {
    let relay = Relay::start().await;
    let url = relay.url();
    let prefix = unique_prefix();
    let app = spawn_app_with(
        TestDb::sqlite(),
        &[
            ("APP__REDIS__URL", url.as_str()),
            ("APP__REDIS__PREFIX", prefix.as_str()),
            ("APP__RATE_LIMIT__PER_SECOND", "1000"),
            ("APP__RATE_LIMIT__BURST", "1000"),
            ("APP__METRICS__ADDR", "127.0.0.1:0"),
        ],
    )
    .await;
    let metrics = app.metrics_base.clone().expect("metrics apart");
    let degraded = || {
        let app = &app;
        let url = format!("{metrics}/metrics");
        async move {
            let text = app
                .client
                .get(url)
                .send()
                .await
                .unwrap()
                .body()
                .await
                .unwrap();
            let text = String::from_utf8_lossy(&text).to_string();
            text.lines()
                .find(|l| l.starts_with("rate_limit_degraded "))
                .map(|l| l.ends_with(" 1"))
                .expect("the metric is there")
        }
    };
    for _ in 0..5 {
        assert_eq!(app.get("/api/v1/garages").await.status, 200);
    }
    assert!(!degraded().await);

    relay.freeze(true);
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(
            app.get("/api/v1/garages").await.status,
            200,
            "Redis silent, requests served"
        );
    }
    assert!(degraded().await, "the metric says limits are per instance");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a silent Redis costs at most a short wait now and then: {:?}",
        started.elapsed()
    );

    relay.freeze(false);
    let back = Duration::from_secs(10);
    until(back, POLL, "limits are still per instance", async || {
        assert_eq!(app.get("/api/v1/garages").await.status, 200);
        !degraded().await
    })
    .await;
}

#[actix_web::test]
async fn a_slow_body_gets_408_within_the_deadline_and_the_connection_closes() {
    let app = spawn_app_with(TestDb::sqlite(), &[("APP__SERVER__BODY_TIMEOUT", "1")]).await;
    let body = br#"{"name": "Lent", "address": "1 rue de la Patience, Nantes......"}"#;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let head = format!(
        "POST /api/v1/garages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let trickle = async {
        for byte in body.iter().take(20) {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    tokio::time::timeout(Duration::from_millis(2500), trickle)
        .await
        .ok();
    let answer = read_answer(&mut stream, Duration::from_secs(3))
        .await
        .expect("an answer");
    assert_eq!(answer.status, 408, "{}", answer.text);
    assert!(answer.text.contains("/problems/request-timeout"));
    assert!(answer.closed, "the connection is closed");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        app.get("/api/v1/garages").await.body["items"],
        json!([]),
        "nothing was created"
    );
}

#[actix_web::test]
async fn a_refused_request_is_answered_without_waiting_for_its_body() {
    let app = spawn_app_with(TestDb::sqlite(), &[("APP__AUTH__API_KEYS", KEY)]).await;
    let head = "POST /api/v1/garages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{";
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_answer(&mut stream, Duration::from_secs(3))
        .await
        .expect("an answer before the body");
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert!(answer.text.contains("connection: close"), "{}", answer.text);
    assert!(started.elapsed() < Duration::from_secs(1));
    // A client that ignores `Connection: close` is cut off shortly after.
    let mut rest = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match stream.read(&mut rest).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the unread body's connection stays open");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[actix_web::test]
async fn an_announced_oversized_body_gets_413_at_once() {
    let app = spawn_app_with(TestDb::sqlite(), &[]).await;
    for (path, length) in [
        ("/api/v1/garages", 10u64 << 30),
        ("/api/v1/garages", 64 * 1024 + 1),
        ("/api/v1/vehicles/import", 40 << 20),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        );
        let started = Instant::now();
        let answer = raw_http(app.port, &head, b"", Duration::from_secs(3))
            .await
            .unwrap_or_else(|| panic!("{path} {length}: no answer"));
        assert_eq!(answer.status, 413, "{path} {length}: {}", answer.text);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}

#[actix_web::test]
async fn metrics_are_for_admins_or_apart() {
    let app = spawn_app_with(TestDb::sqlite(), &[("APP__AUTH__API_KEYS", KEY)]).await;
    assert_problem(&app.get("/metrics").await, 401);
    let scraped = app.as_key(KEY, "GET", "/metrics", None).await;
    assert_eq!(scraped.status, 200);
    assert!(scraped
        .body
        .as_str()
        .unwrap()
        .contains("http_requests_total"));

    let apart = spawn_app_with(TestDb::sqlite(), &[("APP__METRICS__ADDR", "127.0.0.1:0")]).await;
    assert_eq!(
        apart.get("/metrics").await.status,
        404,
        "not on the API's port"
    );
    let base = apart.metrics_base.clone().unwrap();
    let text = apart
        .client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&text).contains("rate_limit_degraded 0"));
}

/// Runs `garage keys …` on `db`, returning its exit status, stdout and stderr.
fn garage_cli(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_garage"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env_remove("RUST_BACKTRACE")
        .env_remove("APP__AUTH__API_KEYS")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[actix_web::test]
async fn keys_are_made_listed_and_revoked_from_the_command_line() {
    let db = TestDb::postgres();
    let protected = [("APP__AUTH__PROTECT_READS", "true")];
    let app = spawn_app_at(db.url(), &protected).await;
    let depot = app.garage("Dépôt Sud", None).await.to_string();
    let create = [
        "keys", "create", "--name", "atelier", "--scope", "write", "--garage", &depot,
    ];

    let (ok, _, err) = garage_cli(&db, &create, &[]);
    assert!(
        !ok && err.contains("protect_reads"),
        "a limited key where reads are open: {err}"
    );
    let (ok, out, err) = garage_cli(&db, &create, &protected);
    assert!(ok, "{out}{err}");
    let secret = out
        .split_whitespace()
        .find(|w| w.starts_with("gar_"))
        .unwrap_or_else(|| panic!("no secret in {out}"))
        .to_owned();
    let me = app.as_key(&secret, "GET", "/api/v1/me", None).await;
    assert_eq!(me.body["name"], "atelier");
    assert_eq!(me.body["garages"], json!([depot.parse::<i64>().unwrap()]));
    // The first key closes the open server, on every instance, within a
    // second. The probe is a write the handler would refuse (422): no effect.
    until(SECOND, POLL, "still open", async || {
        let anonymous = app.post("/api/v1/garages", json!({})).await;
        assert!([401, 422].contains(&anonymous.status), "{anonymous:?}");
        anonymous.status == 401
    })
    .await;

    let (ok, listed, err) = garage_cli(&db, &["keys", "list"], &[]);
    assert!(ok, "{listed}{err}");
    let line = listed
        .lines()
        .find(|l| l.contains("atelier"))
        .expect("listed");
    assert!(
        line.contains(&secret[..12]) && line.contains("write") && line.contains(&depot),
        "{line}"
    );
    assert!(!listed.contains(&secret), "a secret is never listed again");
    let id = line.split_whitespace().next().unwrap().to_owned();

    let (ok, out, err) = garage_cli(&db, &["keys", "revoke", &id], &[]);
    assert!(ok && out.contains("Revoked"), "{out}{err}");
    until(
        SECOND,
        POLL,
        "the revoked key is still accepted",
        async || app.as_key(&secret, "GET", "/api/v1/me", None).await.status == 401,
    )
    .await;

    let (ok, _, err) = garage_cli(
        &db,
        &["keys", "create", "--name", "x", "--scope", "root"],
        &[],
    );
    assert!(!ok && err.contains("root"), "{err}");
    let (ok, _, err) = garage_cli(&db, &["keys", "revoke", "999"], &[]);
    assert!(!ok && err.contains("999"), "{err}");
}

#[actix_web::test]
async fn a_short_or_non_ascii_configured_key_stops_the_start_with_a_plain_message() {
    let db = TestDb::sqlite();
    for bad in ["short-key", "clé-de-démarrage-0123456789"] {
        let (ok, _, err) = garage_cli(&db, &[], &[("APP__AUTH__API_KEYS", bad)]);
        assert!(!ok, "started with {bad:?}");
        assert!(err.contains("API key #1") && err.contains("16"), "{err}");
        assert!(!err.contains("backtrace"), "{err}");
    }
}

#[actix_web::test]
async fn a_stored_answer_is_not_replayed_to_a_caller_the_route_now_refuses() {
    let db = TestDb::sqlite();
    let app = spawn_app_at(db.url(), &[]).await;
    let body = json!({"name": "Rejoué", "address": "1 rue X"});
    let headers = [("idempotency-key", "replay-me-1")];
    let first = app
        .send_with("POST", "/api/v1/garages", Some(body.clone()), &headers)
        .await;
    assert_eq!(first.status, 201, "open: anyone may write");
    let (ok, out, err) = garage_cli(
        &db,
        &["keys", "create", "--name", "ops", "--scope", "admin"],
        &[],
    );
    assert!(ok, "{out}{err}");
    until(SECOND, POLL, "still open", async || {
        let again = app
            .send_with("POST", "/api/v1/garages", Some(body.clone()), &headers)
            .await;
        let refused = again.status == 401;
        let replayed = again.header("idempotent-replayed").is_some();
        assert!(
            refused != replayed,
            "refused, or replayed while open: {again:?}"
        );
        refused
    })
    .await;
}
