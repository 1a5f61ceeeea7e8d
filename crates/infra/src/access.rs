//! `KeyRepository` on Diesel: one row per key, the secret's hash unique.

use anyhow::anyhow;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use garage_domain::access::{ApiKey, KeyHash, KeyId, KeyRepository, NewApiKey, Scope};
use garage_domain::events::{NewEvent, Origin};
use garage_domain::{Error, GarageId};

use crate::db::{Database, StoreError};
use crate::events::record_one;
use crate::schema::api_keys as keys;

#[derive(Debug, Clone)]
pub struct DieselKeyRepository {
    db: Database,
}

impl DieselKeyRepository {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = keys)]
struct KeyRow {
    id: i64,
    name: String,
    prefix: String,
    scope: String,
    garage_ids: Option<String>,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

/// A list of garages as a row keeps it: comma-separated ids.
pub(crate) fn garage_ids(ids: Option<&[GarageId]>) -> Option<String> {
    ids.map(|ids| {
        ids.iter()
            .map(|id| id.get().to_string())
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// The garages `garage_ids` wrote; `None` when the text is not such a list.
pub(crate) fn parse_garage_ids(list: Option<&str>) -> Option<Option<Vec<GarageId>>> {
    match list {
        None => Some(None),
        Some("") => Some(Some(Vec::new())),
        Some(list) => list
            .split(',')
            .map(|id| id.parse().ok().and_then(|id| GarageId::parse(id).ok()))
            .collect::<Option<Vec<_>>>()
            .map(Some),
    }
}

impl TryFrom<KeyRow> for ApiKey {
    type Error = Error;

    fn try_from(row: KeyRow) -> Result<Self, Error> {
        let corrupt = |what: &str| Error::Internal(anyhow!("api_keys row {}: bad {what}", row.id));
        let garages =
            parse_garage_ids(row.garage_ids.as_deref()).ok_or_else(|| corrupt("garage_ids"))?;
        Ok(Self {
            id: KeyId::parse(row.id).map_err(|_| corrupt("id"))?,
            scope: Scope::parse(&row.scope).map_err(|_| corrupt("scope"))?,
            name: row.name,
            prefix: row.prefix,
            garages,
            created_at: row.created_at.and_utc(),
            last_used_at: row.last_used_at.map(|t| t.and_utc()),
            revoked_at: row.revoked_at.map(|t| t.and_utc()),
        })
    }
}

fn load(conn: &mut crate::db::DbConnection, id: i64) -> Result<Option<ApiKey>, StoreError> {
    let row = keys::table
        .find(id)
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(ApiKey::try_from).transpose()?)
}

#[async_trait]
impl KeyRepository for DieselKeyRepository {
    async fn create(&self, key: NewApiKey, origin: Origin) -> Result<ApiKey, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    let id: i64 = diesel::insert_into(keys::table)
                        .values((
                            keys::name.eq(key.name.as_str()),
                            keys::prefix.eq(&key.prefix),
                            keys::secret_hash.eq(key.hash.to_hex()),
                            keys::scope.eq(key.scope.as_str()),
                            keys::garage_ids.eq(garage_ids(key.garages.as_deref())),
                            keys::created_at.eq(key.created_at.naive_utc()),
                        ))
                        .returning(keys::id)
                        .get_result(conn)?;
                    let key = load(conn, id)?
                        .ok_or_else(|| Error::Internal(anyhow!("a created key vanished")))?;
                    record_one(conn, &origin, NewEvent::key_created(&key))?;
                    Ok(key)
                })
            })
            .await
    }

    async fn find_active(&self, hash: KeyHash) -> Result<Option<ApiKey>, Error> {
        self.db
            .run(move |conn| {
                let row = keys::table
                    .filter(keys::secret_hash.eq(hash.to_hex()))
                    .filter(keys::revoked_at.is_null())
                    .select(KeyRow::as_select())
                    .first(conn)
                    .optional()?;
                Ok(row.map(ApiKey::try_from).transpose()?)
            })
            .await
    }

    async fn list(&self) -> Result<Vec<ApiKey>, Error> {
        self.db
            .run(|conn| {
                let rows = keys::table
                    .order(keys::id)
                    .select(KeyRow::as_select())
                    .load(conn)?;
                Ok(rows
                    .into_iter()
                    .map(ApiKey::try_from)
                    .collect::<Result<_, _>>()?)
            })
            .await
    }

    async fn revoke(&self, id: KeyId, at: DateTime<Utc>, origin: Origin) -> Result<ApiKey, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    let revoked = diesel::update(
                        keys::table
                            .find(id.get())
                            .filter(keys::revoked_at.is_null()),
                    )
                    .set(keys::revoked_at.eq(at.naive_utc()))
                    .execute(conn)?;
                    let key = load(conn, id.get())?.ok_or(Error::KeyNotFound(id))?;
                    if revoked == 1 {
                        record_one(conn, &origin, NewEvent::key_revoked(&key))?;
                    }
                    Ok(key)
                })
            })
            .await
    }

    async fn touch(&self, id: KeyId, at: DateTime<Utc>) -> Result<(), Error> {
        self.db
            .write(move |conn| {
                diesel::update(keys::table.find(id.get()))
                    .set(keys::last_used_at.eq(at.naive_utc()))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn any_created(&self) -> Result<bool, Error> {
        self.db
            .run(|conn| {
                let any = diesel::select(diesel::dsl::exists(keys::table.select(keys::id)))
                    .get_result(conn)?;
                Ok(any)
            })
            .await
    }
}
