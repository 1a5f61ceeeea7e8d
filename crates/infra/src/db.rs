//! Connections, the pool, migrations, and the one place blocking Diesel work
//! is handed to a blocking thread.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::reads::Lsn;
use anyhow::{anyhow, bail, Context};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::R2D2Connection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use garage_domain::Error;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// One connection to either backend, so one set of queries serves both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A database URL, checked for a backend it names. Its `Debug` hides the
/// password so it can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    backend: Backend,
}

impl DatabaseUrl {
    /// Accepts `postgres://…`, `postgresql://…`, `sqlite://relative/path`,
    /// `sqlite:///absolute/path` and `sqlite::memory:`.
    ///
    /// # Errors
    /// When the scheme is neither PostgreSQL's nor SQLite's, or the SQLite path is empty.
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let backend = if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Backend::Postgres
        } else if raw.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            bail!("the database URL must start with postgres://, postgresql:// or sqlite://");
        };
        let url = Self {
            raw: raw.to_owned(),
            backend,
        };
        if backend == Backend::Sqlite && url.sqlite_path().is_empty() {
            bail!("the SQLite URL names no file: write sqlite://path/to/file.db");
        }
        Ok(url)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL libpq gets: [`LIBPQ_DEFAULTS`] added where the URL does not
    /// set them itself.
    fn libpq_url(&self) -> String {
        with_libpq_defaults(&self.raw)
    }

    /// The file (or `:memory:`) of a SQLite URL.
    pub(crate) fn sqlite_path(&self) -> &str {
        let rest = self.raw.trim_start_matches("sqlite:");
        rest.strip_prefix("//").unwrap_or(rest)
    }

    fn connect(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.libpq_url()).map(DbConnection::Pg),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(self.sqlite_path())?;
                // Per connection: SQLite forgets these when a connection closes.
                conn.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -1024;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.raw))
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.raw))
    }
}

/// What libpq is told unless the URL says otherwise.
const LIBPQ_DEFAULTS: [(&str, &str); 6] = [
    // GSSAPI encryption off: with it on (libpq's default, `prefer`), every
    // connection loads Kerberos, whose exit handlers crashed the process
    // (SIGSEGV in `k5_mutex_lock`) when a pool thread was connecting as it
    // exited.
    ("gssencmode", "disable"),
    // A server that takes the TCP connection but never answers (stopped,
    // hung) fails the connection in 2 s instead of holding it forever.
    ("connect_timeout", "2"),
    // A server gone without a word (a dropped network, a lost host): sent
    // data unacknowledged for 10 s, or an idle connection whose probes go
    // unanswered, fails the connection instead of leaving it waiting.
    ("tcp_user_timeout", "10000"),
    ("keepalives_idle", "10"),
    ("keepalives_interval", "5"),
    ("keepalives_count", "3"),
];

/// `url` with each of [`LIBPQ_DEFAULTS`] its query does not name.
pub(crate) fn with_libpq_defaults(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    for (key, value) in LIBPQ_DEFAULTS {
        if !pairs.iter().any(|p| p.split('=').next() == Some(key)) {
            pairs.push(format!("{key}={value}"));
        }
    }
    format!("{base}?{}", pairs.join("&"))
}

/// Query parameters that carry a password (libpq reads both).
const SECRET_PARAMETERS: [&str; 2] = ["password", "passfile"];

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, read
/// by a URL parser (a password may hold `@` or `:`); a password given as a
/// query parameter is masked too. A URL the parser reads otherwise than
/// libpq would (an `@` left in what it takes for the path) or cannot read
/// shows only its scheme, never a guess at where the password ends.
fn redact(raw: &str) -> String {
    let scheme = raw.split_once(':').map_or("", |(scheme, _)| scheme);
    let unreadable = || format!("{scheme}://(unreadable URL)");
    let Ok(mut parsed) = url::Url::parse(raw) else {
        return unreadable();
    };
    // An `@` left in the path: the password held a bare `/` (or `?`, `#`).
    if parsed.path().contains('@') {
        return unreadable();
    }
    if parsed.password().is_some() {
        // A URL with a password has a host, so this cannot fail.
        let _ = parsed.set_password(Some("***"));
    }
    if parsed
        .query_pairs()
        .any(|(k, _)| SECRET_PARAMETERS.contains(&k.as_ref()))
    {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if SECRET_PARAMETERS.contains(&k.as_ref()) {
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// A pooled connection, flagged when it lost its server so the pool drops
/// it instead of handing it out again.
pub(crate) struct Pooled {
    conn: DbConnection,
    lost: bool,
}

/// Opens connections for r2d2, keeping the backend's own error (Diesel's
/// multi-backend `establish` would replace it with a generic one).
#[derive(Debug)]
struct Manager {
    url: DatabaseUrl,
    /// How long a statement may wait for a lock: the work's deadline.
    lock_timeout: Duration,
}

/// A connection's lock timeout: most of the deadline, so a statement that
/// starts early ends its wait before its caller gives up; one that starts
/// later, after waiting for a connection, gets the rest (see `execute`).
fn lock_timeout(deadline: Duration) -> Duration {
    (deadline * 9 / 10).max(Duration::from_millis(1))
}

/// How long one statement may run on PostgreSQL before the server cancels
/// it: what a caller abandoned at its deadline ends then at the latest.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// The session's limits on PostgreSQL (0 would mean none: callers pass at
/// least a millisecond): a statement stuck behind a lock
/// gives up at the deadline, so a write answered 503 never commits later,
/// and no connection stays held by work no one waits for.
fn limits(statement: Duration, lock: Duration) -> String {
    format!(
        "SET statement_timeout = {}; SET lock_timeout = {};",
        statement.as_millis(),
        lock.as_millis()
    )
}

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        let mut conn = self
            .url
            .connect()
            .map_err(diesel::r2d2::Error::ConnectionError)?;
        if let DbConnection::Pg(pg) = &mut conn {
            pg.batch_execute(&limits(STATEMENT_TIMEOUT, self.lock_timeout))
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(Pooled { conn, lost: false })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        pooled.conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.lost || std::thread::panicking() || pooled.conn.is_broken()
    }
}

/// Counters of the pool's life, for metrics.
#[derive(Debug, Default)]
struct Counters {
    checkouts: AtomicU64,
    wait_micros: AtomicU64,
    timeouts: AtomicU64,
    abandoned: AtomicU64,
    unavailable: AtomicU64,
    internal: AtomicU64,
    batches: AtomicU64,
    batched: AtomicU64,
    queued: AtomicU64,
}

impl Counters {
    /// A wait for a connection (or a turn at one), and whether it ran out.
    fn waited(&self, wait: Duration, timed_out: bool) {
        self.checkouts.fetch_add(1, Ordering::Relaxed);
        self.wait_micros
            .fetch_add(wait.as_micros() as u64, Ordering::Relaxed);
        if timed_out {
            self.timeouts.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A snapshot of the pool and of what went wrong so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolStats {
    pub max_size: u32,
    pub connections: u32,
    pub idle: u32,
    pub checkouts: u64,
    pub wait_seconds: f64,
    pub timeouts: u64,
    /// Work the caller stopped waiting for at its deadline.
    pub abandoned: u64,
    pub unavailable_errors: u64,
    pub internal_errors: u64,
    /// Statements that wrote creations or deletions gathered from requests.
    pub write_batches: u64,
    /// Writes those statements made.
    pub batched_writes: u64,
    /// Writes waiting now for a batch to carry them.
    pub queued_writes: u64,
}

/// How the pool behaves.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    pub min_idle: Option<u32>,
    /// How long opening the pool waits for its first connections.
    pub connection_timeout: Duration,
    /// How long one piece of database work may take, the wait for a
    /// connection included, before its caller is told the database is
    /// unavailable (see [`Database::run`]).
    pub deadline: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 10,
            min_idle: Some(1),
            connection_timeout: Duration::from_secs(5),
            deadline: Duration::from_millis(2000),
        }
    }
}

/// A pool of connections to one database.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    counters: Arc<Counters>,
    /// SQLite takes one writer at a time; queueing writers here, in order,
    /// beats their polling for the file lock (its busy handler sleeps up to
    /// 100 ms between tries, which made the tail latency of writes).
    writer: Option<Arc<parking_lot::Mutex<()>>>,
    /// PostgreSQL: one turn per connection of the pool. Work waits for its
    /// turn here, on the async side, so no more of it goes to blocking
    /// threads than there are connections to run it (the rest would each
    /// park a thread in the pool's queue, and wake it to hand it over).
    turns: Option<Arc<tokio::sync::Semaphore>>,
    deadline: Duration,
    /// The lock timeout its connections were opened with.
    lock_timeout: Duration,
    /// Keeps its own deadline, apart from the request's it runs in.
    apart: bool,
    /// Work long by nature: PostgreSQL's session limits are raised for it.
    long: bool,
}

/// The deadline of work that is long by nature: an import of many rows, a
/// purge.
const PATIENT: Duration = Duration::from_secs(300);

tokio::task_local! {
    /// The budget of the work in scope, and when it runs out once started.
    static BUDGET: (Duration, std::cell::Cell<Option<Instant>>);
}

/// Runs `work` (a request, say) with one deadline for all its database
/// work: `budget` from its first call, however many calls follow. Work long
/// by nature (an import) keeps its own.
pub async fn one_deadline<F: std::future::Future>(budget: Duration, work: F) -> F::Output {
    BUDGET
        .scope((budget, std::cell::Cell::new(None)), work)
        .await
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Database {
    /// Opens the pool and waits for its first connection, so a wrong URL or
    /// an unreachable server is reported at start-up with its cause.
    ///
    /// # Errors
    /// When no connection can be made within `options.connection_timeout`.
    pub fn connect(url: &DatabaseUrl, options: &PoolOptions) -> anyhow::Result<Self> {
        let mut max_size = options.max_size.max(1);
        if url.backend == Backend::Sqlite {
            let path = url.sqlite_path();
            if path == ":memory:" {
                // Each in-memory connection is a database of its own.
                max_size = 1;
            } else if let Some(dir) = PathBuf::from(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).with_context(|| {
                        format!("cannot create the directory {}", dir.display())
                    })?;
                }
            }
        }
        // Check one connection by hand first: r2d2 would only say it timed out.
        drop(
            url.connect()
                .with_context(|| format!("cannot connect to the database {url}"))?,
        );
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(options.min_idle.map(|n| n.min(max_size)))
            .connection_timeout(options.connection_timeout)
            // has_broken catches dead connections; a ping per checkout would
            // cost a round trip per request.
            .test_on_check_out(false)
            .build(Manager {
                url: url.clone(),
                lock_timeout: lock_timeout(options.deadline),
            })
            .with_context(|| format!("cannot open a pool to the database {url}"))?;
        Ok(Self {
            pool,
            backend: url.backend,
            counters: Arc::default(),
            writer: (url.backend == Backend::Sqlite).then(Arc::default),
            // SQLite's writers wait for their turn to write on a blocking
            // thread: a turn held meanwhile would keep readers out.
            turns: (url.backend == Backend::Postgres)
                .then(|| Arc::new(tokio::sync::Semaphore::new(max_size as usize))),
            deadline: options.deadline,
            lock_timeout: lock_timeout(options.deadline),
            apart: false,
            long: false,
        })
    }

    /// This pool with another deadline for each piece of work.
    pub(crate) fn within(&self, deadline: Duration) -> Self {
        Self {
            deadline,
            ..self.clone()
        }
    }

    /// This pool, for work that must not share its request's deadline: what
    /// settles a request after its work (an idempotency key's answer) would
    /// otherwise find the deadline spent by the work it records.
    pub(crate) fn apart(&self) -> Self {
        Self {
            apart: true,
            ..self.clone()
        }
    }

    /// This pool, for work long by nature: its deadline is minutes, not
    /// seconds.
    pub(crate) fn patient(&self) -> Self {
        Self {
            deadline: PATIENT.max(self.deadline),
            apart: true,
            long: true,
            ..self.clone()
        }
    }

    /// The pool's state and counters.
    pub fn stats(&self) -> PoolStats {
        let state = self.pool.state();
        let c = &self.counters;
        PoolStats {
            max_size: self.pool.max_size(),
            connections: state.connections,
            idle: state.idle_connections,
            checkouts: c.checkouts.load(Ordering::Relaxed),
            wait_seconds: c.wait_micros.load(Ordering::Relaxed) as f64 / 1e6,
            timeouts: c.timeouts.load(Ordering::Relaxed),
            abandoned: c.abandoned.load(Ordering::Relaxed),
            unavailable_errors: c.unavailable.load(Ordering::Relaxed),
            internal_errors: c.internal.load(Ordering::Relaxed),
            write_batches: c.batches.load(Ordering::Relaxed),
            batched_writes: c.batched.load(Ordering::Relaxed),
            queued_writes: c.queued.load(Ordering::Relaxed),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the embedded migrations this database lacks; returns how many ran.
    ///
    /// # Errors
    /// When a migration fails; it is rolled back.
    pub fn migrate(&self) -> anyhow::Result<usize> {
        let mut pooled = self.pool.get().context("no connection for migrations")?;
        // Its session limits are lifted: the connection is not pooled again.
        pooled.lost = true;
        let applied = match &mut pooled.conn {
            DbConnection::Pg(conn) => {
                conn.batch_execute("SET statement_timeout = 0; SET lock_timeout = 0;")?;
                conn.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len())
            }
            DbConnection::Sqlite(conn) => {
                // Once per database file, not per connection: readers then
                // never block the writer.
                conn.batch_execute("PRAGMA journal_mode = WAL;")?;
                conn.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(|v| v.len())
            }
        };
        let applied = applied.map_err(|err| anyhow!("migration failed: {err}"))?;
        key_garage_names(&mut pooled.conn).context("keying garage names for search")?;
        Ok(applied)
    }

    /// Checks that the database answers and holds every migration this
    /// binary knows.
    ///
    /// # Errors
    /// `Error::Unavailable` when it does not answer, `Error::Internal` when
    /// migrations are pending.
    pub async fn ready(&self) -> Result<(), Error> {
        self.run(|conn| {
            let pending = match conn {
                DbConnection::Pg(conn) => conn.has_pending_migration(PG_MIGRATIONS),
                DbConnection::Sqlite(conn) => conn.has_pending_migration(SQLITE_MIGRATIONS),
            };
            match pending {
                Ok(false) => Ok(()),
                Ok(true) => Err(Error::Internal(anyhow!("database migrations are pending")).into()),
                Err(err) => match err.downcast::<DieselError>() {
                    Ok(err) => Err(StoreError::Db(*err)),
                    Err(err) => Err(Error::Internal(anyhow!(err)).into()),
                },
            }
        })
        .await
    }

    /// Runs blocking Diesel work that writes: like `run`, and one writer at
    /// a time on SQLite.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, Error>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.execute(self.writer.clone(), true, work).await
    }

    /// Runs blocking Diesel work on a blocking thread, never on an async
    /// worker, within the pool's deadline: work that has not started by then
    /// never starts, and work still running then is no longer waited for
    /// (`Error::Unavailable`); a hung server thus answers a 503 in seconds.
    /// A write abandoned that way may still commit once the server answers:
    /// its outcome is unknown to the caller, as with any lost answer.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, Error>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.execute(None, false, work).await
    }

    async fn execute<T, F>(
        &self,
        writer: Option<Arc<parking_lot::Mutex<()>>>,
        writes: bool,
        work: F,
    ) -> Result<T, Error>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        // A write inside a client's session takes the position it committed
        // at, so the client's next reads can wait for a replica to reach it.
        let track = writes && self.backend == Backend::Postgres && crate::reads::session_open();
        let (answer, position) =
            self.counted(self.attempt(writer, self.deadline(), track, work).await)?;
        if let Some(position) = position {
            crate::reads::wrote_at(position);
        }
        Ok(answer)
    }

    /// When work started now must end: the pool's deadline, or sooner the
    /// one its request's first database call set (see [`one_deadline`]).
    pub(crate) fn deadline(&self) -> Instant {
        let now = Instant::now();
        let own = now + self.deadline;
        if self.apart {
            return own;
        }
        BUDGET
            .try_with(|(budget, first)| {
                let due = first.get().unwrap_or(now + *budget);
                first.set(Some(due));
                due
            })
            .map_or(own, |due| own.min(due))
    }

    /// Counts a statement that made `writes` gathered from requests.
    pub(crate) fn batched(&self, writes: usize) {
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        self.counters
            .batched
            .fetch_add(writes as u64, Ordering::Relaxed);
    }

    /// Counts writes that join (or leave) the queue for a batch.
    pub(crate) fn queued(&self, joined: bool) {
        if joined {
            self.counters.queued.fetch_add(1, Ordering::Relaxed);
        } else {
            self.counters.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Counts how a piece of work ended.
    fn counted<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        if let Err(err) = &result {
            self.failed(err);
        }
        result
    }

    /// Counts a piece of work that failed, by how.
    pub(crate) fn failed(&self, err: &Error) {
        match err {
            Error::Unavailable(_) => {
                self.counters.unavailable.fetch_add(1, Ordering::Relaxed);
            }
            Error::Internal(_) => {
                self.counters.internal.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    /// Counts a request that stopped waiting for its work at its deadline.
    pub(crate) fn abandoned(&self) {
        self.counters.abandoned.fetch_add(1, Ordering::Relaxed);
        self.counters.unavailable.fetch_add(1, Ordering::Relaxed);
    }

    /// The work itself, within its deadline; `counted` counts how it ended.
    /// With `track`, it returns the position the work committed at.
    async fn attempt<T, F>(
        &self,
        writer: Option<Arc<parking_lot::Mutex<()>>>,
        deadline: Instant,
        track: bool,
        work: F,
    ) -> Result<(T, Option<Lsn>), Error>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let now = Instant::now();
        let turn = self.turn(now, deadline).await?;
        let queued = now.elapsed();
        let db = self.clone();
        let task = tokio::task::spawn_blocking(move || {
            db.run_here(turn, writer, deadline, track, queued, work)
        });
        match tokio::time::timeout_at(deadline.into(), task).await {
            Ok(joined) => joined
                .map_err(|err| Error::Internal(anyhow!("database task failed: {err}")))
                .and_then(|r| r),
            Err(_) => {
                self.counters.abandoned.fetch_add(1, Ordering::Relaxed);
                Err(Error::Unavailable(anyhow!(
                    "the database did not answer in time"
                )))
            }
        }
    }

    /// Runs writing work for others on this blocking thread, by `deadline`:
    /// work gathered from many requests (see `vehicles::batch`), which each
    /// take the position it committed at when `track` asks for it. Nobody
    /// abandons it: its requests each stop waiting at their own deadline,
    /// and each lock its statements wait for is given up at the lock
    /// timeout, fitted to what is left before `deadline` when that is
    /// shorter, as for any other work. Its caller counts how it ended, for
    /// each request it carries.
    pub(crate) fn write_here<T, F>(
        &self,
        deadline: Instant,
        track: bool,
        work: F,
    ) -> Result<(T, Option<Lsn>), Error>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    {
        let now = Instant::now();
        let turn = match &self.turns {
            Some(_) => tokio::runtime::Handle::try_current()
                .map_err(|err| Error::Internal(anyhow!(err)))
                .and_then(|runtime| runtime.block_on(self.turn(now, deadline))),
            None => Ok(None),
        };
        let track = track && self.backend == Backend::Postgres;
        turn.and_then(|turn| {
            self.run_here(
                turn,
                self.writer.clone(),
                deadline,
                track,
                now.elapsed(),
                work,
            )
        })
    }

    /// A turn at a connection (PostgreSQL), waited for on the async side, in
    /// order of arrival, until `deadline`.
    async fn turn(
        &self,
        since: Instant,
        deadline: Instant,
    ) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, Error> {
        let Some(turns) = &self.turns else {
            return Ok(None);
        };
        // A turn that comes in the timer's slack, past the deadline, is
        // refused like one that never came.
        let turn = tokio::time::timeout_at(deadline.into(), turns.clone().acquire_owned())
            .await
            .ok()
            .filter(|_| Instant::now() < deadline);
        match turn {
            Some(Ok(turn)) => Ok(Some(turn)),
            // Never closed.
            Some(Err(closed)) => Err(Error::Internal(anyhow!(closed))),
            None => {
                self.counters.waited(since.elapsed(), true);
                Err(Error::Unavailable(anyhow::Error::new(PoolBusy).context(
                    "no database connection came free before the deadline",
                )))
            }
        }
    }

    /// The work on this thread, its turn taken: a connection, the session's
    /// limits fitted to what is left of the deadline, the work, and the
    /// position it committed at when `track` asks for it.
    fn run_here<T, F>(
        &self,
        turn: Option<tokio::sync::OwnedSemaphorePermit>,
        writer: Option<Arc<parking_lot::Mutex<()>>>,
        deadline: Instant,
        track: bool,
        queued: Duration,
        work: F,
    ) -> Result<(T, Option<Lsn>), Error>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    {
        let (pool, counters) = (&self.pool, &self.counters);
        let (long, own_deadline, lock_timeout) = (self.long, self.deadline, self.lock_timeout);
        // Given back when the work ends, even after its caller gave up.
        let _turn = turn;
        // SQLite's writers queue here, before taking a connection, so
        // waiting writers leave the pool to readers (and are handed the
        // turn thread to thread, which keeps writes' tail short); one
        // whose deadline passes in the queue leaves it.
        let _turn = match &writer {
            Some(writer) => Some(writer.try_lock_until(deadline).ok_or_else(|| {
                counters.timeouts.fetch_add(1, Ordering::Relaxed);
                Error::Unavailable(
                    anyhow::Error::new(PoolBusy).context("no turn to write before the deadline"),
                )
            })?),
            None => None,
        };
        let started = Instant::now();
        let checkout = pool.get_timeout(deadline.saturating_duration_since(started));
        counters.waited(queued + started.elapsed(), checkout.is_err());
        let mut pooled = checkout.map_err(|err| {
            // r2d2 names the last failure to connect, if any: without
            // one, every connection was busy; with one, the server is
            // out of reach.
            let reason = err.to_string();
            if reason == "timed out waiting for connection" {
                Error::Unavailable(anyhow::Error::new(PoolBusy).context(reason))
            } else {
                Error::Unavailable(anyhow!(reason))
            }
        })?;
        if Instant::now() >= deadline {
            // Its caller has been answered already: start nothing.
            return Err(Error::Unavailable(anyhow!(
                "no database turn before the deadline"
            )));
        }
        // The session's limits for this work, when the usual ones do not
        // fit it: raised for work long by nature, and a lock wait cut to
        // what is left of the deadline when waiting for a connection used
        // some of it, so a write its caller gave up on never commits later.
        let left = deadline.saturating_duration_since(Instant::now());
        let fitted = match pooled.conn {
            DbConnection::Pg(_) if long => Some(limits(own_deadline, own_deadline)),
            DbConnection::Pg(_) if left < lock_timeout => Some(limits(
                STATEMENT_TIMEOUT,
                left.max(Duration::from_millis(1)),
            )),
            _ => None,
        };
        if let Some(fitted) = &fitted {
            pooled
                .conn
                .batch_execute(fitted)
                .map_err(|err| Error::from(StoreError::from(err)))?;
        }
        let result = work(&mut pooled.conn);
        if fitted.is_some()
            && pooled
                .conn
                .batch_execute(&limits(STATEMENT_TIMEOUT, lock_timeout))
                .is_err()
        {
            pooled.lost = true;
        }
        if let Err(StoreError::Db(err)) = &result {
            // An unclassified failure may hide a dead socket: one ping tells.
            let unclear = matches!(
                err,
                DieselError::DatabaseError(DatabaseErrorKind::Unknown, _)
            );
            pooled.lost |= is_connection_lost(err) || (unclear && pooled.conn.ping().is_err());
        }
        let position = match &result {
            Ok(_) if track => match crate::reads::current_position(&mut pooled.conn) {
                Ok(position) => position,
                Err(err) => {
                    // The client's next reads may lag behind this write.
                    tracing::warn!(error = ?err, "cannot read the position of a write");
                    None
                }
            },
            _ => None,
        };
        result.map(|answer| (answer, position)).map_err(Error::from)
    }
}

/// No connection of the pool came free in time: the pool is busy, which
/// says nothing of the server's health.
#[derive(Debug, thiserror::Error)]
#[error("no database connection free in time")]
pub(crate) struct PoolBusy;

/// A failure inside database work: a domain answer, or Diesel's error still
/// to be classified. Transactions roll back on either.
#[derive(Debug)]
pub(crate) enum StoreError {
    Domain(Error),
    Db(DieselError),
}

impl From<DieselError> for StoreError {
    fn from(err: DieselError) -> Self {
        Self::Db(err)
    }
}

impl From<Error> for StoreError {
    fn from(err: Error) -> Self {
        Self::Domain(err)
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Domain(err) => err,
            StoreError::Db(err) if is_transient(&err) => {
                Error::Unavailable(anyhow!(err).context("database unavailable"))
            }
            StoreError::Db(err) => Error::Internal(anyhow!(err).context("database error")),
        }
    }
}

/// Errors after which a retry may succeed: lost connections, serialisation
/// failures, deadlocks and a SQLite writer that waited too long.
fn is_transient(err: &DieselError) -> bool {
    is_connection_lost(err)
        || match err {
            DieselError::DatabaseError(kind, info) => {
                *kind == DatabaseErrorKind::SerializationFailure
                    || info.message().contains("database is locked")
                    || info.message().contains("deadlock detected")
                    || info
                        .message()
                        .contains("canceling statement due to lock timeout")
                    || info
                        .message()
                        .contains("canceling statement due to statement timeout")
            }
            _ => false,
        }
}

/// The server cancelled the statement at its lock or statement timeout:
/// the work's deadline has come.
pub(crate) fn is_cancelled(err: &DieselError) -> bool {
    matches!(err, DieselError::DatabaseError(_, info)
        if info.message().starts_with("canceling statement due to"))
}

/// The connection itself is gone: it must not serve another request.
pub(crate) fn is_connection_lost(err: &DieselError) -> bool {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let message = info.message();
            message.contains("terminating connection")
                || message.contains("server closed the connection")
                || message.contains("no connection to the server")
                || message.contains("could not receive data")
                || message.contains("could not send data")
        }
        DieselError::BrokenTransactionManager => true,
        _ => false,
    }
}

/// The database's kind of error, for mapping constraint violations.
pub(crate) fn violation(err: &StoreError) -> Option<DatabaseErrorKind> {
    match err {
        StoreError::Db(DieselError::DatabaseError(kind, _)) => Some(*kind),
        _ => None,
    }
}

/// Writes the search key of every garage whose key is not its name's:
/// names a migration left unkeyed (`''`), and any an older version of the
/// service wrote or renamed without keying (during a rolling update). Names
/// are keyed by the application, the same way on every database. Reads every
/// garage's name once per start: garages are few (10,000 in a few ms).
fn key_garage_names(conn: &mut DbConnection) -> diesel::QueryResult<usize> {
    use crate::schema::garages;
    use diesel::prelude::*;
    use garage_domain::search::search_key;

    let mut keyed = 0;
    let mut after = 0_i64;
    loop {
        let batch: Vec<(i64, String, String)> = garages::table
            .filter(garages::id.gt(after))
            .select((garages::id, garages::name, garages::name_key))
            .order(garages::id)
            .limit(1_000)
            .load(conn)?;
        let Some((last, ..)) = batch.last() else {
            return Ok(keyed);
        };
        after = *last;
        let stale: Vec<(i64, String)> = batch
            .into_iter()
            .filter_map(|(id, name, key)| {
                let fresh = search_key(&name);
                (fresh != key).then_some((id, fresh))
            })
            .collect();
        if stale.is_empty() {
            continue;
        }
        conn.transaction(|conn| {
            for (id, key) in &stale {
                diesel::update(garages::table.find(id))
                    .set(garages::name_key.eq(key))
                    .execute(conn)?;
            }
            diesel::QueryResult::Ok(())
        })?;
        keyed += stale.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend() {
        let pg = DatabaseUrl::parse("postgres://u:pw@localhost/db").unwrap();
        assert_eq!(pg.backend(), Backend::Postgres);
        assert_eq!(
            DatabaseUrl::parse("postgresql://localhost/db")
                .unwrap()
                .backend(),
            Backend::Postgres
        );
        let file = DatabaseUrl::parse("sqlite://data/garage.db").unwrap();
        assert_eq!(file.sqlite_path(), "data/garage.db");
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/g.db")
                .unwrap()
                .sqlite_path(),
            "/tmp/g.db"
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:").unwrap().sqlite_path(),
            ":memory:"
        );
        assert!(DatabaseUrl::parse("mysql://localhost/db").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn only_a_lost_server_counts_as_a_lost_connection() {
        let unknown = |message: &str| {
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()))
        };
        assert!(is_connection_lost(&unknown(
            "terminating connection due to administrator command"
        )));
        assert!(is_connection_lost(&unknown(
            "server closed the connection unexpectedly"
        )));
        assert!(is_connection_lost(&unknown("no connection to the server")));
        // Mentions a connection, yet the connection is fine.
        assert!(!is_connection_lost(&unknown(
            "remaining connection slots are reserved for non-replication superuser connections"
        )));
        assert!(!is_connection_lost(&unknown(
            "permission denied to set parameter on this connection"
        )));
    }

    #[test]
    fn a_password_with_at_signs_never_prints() {
        for (raw, secret, shown) in [
            (
                "postgres://app:p@ss@db:5432/fleet",
                "p@ss",
                "postgres://app:***@db:5432/fleet",
            ),
            (
                "postgres://app:p%40ss%2Fw@db/fleet?sslmode=require",
                "p%40ss",
                "postgres://app:***@db/fleet?sslmode=require",
            ),
            // Not a URL (a bare / in the password): nothing but the scheme.
            (
                "postgres://app:pass:w/rd@db/fleet",
                "pass:w",
                "postgres://(unreadable URL)",
            ),
        ] {
            let url = DatabaseUrl::parse(raw).unwrap();
            assert_eq!(url.to_string(), shown);
            assert!(!format!("{url:?}").contains(secret), "{url:?}");
        }
        assert_eq!(redact("sqlite://data/garage.db"), "sqlite://data/garage.db");
        // A password libpq reads from the query.
        let shown = redact("postgres://app@db/fleet?password=s3cret&sslmode=require");
        assert!(
            !shown.contains("s3cret") && shown.contains("sslmode=require"),
            "{shown}"
        );
        // Digits then a bare /: a URL parser takes a port and a path.
        assert_eq!(
            redact("postgres://app:1234/x@db/fleet"),
            "postgres://(unreadable URL)"
        );
    }

    #[test]
    fn libpq_gets_its_defaults_unless_the_url_sets_them() {
        let url = |raw: &str| DatabaseUrl::parse(raw).unwrap().libpq_url();
        let defaults = "gssencmode=disable&connect_timeout=2&tcp_user_timeout=10000\
                        &keepalives_idle=10&keepalives_interval=5&keepalives_count=3";
        assert_eq!(
            url("postgres://u@db/fleet"),
            format!("postgres://u@db/fleet?{defaults}")
        );
        assert_eq!(
            url("postgres://u@db/fleet?sslmode=require"),
            format!("postgres://u@db/fleet?sslmode=require&{defaults}")
        );
        assert_eq!(
            url("postgres://u@db/fleet?gssencmode=require&connect_timeout=9"),
            "postgres://u@db/fleet?gssencmode=require&connect_timeout=9\
             &tcp_user_timeout=10000&keepalives_idle=10&keepalives_interval=5&keepalives_count=3"
        );
        assert_eq!(
            url("postgres://u@db/fleet?"),
            format!("postgres://u@db/fleet?{defaults}"),
            "a trailing ? is no empty pair"
        );
        assert_eq!(
            url("postgres://u@db/fleet?application_name=x_gssencmode=y"),
            format!("postgres://u@db/fleet?application_name=x_gssencmode=y&{defaults}"),
            "only the key itself counts"
        );
    }

    #[test]
    fn urls_never_print_their_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/fleet").unwrap();
        for shown in [format!("{url}"), format!("{url:?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("app:***@db:5432/fleet"), "{shown}");
        }
    }
}
