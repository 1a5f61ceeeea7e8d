//! `IdempotencyStore` on Diesel: one row per key, shared by every instance.
//! The primary key is the lock: of concurrent inserts of one key, one wins.

use std::time::Duration;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use garage_domain::ports::ABANDONED_CLAIM;
use garage_domain::{Claim, Error, IdempotencyStore, StoredResponse};

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

fn ago(age: Duration) -> chrono::NaiveDateTime {
    now() - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX)
}

#[derive(Queryable)]
struct KeyRow {
    fingerprint: String,
    status: Option<i32>,
    location: Option<String>,
    content_type: Option<String>,
    etag: Option<String>,
    body: Option<Vec<u8>>,
}

#[async_trait]
impl IdempotencyStore for DieselIdempotencyStore {
    async fn claim(&self, key: String, fingerprint: String, ttl: Duration) -> Result<Claim, Error> {
        self.db
            .write(move |conn| {
                // An expired key, or one whose request died, is free again.
                diesel::delete(
                    keys::table.find(&key).filter(
                        keys::created_at.lt(ago(ttl)).or(keys::status
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
                    .select((
                        keys::fingerprint,
                        keys::status,
                        keys::location,
                        keys::content_type,
                        keys::etag,
                        keys::body,
                    ))
                    .first::<KeyRow>(conn)
                    .optional()?;
                Ok(match row {
                    Some(row) if row.fingerprint != fingerprint => Claim::Mismatch,
                    Some(KeyRow {
                        status: Some(status),
                        location,
                        content_type,
                        etag,
                        body,
                        ..
                    }) => Claim::Replay(StoredResponse {
                        status: u16::try_from(status).unwrap_or(500),
                        location,
                        content_type,
                        etag,
                        body: body.unwrap_or_default(),
                    }),
                    // Running, or released in between: either way, not ours.
                    _ => Claim::InProgress,
                })
            })
            .await
    }

    async fn complete(&self, key: String, response: StoredResponse) -> Result<(), Error> {
        self.db
            .write(move |conn| {
                diesel::update(keys::table.find(&key))
                    .set((
                        keys::status.eq(i32::from(response.status)),
                        keys::location.eq(response.location),
                        keys::content_type.eq(response.content_type),
                        keys::etag.eq(response.etag),
                        keys::body.eq(response.body),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn release(&self, key: String) -> Result<(), Error> {
        self.db
            .write(move |conn| {
                diesel::delete(keys::table.find(&key).filter(keys::status.is_null()))
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
