//! The care use cases: readings, plans, work done, reminders and the
//! calendar tokens that read them.

use std::sync::Arc;

use chrono::NaiveDate;

use super::models::{
    CalendarSecret, CalendarToken, Care, CareKind, CareRecord, CareStatus, Done, Due, Horizon, Km,
    NewReading, Plan, PlanState, PlanVersion, Preset, Reading, ReminderCursor, ReminderFilter,
    ReminderPage, Schedule, Since, Thresholds, INSPECTION_EVERY_MONTHS, INSPECTION_FIRST_MONTHS,
};
use super::ports::CareRepository;
use crate::access::{KeyName, Reach};
use crate::clock::{Clock, Zone};
use crate::error::Error;
use crate::events::{Actor, NewEvent, Origin};
use crate::paging::{Page, PageRequest};
use crate::values::{CalendarId, Limit, VehicleId};
use crate::vehicles::{Vehicle, VehicleRepository};

/// A plan as asked for: a schedule, or a preset that fills it from the
/// vehicle; and when it was last done, if known.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanInput {
    pub schedule: Schedule,
    pub preset: Option<Preset>,
    pub last_done_on: Option<NaiveDate>,
    pub last_done_km: Option<super::Km>,
}

/// Everything a user can do with the fleet's care.
#[derive(Clone)]
pub struct CareService {
    store: Arc<dyn CareRepository>,
    vehicles: Arc<dyn VehicleRepository>,
    clock: Arc<dyn Clock>,
    /// Where the fleet's days begin: what today is.
    zone: Zone,
    thresholds: Thresholds,
    /// What the caller may see, as for the fleet.
    reach: Reach,
    origin: Origin,
    /// Whether the caller may record an odometer correction.
    admin: bool,
}

impl std::fmt::Debug for CareService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CareService")
            .field("thresholds", &self.thresholds)
            .field("zone", &self.zone.name())
            .finish_non_exhaustive()
    }
}

impl CareService {
    pub fn new(
        store: Arc<dyn CareRepository>,
        vehicles: Arc<dyn VehicleRepository>,
        clock: Arc<dyn Clock>,
        thresholds: Thresholds,
    ) -> Self {
        Self {
            store,
            vehicles,
            clock,
            zone: Zone::UTC,
            thresholds,
            reach: Reach::Everything,
            origin: Origin::anonymous(),
            admin: false,
        }
    }

    /// The care a caller limited to `reach` sees, acting as `origin`, an
    /// admin or not.
    #[must_use]
    pub fn for_caller(&self, reach: Reach, origin: Origin, admin: bool) -> Self {
        Self {
            reach,
            origin,
            admin,
            ..self.clone()
        }
    }

    /// Its days counted in `zone` (UTC until told).
    #[must_use]
    pub fn in_zone(self, zone: Zone) -> Self {
        Self { zone, ..self }
    }

    /// Today where the fleet is, as the service's clock says.
    pub fn today(&self) -> NaiveDate {
        self.zone.today(self.clock.now())
    }

    fn horizon(&self) -> Horizon {
        Horizon {
            today: self.today(),
            thresholds: self.thresholds,
        }
    }

    /// The vehicle, if the caller may reach it.
    async fn vehicle(&self, id: VehicleId) -> Result<Vehicle, Error> {
        crate::vehicles::reachable(&*self.vehicles, &self.reach, id).await
    }

    /// A day that has come: today where the caller is, which may be a day
    /// ahead of the fleet's (a depot further east than the fleet's zone).
    fn not_after_today(&self, field: &'static str, date: NaiveDate) -> Result<(), Error> {
        let latest = self.today().succ_opt().unwrap_or(NaiveDate::MAX);
        if date > latest {
            return Err(Error::CareRefused {
                field,
                message: format!(
                    "must not be a day to come (today is {} in {})",
                    self.today(),
                    self.zone.name()
                ),
            });
        }
        Ok(())
    }

    /// # Errors
    /// `VehicleNotFound`, or the store's errors.
    pub async fn readings(&self, id: VehicleId, page: PageRequest) -> Result<Page<Reading>, Error> {
        self.vehicle(id).await?;
        self.store.readings(id, page).await
    }

    /// Records an odometer reading taken on or before today; one below an
    /// earlier reading (or above a later one) only as an admin's correction.
    ///
    /// # Errors
    /// `VehicleNotFound`, `CareRefused` for a date to come, `AdminOnly` for
    /// a correction by another key, `OdometerBackwards`, or the store's errors.
    pub async fn record_reading(
        &self,
        id: VehicleId,
        reading: NewReading,
    ) -> Result<Reading, Error> {
        self.not_after_today("read_on", reading.read_on)?;
        if reading.correction && !self.admin {
            return Err(Error::AdminOnly("record an odometer correction"));
        }
        let vehicle = self.vehicle(id).await?;
        let event = NewEvent::odometer_recorded(&vehicle, &reading);
        self.store
            .record_reading(id, reading, self.origin.clone(), event)
            .await
    }

    /// The vehicle's plans, each with when it is due and how urgent, and
    /// the latest work recorded on it.
    ///
    /// # Errors
    /// `VehicleNotFound`, or the store's errors.
    pub async fn care(&self, id: VehicleId) -> Result<Care, Error> {
        let (odometer, plans) = self.plans(id).await?;
        let latest = PageRequest {
            limit: Limit::LARGEST,
            after: None,
        };
        let records = self.store.records(id, latest).await?.items;
        Ok(Care {
            odometer,
            plans,
            records,
        })
    }

    /// The vehicle's plan of `kind` with when it is due and how urgent;
    /// `None` when it has none.
    ///
    /// # Errors
    /// `VehicleNotFound`, or the store's errors.
    pub async fn plan(
        &self,
        id: VehicleId,
        kind: &CareKind,
    ) -> Result<Option<(Plan, Due, CareStatus)>, Error> {
        let (_, plans) = self.plans(id).await?;
        Ok(plans.into_iter().find(|(plan, _, _)| plan.kind == *kind))
    }

    /// The vehicle's odometer, and its plans with when each is due and how
    /// urgent today.
    async fn plans(
        &self,
        id: VehicleId,
    ) -> Result<(Option<Km>, Vec<(Plan, Due, CareStatus)>), Error> {
        let vehicle = self.vehicle(id).await?;
        let today = self.today();
        let plans = self
            .store
            .plans(id)
            .await?
            .into_iter()
            .map(|plan| {
                let due = plan.due();
                let status = due.status(today, vehicle.odometer, self.thresholds);
                (plan, due, status)
            })
            .collect();
        Ok((vehicle.odometer, plans))
    }

    /// The work recorded on the vehicle, newest first.
    ///
    /// # Errors
    /// `VehicleNotFound`, or the store's errors.
    pub async fn records(
        &self,
        id: VehicleId,
        page: PageRequest,
    ) -> Result<Page<CareRecord>, Error> {
        self.vehicle(id).await?;
        self.store.records(id, page).await
    }

    /// Sets up (or replaces) the vehicle's plan of `kind`. A preset fills
    /// the schedule from the vehicle: the contrôle technique is due four
    /// years after the first registration, then every two years.
    ///
    /// With `expected` (an `If-Match`), only over the plan at that cycle.
    ///
    /// # Errors
    /// `VehicleNotFound`, `CareRefused` (no schedule, a preset without what
    /// it needs, a date to come), `Stale`, or the store's errors.
    pub async fn put_plan(
        &self,
        id: VehicleId,
        kind: CareKind,
        input: PlanInput,
        expected: Option<PlanVersion>,
    ) -> Result<Plan, Error> {
        if let Some(done) = input.last_done_on {
            self.not_after_today("last_done_on", done)?;
        }
        let vehicle = self.vehicle(id).await?;
        // A replace builds on the plan it read, so it is written over that
        // plan only (its cycle): without If-Match, read again if another
        // write came first; with it, that is the caller's 412.
        for _ in 0..3 {
            let replaced = self
                .store
                .plans(id)
                .await?
                .into_iter()
                .find(|p| p.kind == kind);
            let guard = expected.or(replaced.as_ref().map(Plan::version));
            let state = self.plan_state(&vehicle, &input, replaced).await?;
            let event = NewEvent::care_plan_set(&vehicle, &kind, &state);
            match self
                .store
                .put_plan(id, kind.clone(), state, guard, self.origin.clone(), event)
                .await
            {
                Err(Error::Stale) if expected.is_none() => continue,
                done => return done,
            }
        }
        Err(Error::Stale)
    }

    /// The plan `input` asks for, on `vehicle`, over `replaced` if any.
    async fn plan_state(
        &self,
        vehicle: &Vehicle,
        input: &PlanInput,
        replaced: Option<Plan>,
    ) -> Result<PlanState, Error> {
        let id = vehicle.id;
        // Where the plan counts from: when it was last done, as told (its
        // distance then, or the reading of that day); else, for a plan
        // replaced, where it counted from; else today and the odometer now.
        let since = match (input.last_done_on, input.last_done_km, replaced) {
            (Some(on), km, _) => Since {
                on,
                km: match km {
                    Some(km) => Some(km),
                    None => self.store.odometer_on(id, on).await?,
                },
                done: true,
            },
            (None, Some(_), _) => {
                return Err(Error::CareRefused {
                    field: "last_done_km",
                    message: "needs last_done_on, the day it was done at that distance".into(),
                })
            }
            (None, None, Some(plan)) => {
                let mut since = plan.since;
                // Set up before any reading: the reading of that day, else
                // (never done) the odometer now.
                if since.km.is_none() {
                    since.km = self.store.odometer_on(id, since.on).await?;
                }
                if since.km.is_none() && !since.done {
                    since.km = vehicle.odometer;
                }
                since
            }
            (None, None, None) => Since {
                on: self.today(),
                km: vehicle.odometer,
                done: false,
            },
        };
        let mut schedule = input.schedule;
        if let Some(Preset::ControleTechnique) = input.preset {
            schedule.every_months = Some(INSPECTION_EVERY_MONTHS);
            if !since.done && schedule.due_on.is_none() {
                let registered = vehicle.registered_on.ok_or_else(|| Error::CareRefused {
                    field: "preset",
                    message: "the contrôle technique counts from the vehicle's registered_on, which it lacks".into(),
                })?;
                schedule.due_on =
                    Some(INSPECTION_FIRST_MONTHS.after(registered).ok_or_else(|| {
                        Error::CareRefused {
                            field: "preset",
                            message: "the first contrôle technique would fall after the year 9999"
                                .into(),
                        }
                    })?);
            }
        }
        if schedule.is_empty() {
            return Err(Error::CareRefused {
                field: "every_months",
                message: "a plan needs every_months, every_km, due_on or a preset".into(),
            });
        }
        // A distance counts from a known reading, never from zero.
        if schedule.every_km.is_some() && since.km.is_none() {
            return Err(Error::CareRefused {
                field: "last_done_km",
                message: "a plan by distance counts from a known odometer: give last_done_on and last_done_km, or record a reading first".into(),
            });
        }
        Ok(PlanState::new(schedule, since))
    }

    /// With `expected` (an `If-Match`), only the plan at that cycle.
    ///
    /// # Errors
    /// `VehicleNotFound`, `PlanNotFound`, `Stale`, or the store's errors.
    pub async fn delete_plan(
        &self,
        id: VehicleId,
        kind: CareKind,
        expected: Option<PlanVersion>,
    ) -> Result<(), Error> {
        let vehicle = self.vehicle(id).await?;
        let event = NewEvent::care_plan_deleted(&vehicle, &kind);
        self.store
            .delete_plan(id, kind, expected, self.origin.clone(), event)
            .await
    }

    /// Records work done on the plan of `kind`, which then counts from it:
    /// its next due date and distance move on, and a new cycle of reminders
    /// begins. Without a distance, the vehicle's latest reading counts.
    ///
    /// # Errors
    /// `VehicleNotFound`, `PlanNotFound`, `CareRefused` for a date to come,
    /// `Stale` when the plan changed meanwhile, or the store's errors.
    pub async fn mark_done(
        &self,
        id: VehicleId,
        kind: CareKind,
        mut done: Done,
    ) -> Result<(Plan, CareRecord), Error> {
        self.not_after_today("done_on", done.done_on)?;
        let vehicle = self.vehicle(id).await?;
        let plan = self
            .store
            .plans(id)
            .await?
            .into_iter()
            .find(|p| p.kind == kind)
            .ok_or_else(|| Error::PlanNotFound {
                vehicle: id,
                kind: kind.to_string(),
            })?;
        if plan.since.done && done.done_on < plan.since.on {
            return Err(Error::CareRefused {
                field: "done_on",
                message: format!("is before the last time it was done ({})", plan.since.on),
            });
        }
        // The odometer that day, when not told: the last reading on or before it.
        if done.km.is_none() {
            done.km = self.store.odometer_on(id, done.done_on).await?;
        }
        if plan.schedule.every_km.is_some() && done.km.is_none() {
            return Err(Error::CareRefused {
                field: "km",
                message: "this plan counts by distance: give the odometer when it was done".into(),
            });
        }
        let current = PlanState::new(plan.schedule, plan.since);
        let next = current.done(done.done_on, done.km, done.next_due_on);
        let event = NewEvent::care_done(&vehicle, &kind, &done, &next);
        self.store
            .record_done(plan, done, next, self.origin.clone(), event)
            .await
    }

    /// The plans due soon or overdue, within the caller's reach: overdue
    /// first, then by due date.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn reminders(
        &self,
        mut filter: ReminderFilter,
        after: Option<ReminderCursor>,
        limit: Limit,
    ) -> Result<ReminderPage, Error> {
        filter.within = self.reach.garages();
        if let Some(garage) = filter.garage_id {
            if !self.reach.allows(garage) {
                return Ok(ReminderPage {
                    items: Vec::new(),
                    next: None,
                });
            }
        }
        self.store
            .reminders(filter, self.horizon(), after, limit)
            .await
    }

    /// Records one `care.due_soon` or `care.overdue` event for each plan
    /// that became so since its last reminder, up to `limit` plans; how
    /// many it recorded. Safe to run on every instance at once: the store
    /// records each once. The events name `instance` (as their request
    /// id, `scheduler:<instance>`), so an operator sees which one did.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn send_reminders(&self, limit: Limit, instance: &str) -> Result<usize, Error> {
        let due = self.store.unnotified(self.horizon(), limit).await?;
        let origin = Origin::new(Actor::scheduler(), Some(format!("scheduler:{instance}")));
        let mut sent = 0;
        for reminder in due {
            let event = NewEvent::care_due(&reminder);
            let recorded = self
                .store
                .notify(
                    reminder.plan.id,
                    reminder.plan.cycle,
                    reminder.status,
                    event,
                    origin.clone(),
                )
                .await?;
            sent += usize::from(recorded);
        }
        Ok(sent)
    }

    /// A calendar token for the caller's reach, living as long as the
    /// caller's key; its secret is shown once.
    ///
    /// # Errors
    /// `KeyRequired` for a caller without a named key, or the store's errors.
    pub async fn create_token(
        &self,
        name: KeyName,
    ) -> Result<(CalendarToken, CalendarSecret), Error> {
        let key = self
            .origin
            .actor
            .key_id
            .ok_or(Error::KeyRequired("a calendar address"))?;
        let secret = CalendarSecret::generate();
        let token = self
            .store
            .create_token(
                key,
                name,
                secret.prefix(),
                secret.hash(),
                self.reach.garages(),
                self.clock.now(),
            )
            .await?;
        Ok((token, secret))
    }

    /// The tokens whose garages are all within the caller's reach.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn tokens(&self) -> Result<Vec<CalendarToken>, Error> {
        let mut tokens = self.store.tokens().await?;
        // Those whose key was revoked read nothing any more: not listed.
        tokens.retain(|t| t.key.valid && self.covers(t));
        Ok(tokens)
    }

    fn covers(&self, token: &CalendarToken) -> bool {
        match (&self.reach, &token.garages) {
            (Reach::Everything, _) => true,
            (Reach::Garages(_), None) => false,
            (Reach::Garages(_), Some(ids)) => ids.iter().all(|g| self.reach.allows(*g)),
        }
    }

    /// # Errors
    /// `CalendarNotFound` (for a token beyond the caller's reach too), or
    /// the store's errors.
    pub async fn revoke_token(&self, id: CalendarId) -> Result<(), Error> {
        let visible = self.tokens().await?.iter().any(|t| t.id == id);
        if !visible {
            return Err(Error::CalendarNotFound(id));
        }
        self.store.revoke_token(id, self.clock.now()).await?;
        Ok(())
    }

    /// The care that a calendar token may read: its garages, no writes.
    /// `None` for a token that is unknown, revoked, or not one at all.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn calendar(&self, given: &str) -> Result<Option<Self>, Error> {
        let Some(secret) = CalendarSecret::given(given) else {
            return Ok(None);
        };
        let hash = secret.hash();
        let token = self.store.token_by_hash(hash).await?;
        Ok(token
            .and_then(|t| t.reach())
            .map(|reach| self.for_caller(reach, Origin::anonymous(), false)))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::care::{CareStatus, Due, DueVehicle, EveryMonths, Km, MockCareRepository, Reminder};
    use crate::clock::MockClock;
    use crate::events::EventKind;
    use crate::fleet::fixtures::{new_vehicle, vehicle};
    use crate::values::{GarageId, PlanId};
    use crate::vehicles::MockVehicleRepository;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn km(n: u32) -> Km {
        Km::parse(i64::from(n)).unwrap()
    }

    /// A clock stopped at noon on 30 November 2026.
    fn clock() -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap());
        Arc::new(clock)
    }

    /// Vehicle 5 in garage 1, registered on `registered`, its odometer at `odometer`.
    fn vehicles(registered: Option<&str>, odometer: Option<u32>) -> MockVehicleRepository {
        let mut stored = vehicle(5, &new_vehicle(1, "AB-123-CD"));
        stored.registered_on = registered.map(day);
        stored.odometer = odometer.map(km);
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_get()
            .returning(move |id| Ok((id == VehicleId(5)).then(|| stored.clone())));
        vehicles
    }

    fn service(store: MockCareRepository, vehicles: MockVehicleRepository) -> CareService {
        CareService::new(
            Arc::new(store),
            Arc::new(vehicles),
            clock(),
            Thresholds::default(),
        )
    }

    /// A store holding `plans` and readings `(day, km)`, in date order.
    fn store(plans: Vec<Plan>, readings: &'static [(&'static str, u32)]) -> MockCareRepository {
        let mut store = MockCareRepository::new();
        store.expect_plans().returning(move |_| Ok(plans.clone()));
        store.expect_odometer_on().returning(move |_, on| {
            Ok(readings
                .iter()
                .rfind(|(d, _)| day(d) <= on)
                .map(|(_, k)| km(*k)))
        });
        store
    }

    fn plan(kind: CareKind, state: &PlanState, cycle: i64) -> Plan {
        Plan {
            id: PlanId(8),
            vehicle_id: VehicleId(5),
            kind,
            schedule: state.schedule,
            since: state.since,
            cycle,
            notified: CareStatus::Ok,
            updated_at: Utc::now(),
        }
    }

    /// Half past midnight in Paris on 1 December, still 30 November in UTC.
    fn paris_after_midnight() -> CareService {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| Utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap());
        CareService::new(
            Arc::new(MockCareRepository::new()),
            Arc::new(vehicles(None, None)),
            Arc::new(clock),
            Thresholds::default(),
        )
        .in_zone(Zone::parse("Europe/Paris").unwrap())
    }

    #[tokio::test]
    async fn the_fleets_days_are_counted_in_its_zone() {
        let care = paris_after_midnight();
        assert_eq!(care.today(), day("2026-12-01"));
        // The reminder round looks for what is due as of the fleet's day.
        let mut store = MockCareRepository::new();
        store
            .expect_unnotified()
            .withf(|horizon, _| horizon.today == day("2026-12-01"))
            .times(1)
            .returning(|_, _| Ok(vec![]));
        let care = CareService {
            store: Arc::new(store),
            ..care
        };
        assert_eq!(
            care.send_reminders(Limit::parse(10).unwrap(), "a")
                .await
                .unwrap(),
            0
        );
        // A reading may be dated the day after the fleet's today, not later,
        // and the refusal says which day and zone it counted in.
        let err = care
            .record_reading(
                VehicleId(5),
                NewReading {
                    km: km(10),
                    read_on: day("2026-12-03"),
                    correction: false,
                },
            )
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("today is 2026-12-01 in Europe/Paris"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_controle_technique_is_due_four_years_after_registration_then_every_two() {
        let mut store = store(vec![], &[]);
        store
            .expect_put_plan()
            .withf(|id, kind, state, _, _, _| {
                *id == VehicleId(5)
                    && *kind == CareKind::Inspection
                    && state.due.on == Some(day("2027-02-28"))
                    && state.schedule.every_months == EveryMonths::parse(24).ok()
            })
            .returning(|_, kind, state, _, _, _| Ok(plan(kind, &state, 1)));
        let care = service(store, vehicles(Some("2023-02-28"), None));
        let input = PlanInput {
            preset: Some(Preset::ControleTechnique),
            ..PlanInput::default()
        };
        let put = care
            .put_plan(VehicleId(5), CareKind::Inspection, input, None)
            .await
            .unwrap();
        // Done on time: the next is two years on.
        let next = PlanState::new(put.schedule, put.since).done(day("2027-02-10"), None, None);
        assert_eq!(next.due.on, Some(day("2029-02-10")));
    }

    #[tokio::test]
    async fn the_preset_needs_a_registration_date_and_a_plan_needs_a_schedule() {
        let care = service(store(vec![], &[]), vehicles(None, None));
        let preset = PlanInput {
            preset: Some(Preset::ControleTechnique),
            ..PlanInput::default()
        };
        let err = care
            .put_plan(VehicleId(5), CareKind::Inspection, preset, None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::CareRefused {
                    field: "preset",
                    ..
                }
            ),
            "{err:?}"
        );
        let err = care
            .put_plan(VehicleId(5), CareKind::Service, PlanInput::default(), None)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::CareRefused { .. }), "{err:?}");
        let later = PlanInput {
            schedule: Schedule {
                every_km: Some(km(10_000)),
                ..Schedule::default()
            },
            last_done_on: Some(day("2026-12-02")),
            ..PlanInput::default()
        };
        let err = care
            .put_plan(VehicleId(5), CareKind::Service, later, None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::CareRefused {
                    field: "last_done_on",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_new_plan_counts_its_distance_from_the_odometer_now() {
        let mut store = store(vec![], &[]);
        store
            .expect_put_plan()
            .withf(|_, _, state, _, _, _| {
                state.since.on == day("2026-11-30")
                    && !state.since.done
                    && state.due.km == Some(km(57_000))
            })
            .returning(|_, kind, state, _, _, _| Ok(plan(kind, &state, 1)));
        let care = service(store, vehicles(None, Some(42_000)));
        let input = PlanInput {
            schedule: Schedule {
                every_km: Some(km(15_000)),
                ..Schedule::default()
            },
            ..PlanInput::default()
        };
        care.put_plan(VehicleId(5), CareKind::Service, input, None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn only_an_admin_records_a_correction_and_never_a_reading_to_come() {
        let correction = NewReading {
            km: km(100),
            read_on: day("2026-11-29"),
            correction: true,
        };
        let care = service(MockCareRepository::new(), vehicles(None, Some(5_000)));
        let err = care
            .record_reading(VehicleId(5), correction)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::AdminOnly(_)), "{err:?}");
        let tomorrow = NewReading {
            read_on: day("2026-12-02"),
            correction: false,
            ..correction
        };
        let err = care
            .record_reading(VehicleId(5), tomorrow)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::CareRefused {
                    field: "read_on",
                    ..
                }
            ),
            "{err:?}"
        );

        let mut store = MockCareRepository::new();
        store
            .expect_record_reading()
            .withf(move |id, r, origin, event| {
                *id == VehicleId(5)
                    && *r == correction
                    && origin.actor.name == "root"
                    && event.kind == EventKind::OdometerRecorded
                    && event.changes["correction"] == serde_json::json!(true)
            })
            .returning(|vehicle_id, r, origin, _| {
                Ok(Reading {
                    id: crate::values::ReadingId(1),
                    vehicle_id,
                    km: r.km,
                    read_on: r.read_on,
                    correction: r.correction,
                    recorded_at: Utc::now(),
                    actor: origin.actor.name,
                })
            });
        let admin = service(store, vehicles(None, Some(5_000))).for_caller(
            Reach::Everything,
            Origin::new(Actor::of(&crate::access::Principal::anonymous(None)), None),
            true,
        );
        let admin = CareService {
            origin: Origin::new(
                Actor {
                    key_id: None,
                    name: "root".into(),
                },
                None,
            ),
            ..admin
        };
        let reading = admin
            .record_reading(VehicleId(5), correction)
            .await
            .unwrap();
        assert!(reading.correction);
    }

    #[tokio::test]
    async fn a_vehicle_out_of_reach_has_no_care() {
        let care = service(MockCareRepository::new(), vehicles(None, None)).for_caller(
            Reach::Garages(vec![GarageId(3)]),
            Origin::anonymous(),
            false,
        );
        let err = care.care(VehicleId(5)).await.unwrap_err();
        assert!(
            matches!(err, Error::VehicleNotFound(VehicleId(5))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn back_dated_work_counts_from_the_reading_of_its_day() {
        let state = PlanState::new(
            Schedule {
                every_km: Some(km(15_000)),
                every_months: EveryMonths::parse(12).ok(),
                due_on: None,
            },
            Since {
                on: day("2025-11-01"),
                km: Some(km(30_000)),
                done: true,
            },
        );
        let current = plan(CareKind::Service, &state, 4);
        // Read at 44,000 km before the work, at 46,000 km since.
        let mut store = store(
            vec![current.clone()],
            &[("2026-11-10", 44_000), ("2026-11-25", 46_000)],
        );
        store
            .expect_record_done()
            .withf(|plan, done, next, _, event| {
                event.kind == EventKind::CareDone
                    && plan.cycle == 4
                    && done.km == Some(km(44_000))
                    && next.due
                        == Due {
                            on: Some(day("2027-11-20")),
                            km: Some(km(59_000)),
                        }
            })
            .returning(|plan, done, next, origin, _| {
                let actor = origin.actor.name;
                let record = CareRecord {
                    id: crate::values::RecordId(1),
                    vehicle_id: plan.vehicle_id,
                    kind: plan.kind.clone(),
                    done_on: done.done_on,
                    km: done.km,
                    note: done.note,
                    recorded_at: Utc::now(),
                    actor,
                };
                let advanced = Plan {
                    schedule: next.schedule,
                    since: next.since,
                    cycle: plan.cycle + 1,
                    ..plan
                };
                Ok((advanced, record))
            });
        let care = service(store, vehicles(None, Some(46_000)));
        let done = Done {
            done_on: day("2026-11-20"),
            km: None,
            note: None,
            next_due_on: None,
        };
        let (plan, record) = care
            .mark_done(VehicleId(5), CareKind::Service, done.clone())
            .await
            .unwrap();
        assert_eq!(plan.cycle, 5);
        assert_eq!(record.km, Some(km(44_000)));
        let err = care
            .mark_done(VehicleId(5), CareKind::Insurance, done.clone())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::PlanNotFound { .. }), "{err:?}");
        // Before the last time it was done: refused.
        let earlier = Done {
            done_on: day("2025-10-01"),
            km: Some(km(29_000)),
            ..done.clone()
        };
        let err = care
            .mark_done(VehicleId(5), CareKind::Service, earlier)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::CareRefused {
                    field: "done_on",
                    ..
                }
            ),
            "{err:?}"
        );
        // Before any reading, a distance plan needs the km.
        let unread = Done {
            done_on: day("2026-11-01"),
            ..done
        };
        let err = care
            .mark_done(VehicleId(5), CareKind::Service, unread)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::CareRefused { field: "km", .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_distance_counts_from_a_known_reading_and_a_replaced_plan_keeps_its_last_time() {
        let by_km = Schedule {
            every_km: Some(km(10_000)),
            ..Schedule::default()
        };
        // Never read, never told: no distance to count from.
        let care = service(store(vec![], &[]), vehicles(None, None));
        let input = PlanInput {
            schedule: by_km,
            ..PlanInput::default()
        };
        let err = care
            .put_plan(VehicleId(5), CareKind::Service, input.clone(), None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::CareRefused {
                    field: "last_done_km",
                    ..
                }
            ),
            "{err:?}"
        );
        // Last done on a day read at 20,000 km: from there.
        let mut read = store(vec![], &[("2026-03-01", 20_000), ("2026-11-01", 31_000)]);
        read.expect_put_plan()
            .withf(|_, _, state, _, _, _| {
                state.since.km == Some(km(20_000)) && state.due.km == Some(km(30_000))
            })
            .returning(|_, kind, state, _, _, _| Ok(plan(kind, &state, 1)));
        let care = service(read, vehicles(None, Some(31_000)));
        let told = PlanInput {
            last_done_on: Some(day("2026-04-15")),
            ..input.clone()
        };
        care.put_plan(VehicleId(5), CareKind::Service, told, None)
            .await
            .unwrap();
        // Replaced without a last time: the one it had stays.
        let done_before = plan(
            CareKind::Service,
            &PlanState::new(
                by_km,
                Since {
                    on: day("2026-04-15"),
                    km: Some(km(20_000)),
                    done: true,
                },
            ),
            3,
        );
        let mut replaced = store(vec![done_before], &[]);
        replaced
            .expect_put_plan()
            .withf(|_, _, state, _, _, _| {
                state.since.on == day("2026-04-15") && state.due.km == Some(km(35_000))
            })
            .returning(|_, kind, state, _, _, _| Ok(plan(kind, &state, 4)));
        let care = service(replaced, vehicles(None, Some(31_000)));
        let wider = PlanInput {
            schedule: Schedule {
                every_km: Some(km(15_000)),
                ..Schedule::default()
            },
            ..PlanInput::default()
        };
        care.put_plan(VehicleId(5), CareKind::Service, wider, None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_replace_without_if_match_goes_over_the_plan_it_read_or_reads_again() {
        let by_km = Schedule {
            every_km: Some(km(10_000)),
            ..Schedule::default()
        };
        let since = Since {
            on: day("2026-04-15"),
            km: Some(km(20_000)),
            done: true,
        };
        let read = plan(CareKind::Service, &PlanState::new(by_km, since), 3);
        let mut store = store(vec![read], &[]);
        // Work was done meanwhile: the first write finds another cycle.
        let mut tries = 0;
        store
            .expect_put_plan()
            .withf(|_, _, _, expected, _, _| expected.map(|v| v.cycle) == Some(3))
            .times(3)
            .returning(move |_, kind, state, _, _, _| {
                tries += 1;
                if tries < 3 {
                    Err(Error::Stale)
                } else {
                    Ok(plan(kind, &state, 4))
                }
            });
        let care = service(store, vehicles(None, Some(31_000)));
        let input = PlanInput {
            schedule: by_km,
            ..PlanInput::default()
        };
        let put = care
            .put_plan(VehicleId(5), CareKind::Service, input.clone(), None)
            .await
            .unwrap();
        assert_eq!(put.cycle, 4);
        // With If-Match, a stale plan is the caller's 412, at once.
        let mut store = store_with_stale();
        store.expect_plans().returning(|_| Ok(vec![]));
        let care = service(store, vehicles(None, Some(31_000)));
        let tag = PlanVersion {
            id: PlanId(8),
            cycle: 2,
        };
        let err = care
            .put_plan(VehicleId(5), CareKind::Service, input, Some(tag))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Stale), "{err:?}");
    }

    /// A store whose every plan write finds another cycle (once).
    fn store_with_stale() -> MockCareRepository {
        let mut store = MockCareRepository::new();
        store.expect_odometer_on().returning(|_, _| Ok(None));
        store
            .expect_put_plan()
            .times(1)
            .returning(|_, _, _, _, _, _| Err(Error::Stale));
        store
    }

    #[tokio::test]
    async fn a_calendar_address_needs_a_named_key_and_reads_within_it() {
        let care = service(MockCareRepository::new(), MockVehicleRepository::new());
        let err = care
            .create_token(crate::access::KeyName::parse("Atelier").unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::KeyRequired(_)), "{err:?}");
        let token = |garages: Option<Vec<i64>>, key: Option<Vec<i64>>, valid| CalendarToken {
            id: crate::values::CalendarId(1),
            name: crate::access::KeyName::parse("Atelier").unwrap(),
            prefix: "cal_".into(),
            garages: garages.map(|ids| ids.into_iter().map(GarageId).collect()),
            key: crate::care::TokenKey {
                id: crate::access::KeyId::parse(4).unwrap(),
                valid,
                garages: key.map(|ids| ids.into_iter().map(GarageId).collect()),
            },
            created_at: Utc::now(),
            revoked_at: None,
        };
        assert_eq!(token(None, None, true).reach(), Some(Reach::Everything));
        assert_eq!(
            token(Some(vec![1, 2]), Some(vec![2, 3]), true).reach(),
            Some(Reach::Garages(vec![GarageId(2)]))
        );
        assert_eq!(
            token(None, Some(vec![3]), true).reach(),
            Some(Reach::Garages(vec![GarageId(3)]))
        );
        assert_eq!(token(None, None, false).reach(), None);
    }

    #[tokio::test]
    async fn reminders_are_recorded_as_events_only_where_the_store_took_them() {
        let reminder = |id: i64, status| Reminder {
            plan: Plan {
                id: PlanId(id),
                ..plan(
                    CareKind::Service,
                    &PlanState::new(
                        Schedule {
                            due_on: Some(day("2026-12-10")),
                            ..Schedule::default()
                        },
                        Since {
                            on: day("2026-01-01"),
                            km: None,
                            done: false,
                        },
                    ),
                    3,
                )
            },
            vehicle: DueVehicle {
                id: VehicleId(5),
                garage_id: GarageId(1),
                garage_name: crate::values::GarageName::parse("Nord").unwrap(),
                license_plate: crate::values::LicensePlate::parse("AB-123-CD").unwrap(),
                odometer: None,
            },
            due: Due {
                on: Some(day("2026-12-10")),
                km: None,
            },
            status,
        };
        let mut store = MockCareRepository::new();
        let due = vec![
            reminder(1, CareStatus::DueSoon),
            reminder(2, CareStatus::Overdue),
        ];
        store
            .expect_unnotified()
            .withf(|horizon, _| horizon.today == day("2026-11-30"))
            .returning(move |_, _| Ok(due.clone()));
        // Plan 1 was taken by another instance meanwhile.
        store
            .expect_notify()
            .withf(|plan, cycle, status, event, origin| {
                *cycle == 3
                    && origin.actor.name == "scheduler"
                    && origin.request_id.as_deref() == Some("scheduler:a")
                    && event.vehicle_id == Some(VehicleId(5))
                    && match (plan.get(), status) {
                        (1, CareStatus::DueSoon) => event.kind == EventKind::CareDueSoon,
                        (2, CareStatus::Overdue) => event.kind == EventKind::CareOverdue,
                        _ => false,
                    }
            })
            .times(2)
            .returning(|plan, _, _, _, _| Ok(plan.get() == 2));
        let care = service(store, MockVehicleRepository::new());
        assert_eq!(care.send_reminders(Limit::DEFAULT, "a").await.unwrap(), 1);
    }
}
