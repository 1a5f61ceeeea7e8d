//! Creations on PostgreSQL, gathered: requests that arrive while others are
//! being written wait together and go in one statement (`create_many`), so
//! a busy server pays one round trip, one commit and one hand-off to a
//! blocking thread for many creations instead of one each.
//!
//! Nobody waits to be gathered: a request finding a lane free starts a
//! batch at once, alone if need be. Only when every lane is writing do the
//! next requests queue, and the first lane to come free takes them all.
//! Each request keeps its own deadline: one that passed before its batch
//! started is never written, and a batch ends by the earliest deadline of
//! those it carries, as a request alone would.
//!
//! Whatever a batch leaves out (a plate or VIN already registered, a garage
//! missing or without room for all of the batch's vehicles for it, two
//! requests with one plate) or cannot write at all (a plate registered
//! meanwhile by another writer) goes back to its request, which creates it
//! alone and so gets the answer it would have got alone.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use anyhow::anyhow;
use diesel::result::Error as DieselError;
use garage_domain::events::Origin;
use garage_domain::{Error, NewVehicle};
use tokio::sync::{oneshot, Semaphore};

use super::at_once;
use crate::db::{is_cancelled, is_connection_lost, Database, DbConnection, StoreError};
use crate::reads::Lsn;
use crate::rows::VehicleRow;

/// The most creations one statement carries.
const MOST: usize = 64;

/// How a request's creation ended in its batch.
pub(super) enum Outcome {
    Created(VehicleRow),
    /// Left out: for the request to create alone.
    Alone(NewVehicle, Origin),
    Failed(Error),
}

struct Asked {
    vehicle: NewVehicle,
    origin: Origin,
    deadline: Instant,
    track: bool,
    reply: oneshot::Sender<(Outcome, Option<Lsn>)>,
}

/// The queue of creations and the lanes that write them.
#[derive(Debug)]
pub(super) struct Batches {
    db: Database,
    queue: parking_lot::Mutex<VecDeque<Asked>>,
    /// One permit per batch being written.
    lanes: Arc<Semaphore>,
}

impl std::fmt::Debug for Asked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Asked")
            .field("plate", &self.vehicle.license_plate)
            .finish_non_exhaustive()
    }
}

impl Batches {
    /// Batches written on `db`, at most `lanes` at a time.
    pub(super) fn new(db: Database, lanes: usize) -> Arc<Self> {
        Arc::new(Self {
            db,
            queue: parking_lot::Mutex::default(),
            lanes: Arc::new(Semaphore::new(lanes.max(1))),
        })
    }

    /// Creates `vehicle` in the next batch, by the request's deadline.
    pub(super) async fn create(self: &Arc<Self>, vehicle: NewVehicle, origin: Origin) -> Outcome {
        let deadline = self.db.deadline();
        let (reply, answer) = oneshot::channel();
        self.queue.lock().push_back(Asked {
            vehicle,
            origin,
            deadline,
            track: crate::reads::session_open(),
            reply,
        });
        self.db.queued(true);
        self.start();
        match tokio::time::timeout_at(deadline.into(), answer).await {
            Ok(Ok((outcome, position))) => {
                if let Some(position) = position {
                    crate::reads::wrote_at(position);
                }
                outcome
            }
            // Dropped unanswered: only when its lane's runtime stopped.
            Ok(Err(_)) => Outcome::Failed(Error::Unavailable(anyhow!(
                "the server stopped before the creation was written"
            ))),
            Err(_) => Outcome::Failed(Error::Unavailable(anyhow!(
                "the database did not answer in time"
            ))),
        }
    }

    /// Starts a batch on every free lane while creations wait. A lane that
    /// ends starts again, so a creation queued while every lane was busy is
    /// taken by the first to end.
    fn start(self: &Arc<Self>) {
        loop {
            let Ok(lane) = self.lanes.clone().try_acquire_owned() else {
                return;
            };
            let batch = self.take();
            if batch.is_empty() {
                drop(lane);
                // A creation queued after `take` and before the lane was
                // given back found no lane: look again.
                if self.queue.lock().is_empty() {
                    return;
                }
                continue;
            }
            let batches = self.clone();
            tokio::spawn(async move {
                batches.write(batch).await;
                drop(lane);
                batches.start();
            });
        }
    }

    /// The next batch: queued creations whose requests still wait and whose
    /// deadline has not passed.
    fn take(&self) -> Vec<Asked> {
        let now = Instant::now();
        let mut queue = self.queue.lock();
        let mut batch = Vec::with_capacity(queue.len().min(MOST));
        while batch.len() < MOST {
            let Some(asked) = queue.pop_front() else {
                break;
            };
            self.db.queued(false);
            if !asked.reply.is_closed() && asked.deadline > now {
                batch.push(asked);
            }
        }
        batch
    }

    async fn write(&self, batch: Vec<Asked>) {
        let (together, alone) = apart(batch);
        for asked in alone {
            let _ = asked
                .reply
                .send((Outcome::Alone(asked.vehicle, asked.origin), None));
        }
        if together.is_empty() {
            return;
        }
        let deadline = together
            .iter()
            .map(|a| a.deadline)
            .min()
            .expect("not empty");
        let track = together.iter().any(|a| a.track);
        let (asked, replies): (Vec<_>, Vec<_>) = together
            .into_iter()
            .map(|a| ((a.vehicle, a.origin), a.reply))
            .unzip();
        let written = self
            .db
            .write_for(deadline, track, move |conn| {
                let DbConnection::Pg(pg) = conn else {
                    return Err(Error::Internal(anyhow!("batches are for PostgreSQL")).into());
                };
                let pairs: Vec<_> = asked.iter().map(|(v, o)| (v, o)).collect();
                let made = match at_once::create_many(pg, &pairs) {
                    Ok(rows) => Some(rows),
                    // The statement failed whole, nothing was written, and
                    // there is time left: each request tries alone.
                    Err(err @ DieselError::DatabaseError(..))
                        if !is_connection_lost(&err) && !is_cancelled(&err) =>
                    {
                        tracing::debug!(error = %err, "a batch of creations goes alone");
                        None
                    }
                    Err(err) => return Err(StoreError::from(err)),
                };
                Ok((asked, made))
            })
            .await;
        match written {
            Ok(((asked, made), position)) => {
                let mut made = made.unwrap_or_default();
                if !made.is_empty() {
                    self.db.batched(made.len());
                }
                for ((vehicle, origin), reply) in asked.into_iter().zip(replies) {
                    let found = made
                        .iter()
                        .position(|row| row.license_plate == vehicle.license_plate.as_str());
                    let outcome = match found {
                        Some(i) => (Outcome::Created(made.swap_remove(i)), position),
                        None => (Outcome::Alone(vehicle, origin), None),
                    };
                    let _ = reply.send(outcome);
                }
            }
            Err(err) => {
                // Unknown whether it was written (a lost answer, or the
                // deadline): like a request alone, each gets the error.
                for reply in replies {
                    let failed = match &err {
                        Error::Unavailable(cause) => Error::Unavailable(anyhow!("{cause:#}")),
                        other => Error::Internal(anyhow!("{other:#}")),
                    };
                    let _ = reply.send((Outcome::Failed(failed), None));
                }
            }
        }
    }
}

/// Splits a batch into creations that can go together (no two share a
/// plate or a VIN) and those that go alone.
fn apart(batch: Vec<Asked>) -> (Vec<Asked>, Vec<Asked>) {
    let mut plates = HashSet::new();
    let mut vins = HashSet::new();
    batch.into_iter().partition(|asked| {
        let plate = plates.insert(asked.vehicle.license_plate.as_str().to_owned());
        let vin = asked
            .vehicle
            .vin
            .as_ref()
            .is_none_or(|vin| vins.insert(vin.as_str().to_owned()));
        plate && vin
    })
}

/// How many batches a pool of `pool` connections writes at once: a quarter
/// of it, which leaves the rest to reads and other writes.
pub(super) fn lanes(pool: u32) -> usize {
    (pool as usize / 4).max(1)
}
