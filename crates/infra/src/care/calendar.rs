//! Calendar tokens, kept as API keys are: the secret's hash, never the
//! secret; each read with the key that made it, as that key is now.

use anyhow::anyhow;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use garage_domain::access::{KeyHash, KeyId, KeyName};
use garage_domain::care::{CalendarToken, TokenKey};
use garage_domain::{CalendarId, Error, GarageId};

use crate::access::{garage_ids, parse_garage_ids};
use crate::db::{Database, DbConnection, StoreError};
use crate::schema::{api_keys as keys, calendar_tokens as tokens};

#[derive(Queryable, Selectable)]
#[diesel(table_name = tokens)]
struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    garage_ids: Option<String>,
    key_id: i64,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
}

/// The key's state: its id (never NULL when it is there, so a missing key
/// reads as `None`), `revoked_at` and garages.
type KeyState = Option<(i64, Option<NaiveDateTime>, Option<String>)>;

fn token(row: TokenRow, key: KeyState) -> Result<CalendarToken, Error> {
    let bad = |what: &str| Error::Internal(anyhow!("calendar_tokens row {}: bad {what}", row.id));
    let (valid, key_garages) = match key {
        Some((_, revoked, garages)) => (
            revoked.is_none(),
            parse_garage_ids(garages.as_deref()).ok_or_else(|| bad("key's garage_ids"))?,
        ),
        None => (false, Some(Vec::new())),
    };
    Ok(CalendarToken {
        id: CalendarId::parse(row.id).map_err(|_| bad("id"))?,
        name: KeyName::parse(&row.name).map_err(|_| bad("name"))?,
        prefix: row.prefix,
        garages: parse_garage_ids(row.garage_ids.as_deref()).ok_or_else(|| bad("garage_ids"))?,
        key: TokenKey {
            id: KeyId::parse(row.key_id).map_err(|_| bad("key_id"))?,
            valid,
            garages: key_garages,
        },
        created_at: row.created_at.and_utc(),
        revoked_at: row.revoked_at.map(|t| t.and_utc()),
    })
}

/// The tokens `filter` keeps, each with its key.
macro_rules! load {
    ($conn:expr, $query:expr) => {{
        let rows: Vec<(TokenRow, KeyState)> = $query
            .left_join(keys::table.on(keys::id.eq(tokens::key_id)))
            .select((
                TokenRow::as_select(),
                (keys::id, keys::revoked_at, keys::garage_ids).nullable(),
            ))
            .load($conn)?;
        rows.into_iter()
            .map(|(row, key)| token(row, key))
            .collect::<Result<Vec<_>, Error>>()
    }};
}

fn by_id(conn: &mut DbConnection, id: CalendarId) -> Result<Option<CalendarToken>, StoreError> {
    let found = load!(conn, tokens::table.filter(tokens::id.eq(id.get())))?;
    Ok(found.into_iter().next())
}

pub(super) async fn create(
    db: &Database,
    key: KeyId,
    name: KeyName,
    prefix: String,
    hash: KeyHash,
    garages: Option<Vec<GarageId>>,
    at: DateTime<Utc>,
) -> Result<CalendarToken, Error> {
    db.write(move |conn| {
        let id: i64 = diesel::insert_into(tokens::table)
            .values((
                tokens::name.eq(name.as_str()),
                tokens::prefix.eq(&prefix),
                tokens::secret_hash.eq(hash.to_hex()),
                tokens::garage_ids.eq(garage_ids(garages.as_deref())),
                tokens::key_id.eq(key.get()),
                tokens::created_at.eq(at.naive_utc()),
            ))
            .returning(tokens::id)
            .get_result(conn)?;
        let id = CalendarId::parse(id).map_err(|err| Error::Internal(err.into()))?;
        Ok(by_id(conn, id)?.ok_or_else(|| Error::Internal(anyhow!("a created token vanished")))?)
    })
    .await
}

pub(super) async fn list(db: &Database) -> Result<Vec<CalendarToken>, Error> {
    db.run(|conn| {
        Ok(load!(
            conn,
            tokens::table
                .filter(tokens::revoked_at.is_null())
                .order(tokens::id)
        )?)
    })
    .await
}

pub(super) async fn by_hash(db: &Database, hash: KeyHash) -> Result<Option<CalendarToken>, Error> {
    db.run(move |conn| {
        let found = load!(
            conn,
            tokens::table.filter(tokens::secret_hash.eq(hash.to_hex()))
        )?;
        Ok(found.into_iter().next())
    })
    .await
}

pub(super) async fn revoke(
    db: &Database,
    id: CalendarId,
    at: DateTime<Utc>,
) -> Result<CalendarToken, Error> {
    db.write(move |conn| {
        diesel::update(
            tokens::table
                .find(id.get())
                .filter(tokens::revoked_at.is_null()),
        )
        .set(tokens::revoked_at.eq(at.naive_utc()))
        .execute(conn)?;
        Ok(by_id(conn, id)?.ok_or(Error::CalendarNotFound(id))?)
    })
    .await
}
