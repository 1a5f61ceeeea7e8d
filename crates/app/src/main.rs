//! `garage`: serves the fleet API and its web UI.

use anyhow::Context;
use garage_app::{telemetry, Application, Settings};

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load().context("cannot read the configuration")?;
    telemetry::init(&settings.log);
    tracing::info!(?settings, "starting garage");
    let app = Application::build(&settings).await?;
    tracing::info!(
        "listening on http://{}:{}",
        settings.server.host,
        app.port()
    );
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}
