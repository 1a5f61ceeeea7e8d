//! The care use cases: readings, plans, work done, reminders and the
//! calendar tokens that read them.

use std::sync::Arc;

use chrono::NaiveDate;

use super::models::{
    CalendarSecret, CalendarToken, Care, CareKind, CareRecord, Done, Horizon, NewReading, Plan,
    PlanState, Preset, Reading, ReminderCursor, ReminderFilter, ReminderPage, Schedule, Since,
    Thresholds, INSPECTION_EVERY_MONTHS, INSPECTION_FIRST_MONTHS,
};
use super::ports::CareRepository;
use crate::access::{KeyName, Reach};
use crate::clock::Clock;
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

    /// Today, as the service's clock says (in UTC).
    pub fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    fn horizon(&self) -> Horizon {
        Horizon {
            today: self.today(),
            thresholds: self.thresholds,
        }
    }

    /// The vehicle, if the caller may reach it.
    async fn vehicle(&self, id: VehicleId) -> Result<Vehicle, Error> {
        self.vehicles
            .get(id)
            .await?
            .filter(|v| self.reach.allows(v.garage_id))
            .ok_or(Error::VehicleNotFound(id))
    }

    fn not_after_today(&self, field: &'static str, date: NaiveDate) -> Result<(), Error> {
        if date > self.today() {
            return Err(Error::CareRefused {
                field,
                message: format!("must not be after today ({})", self.today()),
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
        self.vehicle(id).await?;
        self.store
            .record_reading(id, reading, self.origin.actor.name.clone())
            .await
    }

    /// The vehicle's plans, each with when it is due and how urgent, and
    /// the latest work recorded on it.
    ///
    /// # Errors
    /// `VehicleNotFound`, or the store's errors.
    pub async fn care(&self, id: VehicleId) -> Result<Care, Error> {
        let vehicle = self.vehicle(id).await?;
        let plans = self.store.plans(id).await?;
        let latest = PageRequest {
            limit: Limit::LARGEST,
            after: None,
        };
        let records = self.store.records(id, latest).await?.items;
        let today = self.today();
        let plans = plans
            .into_iter()
            .map(|plan| {
                let due = plan.due();
                let status = due.status(today, vehicle.odometer, self.thresholds);
                (plan, due, status)
            })
            .collect();
        Ok(Care {
            odometer: vehicle.odometer,
            plans,
            records,
        })
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
    /// # Errors
    /// `VehicleNotFound`, `CareRefused` (no schedule, a preset without what
    /// it needs, a date to come), or the store's errors.
    pub async fn put_plan(
        &self,
        id: VehicleId,
        kind: CareKind,
        input: PlanInput,
    ) -> Result<Plan, Error> {
        if let Some(done) = input.last_done_on {
            self.not_after_today("last_done_on", done)?;
        }
        let vehicle = self.vehicle(id).await?;
        let mut schedule = input.schedule;
        if let Some(Preset::ControleTechnique) = input.preset {
            schedule.every_months = Some(INSPECTION_EVERY_MONTHS);
            if input.last_done_on.is_none() && schedule.due_on.is_none() {
                let registered = vehicle.registered_on.ok_or_else(|| Error::CareRefused {
                    field: "preset",
                    message: "the contrôle technique counts from the vehicle's registered_on, which it lacks".into(),
                })?;
                schedule.due_on = INSPECTION_FIRST_MONTHS.after(registered);
            }
        }
        if schedule.is_empty() {
            return Err(Error::CareRefused {
                field: "every_months",
                message: "a plan needs every_months, every_km, due_on or a preset".into(),
            });
        }
        let since = match input.last_done_on {
            Some(on) => Since {
                on,
                km: input.last_done_km,
                done: true,
            },
            None => Since {
                on: self.today(),
                km: vehicle.odometer,
                done: false,
            },
        };
        self.store
            .put_plan(id, kind, PlanState::new(schedule, since))
            .await
    }

    /// # Errors
    /// `VehicleNotFound`, `PlanNotFound`, or the store's errors.
    pub async fn delete_plan(&self, id: VehicleId, kind: CareKind) -> Result<(), Error> {
        self.vehicle(id).await?;
        self.store.delete_plan(id, kind).await
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
        done.km = done.km.or(vehicle.odometer);
        let current = PlanState::new(plan.schedule, plan.since);
        let next = current.done(done.done_on, done.km, done.next_due_on);
        self.store
            .record_done(plan, done, next, self.origin.actor.name.clone())
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

    /// A calendar token for the caller's reach; its secret is shown once.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn create_token(
        &self,
        name: KeyName,
    ) -> Result<(CalendarToken, CalendarSecret), Error> {
        let secret = CalendarSecret::generate();
        let token = self
            .store
            .create_token(
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
        tokens.retain(|t| self.covers(t));
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
        Ok(token.filter(|t| t.revoked_at.is_none()).map(|t| {
            let reach = t.garages.map_or(Reach::Everything, Reach::Garages);
            self.for_caller(reach, Origin::anonymous(), false)
        }))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use mockall::predicate::eq;

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

    #[tokio::test]
    async fn the_controle_technique_is_due_four_years_after_registration_then_every_two() {
        let mut store = MockCareRepository::new();
        store
            .expect_put_plan()
            .withf(|id, kind, state| {
                *id == VehicleId(5)
                    && *kind == CareKind::Inspection
                    && state.due.on == Some(day("2027-02-28"))
                    && state.schedule.every_months == EveryMonths::parse(24).ok()
            })
            .returning(|_, kind, state| Ok(plan(kind, &state, 1)));
        let care = service(store, vehicles(Some("2023-02-28"), None));
        let input = PlanInput {
            preset: Some(Preset::ControleTechnique),
            ..PlanInput::default()
        };
        let put = care
            .put_plan(VehicleId(5), CareKind::Inspection, input)
            .await
            .unwrap();
        // Done on time: the next is two years on.
        let next = PlanState::new(put.schedule, put.since).done(day("2027-02-10"), None, None);
        assert_eq!(next.due.on, Some(day("2029-02-10")));
    }

    #[tokio::test]
    async fn the_preset_needs_a_registration_date_and_a_plan_needs_a_schedule() {
        let care = service(MockCareRepository::new(), vehicles(None, None));
        let preset = PlanInput {
            preset: Some(Preset::ControleTechnique),
            ..PlanInput::default()
        };
        let err = care
            .put_plan(VehicleId(5), CareKind::Inspection, preset)
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
            .put_plan(VehicleId(5), CareKind::Service, PlanInput::default())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::CareRefused { .. }), "{err:?}");
        let later = PlanInput {
            schedule: Schedule {
                every_km: Some(km(10_000)),
                ..Schedule::default()
            },
            last_done_on: Some(day("2026-12-01")),
            ..PlanInput::default()
        };
        let err = care
            .put_plan(VehicleId(5), CareKind::Service, later)
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
        let mut store = MockCareRepository::new();
        store
            .expect_put_plan()
            .withf(|_, _, state| {
                state.since.on == day("2026-11-30")
                    && !state.since.done
                    && state.due.km == Some(km(57_000))
            })
            .returning(|_, kind, state| Ok(plan(kind, &state, 1)));
        let care = service(store, vehicles(None, Some(42_000)));
        let input = PlanInput {
            schedule: Schedule {
                every_km: Some(km(15_000)),
                ..Schedule::default()
            },
            ..PlanInput::default()
        };
        care.put_plan(VehicleId(5), CareKind::Service, input)
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
            read_on: day("2026-12-01"),
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
            .with(eq(VehicleId(5)), eq(correction), eq("root".to_owned()))
            .returning(|vehicle_id, r, actor| {
                Ok(Reading {
                    id: crate::values::ReadingId(1),
                    vehicle_id,
                    km: r.km,
                    read_on: r.read_on,
                    correction: r.correction,
                    recorded_at: Utc::now(),
                    actor,
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
    async fn work_done_without_a_distance_counts_from_the_latest_reading() {
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
        let mut store = MockCareRepository::new();
        let stored = current.clone();
        store
            .expect_plans()
            .returning(move |_| Ok(vec![stored.clone()]));
        store
            .expect_record_done()
            .withf(|plan, done, next, _| {
                plan.cycle == 4
                    && done.km == Some(km(44_500))
                    && next.due
                        == Due {
                            on: Some(day("2027-11-20")),
                            km: Some(km(59_500)),
                        }
            })
            .returning(|plan, done, next, actor| {
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
        let care = service(store, vehicles(None, Some(44_500)));
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
        assert_eq!(record.km, Some(km(44_500)));
        let err = care
            .mark_done(VehicleId(5), CareKind::Insurance, done)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::PlanNotFound { .. }), "{err:?}");
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
