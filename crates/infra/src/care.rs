//! `CareRepository` on Diesel. Writes about a vehicle lock its row first
//! (PostgreSQL; SQLite has one writer at a time), so a reading is checked
//! against the readings around it, and a plan replaced, without a race.

mod calendar;
mod reminders;

use anyhow::anyhow;
use async_trait::async_trait;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use garage_domain::care::{
    undated, CareKind, CareRecord, CareRepository, CareStatus, Done, EveryMonths, Horizon, Km,
    NewReading, Plan, PlanState, PlanVersion, Reading, Reminder, ReminderCursor, ReminderFilter,
    ReminderPage, Schedule, Since,
};
use garage_domain::events::{NewEvent, Origin};
use garage_domain::{
    Error, Limit, Note, Page, PageRequest, PlanId, ReadingId, RecordId, VehicleId,
};

use crate::db::{Database, DbConnection, StoreError};
use crate::events::record_one;
use crate::rows::now;
use crate::schema::{care_plans, care_records, odometer_readings, vehicles};

#[derive(Debug, Clone)]
pub struct DieselCareRepository {
    db: Database,
}

impl DieselCareRepository {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

// Fields in the table's column order: writes return `all_columns`.
#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = care_plans)]
pub(crate) struct PlanRow {
    id: i64,
    vehicle_id: i64,
    kind: String,
    every_months: Option<i32>,
    every_km: Option<i32>,
    due_on: Option<NaiveDate>,
    since_on: NaiveDate,
    since_km: Option<i32>,
    since_done: bool,
    // Written for the reminders' query to find; a plan's due is computed
    // again from its schedule on the way out.
    #[allow(dead_code)]
    next_due_on: Option<NaiveDate>,
    #[allow(dead_code)]
    next_due_km: Option<i32>,
    #[allow(dead_code)]
    km_left: Option<i32>,
    cycle: i64,
    notified: i16,
    updated_at: NaiveDateTime,
}

fn corrupt(table: &str, id: i64, what: &str) -> Error {
    Error::Internal(anyhow!("{table} row {id}: bad {what}"))
}

/// A stored distance, checked again on the way out.
fn km_of(table: &str, id: i64, km: Option<i32>) -> Result<Option<Km>, Error> {
    km.map(|km| Km::parse(km.into()).map_err(|_| corrupt(table, id, "km")))
        .transpose()
}

fn km_column(km: Option<Km>) -> Option<i32> {
    // Km::MAX fits an i32.
    km.map(|km| km.get() as i32)
}

impl TryFrom<PlanRow> for Plan {
    type Error = Error;

    fn try_from(row: PlanRow) -> Result<Self, Error> {
        let bad = |what| corrupt("care_plans", row.id, what);
        Ok(Self {
            id: PlanId::parse(row.id).map_err(|_| bad("id"))?,
            vehicle_id: VehicleId::parse(row.vehicle_id).map_err(|_| bad("vehicle_id"))?,
            kind: row.kind.parse().map_err(|_| bad("kind"))?,
            schedule: Schedule {
                every_months: row
                    .every_months
                    .map(|m| EveryMonths::parse(m.into()).map_err(|_| bad("every_months")))
                    .transpose()?,
                every_km: km_of("care_plans", row.id, row.every_km)?,
                due_on: row.due_on,
            },
            since: Since {
                on: row.since_on,
                km: km_of("care_plans", row.id, row.since_km)?,
                done: row.since_done,
            },
            cycle: row.cycle,
            notified: CareStatus::from_level(row.notified),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

// Fields in the table's column order: writes return `all_columns`.
#[derive(Queryable, Selectable)]
#[diesel(table_name = odometer_readings)]
struct ReadingRow {
    id: i64,
    vehicle_id: i64,
    km: i32,
    read_on: NaiveDate,
    correction: bool,
    recorded_at: NaiveDateTime,
    actor: String,
}

impl TryFrom<ReadingRow> for Reading {
    type Error = Error;

    fn try_from(row: ReadingRow) -> Result<Self, Error> {
        let bad = |what| corrupt("odometer_readings", row.id, what);
        Ok(Self {
            id: ReadingId::parse(row.id).map_err(|_| bad("id"))?,
            vehicle_id: VehicleId::parse(row.vehicle_id).map_err(|_| bad("vehicle_id"))?,
            km: Km::parse(row.km.into()).map_err(|_| bad("km"))?,
            read_on: row.read_on,
            correction: row.correction,
            recorded_at: row.recorded_at.and_utc(),
            actor: row.actor,
        })
    }
}

// Fields in the table's column order: writes return `all_columns`.
#[derive(Queryable, Selectable)]
#[diesel(table_name = care_records)]
struct RecordRow {
    id: i64,
    vehicle_id: i64,
    kind: String,
    done_on: NaiveDate,
    km: Option<i32>,
    note: Option<String>,
    recorded_at: NaiveDateTime,
    actor: String,
}

impl TryFrom<RecordRow> for CareRecord {
    type Error = Error;

    fn try_from(row: RecordRow) -> Result<Self, Error> {
        let bad = |what| corrupt("care_records", row.id, what);
        Ok(Self {
            id: RecordId::parse(row.id).map_err(|_| bad("id"))?,
            vehicle_id: VehicleId::parse(row.vehicle_id).map_err(|_| bad("vehicle_id"))?,
            kind: row.kind.parse().map_err(|_| bad("kind"))?,
            done_on: row.done_on,
            km: km_of("care_records", row.id, row.km)?,
            note: row
                .note
                .as_deref()
                .map(Note::parse)
                .transpose()
                .map_err(|_| bad("note"))?,
            recorded_at: row.recorded_at.and_utc(),
            actor: row.actor,
        })
    }
}

/// Locks the vehicle's row for the transaction (PostgreSQL; SQLite's
/// writes are serial), or says there is none.
fn lock_vehicle(conn: &mut DbConnection, id: VehicleId) -> Result<(), StoreError> {
    let query = vehicles::table.find(id.get()).select(vehicles::id);
    // FOR NO KEY UPDATE: the foreign-key checks of other writes (a record
    // inserted for this vehicle) need not wait for it.
    let found: Option<i64> = match conn {
        DbConnection::Pg(pg) => query.for_no_key_update().first(pg).optional()?,
        other => query.first(other).optional()?,
    };
    match found {
        Some(_) => Ok(()),
        None => Err(Error::VehicleNotFound(id).into()),
    }
}

/// The reading an odometer shows on `on`: the last one taken that day or
/// before (the last recorded among those of one day).
fn reading_until(
    conn: &mut DbConnection,
    vehicle: VehicleId,
    on: NaiveDate,
) -> Result<Option<(i32, NaiveDate)>, StoreError> {
    Ok(odometer_readings::table
        .filter(odometer_readings::vehicle_id.eq(vehicle.get()))
        .filter(odometer_readings::read_on.le(on))
        .order((
            odometer_readings::read_on.desc(),
            odometer_readings::id.desc(),
        ))
        .select((odometer_readings::km, odometer_readings::read_on))
        .first(conn)
        .optional()?)
}

/// The first reading taken after `on` (the last recorded of that day: a
/// correction recorded later stands for the day).
fn reading_after(
    conn: &mut DbConnection,
    vehicle: VehicleId,
    on: NaiveDate,
) -> Result<Option<(i32, NaiveDate)>, StoreError> {
    Ok(odometer_readings::table
        .filter(odometer_readings::vehicle_id.eq(vehicle.get()))
        .filter(odometer_readings::read_on.gt(on))
        .order((odometer_readings::read_on, odometer_readings::id.desc()))
        .select((odometer_readings::km, odometer_readings::read_on))
        .first(conn)
        .optional()?)
}

fn backwards(km: Km, (bound, on): (i32, NaiveDate), later: bool) -> StoreError {
    Error::OdometerBackwards {
        km: km.get(),
        bound: bound.unsigned_abs(),
        on,
        later,
    }
    .into()
}

fn load_plan(
    conn: &mut DbConnection,
    vehicle: VehicleId,
    kind: &CareKind,
) -> Result<Option<Plan>, StoreError> {
    let row = care_plans::table
        .filter(care_plans::vehicle_id.eq(vehicle.get()))
        .filter(care_plans::kind.eq(kind.as_str()))
        .select(PlanRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Plan::try_from).transpose()?)
}

/// Holds a write to the plan version it expects, when it expects one (the
/// vehicle's row is locked, so the plan cannot change before the write).
fn expect(current: Option<&Plan>, expected: Option<PlanVersion>) -> Result<(), StoreError> {
    match expected {
        Some(expected) if current.map(Plan::version) != Some(expected) => Err(Error::Stale.into()),
        _ => Ok(()),
    }
}

/// Makes the vehicle show its latest reading, and a new version.
fn show_latest(conn: &mut DbConnection, vehicle: VehicleId) -> Result<(), StoreError> {
    let latest = reading_until(conn, vehicle, undated())?;
    diesel::update(vehicles::table.find(vehicle.get()))
        .set((
            vehicles::odometer_km.eq(latest.map(|(km, _)| km)),
            vehicles::version.eq(vehicles::version + 1),
            vehicles::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes each plan's distance left of `vehicles`: its due distance less
/// the vehicle's odometer (`NULL` without either), what the reminders'
/// index ranges over.
pub(crate) fn refresh_km_left(conn: &mut DbConnection, vehicles: &[i64]) -> Result<(), StoreError> {
    if vehicles.is_empty() {
        return Ok(());
    }
    let odometer = vehicles::table
        .filter(vehicles::id.eq(care_plans::vehicle_id))
        .select(vehicles::odometer_km)
        .single_value();
    diesel::update(care_plans::table.filter(care_plans::vehicle_id.eq_any(vehicles)))
        .set(care_plans::km_left.eq(care_plans::next_due_km - odometer))
        .execute(conn)?;
    Ok(())
}

/// A page of a vehicle's rows of `$table` (readings, records), the latest
/// recorded first, as `$item`s.
macro_rules! newest_first {
    ($conn:expr, $table:ident, $row:ty, $item:ty, $vehicle:expr, $page:expr) => {{
        let page: PageRequest = $page;
        let mut query = $table::table
            .filter($table::vehicle_id.eq($vehicle.get()))
            .order($table::id.desc())
            .limit(i64::from(page.limit.get()) + 1)
            .select(<$row>::as_select())
            .into_boxed();
        if let Some(after) = page.after {
            query = query.filter($table::id.lt(after));
        }
        let items = query
            .load($conn)?
            .into_iter()
            .map(<$item>::try_from)
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Page::from_rows(items, page.limit, |item: &$item| {
            item.id.get()
        }))
    }};
}

#[async_trait]
impl CareRepository for DieselCareRepository {
    async fn readings(
        &self,
        vehicle: VehicleId,
        page: PageRequest,
    ) -> Result<Page<Reading>, Error> {
        self.db
            .run(move |conn| {
                newest_first!(conn, odometer_readings, ReadingRow, Reading, vehicle, page)
            })
            .await
    }

    async fn record_reading(
        &self,
        vehicle: VehicleId,
        reading: NewReading,
        origin: Origin,
        event: NewEvent,
    ) -> Result<Reading, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    lock_vehicle(conn, vehicle)?;
                    if !reading.correction {
                        let km = i64::from(reading.km.get());
                        if let Some(before) = reading_until(conn, vehicle, reading.read_on)? {
                            if i64::from(before.0) > km {
                                return Err(backwards(reading.km, before, false));
                            }
                        }
                        if let Some(after) = reading_after(conn, vehicle, reading.read_on)? {
                            if i64::from(after.0) < km {
                                return Err(backwards(reading.km, after, true));
                            }
                        }
                    }
                    let row: ReadingRow = diesel::insert_into(odometer_readings::table)
                        .values((
                            odometer_readings::vehicle_id.eq(vehicle.get()),
                            odometer_readings::km.eq(reading.km.get() as i32),
                            odometer_readings::read_on.eq(reading.read_on),
                            odometer_readings::correction.eq(reading.correction),
                            odometer_readings::recorded_at.eq(now()),
                            odometer_readings::actor.eq(&origin.actor.name),
                        ))
                        .returning(odometer_readings::all_columns)
                        .get_result(conn)?;
                    show_latest(conn, vehicle)?;
                    refresh_km_left(conn, &[vehicle.get()])?;
                    record_one(conn, &origin, event)?;
                    Ok(Reading::try_from(row)?)
                })
            })
            .await
    }

    async fn odometer_on(&self, vehicle: VehicleId, on: NaiveDate) -> Result<Option<Km>, Error> {
        self.db
            .run(move |conn| {
                let reading = reading_until(conn, vehicle, on)?;
                Ok(km_of(
                    "odometer_readings",
                    vehicle.get(),
                    reading.map(|(km, _)| km),
                )?)
            })
            .await
    }

    async fn plans(&self, vehicle: VehicleId) -> Result<Vec<Plan>, Error> {
        self.db
            .run(move |conn| {
                let rows = care_plans::table
                    .filter(care_plans::vehicle_id.eq(vehicle.get()))
                    .order(care_plans::kind)
                    .select(PlanRow::as_select())
                    .load(conn)?;
                Ok(rows
                    .into_iter()
                    .map(Plan::try_from)
                    .collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    async fn put_plan(
        &self,
        vehicle: VehicleId,
        kind: CareKind,
        state: PlanState,
        expected: Option<PlanVersion>,
        origin: Origin,
        event: NewEvent,
    ) -> Result<Plan, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    lock_vehicle(conn, vehicle)?;
                    let current = load_plan(conn, vehicle, &kind)?;
                    expect(current.as_ref(), expected)?;
                    let columns = (
                        care_plans::every_months
                            .eq(state.schedule.every_months.map(|m| i32::from(m.get()))),
                        care_plans::every_km.eq(km_column(state.schedule.every_km)),
                        care_plans::due_on.eq(state.schedule.due_on),
                        care_plans::since_on.eq(state.since.on),
                        care_plans::since_km.eq(km_column(state.since.km)),
                        care_plans::since_done.eq(state.since.done),
                        care_plans::next_due_on.eq(state.due.on),
                        care_plans::next_due_km.eq(km_column(state.due.km)),
                        care_plans::notified.eq(CareStatus::Ok.level()),
                        care_plans::updated_at.eq(now()),
                    );
                    let row: PlanRow = match current {
                        Some(plan) => diesel::update(care_plans::table.find(plan.id.get()))
                            .set((columns, care_plans::cycle.eq(care_plans::cycle + 1)))
                            .returning(care_plans::all_columns)
                            .get_result(conn)?,
                        None => diesel::insert_into(care_plans::table)
                            .values((
                                care_plans::vehicle_id.eq(vehicle.get()),
                                care_plans::kind.eq(kind.as_str()),
                                care_plans::cycle.eq(1),
                                columns,
                            ))
                            .returning(care_plans::all_columns)
                            .get_result(conn)?,
                    };
                    refresh_km_left(conn, &[vehicle.get()])?;
                    record_one(conn, &origin, event)?;
                    Ok(Plan::try_from(row)?)
                })
            })
            .await
    }

    async fn delete_plan(
        &self,
        vehicle: VehicleId,
        kind: CareKind,
        expected: Option<PlanVersion>,
        origin: Origin,
        event: NewEvent,
    ) -> Result<(), Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    lock_vehicle(conn, vehicle)?;
                    let plan =
                        load_plan(conn, vehicle, &kind)?.ok_or_else(|| Error::PlanNotFound {
                            vehicle,
                            kind: kind.to_string(),
                        })?;
                    expect(Some(&plan), expected)?;
                    diesel::delete(care_plans::table.find(plan.id.get())).execute(conn)?;
                    record_one(conn, &origin, event)
                })
            })
            .await
    }

    async fn record_done(
        &self,
        plan: Plan,
        done: Done,
        state: PlanState,
        origin: Origin,
        event: NewEvent,
    ) -> Result<(Plan, CareRecord), Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    // The vehicle first, as every write about it: no two
                    // of them wait for each other's rows.
                    lock_vehicle(conn, plan.vehicle_id)?;
                    let advanced: Option<PlanRow> = diesel::update(
                        care_plans::table
                            .find(plan.id.get())
                            .filter(care_plans::cycle.eq(plan.cycle)),
                    )
                    .set((
                        care_plans::due_on.eq(state.schedule.due_on),
                        care_plans::since_on.eq(state.since.on),
                        care_plans::since_km.eq(km_column(state.since.km)),
                        care_plans::since_done.eq(state.since.done),
                        care_plans::next_due_on.eq(state.due.on),
                        care_plans::next_due_km.eq(km_column(state.due.km)),
                        care_plans::cycle.eq(care_plans::cycle + 1),
                        care_plans::notified.eq(CareStatus::Ok.level()),
                        care_plans::updated_at.eq(now()),
                    ))
                    .returning(care_plans::all_columns)
                    .get_result(conn)
                    .optional()?;
                    let Some(advanced) = advanced else {
                        return Err(match load_plan(conn, plan.vehicle_id, &plan.kind)? {
                            Some(_) => Error::Stale,
                            None => Error::PlanNotFound {
                                vehicle: plan.vehicle_id,
                                kind: plan.kind.to_string(),
                            },
                        }
                        .into());
                    };
                    let record: RecordRow = diesel::insert_into(care_records::table)
                        .values((
                            care_records::vehicle_id.eq(plan.vehicle_id.get()),
                            care_records::kind.eq(plan.kind.as_str()),
                            care_records::done_on.eq(done.done_on),
                            care_records::km.eq(km_column(done.km)),
                            care_records::note.eq(done.note.as_ref().map(Note::as_str)),
                            care_records::recorded_at.eq(now()),
                            care_records::actor.eq(&origin.actor.name),
                        ))
                        .returning(care_records::all_columns)
                        .get_result(conn)?;
                    refresh_km_left(conn, &[plan.vehicle_id.get()])?;
                    record_one(conn, &origin, event)?;
                    Ok((Plan::try_from(advanced)?, CareRecord::try_from(record)?))
                })
            })
            .await
    }

    async fn records(
        &self,
        vehicle: VehicleId,
        page: PageRequest,
    ) -> Result<Page<CareRecord>, Error> {
        self.db
            .run(move |conn| {
                newest_first!(conn, care_records, RecordRow, CareRecord, vehicle, page)
            })
            .await
    }

    async fn reminders(
        &self,
        filter: ReminderFilter,
        horizon: Horizon,
        after: Option<ReminderCursor>,
        limit: Limit,
    ) -> Result<ReminderPage, Error> {
        self.db
            .run(move |conn| reminders::page(conn, &filter, horizon, after, limit))
            .await
    }

    async fn unnotified(&self, horizon: Horizon, limit: Limit) -> Result<Vec<Reminder>, Error> {
        self.db
            .run(move |conn| reminders::unnotified(conn, horizon, limit))
            .await
    }

    async fn notify(
        &self,
        plan: PlanId,
        cycle: i64,
        status: CareStatus,
        event: NewEvent,
        origin: Origin,
    ) -> Result<bool, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    let marked = diesel::update(
                        care_plans::table
                            .find(plan.get())
                            .filter(care_plans::cycle.eq(cycle))
                            .filter(care_plans::notified.lt(status.level())),
                    )
                    .set(care_plans::notified.eq(status.level()))
                    .execute(conn)?;
                    if marked == 0 {
                        return Ok(false);
                    }
                    record_one(conn, &origin, event)?;
                    Ok(true)
                })
            })
            .await
    }

    async fn create_token(
        &self,
        key: garage_domain::access::KeyId,
        name: garage_domain::access::KeyName,
        prefix: String,
        hash: garage_domain::access::KeyHash,
        garages: Option<Vec<garage_domain::GarageId>>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<garage_domain::care::CalendarToken, Error> {
        calendar::create(&self.db, key, name, prefix, hash, garages, at).await
    }

    async fn tokens(&self) -> Result<Vec<garage_domain::care::CalendarToken>, Error> {
        calendar::list(&self.db).await
    }

    async fn token_by_hash(
        &self,
        hash: garage_domain::access::KeyHash,
    ) -> Result<Option<garage_domain::care::CalendarToken>, Error> {
        calendar::by_hash(&self.db, hash).await
    }

    async fn revoke_token(
        &self,
        id: garage_domain::CalendarId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<garage_domain::care::CalendarToken, Error> {
        calendar::revoke(&self.db, id, at).await
    }
}
