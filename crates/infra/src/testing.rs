//! Fresh, migrated databases for tests: one PostgreSQL database per test,
//! copied from a migrated template, or one SQLite file per test. Each is
//! dropped with its guard.
//!
//! PostgreSQL is found through `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); when it cannot be
//! reached, the test fails and says so.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};

use crate::db::{Database, DatabaseUrl, PoolOptions};

mod cluster;
pub use cluster::Cluster;

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The URL of the server's maintenance database, from `TEST_DATABASE_URL`.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let prefix = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

/// A connection to the maintenance database, without GSSAPI (see
/// `DatabaseUrl::libpq_url`).
fn establish_admin(url: &str) -> diesel::ConnectionResult<PgConnection> {
    PgConnection::establish(&crate::db::with_libpq_defaults(url))
}

fn admin() -> PgConnection {
    let url = admin_url();
    establish_admin(&url).unwrap_or_else(|err| {
        panic!(
            "cannot reach the test PostgreSQL server at {}: {err}\n\
             Start PostgreSQL or point TEST_DATABASE_URL at one.",
            DatabaseUrl::parse(&url).map_or_else(|_| url.clone(), |u| u.to_string())
        )
    })
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn migrations_dir(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(backend)
}

/// A name that changes whenever a migration does, so a stale template is never used.
fn template_name() -> String {
    let mut files = Vec::new();
    let mut dirs = vec![migrations_dir("postgres")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("migrations directory") {
            let path = entry.expect("migration entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in files {
        file.file_name().hash(&mut hasher);
        std::fs::read(&file)
            .expect("migration file")
            .hash(&mut hasher);
    }
    format!("garage_template_{:016x}", hasher.finish())
}

/// Makes the migrated template once per server and migration set; an
/// advisory lock keeps concurrent test processes from racing.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = template_name();
        let mut conn = admin();
        conn.batch_execute("SELECT pg_advisory_lock(4242001)")
            .expect("advisory lock");
        let exists = diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
        )))
        .get_result::<bool>(&mut conn)
        .expect("look up the template");
        if !exists {
            let building = format!("{name}_building");
            // One statement per call: a batch would run in a transaction,
            // where PostgreSQL refuses these.
            conn.batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .expect("drop a half-built template");
            conn.batch_execute(&format!("CREATE DATABASE {building}"))
                .expect("create the template database");
            let url = DatabaseUrl::parse(&with_database(&admin_url(), &building)).unwrap();
            let db = Database::connect(&url, &pool_options()).expect("connect to the template");
            db.migrate().expect("migrate the template");
            drop(db);
            conn.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                .expect("publish the template");
        }
        conn.batch_execute("SELECT pg_advisory_unlock(4242001)")
            .expect("advisory unlock");
        name
    })
}

fn pool_options() -> PoolOptions {
    PoolOptions {
        max_size: 16,
        min_idle: Some(0),
        // Tests of other things must not fail on a busy machine's pauses;
        // the deadline's own tests set theirs.
        deadline: std::time::Duration::from_secs(30),
        ..PoolOptions::default()
    }
}

/// A database of the test's own, dropped when this guard is.
#[derive(Debug)]
pub struct TestDb {
    url: String,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Postgres { name: String },
    Sqlite { path: PathBuf },
}

impl TestDb {
    /// A fresh, migrated PostgreSQL database.
    ///
    /// # Panics
    /// When the test server cannot be reached or the database not made.
    pub fn postgres() -> Self {
        let template = template();
        let name = format!("garage_test_{}", unique_suffix());
        admin()
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .expect("create the test database");
        Self {
            url: with_database(&admin_url(), &name),
            kind: Kind::Postgres { name },
        }
    }

    /// A fresh, migrated SQLite file in the temporary directory.
    ///
    /// # Panics
    /// When the file cannot be made or migrated.
    pub fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("garage_test_{}.db", unique_suffix()));
        let url = format!("sqlite://{}", path.display());
        let db = Database::connect(&DatabaseUrl::parse(&url).unwrap(), &pool_options())
            .expect("open the test SQLite file");
        db.migrate().expect("migrate the test SQLite file");
        Self {
            url,
            kind: Kind::Sqlite { path },
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A pool to this database.
    ///
    /// # Panics
    /// When it cannot connect.
    pub fn connect(&self) -> Database {
        Database::connect(&DatabaseUrl::parse(&self.url).unwrap(), &pool_options())
            .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.kind {
            Kind::Postgres { name } => {
                if let Ok(mut conn) = establish_admin(&admin_url()) {
                    let _ =
                        conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
            Kind::Sqlite { path } => {
                // The file, its logs, its lock, and what a restore kept.
                let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
                    return;
                };
                let name = name.to_string_lossy().into_owned();
                for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                    if entry.file_name().to_string_lossy().starts_with(&name) {
                        let _ = std::fs::remove_file(entry.path());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_swapped_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(with_database("postgres://h", "t1"), "postgres://h/t1");
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t1"),
            "postgres://u:p@h/t1?sslmode=disable"
        );
    }
}
