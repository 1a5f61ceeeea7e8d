//! Configuration: defaults, then an optional `config.toml` (or the file named
//! by `APP_CONFIG`), then `APP__SECTION__KEY` environment variables, then
//! `DATABASE_URL`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use garage_infra::{DatabaseUrl, PoolOptions};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Seconds in-flight requests get to finish after SIGTERM or SIGINT.
    pub shutdown_timeout: u64,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// The built web UI, served at `/` when the directory exists.
    pub static_dir: PathBuf,
}

#[derive(Clone, Deserialize)]
pub struct DatabaseSettings {
    /// Never printed: it may hold a password.
    pub url: String,
    pub pool_max_size: u32,
    pub pool_min_idle: u32,
    /// Seconds a request waits for a connection before a 503.
    pub pool_timeout: u64,
    pub run_migrations: bool,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field(
                "url",
                &DatabaseUrl::parse(&self.url)
                    .map_or_else(|_| "(invalid)".into(), |u| u.to_string()),
            )
            .field("pool_max_size", &self.pool_max_size)
            .field("pool_min_idle", &self.pool_min_idle)
            .field("pool_timeout", &self.pool_timeout)
            .field("run_migrations", &self.run_migrations)
            .finish()
    }
}

impl DatabaseSettings {
    /// # Errors
    /// When the URL names no supported backend.
    pub fn url(&self) -> anyhow::Result<DatabaseUrl> {
        DatabaseUrl::parse(&self.url).context("invalid database URL")
    }

    pub fn pool_options(&self) -> PoolOptions {
        PoolOptions {
            max_size: self.pool_max_size,
            min_idle: Some(self.pool_min_idle),
            connection_timeout: Duration::from_secs(self.pool_timeout.max(1)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `garage=debug,info`; `RUST_LOG` wins.
    pub level: String,
}

impl Settings {
    /// Reads the configuration from the process's files and environment.
    ///
    /// # Errors
    /// When a source cannot be read or a value has the wrong type.
    pub fn load() -> anyhow::Result<Self> {
        let file = std::env::var("APP_CONFIG").unwrap_or_else(|_| "config.toml".into());
        let vars: Vec<(String, String)> = std::env::vars().collect();
        Self::from_sources(Some(&file), vars)
    }

    /// Reads the configuration from `file` (if it exists) and `vars`.
    ///
    /// # Errors
    /// When the file is invalid or a value has the wrong type.
    pub fn from_sources(
        file: Option<&str>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let vars: std::collections::HashMap<String, String> = vars.into_iter().collect();
        let mut builder = config::Config::builder()
            .set_default("server.host", "127.0.0.1")?
            .set_default("server.port", 8080)?
            .set_default("server.shutdown_timeout", 30)?
            .set_default("server.workers", 0)?
            .set_default("server.static_dir", "web/dist")?
            .set_default("database.url", "sqlite://data/garage.db")?
            .set_default("database.pool_max_size", 10)?
            .set_default("database.pool_min_idle", 1)?
            .set_default("database.pool_timeout", 5)?
            .set_default("database.run_migrations", true)?
            .set_default("log.format", "pretty")?
            .set_default("log.level", "info")?;
        if let Some(file) = file {
            builder = builder.add_source(config::File::with_name(file).required(false));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("APP")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(vars.clone())),
        );
        if let Some(url) = vars.get("DATABASE_URL") {
            builder = builder.set_override("database.url", url.as_str())?;
        }
        builder
            .build()?
            .try_deserialize()
            .context("invalid configuration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_need_no_server() {
        let s = Settings::from_sources(None, vars(&[])).unwrap();
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.database.url, "sqlite://data/garage.db");
        assert!(s.database.run_migrations);
        assert_eq!(s.log.format, LogFormat::Pretty);
    }

    #[test]
    fn environment_overrides_defaults_and_database_url_wins() {
        let s = Settings::from_sources(
            None,
            vars(&[
                ("APP__SERVER__PORT", "9000"),
                ("APP__LOG__FORMAT", "json"),
                ("APP__DATABASE__URL", "sqlite://other.db"),
                ("DATABASE_URL", "postgres://app:pw@db/fleet"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9000);
        assert_eq!(s.log.format, LogFormat::Json);
        assert_eq!(s.database.url, "postgres://app:pw@db/fleet");
    }

    #[test]
    fn the_database_password_never_prints() {
        let s = Settings::from_sources(
            None,
            vars(&[("DATABASE_URL", "postgres://app:s3cret@db/fleet")]),
        )
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn a_wrongly_typed_value_is_an_error() {
        assert!(Settings::from_sources(None, vars(&[("APP__SERVER__PORT", "eighty")])).is_err());
    }
}
