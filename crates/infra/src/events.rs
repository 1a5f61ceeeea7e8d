//! Events: written by the other stores inside their write transactions
//! (`record`), read here as the feed and the histories.

use anyhow::anyhow;
use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use garage_domain::access::KeyId;
use garage_domain::events::{
    Actor, Event, EventFilter, EventKind, EventRepository, FeedPosition, HistoryOf, NewEvent,
    Origin,
};
use garage_domain::{Error, GarageId, Limit, Page, PageRequest, VehicleId};

use crate::db::{Database, DbConnection, StoreError};
use crate::rows::now;
use crate::schema::events;

#[derive(Debug, Clone)]
pub struct DieselEventRepository {
    /// The primary: the feed must see what has committed there.
    db: Database,
}

impl DieselEventRepository {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[derive(Insertable)]
#[diesel(table_name = events)]
#[diesel(treat_none_as_default_value = false)]
struct NewEventRow<'a> {
    kind: &'static str,
    occurred_at: NaiveDateTime,
    actor_key_id: Option<i64>,
    actor_name: &'a str,
    request_id: Option<&'a str>,
    garage_id: Option<i64>,
    from_garage_id: Option<i64>,
    vehicle_id: Option<i64>,
    key_id: Option<i64>,
    changes: String,
}

/// As many rows as one INSERT takes: 10 parameters a row stays below
/// SQLite's 32,766 and PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 1_000;

/// From how many rows PostgreSQL gets events by COPY rather than INSERT.
const COPY_FROM_ROWS: usize = 32;

/// Stores `events`, made by `origin`, in the caller's transaction.
pub(crate) fn record(
    conn: &mut DbConnection,
    origin: &Origin,
    events: &[NewEvent],
) -> Result<(), StoreError> {
    let at = now();
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let rows = chunk
            .iter()
            .map(|event| {
                Ok(NewEventRow {
                    kind: event.kind.as_str(),
                    occurred_at: at,
                    actor_key_id: origin.actor.key_id.map(KeyId::get),
                    actor_name: &origin.actor.name,
                    request_id: origin.request_id.as_deref(),
                    garage_id: event.garage_id.map(GarageId::get),
                    from_garage_id: event.from_garage_id.map(GarageId::get),
                    vehicle_id: event.vehicle_id.map(VehicleId::get),
                    key_id: event.key_id.map(KeyId::get),
                    changes: serde_json::to_string(&event.changes)
                        .map_err(|err| Error::Internal(err.into()))?,
                })
            })
            .collect::<Result<Vec<NewEventRow<'_>>, StoreError>>()?;
        // Multi-row writes are backend-specific SQL that `MultiConnection`
        // cannot express: each backend runs its own on its own connection.
        // PostgreSQL takes an import's events by COPY (its import runs 20 %
        // faster than with INSERT; `tx` still gets its default); a single
        // write's event goes by INSERT, one round trip where COPY takes two.
        match conn {
            DbConnection::Pg(conn) if rows.len() >= COPY_FROM_ROWS => {
                diesel::copy_from(events::table)
                    .from_insertable(&rows)
                    .execute(conn)?
            }
            DbConnection::Pg(conn) => diesel::insert_into(events::table)
                .values(&rows)
                .execute(conn)?,
            DbConnection::Sqlite(conn) => diesel::insert_into(events::table)
                .values(&rows)
                .execute(conn)?,
        };
    }
    Ok(())
}

/// Stores one event, made by `origin`, in the caller's transaction.
pub(crate) fn record_one(
    conn: &mut DbConnection,
    origin: &Origin,
    event: NewEvent,
) -> Result<(), StoreError> {
    record(conn, origin, std::slice::from_ref(&event))
}

/// On PostgreSQL, the transaction id below which every transaction that
/// may write events has ended, as the statement's snapshot sees them: the
/// oldest transaction still running, leaving out those known to belong to
/// another database (their ids are the cluster's, but they write no events
/// here); with none, the next id to be given. A transaction that has ended
/// since the snapshot, or whose database is not visible (another role's
/// session, without `pg_read_all_stats`), still counts: the feed then waits
/// a little, and misses nothing.
const PUBLISHED_BELOW: &str = "(WITH snap AS (SELECT pg_current_snapshot() AS s) \
    SELECT COALESCE(\
        (SELECT min(x::text::bigint) FROM snap, pg_snapshot_xip(snap.s) AS x \
          WHERE x::text::bigint % 4294967296 NOT IN (\
            SELECT backend_xid::text::bigint FROM pg_stat_activity \
             WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database())), \
        (SELECT pg_snapshot_xmax(s)::text::bigint FROM snap)))";

#[derive(Queryable, Selectable)]
#[diesel(table_name = events)]
struct EventRow {
    id: i64,
    tx: i64,
    kind: String,
    occurred_at: NaiveDateTime,
    actor_key_id: Option<i64>,
    actor_name: String,
    request_id: Option<String>,
    garage_id: Option<i64>,
    from_garage_id: Option<i64>,
    vehicle_id: Option<i64>,
    key_id: Option<i64>,
    changes: String,
}

impl TryFrom<EventRow> for Event {
    type Error = Error;

    fn try_from(row: EventRow) -> Result<Self, Error> {
        let corrupt = |what: &str| Error::Internal(anyhow!("event {}: bad {what}", row.id));
        let garage = |id: Option<i64>| id.map(GarageId::parse).transpose();
        let changes = match serde_json::from_str(&row.changes) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(corrupt("changes")),
        };
        Ok(Self {
            id: row.id,
            position: FeedPosition {
                tx: row.tx,
                id: row.id,
            },
            kind: row.kind.parse().map_err(|_| corrupt("type"))?,
            occurred_at: row.occurred_at.and_utc(),
            actor: Actor {
                key_id: row
                    .actor_key_id
                    .map(KeyId::parse)
                    .transpose()
                    .map_err(|_| corrupt("actor_key_id"))?,
                name: row.actor_name,
            },
            request_id: row.request_id,
            garage_id: garage(row.garage_id).map_err(|_| corrupt("garage_id"))?,
            from_garage_id: garage(row.from_garage_id).map_err(|_| corrupt("from_garage_id"))?,
            vehicle_id: row
                .vehicle_id
                .map(VehicleId::parse)
                .transpose()
                .map_err(|_| corrupt("vehicle_id"))?,
            key_id: row
                .key_id
                .map(KeyId::parse)
                .transpose()
                .map_err(|_| corrupt("key_id"))?,
            changes,
        })
    }
}

fn into_events(rows: Vec<EventRow>) -> Result<Vec<Event>, StoreError> {
    Ok(rows
        .into_iter()
        .map(Event::try_from)
        .collect::<Result<_, _>>()?)
}

/// The types of the events about keys, as the domain names them.
fn key_events() -> Vec<&'static str> {
    EventKind::ALL
        .into_iter()
        .filter(|kind| kind.is_about_keys())
        .map(EventKind::as_str)
        .collect()
}

/// Events of these garages (a move counts for both ends).
fn of_garages(
    ids: &[GarageId],
) -> Box<
    dyn BoxableExpression<
        events::table,
        crate::db::MultiBackend,
        SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>,
    >,
> {
    let ids: Vec<i64> = ids.iter().map(|g| g.get()).collect();
    Box::new(
        events::garage_id
            .eq_any(ids.clone())
            .or(events::from_garage_id.eq_any(ids)),
    )
}

type Condition = Box<
    dyn BoxableExpression<
        events::table,
        crate::db::MultiBackend,
        SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>,
    >,
>;

/// Every condition of `filter`, as one.
fn matching(filter: &EventFilter) -> Condition {
    use diesel::sql_types::Bool;
    let mut all: Condition = Box::new(true.into_sql::<Bool>().nullable());
    if let Some(kinds) = &filter.kinds {
        let names: Vec<&'static str> = kinds.iter().map(|k| k.as_str()).collect();
        all = Box::new(all.and(events::kind.eq_any(names).nullable()));
    }
    if !filter.with_keys {
        all = Box::new(all.and(events::kind.ne_all(key_events()).nullable()));
    }
    if let Some(garage) = filter.garage_id {
        all = Box::new(
            all.and(
                events::garage_id
                    .eq(garage.get())
                    .or(events::from_garage_id.eq(garage.get())),
            ),
        );
    }
    if let Some(vehicle) = filter.vehicle_id {
        all = Box::new(all.and(events::vehicle_id.eq(vehicle.get())));
    }
    if let Some(ids) = &filter.within {
        all = Box::new(all.and(of_garages(ids)));
    }
    all
}

/// A page of the events matching `condition`, newest first, ids below
/// `page.after`: the histories and the recent activity.
fn newest_first(
    conn: &mut DbConnection,
    condition: Condition,
    page: PageRequest,
) -> Result<Page<Event>, StoreError> {
    let mut query = events::table
        .select(EventRow::as_select())
        .filter(condition)
        .order(events::id.desc())
        .limit(i64::from(page.limit.get()) + 1)
        .into_boxed();
    if let Some(before) = page.after {
        query = query.filter(events::id.lt(before));
    }
    let items = into_events(query.load(conn)?)?;
    Ok(Page::from_rows(items, page.limit, |e| e.id))
}

/// The feed's next `limit` events after `after`, on `conn`.
pub(crate) fn feed_page(
    conn: &mut DbConnection,
    filter: &EventFilter,
    after: FeedPosition,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    let mut query = events::table
        .select(EventRow::as_select())
        .filter(
            events::tx
                .gt(after.tx)
                .or(events::tx.eq(after.tx).and(events::id.gt(after.id))),
        )
        .order((events::tx, events::id))
        .limit(limit)
        .into_boxed();
    if matches!(conn, DbConnection::Pg(_)) {
        // Only transactions older than every one that may still
        // commit events: none can land behind what is returned.
        query = query.filter(events::tx.lt(sql::<BigInt>(PUBLISHED_BELOW)));
    }
    query = query.filter(matching(filter));
    into_events(query.load(conn)?)
}

/// The feed's last published position: what `feed_page` would reach by
/// reading to the end. One step back along the feed's index.
pub(crate) fn last_published(conn: &mut DbConnection) -> Result<Option<FeedPosition>, StoreError> {
    let mut query = events::table
        .select((events::tx, events::id))
        .order((events::tx.desc(), events::id.desc()))
        .limit(1)
        .into_boxed();
    if matches!(conn, DbConnection::Pg(_)) {
        query = query.filter(events::tx.lt(sql::<BigInt>(PUBLISHED_BELOW)));
    }
    let last: Option<(i64, i64)> = query.first(conn).optional()?;
    Ok(last.map(|(tx, id)| FeedPosition { tx, id }))
}

#[async_trait]
impl EventRepository for DieselEventRepository {
    async fn feed(
        &self,
        filter: EventFilter,
        after: FeedPosition,
        limit: Limit,
    ) -> Result<Vec<Event>, Error> {
        self.db
            .run(move |conn| feed_page(conn, &filter, after, i64::from(limit.get())))
            .await
    }

    async fn recent(&self, filter: EventFilter, page: PageRequest) -> Result<Page<Event>, Error> {
        self.db
            .run(move |conn| newest_first(conn, matching(&filter), page))
            .await
    }

    async fn purge(&self, before: chrono::DateTime<chrono::Utc>) -> Result<u64, Error> {
        self.db
            .patient()
            .write(move |conn| {
                conn.transaction(|conn| {
                    diesel::sql_query(
                        "DELETE FROM webhook_deliveries WHERE event_id IN \
                         (SELECT id FROM events WHERE occurred_at < $1)",
                    )
                    .bind::<diesel::sql_types::Timestamp, _>(before.naive_utc())
                    .execute(conn)?;
                    let purged = diesel::delete(
                        events::table.filter(events::occurred_at.lt(before.naive_utc())),
                    )
                    .execute(conn)?;
                    Ok(purged as u64)
                })
            })
            .await
    }

    async fn history(
        &self,
        of: HistoryOf,
        reach: Option<Vec<GarageId>>,
        page: PageRequest,
    ) -> Result<Page<Event>, Error> {
        self.db
            .run(move |conn| {
                let mut condition: Condition = match of {
                    HistoryOf::Vehicle(id) => Box::new(events::vehicle_id.eq(id.get())),
                    // Its own events, and the moves into or out of it.
                    HistoryOf::Garage(id) => Box::new(
                        events::garage_id
                            .eq(id.get())
                            .and(events::kind.like("garage.%").nullable())
                            .or(events::kind
                                .eq(EventKind::VehicleMoved.as_str())
                                .nullable()
                                .and(
                                    events::garage_id
                                        .eq(id.get())
                                        .or(events::from_garage_id.eq(id.get())),
                                )),
                    ),
                };
                if let Some(ids) = &reach {
                    condition = Box::new(condition.and(of_garages(ids)));
                }
                newest_first(conn, condition, page)
            })
            .await
    }
}

/// The events of these ids, on `conn`.
pub(crate) fn load_events(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<Event>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    into_events(
        events::table
            .filter(events::id.eq_any(ids))
            .select(EventRow::as_select())
            .load(conn)?,
    )
}
