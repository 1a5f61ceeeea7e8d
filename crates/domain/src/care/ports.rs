//! Where readings, plans, the work done and calendar tokens are kept.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::models::{
    CalendarToken, CareKind, CareRecord, CareStatus, Done, Horizon, Km, NewReading, Plan,
    PlanState, PlanVersion, Reading, Reminder, ReminderCursor, ReminderFilter, ReminderPage,
};
use crate::access::{KeyHash, KeyId, KeyName};
use crate::error::Error;
use crate::events::{NewEvent, Origin};
use crate::paging::{Page, PageRequest};
use crate::values::{CalendarId, GarageId, Limit, PlanId, VehicleId};

/// Stores a fleet's care. Each write records its `event` (by `origin`) in
/// its own transaction. Every method MUST return `Error::Unavailable`
/// when the store cannot be reached in time, and those naming a vehicle
/// `Error::VehicleNotFound` when there is none.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CareRepository: Send + Sync + 'static {
    /// The vehicle's readings, newest first (by date, then as recorded),
    /// those with an id below `page.after` when set.
    async fn readings(&self, vehicle: VehicleId, page: PageRequest)
        -> Result<Page<Reading>, Error>;

    /// Records a reading; the vehicle's odometer becomes its latest reading
    /// by date, and its version moves on.
    ///
    /// Unless it is a correction, MUST return `Error::OdometerBackwards`
    /// when `reading.km` is below a reading taken on or before its date, or
    /// above one taken after it, checked atomically with the write.
    async fn record_reading(
        &self,
        vehicle: VehicleId,
        reading: NewReading,
        origin: Origin,
        event: NewEvent,
    ) -> Result<Reading, Error>;

    /// What the vehicle's odometer showed on `on`: its last reading taken
    /// on that day or before.
    async fn odometer_on(&self, vehicle: VehicleId, on: NaiveDate) -> Result<Option<Km>, Error>;

    /// The vehicle's plans, by kind.
    async fn plans(&self, vehicle: VehicleId) -> Result<Vec<Plan>, Error>;

    /// Creates or replaces the vehicle's plan of `kind`; a replaced plan
    /// starts a new cycle, its reminders not yet sent. With `expected`,
    /// MUST return `Error::Stale` unless a plan at that cycle is there,
    /// checked atomically with the write.
    async fn put_plan(
        &self,
        vehicle: VehicleId,
        kind: CareKind,
        state: PlanState,
        expected: Option<PlanVersion>,
        origin: Origin,
        event: NewEvent,
    ) -> Result<Plan, Error>;

    /// Deletes the plan (if still at cycle `expected`, when given); its
    /// records stay. MUST return `Error::PlanNotFound` when there is none,
    /// `Error::Stale` when it is at another cycle.
    async fn delete_plan(
        &self,
        vehicle: VehicleId,
        kind: CareKind,
        expected: Option<PlanVersion>,
        origin: Origin,
        event: NewEvent,
    ) -> Result<(), Error>;

    /// Records the work done on `plan` and advances it to `state`, a new
    /// cycle, if it is still at `plan.cycle`. MUST return `Error::Stale`
    /// when it has changed since, `Error::PlanNotFound` when it is gone.
    async fn record_done(
        &self,
        plan: Plan,
        done: Done,
        state: PlanState,
        origin: Origin,
        event: NewEvent,
    ) -> Result<(Plan, CareRecord), Error>;

    /// The work recorded on the vehicle, newest first (by date, then as
    /// recorded), those with an id below `page.after` when set.
    async fn records(
        &self,
        vehicle: VehicleId,
        page: PageRequest,
    ) -> Result<Page<CareRecord>, Error>;

    /// Up to `limit` plans that are due soon or overdue at `horizon` (as
    /// [`super::Due::status`] says) and match `filter`, in reminder order
    /// (see [`ReminderCursor`]), after `after` when set.
    async fn reminders(
        &self,
        filter: ReminderFilter,
        horizon: Horizon,
        after: Option<ReminderCursor>,
        limit: Limit,
    ) -> Result<ReminderPage, Error>;

    /// Up to `limit` plans more urgent at `horizon` than the last reminder
    /// sent for them in their cycle.
    async fn unnotified(&self, horizon: Horizon, limit: Limit) -> Result<Vec<Reminder>, Error>;

    /// Marks the plan as reminded at `status` in `cycle` and records
    /// `event`, both or neither, if the plan is still in `cycle` and was
    /// not yet reminded at `status` or above; whether it did. MUST do it
    /// once, whatever the number of instances calling it at once.
    async fn notify(
        &self,
        plan: PlanId,
        cycle: i64,
        status: CareStatus,
        event: NewEvent,
        origin: Origin,
    ) -> Result<bool, Error>;

    async fn create_token(
        &self,
        key: KeyId,
        name: KeyName,
        prefix: String,
        hash: KeyHash,
        garages: Option<Vec<GarageId>>,
        at: DateTime<Utc>,
    ) -> Result<CalendarToken, Error>;

    /// Every token not revoked, in id order.
    async fn tokens(&self) -> Result<Vec<CalendarToken>, Error>;

    /// The token with this hash, revoked or not, with its key as it is now.
    async fn token_by_hash(&self, hash: KeyHash) -> Result<Option<CalendarToken>, Error>;

    /// MUST return `Error::CalendarNotFound` when there is no such token.
    async fn revoke_token(&self, id: CalendarId, at: DateTime<Utc>)
        -> Result<CalendarToken, Error>;
}
