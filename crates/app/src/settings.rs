//! Configuration: defaults, then an optional `config.toml` (or the file named
//! by `APP_CONFIG`), then `APP__SECTION__KEY` environment variables, then
//! `DATABASE_URL`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use garage_infra::{DatabaseUrl, PoolOptions};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub rate_limit: RateLimitSettings,
    #[serde(default)]
    pub tls: TlsSettings,
    #[serde(default)]
    pub redis: RedisSettings,
    #[serde(default)]
    pub metrics: MetricsSettings,
    #[serde(default)]
    pub webhooks: WebhookSettings,
    #[serde(default)]
    pub events: EventSettings,
    #[serde(default)]
    pub care: CareSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CareSettings {
    /// A plan is due soon this many days before its due date.
    #[serde(default = "due_soon_days")]
    pub due_soon_days: u32,
    /// A plan is due soon this many km before its due distance.
    #[serde(default = "due_soon_km")]
    pub due_soon_km: u32,
    /// How often each instance looks for plans that became due soon or
    /// overdue, to record their `care.*` events, in milliseconds.
    #[serde(default = "reminders_every")]
    pub reminder_interval_ms: u64,
    /// Where the fleet's days begin and end, an IANA time zone
    /// (`Europe/Paris`): what "today" is for readings, due dates and
    /// reminders.
    #[serde(default = "utc")]
    pub time_zone: String,
}

fn utc() -> String {
    "UTC".into()
}

fn due_soon_days() -> u32 {
    30
}

fn due_soon_km() -> u32 {
    1_000
}

fn reminders_every() -> u64 {
    60_000
}

impl Default for CareSettings {
    fn default() -> Self {
        Self {
            due_soon_days: due_soon_days(),
            due_soon_km: due_soon_km(),
            reminder_interval_ms: reminders_every(),
            time_zone: utc(),
        }
    }
}

impl CareSettings {
    /// # Errors
    /// When `due_soon_km` is past what an odometer shows.
    pub fn thresholds(&self) -> anyhow::Result<garage_domain::care::Thresholds> {
        Ok(garage_domain::care::Thresholds {
            days: self.due_soon_days.min(3_650),
            km: garage_domain::care::Km::parse(i64::from(self.due_soon_km))
                .map_err(|err| anyhow::anyhow!("care.due_soon_km: {err}"))?,
        })
    }

    /// # Errors
    /// When `time_zone` is no IANA time zone.
    pub fn zone(&self) -> anyhow::Result<garage_domain::Zone> {
        garage_domain::Zone::parse(&self.time_zone)
            .map_err(|err| anyhow::anyhow!("care.time_zone: {err}"))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    /// Shares rate limits between instances (it may hold a password).
    pub url: Option<SecretString>,
    /// Prefix of the service's keys, so several deployments share a Redis.
    #[serde(default = "redis_prefix")]
    pub prefix: String,
}

fn redis_prefix() -> String {
    "garage:ratelimit:".into()
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: None,
            prefix: redis_prefix(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventSettings {
    /// Deletes events (and their webhook deliveries) older than this many
    /// days, once an hour; `None` (the default) keeps them all.
    pub retention_days: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    /// Lets webhooks reach loopback, private and link-local addresses, and
    /// plain `http://` URLs: for tests and closed networks only.
    #[serde(default)]
    pub allow_private_targets: bool,
    /// Multiplies the waits between attempts (1 = the schedule; tests
    /// shorten it). From 0 to 1.
    #[serde(default = "one")]
    pub backoff_scale: f64,
    /// How often each instance looks for events to queue and deliveries
    /// due, in milliseconds.
    #[serde(default = "poll_every")]
    pub poll_interval_ms: u64,
}

fn one() -> f64 {
    1.0
}

fn poll_every() -> u64 {
    1_000
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            backoff_scale: one(),
            poll_interval_ms: poll_every(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetricsSettings {
    /// Serves `/metrics` on this address (`0.0.0.0:9090`), apart from the
    /// API; without it `/metrics` is on the API's port for admin keys only.
    pub addr: Option<String>,
}

/// Secrets are `SecretString`s: their `Debug` says `[REDACTED]`, so no
/// log line can show one.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// Bootstrap admin keys accepted as `Authorization: Bearer <key>`, beside
    /// the keys in the database; with neither, writes are open.
    pub api_keys: Vec<SecretString>,
    /// Require a key for reads too.
    pub protect_reads: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitSettings {
    /// Requests a client regains per second; 0 turns rate limiting off.
    pub per_second: f64,
    /// Requests a client may send at once.
    pub burst: u32,
    /// Failed authentications an address may make per minute (and at once).
    pub failed_sign_ins_per_minute: u32,
    /// Replaced by `server.trusted_proxies`; refused at start-up when set.
    #[serde(default)]
    pub trust_forwarded_for: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TlsSettings {
    /// PEM certificate chain; with `key_path`, the server speaks HTTPS itself.
    pub cert_path: Option<PathBuf>,
    pub key_path: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Seconds in-flight requests get to finish after SIGTERM or SIGINT.
    pub shutdown_timeout: u64,
    /// Seconds between SIGTERM and closing the listener, while readiness
    /// says 503 and requests are still served: long enough for a load
    /// balancer to stop routing here, so a rolling restart fails nothing.
    pub drain_seconds: u64,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// The built web UI, served at `/` when the directory exists.
    pub static_dir: PathBuf,
    /// Origins allowed to call the API from a browser (a UI hosted elsewhere).
    pub cors_origins: Vec<String>,
    /// Proxies (CIDRs or addresses) whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<String>,
    /// `x-forwarded-for` or `forwarded`: the header trusted proxies write.
    pub client_ip_header: String,
    /// Seconds a request body may take to arrive before a 408.
    pub body_timeout: u64,
}

#[derive(Clone, Deserialize)]
pub struct DatabaseSettings {
    /// Never printed: it may hold a password.
    pub url: String,
    /// A read replica: reads go there, writes and what they return to `url`.
    #[serde(default)]
    pub read_url: Option<String>,
    pub pool_max_size: u32,
    pub pool_min_idle: u32,
    /// Seconds the start-up waits for the pool's first connections.
    pub pool_timeout: u64,
    /// Milliseconds one piece of a request's database work may take, the
    /// wait for a connection included, before the request gets a 503: a
    /// hung or unreachable server costs seconds, not a wedged service.
    pub timeout_ms: u64,
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
            .field(
                "read_url",
                &self.read_url.as_deref().map(|u| {
                    DatabaseUrl::parse(u).map_or_else(|_| "(invalid)".into(), |u| u.to_string())
                }),
            )
            .field("pool_max_size", &self.pool_max_size)
            .field("pool_min_idle", &self.pool_min_idle)
            .field("pool_timeout", &self.pool_timeout)
            .field("timeout_ms", &self.timeout_ms)
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

    /// # Errors
    /// When the replica's URL names no supported backend.
    pub fn read_url(&self) -> anyhow::Result<Option<DatabaseUrl>> {
        self.read_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(|u| DatabaseUrl::parse(u).context("invalid read replica URL"))
            .transpose()
    }

    pub fn pool_options(&self) -> PoolOptions {
        PoolOptions {
            max_size: self.pool_max_size,
            min_idle: Some(self.pool_min_idle),
            connection_timeout: Duration::from_secs(self.pool_timeout.max(1)),
            deadline: Duration::from_millis(self.timeout_ms.max(1)),
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
            .set_default("server.drain_seconds", 5)?
            .set_default("server.workers", 0)?
            .set_default("server.static_dir", "web/dist")?
            .set_default("server.cors_origins", Vec::<String>::new())?
            .set_default("server.trusted_proxies", Vec::<String>::new())?
            .set_default("server.client_ip_header", "x-forwarded-for")?
            .set_default("server.body_timeout", 10)?
            .set_default("auth.api_keys", Vec::<String>::new())?
            .set_default("auth.protect_reads", false)?
            .set_default("rate_limit.per_second", 50.0)?
            .set_default("rate_limit.burst", 100)?
            .set_default("rate_limit.failed_sign_ins_per_minute", 10)?
            .set_default("database.url", "sqlite://data/garage.db")?
            .set_default("database.pool_max_size", 10)?
            .set_default("database.pool_min_idle", 1)?
            .set_default("database.timeout_ms", 2000)?
            .set_default("database.pool_timeout", 2)?
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
                .list_separator(",")
                .with_list_parse_key("server.cors_origins")
                .with_list_parse_key("auth.api_keys")
                .with_list_parse_key("server.trusted_proxies")
                .source(Some(vars.clone())),
        );
        if let Some(url) = vars.get("DATABASE_URL") {
            builder = builder.set_override("database.url", url.as_str())?;
        }
        if let Some(url) = vars.get("DATABASE_READ_URL") {
            builder = builder.set_override("database.read_url", url.as_str())?;
        }
        let mut settings: Self = builder
            .build()?
            .try_deserialize()
            .context("invalid configuration")?;
        settings.tidy();
        settings.check()?;
        Ok(settings)
    }

    /// Entries of comma-separated lists lose the spaces around them.
    fn tidy(&mut self) {
        self.auth.api_keys = self
            .auth
            .api_keys
            .iter()
            .map(|k| k.expose_secret().trim())
            .filter(|k| !k.is_empty())
            .map(SecretString::from)
            .collect();
        for list in [
            &mut self.server.cors_origins,
            &mut self.server.trusted_proxies,
        ] {
            *list = list
                .iter()
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty())
                .collect();
        }
    }

    /// The proxies trusted to name the client.
    ///
    /// # Errors
    /// When an entry is not a CIDR or an address, or the header is unknown.
    pub fn trusted_proxies(&self) -> anyhow::Result<garage_api::edge::TrustedProxies> {
        use garage_api::edge::{ClientHeader, TrustedProxies};
        let header = match self.server.client_ip_header.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => ClientHeader::XForwardedFor,
            "forwarded" => ClientHeader::Forwarded,
            other => anyhow::bail!(
                "server.client_ip_header must be x-forwarded-for or forwarded, not {other:?}"
            ),
        };
        TrustedProxies::parse(&self.server.trusted_proxies, header)
            .map_err(|e| anyhow::anyhow!("server.trusted_proxies: {e}"))
    }

    fn check(&self) -> anyhow::Result<()> {
        let min = garage_domain::access::BOOTSTRAP_MIN_CHARS;
        for (i, key) in self
            .auth
            .api_keys
            .iter()
            .map(ExposeSecret::expose_secret)
            .enumerate()
        {
            if key.len() < min || !key.bytes().all(|b| b.is_ascii_graphic()) {
                anyhow::bail!(
                    "API key #{} in auth.api_keys must be at least {min} visible ASCII characters (no spaces or accents; 32 or more recommended)",
                    i + 1
                );
            }
        }
        if self.rate_limit.trust_forwarded_for.is_some() {
            anyhow::bail!(
                "rate_limit.trust_forwarded_for is gone: list the proxies in front of the service in server.trusted_proxies (APP__SERVER__TRUSTED_PROXIES=10.0.0.0/8,...)"
            );
        }
        self.trusted_proxies()?;
        if self.server.body_timeout == 0 {
            anyhow::bail!("server.body_timeout must be at least 1 second");
        }
        if let Some(addr) = &self.metrics.addr {
            addr.parse::<std::net::SocketAddr>()
                .with_context(|| format!("metrics.addr {addr:?} is not an address:port"))?;
        }
        if self.tls.cert_path.is_some() != self.tls.key_path.is_some() {
            anyhow::bail!("TLS needs both tls.cert_path and tls.key_path");
        }
        let rate = self.rate_limit.per_second;
        if !(rate == 0.0 || (rate >= 0.001 && rate.is_finite())) {
            anyhow::bail!("rate_limit.per_second must be 0 (off) or at least 0.001");
        }
        self.database.url()?;
        self.database.read_url()?;
        Ok(())
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
    fn the_fleets_time_zone_is_utc_unless_named() {
        let s = Settings::from_sources(None, vars(&[])).unwrap();
        assert_eq!(s.care.zone().unwrap(), garage_domain::Zone::UTC);
        let s = Settings::from_sources(None, vars(&[("APP__CARE__TIME_ZONE", "Europe/Paris")]))
            .unwrap();
        assert_eq!(s.care.zone().unwrap().name(), "Europe/Paris");
        let s = Settings::from_sources(None, vars(&[("APP__CARE__TIME_ZONE", "Paris")])).unwrap();
        let err = s.care.zone().unwrap_err().to_string();
        assert!(
            err.starts_with("care.time_zone: \"Paris\" is not an IANA"),
            "{err}"
        );
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
    fn lists_come_from_comma_separated_variables_and_keys_never_print() {
        let s = Settings::from_sources(
            None,
            vars(&[
                (
                    "APP__AUTH__API_KEYS",
                    "first-key-0123456789,second-key-0123456789",
                ),
                ("APP__SERVER__CORS_ORIGINS", "https://ui.example.org"),
                ("DATABASE_READ_URL", "postgres://app:s3cret@replica/fleet"),
                ("APP__REDIS__URL", "redis://:s3cret@cache:6379"),
            ]),
        )
        .unwrap();
        assert_eq!(s.auth.api_keys.len(), 2);
        assert_eq!(s.server.cors_origins, ["https://ui.example.org"]);
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("first-key") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    #[test]
    fn key_lists_are_trimmed_and_keys_must_be_long_visible_ascii() {
        let s = Settings::from_sources(
            None,
            vars(&[(
                "APP__AUTH__API_KEYS",
                "first-key-0123456789, second-key-0123456789 ,",
            )]),
        )
        .unwrap();
        let keys: Vec<&str> = s.auth.api_keys.iter().map(|k| k.expose_secret()).collect();
        assert_eq!(keys, ["first-key-0123456789", "second-key-0123456789"]);
        for bad in ["short", "clé-0123456789abcdef", "with space 0123456789"] {
            let err = Settings::from_sources(None, vars(&[("APP__AUTH__API_KEYS", bad)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("API key #1"), "{bad}: {err}");
        }
    }

    #[test]
    fn proxies_are_named_not_trusted_wholesale() {
        let s = Settings::from_sources(
            None,
            vars(&[("APP__SERVER__TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7")]),
        )
        .unwrap();
        assert_eq!(s.server.trusted_proxies, ["10.0.0.0/8", "192.168.1.7"]);
        assert!(Settings::from_sources(
            None,
            vars(&[("APP__SERVER__TRUSTED_PROXIES", "everything")])
        )
        .is_err());
        let gone = Settings::from_sources(
            None,
            vars(&[("APP__RATE_LIMIT__TRUST_FORWARDED_FOR", "true")]),
        )
        .unwrap_err();
        assert!(
            gone.to_string().contains("server.trusted_proxies"),
            "{gone}"
        );
        assert!(Settings::from_sources(None, vars(&[("APP__METRICS__ADDR", "nowhere")])).is_err());
        for rate in ["1e-20", "-1", "NaN", "inf"] {
            assert!(
                Settings::from_sources(None, vars(&[("APP__RATE_LIMIT__PER_SECOND", rate)]))
                    .is_err(),
                "{rate}"
            );
        }
    }

    #[test]
    fn unsafe_settings_are_refused() {
        assert!(Settings::from_sources(None, vars(&[("APP__AUTH__API_KEYS", "short")])).is_err());
        assert!(Settings::from_sources(None, vars(&[("APP__TLS__CERT_PATH", "/c.pem")])).is_err());
        assert!(Settings::from_sources(None, vars(&[("DATABASE_URL", "mysql://x")])).is_err());
    }

    #[test]
    fn a_wrongly_typed_value_is_an_error() {
        assert!(Settings::from_sources(None, vars(&[("APP__SERVER__PORT", "eighty")])).is_err());
    }
}
