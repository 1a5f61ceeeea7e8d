//! Wires the layers together and starts the HTTP(S) server.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::middleware::{self, from_fn, Compress, Next};
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use garage_api::edge::{self, Edge};
use garage_domain::access::{AccessService, Budgets, Quota};
use garage_domain::care::CareService;
use garage_domain::events::EventService;
use garage_domain::webhooks::WebhookService;
use garage_domain::{FleetService, IdempotencyStore, SystemClock};
use garage_infra::{
    Database, DatabaseUrl, DieselCareRepository, DieselEventRepository, DieselGarageRepository,
    DieselIdempotencyStore, DieselKeyRepository, DieselVehicleRepository, DieselWebhookRepository,
    HttpSender, LocalBudgets, Lsn, PoolOptions, Reads, SharedBudgets,
};
use secrecy::ExposeSecret;
use tracing_actix_web::TracingLogger;

use crate::headers;
use crate::metrics::{self, Metrics};
use crate::settings::{Settings, TlsSettings};
use crate::telemetry;

/// A bound, not yet running, server (and its metrics listener, when apart).
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(u16, Server)>,
    draining: Draining,
    drain: Duration,
    /// Held while serving a SQLite file, so a restore refuses to replace it.
    _serving: Option<garage_infra::backup::Serving>,
}

/// Set once SIGTERM has come: readiness says 503 and answers close their
/// connections, while requests are still served.
#[derive(Debug, Clone, Default)]
struct Draining(Arc<std::sync::atomic::AtomicBool>);

impl Draining {
    fn start(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn is_on(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish()
    }
}

/// The primary pool and, when configured, the replica's.
#[derive(Debug, Clone)]
struct Pools {
    primary: Database,
    replica: Option<Database>,
}

impl Pools {
    fn all(&self) -> Vec<(&'static str, Database)> {
        let mut all = vec![("primary", self.primary.clone())];
        all.extend(self.replica.clone().map(|r| ("replica", r)));
        all
    }
}

fn connect(url: &DatabaseUrl, options: &PoolOptions, migrate: bool) -> anyhow::Result<Database> {
    let db = Database::connect(url, options)?;
    if migrate {
        let applied = db.migrate()?;
        tracing::info!(applied, "database migrations applied");
    }
    Ok(db)
}

impl Application {
    /// Connects to the database (and replica), migrates when configured, and
    /// binds the listening socket (port 0 picks a free one).
    ///
    /// # Errors
    /// When a database cannot be reached or migrated, the TLS files read, or
    /// the address bound.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        // Settings read as values are refused before the database is
        // touched: a typo in one never leaves a database migrated by a
        // service that then did not start.
        let care = (settings.care.thresholds()?, settings.care.zone()?);
        let url = settings.database.url()?;
        let serving = garage_infra::backup::Serving::mark(&url)?;
        let read_url = settings.database.read_url()?;
        let options = settings.database.pool_options();
        let run_migrations = settings.database.run_migrations;
        // Connecting and migrating block: keep them off the async runtime.
        let pools = tokio::task::spawn_blocking(move || -> anyhow::Result<Pools> {
            let primary = connect(&url, &options, run_migrations)?;
            let replica = read_url
                .map(|u| connect(&u, &options, false).context("read replica"))
                .transpose()?;
            Ok(Pools { primary, replica })
        })
        .await
        .context("database set-up panicked")??;
        tracing::info!(
            backend = ?pools.primary.backend(),
            replica = pools.replica.is_some(),
            "database ready"
        );

        let tls = tls_config(&settings.tls)?;
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| {
                format!(
                    "cannot listen on {}:{}",
                    settings.server.host, settings.server.port
                )
            })?;
        let port = listener.local_addr()?.port();
        let metrics_listener = settings
            .metrics
            .addr
            .as_deref()
            .map(|addr| {
                TcpListener::bind(addr)
                    .with_context(|| format!("cannot listen on {addr} for metrics"))
            })
            .transpose()?;
        let draining = Draining::default();
        let (server, metrics) = serve(
            listener,
            metrics_listener,
            pools,
            settings,
            care,
            tls,
            draining.clone(),
        )?;
        Ok(Self {
            port,
            draining,
            drain: Duration::from_secs(settings.server.drain_seconds),
            _serving: serving,
            server,
            metrics,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port, when metrics are served apart.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// Serves until SIGTERM or SIGINT. After SIGTERM it drains first: for
    /// `server.drain_seconds` readiness says 503 and requests are still
    /// served, so a load balancer stops routing here before anything is
    /// refused. Then the listener closes and in-flight requests finish
    /// within `server.shutdown_timeout`. SIGINT (a developer's Ctrl-C) skips
    /// the drain.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tokio::spawn(stop_on_signals(
            self.server.handle(),
            self.draining,
            self.drain,
        ));
        match self.metrics {
            Some((_, metrics)) => {
                // The metrics stop with the API, whichever stops first.
                let handle = metrics.handle();
                let result = tokio::select! {
                    api = self.server => api,
                    other = metrics => other,
                };
                handle.stop(true).await;
                result
            }
            None => self.server.await,
        }
    }
}

/// Waits for SIGTERM or SIGINT, drains after SIGTERM, then stops the server
/// gracefully; never returns if no signal comes.
async fn stop_on_signals(
    server: actix_web::dev::ServerHandle,
    draining: Draining,
    drain: Duration,
) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for signals: stop the process with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {
            draining.start();
            tracing::info!(seconds = drain.as_secs(), "SIGTERM: draining before closing the listener");
            // A second signal cuts the drain short.
            tokio::select! {
                () = tokio::time::sleep(drain) => {}
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ = int.recv() => {}
    }
    tracing::info!("closing the listener; in-flight requests finish");
    server.stop(true).await;
}

/// The rustls configuration, when a certificate and key are configured.
fn tls_config(settings: &TlsSettings) -> anyhow::Result<Option<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let (Some(cert_path), Some(key_path)) = (&settings.cert_path, &settings.key_path) else {
        return Ok(None);
    };
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the certificates in {}", cert_path.display()))?;
    let key = PrivateKeyDer::from_pem_file(key_path)
        .with_context(|| format!("cannot read the private key in {}", key_path.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("the TLS certificate and key do not match")?;
    Ok(Some(config))
}

fn cors(origins: &[String]) -> Cors {
    // Every method some route answers to, read from the route table, so a
    // new one (a plan's PUT) is never refused to a UI on another origin.
    let mut methods: Vec<_> = garage_api::ENDPOINTS
        .iter()
        .map(|endpoint| endpoint.method.clone())
        .collect();
    methods.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    methods.dedup();
    let cors = Cors::default()
        .allowed_methods(methods)
        .allowed_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static(WRITTEN),
            telemetry::REQUEST_ID,
        ])
        .expose_headers([
            header::LOCATION,
            header::ETAG,
            header::RETRY_AFTER,
            telemetry::REQUEST_ID,
            header::HeaderName::from_static(WRITTEN),
            header::HeaderName::from_static("ratelimit"),
            header::HeaderName::from_static("ratelimit-policy"),
        ])
        .max_age(3600)
        // Same-origin requests carry an Origin too: leave them alone, and
        // let browsers refuse what lacks the CORS headers.
        .block_on_origin_mismatch(false);
    origins
        .iter()
        .fold(cors, |cors, origin| cors.allowed_origin(origin))
}

/// The request budgets: shared through Redis when configured.
fn budgets(settings: &Settings) -> anyhow::Result<Arc<dyn Budgets>> {
    let requests = Quota {
        per_second: settings.rate_limit.per_second,
        burst: settings.rate_limit.burst.max(1),
    };
    let per_minute = settings.rate_limit.failed_sign_ins_per_minute;
    let failed = Quota {
        per_second: f64::from(per_minute) / 60.0,
        burst: per_minute,
    };
    Ok(
        match settings
            .redis
            .url
            .as_ref()
            .map(ExposeSecret::expose_secret)
            .filter(|u| !u.is_empty())
        {
            Some(url) => {
                tracing::info!("rate limits are shared through Redis");
                Arc::new(
                    SharedBudgets::new(url, &settings.redis.prefix, requests, failed)
                        .context("invalid redis.url")?,
                )
            }
            None => Arc::new(LocalBudgets::new(requests, failed)),
        },
    )
}

fn serve(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    pools: Pools,
    settings: &Settings,
    (thresholds, zone): (garage_domain::care::Thresholds, garage_domain::Zone),
    tls: Option<rustls::ServerConfig>,
    draining: Draining,
) -> anyhow::Result<(Server, Option<(u16, Server)>)> {
    let reads = match &pools.replica {
        Some(replica) => Reads::with_replica(pools.primary.clone(), replica.clone()),
        None => Reads::primary(pools.primary.clone()),
    };
    let garages = DieselGarageRepository::with_reads(pools.primary.clone(), reads.clone());
    let vehicles = DieselVehicleRepository::with_reads(pools.primary.clone(), reads.clone());
    let garages = Arc::new(garages);
    let vehicles = Arc::new(vehicles);
    let fleet = FleetService::new(garages.clone(), vehicles.clone()).in_zone(zone);
    // Care reads and writes the primary: a reading is checked against the
    // latest, and a plan's reminders depend on what was just done.
    let care = CareService::new(
        Arc::new(DieselCareRepository::new(pools.primary.clone())),
        Arc::new(DieselVehicleRepository::new(pools.primary.clone())),
        Arc::new(SystemClock),
        thresholds,
    )
    .in_zone(zone);
    tokio::spawn(send_reminders(
        care.clone(),
        Duration::from_millis(settings.care.reminder_interval_ms.max(100)),
    ));
    // The feed reads the primary: it must see every commit in order.
    let events = EventService::new(Arc::new(DieselEventRepository::new(pools.primary.clone())));
    if let Some(days) = settings.events.retention_days {
        tokio::spawn(purge_old_events(events.clone(), days.max(1)));
    }
    let idempotency: Arc<dyn IdempotencyStore> =
        Arc::new(DieselIdempotencyStore::new(pools.primary.clone()));
    tokio::spawn(purge_expired_keys(idempotency.clone()));
    let webhooks = WebhookService::new(
        Arc::new(DieselWebhookRepository::new(pools.primary.clone())),
        Arc::new(HttpSender::new(settings.webhooks.allow_private_targets)?),
        Arc::new(SystemClock),
    )
    .allowing_http(settings.webhooks.allow_private_targets)
    .with_backoff_scale(settings.webhooks.backoff_scale);
    let ui = settings.server.static_dir.clone();
    let ui = ui.join("index.html").is_file().then_some(ui);
    match &ui {
        Some(dir) => tracing::info!(dir = %dir.display(), "serving the web UI at /"),
        None => tracing::info!(
            dir = %settings.server.static_dir.display(),
            "no built web UI found; serving the API only"
        ),
    }
    // Keys are read from the primary: a revoked key must fail at once.
    let access = AccessService::new(
        Arc::new(DieselKeyRepository::new(pools.primary.clone())),
        garages,
        Arc::new(SystemClock),
        &settings
            .auth
            .api_keys
            .iter()
            .map(|k| k.expose_secret().to_owned())
            .collect::<Vec<_>>(),
    )
    .with_protected_reads(settings.auth.protect_reads);
    if settings.auth.api_keys.is_empty() {
        tracing::warn!(
            "no API keys configured: until a key is created (garage keys create), anyone who can reach this server can change the fleet"
        );
    }
    let budgets = budgets(settings)?;
    let edge = Edge::new(
        access,
        budgets.clone(),
        settings.trusted_proxies()?,
        settings.auth.protect_reads,
    );
    let metrics = web::Data::new(Metrics::new(pools.all(), budgets, reads.clone()));
    let replicated = pools.replica.is_some();
    tokio::spawn(deliver_webhooks(
        webhooks.clone(),
        metrics.clone(),
        Duration::from_millis(settings.webhooks.poll_interval_ms.max(10)),
    ));
    let pools = web::Data::new(pools);
    let origins = settings.server.cors_origins.clone();
    let secure = tls.is_some();
    let body_deadline = Duration::from_secs(settings.server.body_timeout);
    let database_budget = settings.database.pool_options().deadline;
    let metrics_apart = metrics_listener.is_some();
    let app_metrics = metrics.clone();
    let mut server = HttpServer::new(move || {
        // The API's configure() registers the edge for the whole app, the
        // admin-only /metrics route included.
        let app = App::new()
            .app_data(pools.clone())
            .app_data(app_metrics.clone())
            .app_data(web::Data::new(draining.clone()));
        // The last wrapped runs first: logs and metrics see every answer,
        // CORS answers preflights before any guard.
        let closing = draining.clone();
        let app = app
            .wrap(middleware::Condition::new(
                replicated,
                from_fn(move |req, next: Next<_>| read_your_writes(req, next, secure)),
            ))
            .wrap(from_fn(move |req, next: Next<_>| {
                let closing = closing.clone();
                async move {
                    let mut response = next.call(req).await?;
                    if closing.is_on() {
                        // Clients that keep connections open move to
                        // another instance for their next request.
                        response
                            .response_mut()
                            .head_mut()
                            .set_connection_type(actix_web::http::ConnectionType::Close);
                    }
                    Ok::<_, actix_web::Error>(response)
                }
            }))
            .wrap(from_fn(move |req, next: Next<_>| {
                // However many calls a request makes, its database work
                // ends within one timeout: a hung server costs a 503 in
                // seconds, not one timeout per call.
                garage_infra::one_deadline(database_budget, next.call(req))
            }))
            .wrap(from_fn(edge::body_deadline(body_deadline)))
            .wrap(cors(&origins))
            .wrap(headers::security_headers(secure))
            .wrap(Compress::default())
            .wrap(from_fn(telemetry::measure))
            .wrap(TracingLogger::<telemetry::RequestSpan>::new())
            .configure(garage_api::configure(
                fleet.clone(),
                care.clone(),
                events.clone(),
                webhooks.clone(),
                idempotency.clone(),
                edge.clone(),
            ))
            .configure(garage_api::openapi::docs)
            .route("/health/live", web::get().to(live))
            .route("/health/ready", web::get().to(ready));
        let app = if metrics_apart {
            app
        } else {
            app.route("/metrics", edge::admin_only(web::get().to(metrics::scrape)))
        };
        match &ui {
            Some(dir) => app.service(
                web::scope("")
                    .wrap(from_fn(ui_cache_policy))
                    .service(static_ui(dir)),
            ),
            None => app,
        }
    })
    .shutdown_timeout(settings.server.shutdown_timeout)
    // Signals are ours: SIGTERM drains first (see run_until_stopped).
    .disable_signals()
    // A client that keeps a closing connection open is cut off after a second.
    .client_disconnect_timeout(Duration::from_secs(1));
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    let server = match tls {
        Some(config) => server.listen_rustls_0_23(listener, config)?,
        None => server.listen(listener)?,
    };
    let metrics_server = match metrics_listener {
        Some(listener) => {
            let port = listener.local_addr()?.port();
            tracing::info!(port, "serving /metrics apart from the API");
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(metrics.clone())
                    .route("/metrics", web::get().to(metrics::scrape))
            })
            .workers(1)
            .shutdown_timeout(1)
            .disable_signals()
            .listen(listener)?
            .run();
            Some((port, server))
        }
        None => None,
    };
    Ok((server.run(), metrics_server))
}

/// Deletes expired idempotency keys every hour (any instance may; each
/// delete is idempotent). Lookups ignore expired keys anyway: this only
/// keeps the table small.
async fn purge_expired_keys(store: Arc<dyn IdempotencyStore>) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match store.purge(garage_api::idempotency::TTL).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired idempotency keys deleted"),
            Err(err) => tracing::warn!(error = %err, "could not purge idempotency keys"),
        }
    }
}

/// Records the `care.due_soon` and `care.overdue` events of plans that
/// became so, while the process runs. Each instance does it; the store
/// records each plan's reminder once per cycle, and one missed while no
/// instance ran is recorded by the next round.
async fn send_reminders(care: CareService, every: Duration) {
    // The host (a pod's name), the process, and which service of it.
    static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let instance = format!(
        "{}/{}/{}",
        std::env::var("HOSTNAME").unwrap_or_default(),
        std::process::id(),
        STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Keep going while there is more due than one round records.
        loop {
            match care
                .send_reminders(garage_domain::Limit::LARGEST, &instance)
                .await
            {
                Ok(0) => break,
                Ok(sent) => tracing::info!(sent, "care reminders recorded"),
                Err(err) => {
                    tracing::warn!(error = %err, "could not record care reminders");
                    break;
                }
            }
        }
    }
}

/// Deletes events past their retention, once an hour.
async fn purge_old_events(events: EventService, days: u32) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match events.purge_older_than(days, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, days, "events past their retention deleted"),
            Err(err) => tracing::warn!(error = %err, "could not delete old events"),
        }
    }
}

/// Queues new events for the webhook endpoints and sends what is due,
/// while the process runs. Each instance does it; the store's cursor lock
/// and leases make each event queued once and each delivery sent by one.
/// A delivery cut off by a stop is sent again once its lease expires.
async fn deliver_webhooks(webhooks: WebhookService, metrics: web::Data<Metrics>, every: Duration) {
    const ROUND: u32 = 20;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(err) = webhooks.dispatch().await {
            tracing::warn!(error = %err, "could not queue events for webhooks");
            continue;
        }
        // Keep going while there is more due than one round sends.
        loop {
            match webhooks.deliver_due(ROUND).await {
                Ok(results) => {
                    for result in &results {
                        metrics.delivery(result);
                    }
                    if results.len() < ROUND as usize {
                        break;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "could not deliver webhooks");
                    break;
                }
            }
        }
        match webhooks.backlog().await {
            Ok(backlog) => metrics.outbox(backlog),
            Err(err) => tracing::warn!(error = %err, "could not read the webhook outbox"),
        }
    }
}

/// The built UI: every path that is not a file answered with `index.html`,
/// so client-side routes survive a reload.
fn static_ui(dir: &Path) -> actix_files::Files {
    let index = dir.join("index.html");
    actix_files::Files::new("/", dir)
        .index_file("index.html")
        .default_handler(move |req: actix_web::dev::ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                // A missing asset is a 404: answering index.html would cache
                // a page under an asset's name for a year.
                if req.path().starts_with("/assets/") {
                    return Ok(actix_web::dev::ServiceResponse::new(
                        req,
                        HttpResponse::NotFound().finish(),
                    ));
                }
                let response = match actix_files::NamedFile::open_async(&index).await {
                    Ok(file) => file.into_response(&req),
                    Err(_) => HttpResponse::NotFound().finish(),
                };
                Ok(actix_web::dev::ServiceResponse::new(req, response))
            }
        })
}

/// Hashed UI assets never change, so browsers keep them for a year; every
/// other UI file is revalidated, so a new release shows at once.
async fn ui_cache_policy(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    let policy = if path.starts_with("/api/") || path.starts_with("/health/") {
        None
    } else if path.starts_with("/assets/") {
        Some(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(31_536_000),
            CacheDirective::Extension("immutable".into(), None),
        ]))
    } else {
        Some(CacheControl(vec![CacheDirective::NoCache]))
    };
    let mut response = next.call(req).await?;
    if let Some(policy) = policy {
        if response.status().is_success() {
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_str(&policy.to_string()).expect("a valid header"),
            );
        }
    }
    Ok(response)
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The header (and cookie) that carries a client's consistency token: the
/// primary's WAL position after its last write.
const WRITTEN: &str = "garage-written";

/// With a read replica: reads carrying the client's token go where its
/// writes are visible, and a write hands the client its new token, as a
/// header for API clients and a cookie for browsers (see `garage_infra::Reads`).
async fn read_your_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    secure: bool,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let from_header = req
        .headers()
        .get(WRITTEN)
        .and_then(|v| v.to_str().ok())
        .and_then(Lsn::parse);
    let token = from_header.or_else(|| {
        req.headers()
            .get_all(header::COOKIE)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|pair| pair.trim().strip_prefix("garage_written="))
            .and_then(Lsn::parse)
    });
    let (response, written) = garage_infra::consistent(token, next.call(req)).await;
    let mut response = response?;
    if let Some(lsn) = written {
        let value = lsn.to_string();
        // A position is hexadecimal digits and a slash: cookie-safe as is.
        let cookie = format!(
            "garage_written={value}; Path=/; Max-Age=60; HttpOnly; SameSite=Strict{}",
            if secure { "; Secure" } else { "" }
        );
        let headers = response.headers_mut();
        if let Ok(value) = header::HeaderValue::from_str(&value) {
            headers.insert(header::HeaderName::from_static(WRITTEN), value);
        }
        if let Ok(cookie) = header::HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, cookie);
        }
    }
    Ok(response)
}

/// Ready when the primary answers within a second and holds every
/// migration. A failing replica does not make the service unready: its
/// reads go to the primary meanwhile (`db_replica_degraded`).
async fn ready(pools: web::Data<Pools>, draining: web::Data<Draining>) -> HttpResponse {
    if draining.is_on() {
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "1"))
            .json(serde_json::json!({"status": "draining"}));
    }
    let pools = pools.get_ref().clone();
    let check = async move {
        pools.primary.ready().await?;
        Ok::<_, garage_domain::Error>(())
    };
    match tokio::time::timeout(Duration::from_secs(1), check).await {
        Ok(Ok(())) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Ok(Err(err)) => {
            tracing::warn!(
                error = format!("{:#}", anyhow::Error::from(err)),
                "readiness check failed"
            );
            unready()
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            unready()
        }
    }
}

fn unready() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, "1"))
        .json(serde_json::json!({"status": "unavailable"}))
}
