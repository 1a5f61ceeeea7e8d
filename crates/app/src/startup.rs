//! Wires the layers together and starts the HTTP server.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::middleware::{from_fn, Compress, Next};
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use garage_domain::FleetService;
use garage_infra::{Database, DieselGarageRepository, DieselVehicleRepository};

use crate::settings::Settings;
use crate::telemetry;

/// A bound, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish()
    }
}

impl Application {
    /// Connects to the database, migrates it when configured, and binds the
    /// listening socket (port 0 picks a free one).
    ///
    /// # Errors
    /// When the database cannot be reached or migrated, or the address bound.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let url = settings.database.url()?;
        let options = settings.database.pool_options();
        let run_migrations = settings.database.run_migrations;
        // Connecting and migrating block: keep them off the async runtime.
        let db = tokio::task::spawn_blocking(move || -> anyhow::Result<Database> {
            let db = Database::connect(&url, &options)?;
            if run_migrations {
                let applied = db.migrate()?;
                tracing::info!(applied, "database migrations applied");
            }
            Ok(db)
        })
        .await
        .context("database set-up panicked")??;
        tracing::info!(backend = ?db.backend(), "database ready");

        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| {
                format!(
                    "cannot listen on {}:{}",
                    settings.server.host, settings.server.port
                )
            })?;
        let port = listener.local_addr()?.port();
        let server = serve(listener, db, settings)?;
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then lets in-flight requests finish
    /// within the configured shutdown timeout.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn serve(listener: TcpListener, db: Database, settings: &Settings) -> anyhow::Result<Server> {
    let fleet = FleetService::new(
        Arc::new(DieselGarageRepository::new(db.clone())),
        Arc::new(DieselVehicleRepository::new(db.clone())),
    );
    let ui = settings.server.static_dir.clone();
    let ui = ui.join("index.html").is_file().then_some(ui);
    match &ui {
        Some(dir) => tracing::info!(dir = %dir.display(), "serving the web UI at /"),
        None => tracing::info!(
            dir = %settings.server.static_dir.display(),
            "no built web UI found; serving the API only"
        ),
    }
    let db = web::Data::new(db);
    let mut server = HttpServer::new(move || {
        let app = App::new()
            .wrap(Compress::default())
            .wrap(from_fn(telemetry::log_request))
            .app_data(db.clone())
            .configure(garage_api::configure(fleet.clone()))
            .route("/health/live", web::get().to(live))
            .route("/health/ready", web::get().to(ready));
        match &ui {
            Some(dir) => app.service(
                web::scope("")
                    .wrap(from_fn(ui_cache_policy))
                    .service(static_ui(dir)),
            ),
            None => app,
        }
    })
    .shutdown_timeout(settings.server.shutdown_timeout);
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.listen(listener)?.run())
}

/// The built UI: hashed assets cached for a year, every other path answered
/// with `index.html` so client-side routes survive a reload.
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

/// Ready when the database answers within a second.
async fn ready(db: web::Data<Database>) -> HttpResponse {
    let db = db.get_ref().clone();
    let check = tokio::time::timeout(Duration::from_secs(1), db.ping()).await;
    match check {
        Ok(Ok(())) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Ok(Err(err)) => {
            tracing::warn!(error = format!("{err:#}"), "readiness check failed");
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
