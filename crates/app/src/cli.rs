//! The command line: `garage` serves; `garage keys …` manages API keys
//! against the configured database, without a running server.

use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use garage_domain::access::{AccessService, ApiKey, KeyId, KeyName, Scope};
use garage_domain::{GarageId, SystemClock};
use garage_infra::{Database, DieselGarageRepository, DieselKeyRepository};

use crate::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "garage",
    version,
    about = "The Garage fleet service: its API, its UI, its keys."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the UI (the default).
    Serve,
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Write a consistent copy of the SQLite database to PATH, while the
    /// service runs (on PostgreSQL, use pg_dump).
    Backup {
        /// A new file for the copy.
        path: std::path::PathBuf,
    },
    /// Put a copy made by `backup` in place of the SQLite database; the
    /// service must be stopped. The replaced file is kept beside it.
    Restore {
        /// The copy to restore.
        path: std::path::PathBuf,
    },
}

/// `garage backup PATH`, printing to `out`.
///
/// # Errors
/// On PostgreSQL, or when the copy fails.
pub fn backup(
    settings: &Settings,
    path: &std::path::Path,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let url = settings.database.url()?;
    let bytes = garage_infra::backup::backup(&url, path)?;
    writeln!(
        out,
        "Backed up {url} to {} ({bytes} bytes).",
        path.display()
    )?;
    Ok(())
}

/// `garage restore PATH`, printing to `out`.
///
/// # Errors
/// On PostgreSQL, while a service runs, or when the copy is not sound.
pub fn restore(
    settings: &Settings,
    path: &std::path::Path,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let restored = garage_infra::backup::restore(&settings.database.url()?, path)?;
    writeln!(
        out,
        "Restored {} into {}.",
        path.display(),
        restored.into.display()
    )?;
    if let Some(kept) = restored.kept {
        writeln!(
            out,
            "The database it replaced is kept as {}.",
            kept.display()
        )?;
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its secret, once.
    Create {
        /// Who or what holds it.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        scope: ScopeArg,
        /// Limit the key to this garage (repeat for several).
        #[arg(long = "garage", value_name = "ID")]
        garages: Vec<i64>,
    },
    /// List every key, without secrets.
    List,
    /// Revoke a key: it stops working within a second.
    Revoke {
        /// The key's id, as `keys list` shows it.
        id: i64,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    Read,
    Write,
    Admin,
}

impl From<ScopeArg> for Scope {
    fn from(arg: ScopeArg) -> Self {
        match arg {
            ScopeArg::Read => Self::Read,
            ScopeArg::Write => Self::Write,
            ScopeArg::Admin => Self::Admin,
        }
    }
}

fn when(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

fn garages(key: &ApiKey) -> String {
    key.garages.as_ref().map_or_else(
        || "all".into(),
        |ids| {
            ids.iter()
                .map(|id| id.get().to_string())
                .collect::<Vec<_>>()
                .join(",")
        },
    )
}

/// Runs a `keys` command, printing to `out`.
///
/// # Errors
/// When the database cannot be reached or the input is refused.
pub async fn keys(
    settings: &Settings,
    command: KeysCommand,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let url = settings.database.url()?;
    // One command, one connection at a time, none opened in the background:
    // a pool thread still connecting when the process exits can crash it
    // inside libpq.
    let mut options = settings.database.pool_options();
    options.max_size = 2;
    options.min_idle = Some(0);
    let migrate = settings.database.run_migrations;
    let db = tokio::task::spawn_blocking(move || -> anyhow::Result<Database> {
        let db = Database::connect(&url, &options)?;
        if migrate {
            db.migrate()?;
        }
        Ok(db)
    })
    .await
    .context("database set-up panicked")??;
    let access = AccessService::new(
        Arc::new(DieselKeyRepository::new(db.clone())),
        Arc::new(DieselGarageRepository::new(db)),
        Arc::new(SystemClock),
        &[],
    )
    .with_protected_reads(settings.auth.protect_reads);
    match command {
        KeysCommand::Create {
            name,
            scope,
            garages,
        } => {
            let name = KeyName::parse(&name).map_err(|e| anyhow::anyhow!("--name {e}"))?;
            let garages = if garages.is_empty() {
                None
            } else {
                Some(
                    garages
                        .into_iter()
                        .map(|id| {
                            GarageId::parse(id).map_err(|e| anyhow::anyhow!("--garage {id}: {e}"))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?,
                )
            };
            let (key, secret) = access
                .create(name, scope.into(), garages, cli_origin())
                .await?;
            writeln!(
                out,
                "Created key {} \"{}\" ({}, garages: {}).",
                key.id,
                key.name,
                key.scope,
                self::garages(&key)
            )?;
            writeln!(
                out,
                "Its secret, shown this once:\n\n    {}\n",
                secret.expose()
            )?;
            writeln!(out, "Send it as: Authorization: Bearer <secret>")?;
        }
        KeysCommand::List => {
            let keys = access.list().await?;
            writeln!(
                out,
                "{:>4}  {:<24}  {:<12}  {:<6}  {:<12}  {:<16}  {:<16}  {:<16}",
                "id", "name", "prefix", "scope", "garages", "created", "last used", "revoked"
            )?;
            for key in keys {
                writeln!(
                    out,
                    "{:>4}  {:<24}  {:<12}  {:<6}  {:<12}  {:<16}  {:<16}  {:<16}",
                    key.id,
                    key.name,
                    key.prefix,
                    key.scope,
                    garages(&key),
                    when(Some(key.created_at)),
                    when(key.last_used_at),
                    when(key.revoked_at)
                )?;
            }
        }
        KeysCommand::Revoke { id } => {
            let id = KeyId::parse(id).map_err(|e| anyhow::anyhow!("key id {id}: {e}"))?;
            let key = access.revoke(id, cli_origin()).await?;
            writeln!(
                out,
                "Revoked key {} \"{}\" at {}.",
                key.id,
                key.name,
                when(key.revoked_at)
            )?;
        }
    }
    Ok(())
}

/// The command line's writes are recorded as made by `cli`.
fn cli_origin() -> garage_domain::events::Origin {
    garage_domain::events::Origin::new(garage_domain::events::Actor::cli(), None)
}
