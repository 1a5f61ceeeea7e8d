//! Where plain reads go when PostgreSQL has a streaming replica.
//!
//! - Reads go to the replica, which takes them off the primary.
//! - **A client reads its own writes.** After a write, the primary's WAL
//!   position at its commit is handed to the client as a token (see
//!   [`consistent`]); a read that carries it goes to the replica only once
//!   the replica has replayed that far (`pg_last_wal_replay_lsn()`, checked
//!   on the connection that then reads), else to the primary. Tokens are
//!   opaque to clients and cost nothing to forge: at worst a read goes to
//!   the primary.
//! - **A replica that fails is left alone for a while.** A read it cannot
//!   answer within [`REPLICA_PATIENCE`] is served by the primary, and reads
//!   go to the primary for [`RETRY_REPLICA_AFTER`]; then the replica is tried
//!   again. [`Reads::degraded`] says so meanwhile (a metric); the service
//!   stays ready. A replica whose pool is busy, whose connection had lost
//!   its server (a restart), or that fails one read (a table a migration
//!   has not reached yet), passes that read to the primary without being
//!   left alone; one that cannot be reached is left alone.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::sql_types::{Bool, Text};
use diesel::{QueryableByName, RunQueryDsl};
use garage_domain::Error;

use crate::db::{is_connection_lost, Database, DbConnection, PoolBusy, StoreError};

/// How long a read waits for the replica before the primary serves it.
const REPLICA_PATIENCE: Duration = Duration::from_millis(1000);

/// How long reads stay on the primary after the replica failed one.
const RETRY_REPLICA_AFTER: Duration = Duration::from_secs(5);

/// A position in PostgreSQL's write-ahead log (`pg_lsn`: `16/B374D848`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(u64);

impl Lsn {
    /// Reads `X/Y` (hexadecimal halves), as PostgreSQL writes it.
    pub fn parse(text: &str) -> Option<Self> {
        let (high, low) = text.split_once('/')?;
        let valid = |half: &str| {
            (1..=8).contains(&half.len()) && half.bytes().all(|b| b.is_ascii_hexdigit())
        };
        if !valid(high) || !valid(low) {
            return None;
        }
        let high = u64::from_str_radix(high, 16).ok()?;
        let low = u64::from_str_radix(low, 16).ok()?;
        Some(Self(high << 32 | low))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// What one request brought (the position its client last wrote at) and
/// what it wrote.
#[derive(Debug, Default)]
struct Session {
    read_after: Option<Lsn>,
    written: Cell<Option<Lsn>>,
}

tokio::task_local! {
    static SESSION: Session;
}

/// Runs `work` (a request) as one client's session: its reads see what
/// `read_after` (the client's last token) names, and the token of what it
/// writes is returned beside its output, to hand back to the client.
pub async fn consistent<F: Future>(read_after: Option<Lsn>, work: F) -> (F::Output, Option<Lsn>) {
    let session = Session {
        read_after,
        written: Cell::new(None),
    };
    SESSION
        .scope(session, async {
            let output = work.await;
            let written = SESSION.with(|s| s.written.get());
            (output, written)
        })
        .await
}

/// Whether writes should take their token: only inside a session.
pub(crate) fn session_open() -> bool {
    SESSION.try_with(|_| ()).is_ok()
}

/// Records the position a write in this session committed at.
pub(crate) fn wrote_at(lsn: Lsn) {
    let _ = SESSION.try_with(|s| {
        s.written
            .set(Some(s.written.get().map_or(lsn, |w| w.max(lsn))));
    });
}

fn read_after() -> Option<Lsn> {
    SESSION.try_with(|s| s.read_after).ok().flatten()
}

/// The primary's WAL position now: after a commit, at or past it.
pub(crate) fn current_position(conn: &mut DbConnection) -> Result<Option<Lsn>, StoreError> {
    #[derive(QueryableByName)]
    struct Position {
        #[diesel(sql_type = Text)]
        lsn: String,
    }
    let DbConnection::Pg(_) = conn else {
        return Ok(None);
    };
    // The insert position: past the commit record even when commits are
    // not yet written out (synchronous_commit = off).
    let row: Position =
        diesel::sql_query("SELECT pg_current_wal_insert_lsn()::text AS lsn").get_result(conn)?;
    Ok(Lsn::parse(&row.lsn))
}

/// Whether this replica has replayed up to `lsn` (false on a server that is
/// not a standby: it cannot tell).
fn replayed(conn: &mut DbConnection, lsn: Lsn) -> Result<bool, StoreError> {
    #[derive(QueryableByName)]
    struct Caught {
        #[diesel(sql_type = Bool)]
        up: bool,
    }
    let row: Caught =
        diesel::sql_query("SELECT COALESCE(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS up")
            .bind::<Text, _>(lsn.to_string())
            .get_result(conn)?;
    Ok(row.up)
}

/// The replica and what is known of its health.
#[derive(Debug)]
struct Replica {
    db: Database,
    down_until: Mutex<Option<Instant>>,
    degraded: AtomicBool,
}

/// Where plain reads go: the primary alone, or a replica beside it.
#[derive(Debug, Clone)]
pub struct Reads {
    primary: Database,
    replica: Option<Arc<Replica>>,
}

impl Reads {
    /// Every read on the primary.
    pub fn primary(primary: Database) -> Self {
        Self {
            primary,
            replica: None,
        }
    }

    /// Reads on `replica`, a streaming standby of `primary`.
    pub fn with_replica(primary: Database, replica: Database) -> Self {
        Self {
            primary,
            replica: Some(Arc::new(Replica {
                db: replica.within(REPLICA_PATIENCE),
                down_until: Mutex::new(None),
                degraded: AtomicBool::new(false),
            })),
        }
    }

    /// True while reads are served by the primary because the replica failed.
    pub fn degraded(&self) -> bool {
        self.replica
            .as_ref()
            .is_some_and(|r| r.degraded.load(Ordering::Relaxed))
    }

    /// Runs a read where it belongs (see the module's doc).
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, Error>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Clone + Send + 'static,
        T: Send + 'static,
    {
        let Some(replica) = &self.replica else {
            return self.primary.run(work).await;
        };
        let resting = replica
            .down_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|until| Instant::now() < until);
        if resting {
            return self.primary.run(work).await;
        }
        let after = read_after();
        let on_replica = work.clone();
        let attempt = replica
            .db
            .run(move |conn| match after {
                Some(lsn) if !replayed(conn, lsn)? => Ok(None),
                _ => on_replica(conn).map(Some),
            })
            .await;
        match attempt {
            Ok(Some(answer)) => {
                if replica.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("the read replica answers again: reads are back on it");
                }
                Ok(answer)
            }
            // It has not replayed this client's last write yet.
            Ok(None) => self.primary.run(work).await,
            // Its pool is busy (load, not a failing replica), or the
            // connection it took had lost its server: that connection is
            // dropped, and the next read may find a live one.
            Err(Error::Unavailable(err))
                if err.downcast_ref::<PoolBusy>().is_some()
                    || err
                        .downcast_ref::<diesel::result::Error>()
                        .is_some_and(is_connection_lost) =>
            {
                self.primary.run(work).await
            }
            // A read it cannot serve (a table a migration has not reached
            // yet, say): the primary can.
            Err(Error::Internal(err)) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "the read replica failed a read: the primary serves it"
                );
                self.primary.run(work).await
            }
            Err(Error::Unavailable(err)) => {
                *replica.down_until.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(Instant::now() + RETRY_REPLICA_AFTER);
                if !replica.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        "the read replica fails: reads go to the primary"
                    );
                }
                self.primary.run(work).await
            }
            Err(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_and_print_as_postgresql_writes_them() {
        for text in ["0/0", "16/B374D848", "FFFFFFFF/FFFFFFFF", "0/3000148"] {
            assert_eq!(Lsn::parse(text).unwrap().to_string(), text);
        }
        assert!(Lsn::parse("16/B374D848").unwrap() > Lsn::parse("15/FFFFFFFF").unwrap());
        assert!(Lsn::parse("0/3000148").unwrap() < Lsn::parse("0/30001480").unwrap());
        for bad in [
            "",
            "/",
            "1/",
            "/1",
            "x/1",
            "1/2/3",
            "123456789/0",
            "1 /2",
            "-1/2",
            "1/+2",
        ] {
            assert_eq!(Lsn::parse(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_session_keeps_the_furthest_position_it_wrote_at() {
        let ((), written) = consistent(None, async {
            wrote_at(Lsn(7));
            wrote_at(Lsn(3));
        })
        .await;
        assert_eq!(written, Some(Lsn(7)));
        let (seen, written) = consistent(Some(Lsn(5)), async { read_after() }).await;
        assert_eq!((seen, written), (Some(Lsn(5)), None));
        assert_eq!(read_after(), None, "outside a session");
    }
}
