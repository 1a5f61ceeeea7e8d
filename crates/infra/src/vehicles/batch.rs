//! The hot writes on PostgreSQL, gathered: creations (or deletions) that
//! arrive while others are being written wait together and go in one
//! statement (`at_once::Creations`, `at_once::Deletions`), so a busy server
//! pays one round trip, one commit and one hand-off to a blocking thread for
//! many writes instead of one each.
//!
//! Nobody waits to be gathered: a request finding a lane free starts one at
//! once, and its batch may be itself alone. Only while every lane is writing
//! do the next requests queue; a lane writes batches (of up to 64) until
//! the queue is empty. Each request keeps its own deadline: one that passed
//! before its batch started is never written. A batch runs by the earliest
//! deadline of those it carries; when it cannot start by then, or a lock
//! holds it that long, nothing is written and each request tries alone.
//!
//! A lane is a blocking thread of a runtime of its own, which lives as long
//! as the process: a lane carries other requests than the one that started
//! it, so it must outlive that request and its server worker (which stops
//! on its own at shutdown, and drops what it runs).
//!
//! Whatever a batch leaves out (a plate or VIN already registered, a garage
//! missing or without room for all of the batch's vehicles for it, a
//! vehicle gone or changed since it was read, two requests about one plate
//! or one vehicle) or cannot write at all (a plate registered meanwhile by
//! another writer, a deadlock) goes back to its request, which writes it
//! alone and so gets the answer it would have got alone. Only a lost answer
//! fails the whole batch, as it would fail a request alone.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use anyhow::anyhow;
use diesel::pg::PgConnection;
use diesel::result::Error as DieselError;
use garage_domain::Error;
use tokio::sync::{oneshot, Semaphore};

use crate::db::{is_cancelled, Database, DbConnection, StoreError};
use crate::reads::Lsn;

/// The most writes one statement carries.
const MOST: usize = 64;

/// A kind of write that can be gathered.
pub(super) trait Gathered: Send + Sync + 'static {
    /// What a request asks for.
    type Asked: Send + 'static;
    /// What it gets when its batch wrote it.
    type Done: Send + 'static;

    /// What no two writes of one batch may share (a plate, a VIN, an id).
    fn keys(asked: &Self::Asked) -> Vec<String>;

    /// Writes what it can of `batch` in one statement: for each, in order,
    /// what it got, or `None` when it was left out.
    fn write(
        conn: &mut PgConnection,
        batch: &[Self::Asked],
    ) -> Result<Vec<Option<Self::Done>>, DieselError>;
}

/// How a request's write ended in its batch.
pub(super) enum Outcome<G: Gathered> {
    Done(G::Done),
    /// Left out: for the request to write alone.
    Alone(G::Asked),
    Failed(Error),
}

struct Waiting<G: Gathered> {
    asked: G::Asked,
    deadline: Instant,
    track: bool,
    reply: oneshot::Sender<(Outcome<G>, Option<Lsn>)>,
}

/// The queue of one kind of write and the lanes that write it.
pub(super) struct Batches<G: Gathered> {
    db: Database,
    queue: parking_lot::Mutex<VecDeque<Waiting<G>>>,
    /// One permit per batch being written.
    lanes: Arc<Semaphore>,
    lanes_runtime: tokio::runtime::Handle,
}

impl<G: Gathered> std::fmt::Debug for Batches<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batches")
            .field("queued", &self.queue.lock().len())
            .field("free_lanes", &self.lanes.available_permits())
            .finish_non_exhaustive()
    }
}

impl<G: Gathered> Batches<G> {
    /// Batches written on `db`, at most `lanes` at a time; `None` when the
    /// thread that writes them cannot be started (writes then go alone).
    pub(super) fn new(db: Database, lanes: usize) -> Option<Arc<Self>> {
        Some(Arc::new(Self {
            db,
            queue: parking_lot::Mutex::default(),
            lanes: Arc::new(Semaphore::new(lanes.max(1))),
            lanes_runtime: lanes_runtime()?,
        }))
    }

    /// Writes `asked` in the next batch, by the request's deadline.
    pub(super) async fn write(self: &Arc<Self>, asked: G::Asked) -> Outcome<G> {
        let deadline = self.db.deadline();
        let (reply, answer) = oneshot::channel();
        {
            let mut queue = self.queue.lock();
            self.db.queued(true);
            queue.push_back(Waiting {
                asked,
                deadline,
                track: crate::reads::session_open(),
                reply,
            });
        }
        self.start();
        let answer = tokio::time::timeout_at(deadline.into(), answer).await;
        match answer {
            Ok(Ok((outcome, position))) => {
                if let Some(position) = position {
                    crate::reads::wrote_at(position);
                }
                outcome
            }
            // Dropped unanswered: only when its lane's runtime stopped.
            Ok(Err(_)) => Outcome::Failed(Error::Unavailable(anyhow!(
                "the server stopped before the write was made"
            ))),
            Err(_) => {
                self.db.abandoned();
                Outcome::Failed(Error::Unavailable(anyhow!(
                    "the database did not answer in time"
                )))
            }
        }
    }

    /// Starts a lane, if one is free and writes wait. A lane writes batches
    /// until the queue is empty, then looks again once it has given its
    /// place back: a write queued while every lane was busy is never left.
    fn start(self: &Arc<Self>) {
        if self.queue.lock().is_empty() {
            return;
        }
        let Ok(lane) = self.lanes.clone().try_acquire_owned() else {
            return;
        };
        let batches = self.clone();
        self.lanes_runtime.spawn_blocking(move || {
            while batches.write_next() {}
            drop(lane);
            batches.start();
        });
    }

    /// The next batch: queued writes whose requests still wait and whose
    /// deadline has not passed.
    fn take(&self) -> Vec<Waiting<G>> {
        let now = Instant::now();
        let mut queue = self.queue.lock();
        let mut batch = Vec::with_capacity(queue.len().min(MOST));
        while batch.len() < MOST {
            let Some(waiting) = queue.pop_front() else {
                break;
            };
            self.db.queued(false);
            if !waiting.reply.is_closed() && waiting.deadline > now {
                batch.push(waiting);
            }
        }
        batch
    }

    /// Takes the next batch and writes it, on this blocking thread: false
    /// when there was none.
    fn write_next(&self) -> bool {
        let batch = self.take();
        if batch.is_empty() {
            return false;
        }
        let (together, alone) = apart(batch);
        self.write_together(together);
        // Only now: written alone at once, they would race their batch.
        for waiting in alone {
            let _ = waiting.reply.send((Outcome::Alone(waiting.asked), None));
        }
        true
    }

    fn write_together(&self, together: Vec<Waiting<G>>) {
        let Some(deadline) = together.iter().map(|w| w.deadline).min() else {
            return;
        };
        let track = together.iter().any(|w| w.track);
        let (asked, replies): (Vec<_>, Vec<_>) =
            together.into_iter().map(|w| (w.asked, w.reply)).unzip();
        let mut started = false;
        let written = self.db.write_here(deadline, track, |conn| {
            started = true;
            let DbConnection::Pg(pg) = conn else {
                return Err(Error::Internal(anyhow!("batches are for PostgreSQL")).into());
            };
            match G::write(pg, &asked) {
                Ok(done) => Ok(Some(done)),
                Err(err) if refused_whole(&err) => {
                    tracing::debug!(error = %err, "a batch goes alone");
                    Ok(None)
                }
                Err(err) => Err(StoreError::from(err)),
            }
        });
        let answers: Vec<_> = match written {
            Ok((Some(done), position)) => {
                let written = done.iter().filter(|d| d.is_some()).count();
                if written > 0 {
                    self.db.batched(written);
                }
                asked
                    .into_iter()
                    .zip(done)
                    .map(|(asked, done)| match done {
                        Some(done) => (Outcome::Done(done), position),
                        None => (Outcome::Alone(asked), None),
                    })
                    .collect()
            }
            // Nothing was written, for a reason of the batch's (a lock or a
            // turn it waited for until its earliest deadline): each request
            // tries alone, by its own deadline.
            Ok((None, _)) => asked
                .into_iter()
                .map(|a| (Outcome::Alone(a), None))
                .collect(),
            Err(_) if !started => asked
                .into_iter()
                .map(|a| (Outcome::Alone(a), None))
                .collect(),
            // Unknown whether it was written (a lost answer): like a request
            // alone, each gets the error.
            Err(err) => asked
                .iter()
                .map(|_| {
                    let failed = match &err {
                        Error::Unavailable(cause) => Error::Unavailable(anyhow!("{cause:#}")),
                        other => Error::Internal(anyhow!("{other:#}")),
                    };
                    self.db.failed(&failed);
                    (Outcome::Failed(failed), None)
                })
                .collect(),
        };
        for (answer, reply) in answers.into_iter().zip(replies) {
            let _ = reply.send(answer);
        }
    }
}

/// A statement the server refused whole, having written nothing, for a
/// reason its writes alone may not meet: a plate or VIN registered
/// meanwhile, a garage gone, a conflict with another writer (deadlock,
/// serialisation), or a lock it waited for until the batch's deadline.
fn refused_whole(err: &DieselError) -> bool {
    use diesel::result::DatabaseErrorKind as Kind;
    match err {
        DieselError::DatabaseError(kind, info) => {
            matches!(
                kind,
                Kind::UniqueViolation
                    | Kind::ForeignKeyViolation
                    | Kind::CheckViolation
                    | Kind::SerializationFailure
            ) || info.message().contains("deadlock detected")
                || is_cancelled(err)
        }
        _ => false,
    }
}

/// Splits a batch into writes that can go together (no two share a key)
/// and those that go alone.
fn apart<G: Gathered>(batch: Vec<Waiting<G>>) -> (Vec<Waiting<G>>, Vec<Waiting<G>>) {
    let mut seen = HashSet::new();
    batch.into_iter().partition(|waiting| {
        let keys = G::keys(&waiting.asked);
        let fresh = keys.iter().all(|key| !seen.contains(key));
        seen.extend(keys);
        fresh
    })
}

/// How many batches of one kind a pool of `pool` connections writes at
/// once: a quarter of it, which leaves the rest to reads and other writes.
pub(super) fn lanes(pool: u32) -> usize {
    (pool as usize / 4).max(1)
}

/// The runtime every batch is written from, started at the first batch: one
/// thread for the life of the process.
fn lanes_runtime() -> Option<tokio::runtime::Handle> {
    static HANDLE: OnceLock<Option<tokio::runtime::Handle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let (sent, handle) = std::sync::mpsc::channel();
            let started = std::thread::Builder::new()
                .name("write-batches".into())
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    match runtime {
                        Ok(runtime) => {
                            let _ = sent.send(Some(runtime.handle().clone()));
                            runtime.block_on(std::future::pending::<()>());
                        }
                        Err(err) => {
                            tracing::error!(error = %err, "no runtime for write batches");
                            let _ = sent.send(None);
                        }
                    }
                });
            match started {
                Ok(_) => handle.recv().ok().flatten(),
                Err(err) => {
                    tracing::error!(error = %err, "no thread for write batches");
                    None
                }
            }
        })
        .clone()
}
