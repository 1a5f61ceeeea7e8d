//! `IdempotencyStore` on Diesel: one row per key, shared by every instance.
//! The primary key is the lock: of concurrent inserts of one key, one wins.

use std::time::Duration;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use garage_domain::{Claim, Error, IdempotencyStore, ABANDONED_CLAIM};

use crate::db::{violation, Database, StoreError};
use crate::rows::now;
use crate::schema::idempotency_keys as keys;

#[derive(Debug, Clone)]
pub struct DieselIdempotencyStore {
    db: Database,
}

impl DieselIdempotencyStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// The time `age` before now; the earliest time there is when `age` reaches
/// further back than the calendar (subtracting would panic).
fn ago(age: Duration) -> chrono::NaiveDateTime {
    chrono::Duration::from_std(age)
        .ok()
        .and_then(|age| now().checked_sub_signed(age))
        .unwrap_or(chrono::NaiveDateTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_age_beyond_the_calendar_is_the_earliest_time_not_a_panic() {
        assert_eq!(ago(Duration::MAX), chrono::NaiveDateTime::MIN);
        assert_eq!(
            ago(Duration::from_secs(u64::MAX / 4)),
            chrono::NaiveDateTime::MIN
        );
        let hour = ago(Duration::from_secs(3600));
        let lag = now() - hour;
        assert!((3599..=3601).contains(&lag.num_seconds()), "{lag}");
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
        self.db
            .write(move |conn| {
                // An expired key, or one whose request died, is free again.
                diesel::delete(
                    keys::table.find(&key).filter(
                        keys::created_at.lt(ago(ttl)).or(keys::answer
                            .is_null()
                            .and(keys::created_at.lt(ago(ABANDONED_CLAIM)))),
                    ),
                )
                .execute(conn)?;
                let inserted = diesel::insert_into(keys::table)
                    .values((
                        keys::key.eq(&key),
                        keys::fingerprint.eq(&fingerprint),
                        keys::created_at.eq(now()),
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
        self.db
            .write(move |conn| {
                diesel::update(keys::table.find(&key))
                    .set(keys::answer.eq(answer))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn release(&self, key: String) -> Result<(), Error> {
        self.db
            .write(move |conn| {
                diesel::delete(keys::table.find(&key).filter(keys::answer.is_null()))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn purge(&self, ttl: Duration) -> Result<u64, Error> {
        self.db
            .write(move |conn| {
                let purged = diesel::delete(keys::table.filter(keys::created_at.lt(ago(ttl))))
                    .execute(conn)?;
                Ok(purged as u64)
            })
            .await
    }
}
