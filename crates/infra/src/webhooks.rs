//! `WebhookRepository` on Diesel: endpoints, the outbox of deliveries, the
//! dispatcher's cursor over the event feed, and leases. On PostgreSQL,
//! several instances share the work with `FOR UPDATE SKIP LOCKED`; on
//! SQLite, writes are serial.

use anyhow::anyhow;
use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};
use garage_domain::events::{Event, EventFilter, FeedPosition};
use garage_domain::webhooks::{
    Attempt, Backlog, Delivery, DeliveryState, Lease, NewWebhook, Outcome, SigningSecret,
    Subscription, Webhook, WebhookChanges, WebhookRepository, WebhookUrl,
};
use garage_domain::{DeliveryId, Error, Page, PageRequest, WebhookId};

mod sender;

pub use sender::HttpSender;

use crate::db::{Database, DbConnection, StoreError};
use crate::events::{feed_page, last_published, load_events};
use crate::schema::{webhook_deliveries as deliveries, webhook_dispatch as dispatch, webhooks};

#[derive(Debug, Clone)]
pub struct DieselWebhookRepository {
    db: Database,
}

impl DieselWebhookRepository {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhooks)]
struct WebhookRow {
    id: i64,
    url: String,
    events: String,
    description: String,
    enabled: bool,
    disabled_reason: Option<String>,
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn corrupt(what: &str) -> Error {
    Error::Internal(anyhow!("stored webhook: bad {what}"))
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = Error;

    fn try_from(row: WebhookRow) -> Result<Self, Error> {
        let names: Vec<&str> = row.events.split(',').collect();
        let previous_secret = match (row.previous_secret, row.previous_until) {
            (Some(secret), Some(until)) => Some((
                SigningSecret::parse(&secret).map_err(|_| corrupt("previous_secret"))?,
                until.and_utc(),
            )),
            _ => None,
        };
        Ok(Self {
            id: WebhookId::parse(row.id).map_err(|_| corrupt("id"))?,
            url: WebhookUrl::parse(&row.url).map_err(|_| corrupt("url"))?,
            events: Subscription::parse(&names).map_err(|_| corrupt("events"))?,
            description: row.description,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            secret: SigningSecret::parse(&row.secret).map_err(|_| corrupt("secret"))?,
            previous_secret,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = deliveries)]
struct DeliveryRow {
    id: i64,
    webhook_id: i64,
    event_id: Option<i64>,
    event_type: String,
    state: String,
    attempts: i32,
    last_status: Option<i32>,
    last_latency_ms: Option<i32>,
    last_error: Option<String>,
    next_attempt_at: Option<NaiveDateTime>,
    failing_since: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = Error;

    fn try_from(row: DeliveryRow) -> Result<Self, Error> {
        Ok(Self {
            id: DeliveryId::parse(row.id).map_err(|_| corrupt("delivery id"))?,
            webhook_id: WebhookId::parse(row.webhook_id).map_err(|_| corrupt("webhook_id"))?,
            event_id: row.event_id,
            event_type: row.event_type,
            state: DeliveryState::parse(&row.state).map_err(|_| corrupt("state"))?,
            attempts: row.attempts.max(0) as u32,
            last_status: row.last_status.and_then(|s| u16::try_from(s).ok()),
            last_latency_ms: row.last_latency_ms.map(|l| l.max(0) as u32),
            last_error: row.last_error,
            next_attempt_at: row.next_attempt_at.map(|t| t.and_utc()),
            failing_since: row.failing_since.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

fn load(conn: &mut DbConnection, id: WebhookId) -> Result<Option<Webhook>, StoreError> {
    let row = webhooks::table
        .find(id.get())
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Webhook::try_from).transpose()?)
}

fn found(conn: &mut DbConnection, id: WebhookId) -> Result<Webhook, StoreError> {
    load(conn, id)?.ok_or_else(|| Error::WebhookNotFound(id).into())
}

fn load_delivery(conn: &mut DbConnection, id: i64) -> Result<Option<Delivery>, StoreError> {
    let row = deliveries::table
        .find(id)
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Delivery::try_from).transpose()?)
}

/// Where an event's deliveries queue behind each other: its entity.
fn entity(event: &Event) -> String {
    match (event.vehicle_id, event.garage_id, event.key_id) {
        (Some(vehicle), _, _) => format!("vehicle:{vehicle}"),
        (None, Some(garage), _) => format!("garage:{garage}"),
        (None, None, Some(key)) => format!("key:{key}"),
        _ => format!("event:{}", event.id),
    }
}

#[derive(Insertable)]
#[diesel(table_name = deliveries)]
struct NewDeliveryRow {
    webhook_id: i64,
    event_id: Option<i64>,
    event_type: String,
    entity: String,
    state: &'static str,
    attempts: i32,
    next_attempt_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl NewDeliveryRow {
    fn pending(webhook: i64, event: Option<&Event>, at: NaiveDateTime) -> Self {
        Self {
            webhook_id: webhook,
            event_id: event.map(|e| e.id),
            event_type: event.map_or("webhook.test", |e| e.kind.as_str()).to_owned(),
            entity: event.map_or_else(|| "test".to_owned(), entity),
            state: DeliveryState::Pending.as_str(),
            attempts: 0,
            next_attempt_at: Some(at),
            created_at: at,
            updated_at: at,
        }
    }
}

/// Where the dispatcher stands, locked until the transaction ends; `None`
/// when another instance holds it (PostgreSQL).
fn claim_cursor(conn: &mut DbConnection) -> Result<Option<FeedPosition>, StoreError> {
    #[derive(QueryableByName)]
    struct Cursor {
        #[diesel(sql_type = BigInt)]
        tx: i64,
        #[diesel(sql_type = BigInt)]
        event_id: i64,
    }
    let sql = match conn {
        DbConnection::Pg(_) => {
            "SELECT tx, event_id FROM webhook_dispatch WHERE id = 1 FOR UPDATE SKIP LOCKED"
        }
        DbConnection::Sqlite(_) => "SELECT tx, event_id FROM webhook_dispatch WHERE id = 1",
    };
    let cursor = diesel::sql_query(sql)
        .get_result::<Cursor>(conn)
        .optional()?;
    Ok(cursor.map(|c| FeedPosition {
        tx: c.tx,
        id: c.event_id,
    }))
}

fn move_cursor(conn: &mut DbConnection, to: FeedPosition) -> Result<(), StoreError> {
    diesel::update(dispatch::table.find(1))
        .set((dispatch::tx.eq(to.tx), dispatch::event_id.eq(to.id)))
        .execute(conn)?;
    Ok(())
}

#[async_trait]
impl WebhookRepository for DieselWebhookRepository {
    async fn create(
        &self,
        hook: NewWebhook,
        secret: SigningSecret,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Webhook, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    // After any pass of the dispatcher in progress, which
                    // skips what it reads while there is no endpoint (on
                    // SQLite, writes take turns already). The endpoint gets
                    // every event published after it was made, by the feed's
                    // order: no instance's clock decides what it misses.
                    if matches!(conn, DbConnection::Pg(_)) {
                        diesel::sql_query("SELECT 1 FROM webhook_dispatch WHERE id = 1 FOR UPDATE")
                            .execute(conn)?;
                    }
                    let from = last_published(conn)?.unwrap_or_default();
                    let at = at.naive_utc();
                    let id: i64 = diesel::insert_into(webhooks::table)
                        .values((
                            webhooks::url.eq(hook.url.as_str()),
                            webhooks::events.eq(hook.events.names().join(",")),
                            webhooks::description.eq(&hook.description),
                            webhooks::enabled.eq(true),
                            webhooks::secret.eq(secret.expose()),
                            webhooks::created_at.eq(at),
                            webhooks::updated_at.eq(at),
                            webhooks::from_tx.eq(from.tx),
                            webhooks::from_event_id.eq(from.id),
                        ))
                        .returning(webhooks::id)
                        .get_result(conn)?;
                    found(conn, WebhookId::parse(id).map_err(|_| corrupt("id"))?)
                })
            })
            .await
    }

    async fn list(&self) -> Result<Vec<Webhook>, Error> {
        self.db
            .run(|conn| {
                let rows = webhooks::table
                    .order(webhooks::id)
                    .select(WebhookRow::as_select())
                    .load(conn)?;
                Ok(rows
                    .into_iter()
                    .map(Webhook::try_from)
                    .collect::<Result<_, _>>()?)
            })
            .await
    }

    async fn get(&self, id: WebhookId) -> Result<Option<Webhook>, Error> {
        self.db.run(move |conn| load(conn, id)).await
    }

    async fn update(
        &self,
        id: WebhookId,
        changes: WebhookChanges,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Webhook, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    let target = webhooks::table.find(id.get());
                    let at = at.naive_utc();
                    let touched = diesel::update(target)
                        .set(webhooks::updated_at.eq(at))
                        .execute(conn)?;
                    if touched == 0 {
                        return Err(Error::WebhookNotFound(id).into());
                    }
                    if let Some(url) = &changes.url {
                        diesel::update(target)
                            .set(webhooks::url.eq(url.as_str()))
                            .execute(conn)?;
                    }
                    if let Some(events) = &changes.events {
                        diesel::update(target)
                            .set(webhooks::events.eq(events.names().join(",")))
                            .execute(conn)?;
                    }
                    if let Some(description) = &changes.description {
                        diesel::update(target)
                            .set(webhooks::description.eq(description))
                            .execute(conn)?;
                    }
                    if let Some(enabled) = changes.enabled {
                        diesel::update(target)
                            .set((
                                webhooks::enabled.eq(enabled),
                                webhooks::disabled_reason.eq(None::<String>),
                            ))
                            .execute(conn)?;
                        if enabled {
                            // Enabled again: its waiting deliveries get three
                            // new days.
                            diesel::update(
                                deliveries::table
                                    .filter(deliveries::webhook_id.eq(id.get()))
                                    .filter(deliveries::state.eq(DeliveryState::Pending.as_str())),
                            )
                            .set(deliveries::failing_since.eq(None::<NaiveDateTime>))
                            .execute(conn)?;
                        }
                    }
                    found(conn, id)
                })
            })
            .await
    }

    async fn delete(&self, id: WebhookId) -> Result<(), Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    diesel::delete(deliveries::table.filter(deliveries::webhook_id.eq(id.get())))
                        .execute(conn)?;
                    match diesel::delete(webhooks::table.find(id.get())).execute(conn)? {
                        0 => Err(Error::WebhookNotFound(id).into()),
                        _ => Ok(()),
                    }
                })
            })
            .await
    }

    async fn rotate(
        &self,
        id: WebhookId,
        secret: SigningSecret,
        previous_until: chrono::DateTime<chrono::Utc>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Webhook, Error> {
        self.db
            .write(move |conn| {
                let rotated = diesel::update(webhooks::table.find(id.get()))
                    .set((
                        webhooks::previous_secret.eq(webhooks::secret.nullable()),
                        webhooks::previous_until.eq(Some(previous_until.naive_utc())),
                        webhooks::secret.eq(secret.expose()),
                        webhooks::updated_at.eq(at.naive_utc()),
                    ))
                    .execute(conn)?;
                if rotated == 0 {
                    return Err(Error::WebhookNotFound(id).into());
                }
                found(conn, id)
            })
            .await
    }

    async fn deliveries(&self, id: WebhookId, page: PageRequest) -> Result<Page<Delivery>, Error> {
        self.db
            .run(move |conn| {
                let mut query = deliveries::table
                    .filter(deliveries::webhook_id.eq(id.get()))
                    .select(DeliveryRow::as_select())
                    .order(deliveries::id.desc())
                    .limit(i64::from(page.limit.get()) + 1)
                    .into_boxed();
                if let Some(before) = page.after {
                    query = query.filter(deliveries::id.lt(before));
                }
                let items = query
                    .load(conn)?
                    .into_iter()
                    .map(Delivery::try_from)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Page::from_rows(items, page.limit, |d| d.id.get()))
            })
            .await
    }

    async fn retry(
        &self,
        id: WebhookId,
        delivery: DeliveryId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Delivery, Error> {
        self.db
            .write(move |conn| {
                found(conn, id)?;
                let at = at.naive_utc();
                // Not while an attempt holds it: that attempt decides.
                diesel::update(
                    deliveries::table
                        .find(delivery.get())
                        .filter(deliveries::webhook_id.eq(id.get()))
                        .filter(
                            deliveries::leased_until
                                .is_null()
                                .or(deliveries::leased_until.le(at)),
                        ),
                )
                .set((
                    deliveries::state.eq(DeliveryState::Pending.as_str()),
                    deliveries::next_attempt_at.eq(Some(at)),
                    deliveries::leased_until.eq(None::<NaiveDateTime>),
                    deliveries::failing_since.eq(None::<NaiveDateTime>),
                    deliveries::updated_at.eq(at),
                ))
                .execute(conn)?;
                let row = deliveries::table
                    .find(delivery.get())
                    .filter(deliveries::webhook_id.eq(id.get()))
                    .select(DeliveryRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or(Error::DeliveryNotFound(delivery))?;
                Ok(Delivery::try_from(row)?)
            })
            .await
    }

    async fn enqueue_test(
        &self,
        id: WebhookId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Delivery, Error> {
        self.db
            .write(move |conn| {
                found(conn, id)?;
                let row = NewDeliveryRow::pending(id.get(), None, at.naive_utc());
                let created: i64 = diesel::insert_into(deliveries::table)
                    .values(&row)
                    .returning(deliveries::id)
                    .get_result(conn)?;
                load_delivery(conn, created)?
                    .ok_or_else(|| Error::Internal(anyhow!("a queued delivery vanished")).into())
            })
            .await
    }

    async fn dispatch(&self, limit: u32) -> Result<usize, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    let Some(after) = claim_cursor(conn)? else {
                        return Ok(0);
                    };
                    // Disabled endpoints too: they keep what happens meanwhile
                    // until they are enabled again (or deleted).
                    let hooks = webhooks::table
                        .select((
                            WebhookRow::as_select(),
                            webhooks::from_tx,
                            webhooks::from_event_id,
                        ))
                        .load::<(WebhookRow, i64, i64)>(conn)?
                        .into_iter()
                        .map(|(row, tx, id)| Ok((Webhook::try_from(row)?, FeedPosition { tx, id })))
                        .collect::<Result<Vec<_>, Error>>()?;
                    if hooks.is_empty() {
                        // Nobody to deliver to: pass over what is published
                        // without reading it. No endpoint can be made
                        // meanwhile: making one waits for the cursor's lock.
                        if let Some(last) = last_published(conn)?.filter(|last| *last > after) {
                            move_cursor(conn, last)?;
                        }
                        return Ok(0);
                    }
                    let filter = EventFilter {
                        with_keys: true,
                        ..EventFilter::default()
                    };
                    let events = feed_page(conn, &filter, after, i64::from(limit))?;
                    let Some(last) = events.last().map(|e| e.position) else {
                        return Ok(0);
                    };
                    let now = crate::rows::now();
                    let rows: Vec<NewDeliveryRow> = events
                        .iter()
                        .flat_map(|event| {
                            hooks
                                .iter()
                                // Only what was published since the endpoint was made.
                                .filter(|(h, from)| {
                                    h.events.includes(event.kind) && event.position > *from
                                })
                                .map(|(h, _)| NewDeliveryRow::pending(h.id.get(), Some(event), now))
                        })
                        .collect();
                    for chunk in rows.chunks(1_000) {
                        let insert = diesel::insert_into(deliveries::table).values(chunk);
                        match conn {
                            DbConnection::Pg(conn) => insert.execute(conn)?,
                            DbConnection::Sqlite(conn) => insert.execute(conn)?,
                        };
                    }
                    move_cursor(conn, last)?;
                    Ok(events.len())
                })
            })
            .await
    }

    async fn lease(
        &self,
        at: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<Lease>, Error> {
        #[derive(QueryableByName)]
        struct Leased {
            #[diesel(sql_type = BigInt)]
            id: i64,
        }
        // Stored and compared again by `record`: at the precision both
        // backends keep.
        let until = chrono::SubsecRound::trunc_subsecs(until, 6);
        self.db
            .write(move |conn| {
                let lock = match conn {
                    DbConnection::Pg(_) => "FOR UPDATE OF d SKIP LOCKED",
                    DbConnection::Sqlite(_) => "",
                };
                let sql = format!(
                    "UPDATE webhook_deliveries SET leased_until = $1 WHERE id IN ( \
                       SELECT d.id FROM webhook_deliveries d \
                        WHERE d.state = 'pending' AND d.next_attempt_at <= $2 \
                          AND (d.leased_until IS NULL OR d.leased_until <= $2) \
                          AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id AND w.enabled) \
                          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o \
                                WHERE o.webhook_id = d.webhook_id AND o.entity = d.entity \
                                  AND o.state = 'pending' AND o.id < d.id) \
                        ORDER BY d.id LIMIT $3 {lock}) \
                     RETURNING id"
                );
                let leased: Vec<Leased> = diesel::sql_query(sql)
                    .bind::<Timestamp, _>(until.naive_utc())
                    .bind::<Timestamp, _>(at.naive_utc())
                    .bind::<BigInt, _>(i64::from(limit))
                    .load(conn)?;
                let ids: Vec<i64> = leased.iter().map(|l| l.id).collect();
                let rows = deliveries::table
                    .filter(deliveries::id.eq_any(&ids))
                    .order(deliveries::id)
                    .select(DeliveryRow::as_select())
                    .load(conn)?;
                let event_ids: Vec<i64> = rows.iter().filter_map(|r| r.event_id).collect();
                let events = load_events(conn, &event_ids)?;
                let mut leases = Vec::with_capacity(rows.len());
                for row in rows {
                    let event = row
                        .event_id
                        .and_then(|id| events.iter().find(|e| e.id == id).cloned());
                    let delivery = Delivery::try_from(row)?;
                    let webhook = found(conn, delivery.webhook_id)?;
                    leases.push(Lease {
                        delivery,
                        webhook,
                        event,
                        until,
                    });
                }
                Ok(leases)
            })
            .await
    }

    async fn backlog(&self) -> Result<Backlog, Error> {
        self.db
            .run(|conn| {
                let (pending, oldest): (i64, Option<NaiveDateTime>) = deliveries::table
                    .inner_join(webhooks::table)
                    .filter(deliveries::state.eq(DeliveryState::Pending.as_str()))
                    .filter(webhooks::enabled.eq(true))
                    .select((
                        diesel::dsl::count_star(),
                        diesel::dsl::min(deliveries::created_at),
                    ))
                    .first(conn)?;
                let cursor: (i64, i64) = dispatch::table
                    .find(1)
                    .select((dispatch::tx, dispatch::event_id))
                    .first(conn)?;
                let undispatched: Option<NaiveDateTime> = crate::schema::events::table
                    .filter(
                        crate::schema::events::tx
                            .gt(cursor.0)
                            .or(crate::schema::events::tx
                                .eq(cursor.0)
                                .and(crate::schema::events::id.gt(cursor.1))),
                    )
                    .select(diesel::dsl::min(crate::schema::events::occurred_at))
                    .first(conn)?;
                Ok(Backlog {
                    pending: pending.max(0) as u64,
                    oldest: oldest.map(|t| t.and_utc()),
                    undispatched: undispatched.map(|t| t.and_utc()),
                })
            })
            .await
    }

    async fn record(
        &self,
        delivery: DeliveryId,
        lease: chrono::DateTime<chrono::Utc>,
        attempt: Attempt,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    let (status, error) = match &attempt.outcome {
                        Outcome::Delivered { status } => (Some(i32::from(*status)), None),
                        Outcome::Gone => (Some(410), Some("410 Gone".to_owned())),
                        Outcome::Failed { status, error, .. } => {
                            (status.map(i32::from), Some(error.clone()))
                        }
                    };
                    // Only under this attempt's own lease.
                    let held = deliveries::table
                        .find(delivery.get())
                        .filter(deliveries::leased_until.eq(Some(lease.naive_utc())));
                    let webhook: Option<i64> = diesel::update(held)
                        .set((
                            deliveries::state.eq(attempt.state.as_str()),
                            deliveries::attempts.eq(deliveries::attempts + 1),
                            deliveries::last_status.eq(status),
                            deliveries::last_latency_ms
                                .eq(Some(i32::try_from(attempt.latency_ms).unwrap_or(i32::MAX))),
                            deliveries::last_error.eq(error),
                            deliveries::next_attempt_at
                                .eq(attempt.next_attempt_at.map(|t| t.naive_utc())),
                            deliveries::leased_until.eq(None::<NaiveDateTime>),
                            deliveries::failing_since
                                .eq(attempt.failing_since.map(|t| t.naive_utc())),
                            deliveries::updated_at.eq(at.naive_utc()),
                        ))
                        .returning(deliveries::webhook_id)
                        .get_result(conn)
                        .optional()?;
                    let Some(webhook) = webhook else {
                        return Ok(false);
                    };
                    if let Some(reason) = &attempt.disable {
                        diesel::update(webhooks::table.find(webhook))
                            .set((
                                webhooks::enabled.eq(false),
                                webhooks::disabled_reason.eq(Some(reason)),
                                webhooks::updated_at.eq(at.naive_utc()),
                            ))
                            .execute(conn)?;
                    }
                    Ok(true)
                })
            })
            .await
    }
}
