//! The hot writes on PostgreSQL, gathered: creations (or deletions) that
//! arrive while others are being written wait together and go in one
//! statement (`at_once::Creations`, `at_once::Deletions`), so a busy server
//! pays one round trip, one commit and one hand-off to a blocking thread for
//! many writes instead of one each.
//!
//! Nobody waits to be gathered: a request finding no batch being written
//! starts a lane at once, and its batch may be itself alone. While a batch
//! is being written the next requests queue for it; its lane writes batches
//! (of up to 64) until the queue is empty. One lane makes the largest
//! batches; a spare opens only once every batch being written has run for
//! `SPARE_AFTER` (stuck behind a lock, say), so one stuck batch does not
//! hold up every write. A creation for a garage that another batch is
//! writing stays queued until that batch is done: it would only wait for
//! the garage's row lock there, holding its own batch and connection (on a
//! pool of 16 with 64 clients, a sixth of the server's busy connections
//! waited so). Each request keeps its own deadline: one that passed
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
use std::time::{Duration, Instant};

use anyhow::anyhow;
use diesel::pg::PgConnection;
use diesel::result::Error as DieselError;
use garage_domain::Error;
use tokio::sync::oneshot;

use crate::db::{is_cancelled, Database, DbConnection, StoreError};
use crate::reads::Lsn;

/// The most writes one statement carries.
const MOST: usize = 64;

/// How long every batch being written must have run before a spare lane
/// opens: a batch takes a few milliseconds, so one that has run this long
/// waits for a lock, a slow disk or a connection of the pool, and the
/// writes queued behind it need not wait with it.
const SPARE_AFTER: Duration = Duration::from_millis(25);

/// A kind of write that can be gathered.
pub(super) trait Gathered: Send + Sync + 'static {
    /// What a request asks for.
    type Asked: Send + 'static;
    /// What it gets when its batch wrote it.
    type Done: Send + 'static;

    /// What no two writes of one batch may share (a plate, a VIN, an id).
    fn keys(asked: &Self::Asked) -> Vec<String>;

    /// The garage whose row the write locks, when known before it is
    /// written: while one batch writes for a garage, the next write for
    /// it waits in the queue, not on the row's lock in a lane of its own.
    fn garage(asked: &Self::Asked) -> Option<i64>;

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

/// The writes waiting for a batch, and the garages of those being written.
struct Queue<G: Gathered> {
    waiting: VecDeque<Waiting<G>>,
    /// Each garage a batch being written locks (`Gathered::garage`).
    writing: HashSet<i64>,
    /// When each batch being written started.
    started: Vec<Instant>,
    /// Lanes running: started, and not yet out of writes to take. One
    /// between two batches, or not yet at its first, writes none.
    lanes: usize,
}

impl<G: Gathered> Default for Queue<G> {
    fn default() -> Self {
        Self {
            waiting: VecDeque::new(),
            writing: HashSet::new(),
            started: Vec::new(),
            lanes: 0,
        }
    }
}

impl<G: Gathered> Queue<G> {
    /// Whether a write waits that a batch could take now.
    fn ready(&self) -> bool {
        self.waiting.iter().any(|w| !self.held(w))
    }

    /// Whether another lane should open for what is queued: a write waits
    /// that it could take, and no lane runs, or every lane is writing a
    /// batch that has run for `SPARE_AFTER` already.
    fn wants_lane(&self, now: Instant) -> bool {
        self.ready()
            && (self.lanes == 0
                || self.started.len() == self.lanes
                    && self
                        .started
                        .iter()
                        .all(|since| now.saturating_duration_since(*since) >= SPARE_AFTER))
    }

    /// Whether `waiting` is for a garage another batch is writing.
    fn held(&self, waiting: &Waiting<G>) -> bool {
        G::garage(&waiting.asked).is_some_and(|g| self.writing.contains(&g))
    }

    /// The next batch: queued writes whose requests still wait, whose
    /// deadline has not passed, and whose garage no other batch is writing
    /// (those stay queued, in order). Returns it with its garages, now
    /// marked as being written (and its start, when it holds any write), and
    /// how many writes left the queue.
    fn take(&mut self, now: Instant) -> (Vec<Waiting<G>>, Vec<i64>, usize) {
        let mut batch = Vec::with_capacity(self.waiting.len().min(MOST));
        let mut held = VecDeque::new();
        let mut garages = Vec::new();
        let mut left = 0;
        while batch.len() < MOST {
            let Some(waiting) = self.waiting.pop_front() else {
                break;
            };
            if self.held(&waiting) {
                held.push_back(waiting);
                continue;
            }
            left += 1;
            if !waiting.reply.is_closed() && waiting.deadline > now {
                garages.extend(G::garage(&waiting.asked));
                batch.push(waiting);
            }
        }
        while let Some(waiting) = held.pop_back() {
            self.waiting.push_front(waiting);
        }
        garages.sort_unstable();
        garages.dedup();
        self.writing.extend(garages.iter().copied());
        if !batch.is_empty() {
            self.started.push(now);
        }
        (batch, garages, left)
    }
}

/// The queue of one kind of write and the lanes that write it.
pub(super) struct Batches<G: Gathered> {
    db: Database,
    queue: parking_lot::Mutex<Queue<G>>,
    /// The most lanes that run at once (`Queue::lanes` counts them).
    most_lanes: usize,
    lanes_runtime: tokio::runtime::Handle,
}

impl<G: Gathered> std::fmt::Debug for Batches<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batches")
            .field("queued", &self.queue.lock().waiting.len())
            .field("most_lanes", &self.most_lanes)
            .finish_non_exhaustive()
    }
}

impl<G: Gathered> Batches<G> {
    /// Batches written on `db`, at most `lanes` at a time; `None` when the
    /// thread that writes them cannot be started (writes then go alone).
    pub(super) fn new(db: Database, lanes: usize) -> Option<Arc<Self>> {
        Some(Arc::new(Self {
            db,
            queue: parking_lot::Mutex::new(Queue::default()),
            most_lanes: lanes.max(1),
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
            queue.waiting.push_back(Waiting {
                asked,
                deadline,
                track: crate::reads::session_open(),
                reply,
            });
        }
        self.start();
        // While it waits, it looks again now and then: the batch ahead of
        // it may be stuck, and a spare lane then takes it.
        let mut answer = answer;
        let answer = loop {
            let look = (Instant::now() + SPARE_AFTER).min(deadline);
            match tokio::time::timeout_at(look.into(), &mut answer).await {
                Ok(answer) => break Ok(answer),
                Err(_) if Instant::now() < deadline => self.start(),
                Err(late) => break Err(late),
            }
        };
        match answer {
            Ok(Ok((outcome, position))) => {
                if let Some(position) = position {
                    crate::reads::wrote_at(position);
                }
                outcome
            }
            // Dropped unanswered: when its deadline passed in the queue
            // (before the timer said so), or its lane's runtime stopped.
            Ok(Err(_)) if Instant::now() < deadline => Outcome::Failed(Error::Unavailable(
                anyhow!("the server stopped before the write was made"),
            )),
            Ok(Err(_)) | Err(_) => {
                self.db.abandoned();
                Outcome::Failed(Error::Unavailable(anyhow!(
                    "the database did not answer in time"
                )))
            }
        }
    }

    /// Starts a lane, if one is free and `Queue::wants_lane`. A lane writes
    /// batches until it finds none to take, then looks again once it has
    /// given its place back: a write queued while every lane was busy is
    /// never left. One held back for its garage is taken by the lane
    /// writing that garage, which looks again when it is done.
    fn start(self: &Arc<Self>) {
        {
            let mut queue = self.queue.lock();
            if queue.lanes >= self.most_lanes || !queue.wants_lane(Instant::now()) {
                return;
            }
            queue.lanes += 1;
        }
        let lane = Lane {
            batches: self.clone(),
        };
        self.lanes_runtime.spawn_blocking(move || {
            while lane.batches.write_next() {}
            let batches = lane.batches.clone();
            drop(lane);
            batches.start();
        });
    }

    /// The next batch (see `Queue::take`), its garages marked as being
    /// written until the returned guard is dropped.
    fn take(&self) -> (Vec<Waiting<G>>, Writing<'_, G>) {
        let now = Instant::now();
        let mut queue = self.queue.lock();
        let (batch, garages, left) = queue.take(now);
        for _ in 0..left {
            self.db.queued(false);
        }
        let started = (!batch.is_empty()).then_some(now);
        (
            batch,
            Writing {
                queue: &self.queue,
                garages,
                started,
            },
        )
    }

    /// Takes the next batch and writes it, on this blocking thread: false
    /// when there was none.
    fn write_next(&self) -> bool {
        let (batch, writing) = self.take();
        if batch.is_empty() {
            return false;
        }
        let (together, alone) = apart(batch);
        self.write_together(together);
        drop(writing);
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

/// A running lane: counted in its queue until dropped (even by a panic,
/// after which the next request's `start` opens another).
struct Lane<G: Gathered> {
    batches: Arc<Batches<G>>,
}

impl<G: Gathered> Drop for Lane<G> {
    fn drop(&mut self) {
        self.batches.queue.lock().lanes -= 1;
    }
}

/// A batch being written, with its garages, marked as such in its queue
/// until dropped (even by a panic, which would otherwise hold back their
/// writes for good).
struct Writing<'a, G: Gathered> {
    queue: &'a parking_lot::Mutex<Queue<G>>,
    garages: Vec<i64>,
    started: Option<Instant>,
}

impl<G: Gathered> Drop for Writing<'_, G> {
    fn drop(&mut self) {
        let Some(started) = self.started else {
            return;
        };
        let mut queue = self.queue.lock();
        for garage in &self.garages {
            queue.writing.remove(garage);
        }
        if let Some(at) = queue.started.iter().position(|s| *s == started) {
            queue.started.swap_remove(at);
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
/// once: one, and a spare (`SPARE_AFTER`) when the pool has 8 connections
/// or more. One lane makes the largest batches and the fewest commits,
/// each of which waits for the WAL to be flushed: measured with 64
/// clients on one PostgreSQL (pool of 16), the mix answered 4,140–4,880
/// requests a second with one lane a kind, 3,370–3,930 with two and
/// 2,790–2,910 with four (docs/performance.md). The spare keeps a batch
/// stuck behind a lock from holding up every other write.
pub(super) fn lanes(pool: u32) -> usize {
    if pool >= 8 {
        2
    } else {
        1
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Writes named by a key, for a garage or none.
    struct Named;

    impl Gathered for Named {
        type Asked = (&'static str, Option<i64>);
        type Done = ();

        fn keys((name, _): &Self::Asked) -> Vec<String> {
            vec![name.to_string()]
        }

        fn garage((_, garage): &Self::Asked) -> Option<i64> {
            *garage
        }

        fn write(_: &mut PgConnection, _: &[Self::Asked]) -> Result<Vec<Option<()>>, DieselError> {
            unreachable!("only the queue is tested here")
        }
    }

    type Answer = oneshot::Receiver<(Outcome<Named>, Option<Lsn>)>;

    /// Queues `asked`; returns the receivers, which keep the requests
    /// waiting while they live.
    fn push(
        queue: &mut Queue<Named>,
        asked: &[(&'static str, Option<i64>)],
        deadline: Instant,
    ) -> Vec<Answer> {
        asked
            .iter()
            .map(|asked| {
                let (reply, answer) = oneshot::channel();
                queue.waiting.push_back(Waiting {
                    asked: *asked,
                    deadline,
                    track: false,
                    reply,
                });
                answer
            })
            .collect()
    }

    fn names(
        writes: impl IntoIterator<Item = impl std::borrow::Borrow<Waiting<Named>>>,
    ) -> Vec<&'static str> {
        writes.into_iter().map(|w| w.borrow().asked.0).collect()
    }

    #[test]
    fn a_write_for_a_garage_being_written_waits_for_that_batch_in_order() {
        let now = Instant::now();
        let later = now + Duration::from_secs(5);
        let mut queue = Queue::default();
        let _first_requests = push(&mut queue, &[("a", Some(1)), ("b", Some(2))], later);

        let (first, garages, left) = queue.take(now);
        assert_eq!(names(&first), ["a", "b"]);
        assert_eq!((garages.as_slice(), left), ([1, 2].as_slice(), 2));

        // While that batch is written, more arrive: two for its garages,
        // two for another garage, one that locks none.
        let _more_requests = push(
            &mut queue,
            &[
                ("c", Some(2)),
                ("d", Some(3)),
                ("e", Some(1)),
                ("f", None),
                ("g", Some(3)),
            ],
            later,
        );
        assert!(queue.ready());
        let (second, second_garages, left) = queue.take(now);
        assert_eq!(names(&second), ["d", "f", "g"]);
        assert_eq!((second_garages.as_slice(), left), ([3].as_slice(), 3));
        assert_eq!(
            names(&queue.waiting),
            ["c", "e"],
            "held back, in their order"
        );
        assert!(!queue.ready(), "no lane should start for writes held back");

        // The first batch is done: the writes held back for its garages go
        // next, though the second batch is still being written.
        for garage in &garages {
            queue.writing.remove(garage);
        }
        assert!(queue.ready());
        let (third, third_garages, _) = queue.take(now);
        assert_eq!(names(&third), ["c", "e"]);
        assert_eq!(third_garages, [1, 2]);
        assert!(queue.waiting.is_empty());
    }

    #[test]
    fn writes_whose_deadline_passed_or_whose_request_left_are_dropped() {
        let now = Instant::now();
        let later = now + Duration::from_secs(5);
        let mut queue = Queue::default();
        let _late = push(&mut queue, &[("late", Some(1))], now);
        drop(push(&mut queue, &[("gone", Some(2))], later));
        let _kept = push(&mut queue, &[("kept", Some(3))], later);

        let (batch, garages, left) = queue.take(now);
        assert_eq!(names(&batch), ["kept"]);
        assert_eq!(garages, [3], "only the garage of a write taken is marked");
        assert_eq!(left, 3);
        assert!(queue.waiting.is_empty());
    }

    #[test]
    fn a_spare_lane_opens_only_when_every_batch_being_written_has_run_a_while() {
        let now = Instant::now();
        let mut queue = Queue::default();
        assert!(!queue.wants_lane(now), "nothing queued");
        let _requests = push(&mut queue, &[("a", Some(1))], now + Duration::from_secs(5));
        assert!(queue.wants_lane(now), "no lane running");

        // A lane starting, or between two batches: no spare.
        queue.lanes = 1;
        assert!(
            !queue.wants_lane(now + SPARE_AFTER),
            "a lane is about to take it"
        );
        queue.started.push(now);
        assert!(
            !queue.wants_lane(now + SPARE_AFTER / 2),
            "the batch is young"
        );
        assert!(queue.wants_lane(now + SPARE_AFTER), "the batch is stuck");

        queue.lanes = 2;
        assert!(
            !queue.wants_lane(now + SPARE_AFTER),
            "the spare is about to take it"
        );
        queue.started.push(now + SPARE_AFTER / 2);
        assert!(!queue.wants_lane(now + SPARE_AFTER), "one batch is young");
        assert!(queue.wants_lane(now + SPARE_AFTER * 2), "both are stuck");

        // Only writes held back for a garage being written: no lane for them.
        queue.started.clear();
        queue.lanes = 0;
        queue.writing.insert(1);
        assert!(!queue.wants_lane(now + SPARE_AFTER));
    }

    #[test]
    fn a_batch_takes_at_most_its_share_and_leaves_the_rest_queued() {
        let now = Instant::now();
        let mut queue = Queue::default();
        let asked: Vec<_> = (0..MOST + 3).map(|_| ("w", None)).collect();
        let _requests = push(&mut queue, &asked, now + Duration::from_secs(5));
        let (batch, _, left) = queue.take(now);
        assert_eq!((batch.len(), left), (MOST, MOST));
        assert_eq!(queue.waiting.len(), 3);
    }
}
