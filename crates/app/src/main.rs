//! `garage`: serves the fleet API and its web UI, and manages its keys.

use anyhow::Context;
use clap::Parser;
use garage_app::cli::{self, Cli, Command};
use garage_app::{memory, telemetry, Application, Settings};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if matches!(cli.command, None | Some(Command::Serve)) {
        // The allocator's settings for a long-running server, read by glibc
        // only at start-up: before any thread starts.
        memory::restart_with_allocator_tunables();
    }
    actix_web::rt::System::new().block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load().context("cannot read the configuration")?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Keys(command) => cli::keys(&settings, command, &mut std::io::stdout()).await,
        Command::Backup { path } => cli::backup(&settings, &path, &mut std::io::stdout()),
        Command::Restore { path } => cli::restore(&settings, &path, &mut std::io::stdout()),
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    telemetry::init(&settings.log);
    memory::keep_resident_memory_bounded();
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
