//! Calendar tokens, kept as API keys are: the secret's hash, never the secret.

use anyhow::anyhow;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use garage_domain::access::{KeyHash, KeyName};
use garage_domain::care::CalendarToken;
use garage_domain::{CalendarId, Error, GarageId};

use crate::access::{garage_ids, parse_garage_ids};
use crate::db::{Database, DbConnection, StoreError};
use crate::schema::calendar_tokens as tokens;

#[derive(Queryable, Selectable)]
#[diesel(table_name = tokens)]
struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    garage_ids: Option<String>,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
}

impl TryFrom<TokenRow> for CalendarToken {
    type Error = Error;

    fn try_from(row: TokenRow) -> Result<Self, Error> {
        let bad =
            |what: &str| Error::Internal(anyhow!("calendar_tokens row {}: bad {what}", row.id));
        Ok(Self {
            id: CalendarId::parse(row.id).map_err(|_| bad("id"))?,
            name: KeyName::parse(&row.name).map_err(|_| bad("name"))?,
            prefix: row.prefix,
            garages: parse_garage_ids(row.garage_ids.as_deref())
                .ok_or_else(|| bad("garage_ids"))?,
            created_at: row.created_at.and_utc(),
            revoked_at: row.revoked_at.map(|t| t.and_utc()),
        })
    }
}

fn load(conn: &mut DbConnection, id: CalendarId) -> Result<Option<CalendarToken>, StoreError> {
    let row = tokens::table
        .find(id.get())
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(CalendarToken::try_from).transpose()?)
}

pub(super) async fn create(
    db: &Database,
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
                tokens::created_at.eq(at.naive_utc()),
            ))
            .returning(tokens::id)
            .get_result(conn)?;
        let id = CalendarId::parse(id).map_err(|err| Error::Internal(err.into()))?;
        Ok(load(conn, id)?.ok_or_else(|| Error::Internal(anyhow!("a created token vanished")))?)
    })
    .await
}

pub(super) async fn list(db: &Database) -> Result<Vec<CalendarToken>, Error> {
    db.run(|conn| {
        let rows = tokens::table
            .filter(tokens::revoked_at.is_null())
            .order(tokens::id)
            .select(TokenRow::as_select())
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(CalendarToken::try_from)
            .collect::<Result<_, _>>()?)
    })
    .await
}

pub(super) async fn by_hash(db: &Database, hash: KeyHash) -> Result<Option<CalendarToken>, Error> {
    db.run(move |conn| {
        let row = tokens::table
            .filter(tokens::secret_hash.eq(hash.to_hex()))
            .select(TokenRow::as_select())
            .first(conn)
            .optional()?;
        Ok(row.map(CalendarToken::try_from).transpose()?)
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
        Ok(load(conn, id)?.ok_or(Error::CalendarNotFound(id))?)
    })
    .await
}
