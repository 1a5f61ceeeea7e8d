//! Copies of the embedded database (SQLite): taken while the service runs,
//! put back while it does not. PostgreSQL has its own tools (`pg_dump`,
//! point-in-time recovery; see `docs/operations.md`).
//!
//! Every process that serves a SQLite file holds a shared lock on
//! `<file>.lock` ([`Serving`]); a restore takes it exclusively, so it
//! refuses to replace the database under a running service. The lock is
//! the kernel's: it goes with the process, however it ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};

use crate::db::{Backend, DatabaseUrl};

/// Says "a service serves this SQLite file" for as long as it lives.
#[derive(Debug)]
pub struct Serving(#[allow(dead_code)] File);

impl Serving {
    /// Marks the SQLite file of `url` as served; nothing on PostgreSQL or
    /// in memory.
    ///
    /// # Errors
    /// When the lock file cannot be opened, or a restore holds it.
    pub fn mark(url: &DatabaseUrl) -> anyhow::Result<Option<Self>> {
        let Some(path) = file_of(url) else {
            return Ok(None);
        };
        let lock = open_lock(&path)?;
        match lock.try_lock_shared() {
            Ok(()) => Ok(Some(Self(lock))),
            Err(TryLockError::WouldBlock) => {
                bail!(
                    "{} is being restored: start the service once the restore is done",
                    path.display()
                )
            }
            Err(TryLockError::Error(err)) => Err(err).context("cannot lock the database file"),
        }
    }
}

/// The file of a SQLite URL (`None` for PostgreSQL and `:memory:`).
fn file_of(url: &DatabaseUrl) -> Option<PathBuf> {
    if url.backend() != Backend::Sqlite {
        return None;
    }
    let path = url.sqlite_path();
    (path != ":memory:").then(|| PathBuf::from(path))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn open_lock(db: &Path) -> anyhow::Result<File> {
    let path = sibling(db, ".lock");
    // A first start: the database's folder is made here, before the pool
    // opens the file in it.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))
}

fn sqlite_only(url: &DatabaseUrl, what: &str) -> anyhow::Result<PathBuf> {
    match url.backend() {
        Backend::Postgres => bail!(
            "{what} is for the embedded SQLite database; on PostgreSQL use pg_dump and pg_restore \
             (see docs/operations.md, Backups)"
        ),
        Backend::Sqlite => {
            file_of(url).ok_or_else(|| anyhow!("an in-memory database has nothing to {what}"))
        }
    }
}

/// Writes a consistent copy of the SQLite database of `url` to `to`, which
/// must not exist, while the service may be running and writing: the copy
/// holds every transaction committed before it began (`VACUUM INTO`, one
/// read transaction). Returns the copy's size in bytes.
///
/// # Errors
/// On PostgreSQL, when `to` exists, or when the copy fails or does not
/// check out.
pub fn backup(url: &DatabaseUrl, to: &Path) -> anyhow::Result<u64> {
    let from = sqlite_only(url, "backup")?;
    if to.exists() {
        bail!("{} exists: name a new file", to.display());
    }
    if !from.exists() {
        bail!("there is no database at {}", from.display());
    }
    let mut conn = SqliteConnection::establish(&from.display().to_string())
        .with_context(|| format!("cannot open {}", from.display()))?;
    conn.batch_execute("PRAGMA busy_timeout = 10000;")?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(to.display().to_string())
        .execute(&mut conn)
        .with_context(|| format!("cannot write the copy to {}", to.display()))?;
    check(to)?;
    Ok(std::fs::metadata(to)?.len())
}

/// Puts the copy `from` in place of the SQLite database of `url`, which
/// is kept beside it (`<file>.before-restore-<time>`), never deleted. It
/// refuses while a service runs on the database.
///
/// Each step leaves a whole database in place: the copy is staged and
/// checked beside the database, the database's log is folded into it and
/// the file linked under its kept name, then one rename swaps the copy in.
///
/// # Errors
/// On PostgreSQL, when a service runs, or when `from` is not a sound copy.
pub fn restore(url: &DatabaseUrl, from: &Path) -> anyhow::Result<Restored> {
    let to = std::path::absolute(sqlite_only(url, "restore")?)?;
    if std::fs::metadata(sibling(from, "-wal")).is_ok_and(|m| m.len() > 0) {
        bail!(
            "{} has a write-ahead log beside it: it is a live database, not a copy; \
             make one with garage backup",
            from.display()
        );
    }
    let lock = open_lock(&to)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => bail!(
            "a service is running on {}: stop it before restoring",
            to.display()
        ),
        Err(TryLockError::Error(err)) => return Err(err).context("cannot lock the database file"),
    }
    let staged = sibling(&to, ".restoring");
    std::fs::copy(from, &staged)
        .with_context(|| format!("cannot copy {} beside the database", from.display()))?;
    if let Err(err) = check(&staged) {
        // Nothing of an unsound copy stays beside the database.
        let _ = std::fs::remove_file(&staged);
        return Err(err);
    }
    if let Ok(old) = std::fs::metadata(&to) {
        // The service's user must still own what it writes to.
        use std::os::unix::fs::MetadataExt;
        std::fs::set_permissions(&staged, old.permissions())?;
        let _ = std::os::unix::fs::chown(&staged, Some(old.uid()), Some(old.gid()));
    }
    File::open(&staged)?.sync_all()?;
    let kept = if to.exists() {
        fold_log(&to)?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
        let kept = sibling(&to, &format!(".before-restore-{stamp}"));
        // A hard link fails rather than replace a file of that name.
        std::fs::hard_link(&to, &kept)
            .with_context(|| format!("cannot keep the database as {}", kept.display()))?;
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&staged, &to)?;
    for suffix in ["-wal", "-shm"] {
        match std::fs::remove_file(sibling(&to, suffix)) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err.into()),
            _ => {}
        }
    }
    if let Some(dir) = to.parent() {
        File::open(dir)?.sync_all()?;
    }
    drop(lock);
    Ok(Restored { into: to, kept })
}

/// Where a restore put the copy, and where it kept the database it replaced.
#[derive(Debug)]
pub struct Restored {
    pub into: PathBuf,
    pub kept: Option<PathBuf>,
}

/// Writes what the database's write-ahead log holds into the file itself,
/// so the file is whole on its own.
fn fold_log(db: &Path) -> anyhow::Result<()> {
    let mut conn = SqliteConnection::establish(&db.display().to_string())
        .with_context(|| format!("cannot open {}", db.display()))?;
    conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA wal_checkpoint(TRUNCATE);")
        .with_context(|| format!("cannot fold the log of {} into it", db.display()))?;
    Ok(())
}

/// A copy is sound when SQLite finds nothing wrong in it and it holds
/// Garage's tables.
fn check(path: &Path) -> anyhow::Result<()> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = Text)]
        line: String,
    }
    if !path.is_file() {
        bail!("{} is not a file", path.display());
    }
    let mut conn = SqliteConnection::establish(&format!("file:{}?mode=ro", path.display()))
        .with_context(|| format!("{} is not a SQLite database", path.display()))?;
    let integrity: Vec<Line> =
        diesel::sql_query("SELECT integrity_check AS line FROM pragma_integrity_check()")
            .load(&mut conn)
            .with_context(|| format!("{} is not a SQLite database", path.display()))?;
    if integrity.len() != 1 || integrity[0].line != "ok" {
        bail!(
            "{} is damaged: {}",
            path.display(),
            integrity
                .iter()
                .map(|l| l.line.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let tables: Vec<Line> = diesel::sql_query(
        "SELECT name AS line FROM sqlite_master WHERE type = 'table' AND name IN ('garages', 'vehicles')",
    )
    .load(&mut conn)?;
    if tables.len() != 2 {
        bail!(
            "{} is not a Garage database (no garages and vehicles tables)",
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsound_copy_is_refused_and_nothing_of_it_stays() {
        let folder = std::env::temp_dir().join(format!("garage-restore-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let db = folder.join("garage.db");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", db.display())).unwrap();
        let copy = folder.join("copy.db");
        std::fs::write(&copy, b"not a database").unwrap();

        let err = restore(&url, &copy).unwrap_err();

        assert!(!sibling(&db, ".restoring").exists(), "{err:#}");
        assert!(!db.exists(), "nothing was restored");
        let _ = std::fs::remove_dir_all(&folder);
    }
}
