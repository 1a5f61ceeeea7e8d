//! `IdempotencyStore` on Diesel: one row per key, shared by every instance.
//! The primary key is the lock: of concurrent inserts of one key, one wins.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{NaiveDateTime, SubsecRound};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use garage_domain::{Claim, Clock, Error, IdempotencyStore, SystemClock, ABANDONED_CLAIM};

use crate::db::{violation, Database, StoreError};
use crate::schema::idempotency_keys as keys;

#[derive(Clone)]
pub struct DieselIdempotencyStore {
    db: Database,
    /// Claims are dated, and expire, by this clock.
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DieselIdempotencyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselIdempotencyStore")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl DieselIdempotencyStore {
    pub fn new(db: Database) -> Self {
        Self::with_clock(db, Arc::new(SystemClock))
    }

    /// Dates claims by `clock`, so expiry is tested by moving it.
    pub fn with_clock(db: Database, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    fn now(&self) -> NaiveDateTime {
        self.clock.now().naive_utc().trunc_subsecs(6)
    }
}

/// The time `age` before `now`; the earliest time there is when `age`
/// reaches further back than the calendar (subtracting would panic).
fn ago(now: NaiveDateTime, age: Duration) -> NaiveDateTime {
    chrono::Duration::from_std(age)
        .ok()
        .and_then(|age| now.checked_sub_signed(age))
        .unwrap_or(NaiveDateTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_age_beyond_the_calendar_is_the_earliest_time_not_a_panic() {
        let now = chrono::Utc::now().naive_utc();
        assert_eq!(ago(now, Duration::MAX), NaiveDateTime::MIN);
        assert_eq!(
            ago(now, Duration::from_secs(u64::MAX / 4)),
            NaiveDateTime::MIN
        );
        let hour = ago(now, Duration::from_secs(3600));
        assert_eq!((now - hour).num_seconds(), 3600);
    }
}

#[derive(Queryable)]
struct KeyRow {
    fingerprint: String,
    answer: Option<Vec<u8>>,
}

#[async_trait]
impl IdempotencyStore for DieselIdempotencyStore {
    async fn claim(&self, key: String, fingerprint: String, ttl: Duration) -> Result<Claim, Error> {
        let now = self.now();
        self.db
            .write(move |conn| {
                // An expired key, or one whose request died, is free again.
                diesel::delete(
                    keys::table.find(&key).filter(
                        keys::created_at.lt(ago(now, ttl)).or(keys::answer
                            .is_null()
                            .and(keys::created_at.lt(ago(now, ABANDONED_CLAIM)))),
                    ),
                )
                .execute(conn)?;
                let inserted = diesel::insert_into(keys::table)
                    .values((
                        keys::key.eq(&key),
                        keys::fingerprint.eq(&fingerprint),
                        keys::created_at.eq(now),
                    ))
                    .execute(conn)
                    .map_err(StoreError::from);
                match inserted {
                    Ok(_) => return Ok(Claim::Claimed),
                    Err(err) if violation(&err) == Some(DatabaseErrorKind::UniqueViolation) => {}
                    Err(err) => return Err(err),
                }
                let row = keys::table
                    .find(&key)
                    .select((keys::fingerprint, keys::answer))
                    .first::<KeyRow>(conn)
                    .optional()?;
                Ok(match row {
                    Some(row) if row.fingerprint != fingerprint => Claim::Mismatch,
                    Some(KeyRow {
                        answer: Some(answer),
                        ..
                    }) => Claim::Replay(answer),
                    // Running, or released in between: either way, not ours.
                    _ => Claim::InProgress,
                })
            })
            .await
    }

    async fn complete(&self, key: String, answer: Vec<u8>) -> Result<(), Error> {
        // Apart from the request's deadline, which the work it settles may
        // have spent: a key left claimed would refuse the client's retries.
        self.db
            .apart()
            .write(move |conn| {
                diesel::update(keys::table.find(&key))
                    .set(keys::answer.eq(answer))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn release(&self, key: String) -> Result<(), Error> {
        // Apart from the request's deadline, which the work it settles may
        // have spent: a key left claimed would refuse the client's retries.
        self.db
            .apart()
            .write(move |conn| {
                diesel::delete(keys::table.find(&key).filter(keys::answer.is_null()))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn purge(&self, ttl: Duration) -> Result<u64, Error> {
        let now = self.now();
        self.db
            .write(move |conn| {
                let purged = diesel::delete(keys::table.filter(keys::created_at.lt(ago(now, ttl))))
                    .execute(conn)?;
                Ok(purged as u64)
            })
            .await
    }
}
