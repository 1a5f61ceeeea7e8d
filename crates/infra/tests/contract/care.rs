//! The care store's contract: readings, plans, records, reminders, tokens.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use futures_util::future::join_all;
use garage_domain::access::{self, KeyHash, KeyName, KeyRepository, KeySecret, NewApiKey, Scope};
use garage_domain::care::{
    CalendarSecret, CareKind, CareRepository, CareStatus, Done, EveryMonths, Horizon, Km,
    NewReading, Plan, PlanState, PlanVersion, ReminderCursor, ReminderFilter, Schedule, Since,
    Thresholds,
};
use garage_domain::events::{
    Actor, EventFilter, EventKind, EventRepository, HistoryOf, NewEvent, Origin,
};
use garage_domain::*;

use garage_infra::DieselCareRepository;

use super::{page, Store};

/// Writes as "tester", with the event the service would record.
fn tester() -> Origin {
    Origin::new(
        Actor {
            key_id: None,
            name: "tester".into(),
        },
        None,
    )
}

async fn read(
    care: &DieselCareRepository,
    vehicle: &Vehicle,
    reading: NewReading,
) -> Result<garage_domain::care::Reading, Error> {
    let event = NewEvent::odometer_recorded(vehicle, &reading);
    care.record_reading(vehicle.id, reading, tester(), event)
        .await
}

async fn put(
    care: &DieselCareRepository,
    vehicle: &Vehicle,
    kind: CareKind,
    state: PlanState,
    expected: Option<PlanVersion>,
) -> Result<Plan, Error> {
    let event = NewEvent::care_plan_set(vehicle, &kind, &state);
    care.put_plan(vehicle.id, kind, state, expected, tester(), event)
        .await
}

async fn delete(
    care: &DieselCareRepository,
    vehicle: &Vehicle,
    kind: CareKind,
    expected: Option<PlanVersion>,
) -> Result<(), Error> {
    let event = NewEvent::care_plan_deleted(vehicle, &kind);
    care.delete_plan(vehicle.id, kind, expected, tester(), event)
        .await
}

async fn finish(
    care: &DieselCareRepository,
    vehicle: &Vehicle,
    plan: Plan,
    work: Done,
    next: PlanState,
) -> Result<(Plan, garage_domain::care::CareRecord), Error> {
    let event = NewEvent::care_done(vehicle, &plan.kind, &work, &next);
    care.record_done(plan, work, next, tester(), event).await
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn km(n: u32) -> Km {
    Km::parse(i64::from(n)).unwrap()
}

fn reading(n: u32, on: &str, correction: bool) -> NewReading {
    NewReading {
        km: km(n),
        read_on: day(on),
        correction,
    }
}

fn state(schedule: Schedule, since_on: &str, since_km: Option<u32>) -> PlanState {
    PlanState::new(
        schedule,
        Since {
            on: day(since_on),
            km: since_km.map(km),
            done: false,
        },
    )
}

fn every(months: Option<i64>, kms: Option<u32>) -> Schedule {
    Schedule {
        every_months: months.map(|m| EveryMonths::parse(m).unwrap()),
        every_km: kms.map(km),
        due_on: None,
    }
}

fn on(date: &str) -> Schedule {
    Schedule {
        due_on: Some(day(date)),
        ..Schedule::default()
    }
}

pub(super) async fn odometer_readings_never_go_backwards_unless_corrected(store: Store) {
    let garage = store.garage("Nord", None).await;
    let vehicle = store.vehicle(garage.id, "AB-123-CD").await.unwrap();
    let care = &store.care;
    read(care, &vehicle, reading(1_000, "2026-01-10", false))
        .await
        .unwrap();
    read(care, &vehicle, reading(3_000, "2026-03-10", false))
        .await
        .unwrap();
    // Between the two, in order: taken.
    read(care, &vehicle, reading(2_000, "2026-02-10", false))
        .await
        .unwrap();
    // Above the later one: refused, naming it.
    let err = read(care, &vehicle, reading(3_500, "2026-02-20", false))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::OdometerBackwards {
                bound: 3_000,
                later: true,
                ..
            }
        ),
        "{err:?}"
    );
    // Below the latest: refused.
    let err = read(care, &vehicle, reading(2_999, "2026-04-01", false))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::OdometerBackwards {
                bound: 3_000,
                later: false,
                ..
            }
        ),
        "{err:?}"
    );
    let before = store.vehicles.get(vehicle.id).await.unwrap().unwrap();
    assert_eq!(before.odometer, Some(km(3_000)));
    // A correction goes in, and the odometer shows it.
    let corrected = read(care, &vehicle, reading(300, "2026-04-01", true))
        .await
        .unwrap();
    assert!(corrected.correction);
    let after = store.vehicles.get(vehicle.id).await.unwrap().unwrap();
    assert_eq!(after.odometer, Some(km(300)));
    assert!(after.version > before.version);
    // Later readings count from the correction.
    read(care, &vehicle, reading(450, "2026-04-15", false))
        .await
        .unwrap();
    // Newest recorded first, in pages.
    let first = care.readings(vehicle.id, page(3, None)).await.unwrap();
    let kms: Vec<u32> = first.items.iter().map(|r| r.km.get()).collect();
    assert_eq!(kms, [450, 300, 2_000]);
    let rest = care
        .readings(vehicle.id, page(3, first.next_after))
        .await
        .unwrap();
    let kms: Vec<u32> = rest.items.iter().map(|r| r.km.get()).collect();
    assert_eq!(kms, [3_000, 1_000]);
    assert_eq!(rest.next_after, None);
    // No such vehicle.
    let err = care
        .record_reading(
            VehicleId::parse(999_999).unwrap(),
            reading(1, "2026-01-01", false),
            tester(),
            NewEvent::odometer_recorded(&vehicle, &reading(1, "2026-01-01", false)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::VehicleNotFound(_)), "{err:?}");
}

pub(super) async fn plans_are_replaced_advanced_and_deleted_with_their_cycle(store: Store) {
    let garage = store.garage("Nord", None).await;
    let vehicle = store.vehicle(garage.id, "AB-123-CD").await.unwrap();
    let care = &store.care;
    let first = put(
        care,
        &vehicle,
        CareKind::Service,
        state(every(Some(12), Some(15_000)), "2026-01-31", Some(10_000)),
        None,
    )
    .await
    .unwrap();
    assert_eq!(first.cycle, 1);
    assert_eq!(first.due().on, Some(day("2027-01-31")));
    assert_eq!(first.due().km, Some(km(25_000)));
    let replaced = put(
        care,
        &vehicle,
        CareKind::Service,
        state(every(Some(6), None), "2026-01-31", None),
        Some(first.version()),
    )
    .await
    .unwrap();
    assert_eq!((replaced.id, replaced.cycle), (first.id, 2));
    // Over a cycle that is gone, or a plan that is not there: refused.
    for kind in [CareKind::Service, CareKind::Insurance] {
        let err = put(
            care,
            &vehicle,
            kind,
            state(on("2027-01-01"), "2026-01-01", None),
            Some(first.version()),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Stale), "{err:?}");
    }
    assert_eq!(replaced.due().on, Some(day("2026-07-31")));
    let custom = CareKind::Custom("tyres".into());
    put(
        care,
        &vehicle,
        custom.clone(),
        state(on("2027-04-01"), "2026-01-01", None),
        None,
    )
    .await
    .unwrap();
    let kinds: Vec<CareKind> = care
        .plans(vehicle.id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.kind)
        .collect();
    assert_eq!(kinds, [CareKind::Service, custom.clone()]);

    let done = Done {
        done_on: day("2026-07-20"),
        km: Some(km(18_000)),
        note: Some(Note::parse("Oil and filters").unwrap()),
        next_due_on: None,
    };
    let next = PlanState::new(replaced.schedule, replaced.since).done(done.done_on, done.km, None);
    // A plan read before someone else changed it is stale.
    let err = finish(care, &vehicle, first.clone(), done.clone(), next.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Stale), "{err:?}");
    let (advanced, record) = finish(care, &vehicle, replaced.clone(), done.clone(), next)
        .await
        .unwrap();
    assert_eq!(advanced.cycle, 3);
    assert_eq!(advanced.due().on, Some(day("2027-01-20")));
    assert_eq!(
        record.note.as_ref().map(Note::as_str),
        Some("Oil and filters")
    );
    assert_eq!(record.actor, "tester");

    let err = delete(care, &vehicle, CareKind::Service, Some(replaced.version()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Stale), "{err:?}");
    delete(care, &vehicle, CareKind::Service, Some(advanced.version()))
        .await
        .unwrap();
    let err = delete(care, &vehicle, CareKind::Service, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PlanNotFound { .. }), "{err:?}");
    // The work done outlives its plan.
    let records = care.records(vehicle.id, page(10, None)).await.unwrap();
    assert_eq!(records.items.len(), 1);
    // Each write that took is in the vehicle's history, by whom; the
    // refused ones are not.
    let history = store
        .events
        .history(HistoryOf::Vehicle(vehicle.id), None, page(50, None))
        .await
        .unwrap();
    let kinds: Vec<EventKind> = history.items.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::CarePlanDeleted,
            EventKind::CareDone,
            EventKind::CarePlanSet,
            EventKind::CarePlanSet,
            EventKind::CarePlanSet,
            EventKind::VehicleCreated,
        ]
    );
    assert_eq!(history.items[1].actor.name, "tester");
    assert_eq!(history.items[1].changes["note"], "Oil and filters");
    // A plan needs a vehicle.
    let err = care
        .put_plan(
            VehicleId::parse(999_999).unwrap(),
            CareKind::Service,
            state(on("2027-01-01"), "2026-01-01", None),
            None,
            tester(),
            NewEvent::care_plan_deleted(&vehicle, &CareKind::Service),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::VehicleNotFound(_)), "{err:?}");
}

/// A vehicle and its plan: garage, plate, odometer, kind, schedule, and the
/// distance the plan counts from.
type DuePlan<'a> = (
    &'a Garage,
    &'a str,
    Option<u32>,
    CareKind,
    Schedule,
    Option<u32>,
);

/// A fleet of plans around a horizon of 2026-11-30 (30 days, 1,000 km).
async fn due_fleet(store: &Store) -> (Garage, Garage, Horizon) {
    let north = store.garage("Nord", None).await;
    let south = store.garage("Sud", None).await;
    let care = &store.care;
    // (garage, plate, odometer, kind, schedule, since_km)
    let plans: [DuePlan<'_>; 15] = [
        // Overdue by date.
        (
            &north,
            "AA-001-AA",
            None,
            CareKind::Insurance,
            on("2026-11-01"),
            None,
        ),
        // Due soon by date (in 30 days exactly).
        (
            &north,
            "AA-002-AA",
            None,
            CareKind::Inspection,
            on("2026-12-30"),
            None,
        ),
        // Not due: 31 days.
        (
            &north,
            "AA-003-AA",
            None,
            CareKind::Inspection,
            on("2026-12-31"),
            None,
        ),
        // Overdue by distance only.
        (
            &south,
            "AA-004-AA",
            Some(21_000),
            CareKind::Service,
            every(None, Some(10_000)),
            Some(10_000),
        ),
        // Due soon by distance, far by date.
        (
            &south,
            "AA-005-AA",
            Some(19_500),
            CareKind::Service,
            every(Some(24), Some(10_000)),
            Some(10_000),
        ),
        // Due soon by date, exactly at the due distance (not past it).
        (
            &south,
            "AA-006-AA",
            Some(20_000),
            CareKind::Insurance,
            Schedule {
                due_on: Some(day("2026-12-05")),
                ..every(None, Some(10_000))
            },
            Some(10_000),
        ),
        // Overdue by date, the same date as the first: by plan then.
        (
            &south,
            "AA-007-AA",
            None,
            CareKind::Custom("tyres".into()),
            on("2026-11-01"),
            None,
        ),
        // Never read, due by distance only: not due.
        (
            &north,
            "AA-008-AA",
            None,
            CareKind::Service,
            every(None, Some(5_000)),
            None,
        ),
        // Overdue by distance, due by date in ten days: among the overdue
        // by its date, before those without one.
        (
            &south,
            "AA-009-AA",
            Some(21_000),
            CareKind::Service,
            Schedule {
                due_on: Some(day("2026-12-10")),
                ..every(None, Some(10_000))
            },
            Some(10_000),
        ),
        // Due soon by distance only: last.
        (
            &north,
            "AA-010-AA",
            Some(19_600),
            CareKind::Service,
            every(None, Some(10_000)),
            Some(10_000),
        ),
        // The edges of the four parts the stores read in turn. Due today:
        // due soon, not overdue.
        (
            &north,
            "AA-011-AA",
            None,
            CareKind::Insurance,
            on("2026-11-30"),
            None,
        ),
        // Due today and past its distance: overdue by distance, dated today.
        (
            &south,
            "AA-012-AA",
            Some(21_000),
            CareKind::Service,
            Schedule {
                due_on: Some(day("2026-11-30")),
                ..every(None, Some(10_000))
            },
            Some(10_000),
        ),
        // Exactly the margin away (1,000 km): due soon.
        (
            &north,
            "AA-013-AA",
            Some(19_000),
            CareKind::Service,
            every(None, Some(10_000)),
            Some(10_000),
        ),
        // At its due distance, undated: due soon, not overdue.
        (
            &south,
            "AA-014-AA",
            Some(20_000),
            CareKind::Service,
            every(None, Some(10_000)),
            Some(10_000),
        ),
        // A day past the horizon by date, within the margin by distance:
        // due soon by distance, sorted by its date.
        (
            &north,
            "AA-015-AA",
            Some(19_600),
            CareKind::Service,
            Schedule {
                due_on: Some(day("2026-12-31")),
                ..every(None, Some(10_000))
            },
            Some(10_000),
        ),
    ];
    for (garage, plate, odometer, kind, schedule, since_km) in plans {
        let vehicle = store.vehicle(garage.id, plate).await.unwrap();
        if let Some(odometer) = odometer {
            read(care, &vehicle, reading(odometer, "2026-11-01", false))
                .await
                .unwrap();
        }
        put(
            care,
            &vehicle,
            kind,
            state(schedule, "2026-01-01", since_km),
            None,
        )
        .await
        .unwrap();
    }
    let horizon = Horizon {
        today: day("2026-11-30"),
        thresholds: Thresholds::default(),
    };
    (north, south, horizon)
}

pub(super) async fn reminders_agree_with_the_domain_filtered_ordered_and_paged(store: Store) {
    let (north, south, horizon) = due_fleet(&store).await;
    let care = &store.care;
    let all = care
        .reminders(
            ReminderFilter::default(),
            horizon,
            None,
            Limit::parse(100).unwrap(),
        )
        .await
        .unwrap();
    let seen: Vec<(&str, CareStatus)> = all
        .items
        .iter()
        .map(|r| (r.vehicle.license_plate.as_str(), r.status))
        .collect();
    assert_eq!(
        seen,
        [
            ("AA001AA", CareStatus::Overdue),
            ("AA007AA", CareStatus::Overdue),
            ("AA012AA", CareStatus::Overdue),
            ("AA009AA", CareStatus::Overdue),
            ("AA004AA", CareStatus::Overdue),
            ("AA011AA", CareStatus::DueSoon),
            ("AA006AA", CareStatus::DueSoon),
            ("AA002AA", CareStatus::DueSoon),
            ("AA015AA", CareStatus::DueSoon),
            ("AA005AA", CareStatus::DueSoon),
            ("AA010AA", CareStatus::DueSoon),
            ("AA013AA", CareStatus::DueSoon),
            ("AA014AA", CareStatus::DueSoon),
        ]
    );
    // What the store says is the domain's rule, plan by plan.
    for r in &all.items {
        assert_eq!(
            r.due
                .status(horizon.today, r.vehicle.odometer, horizon.thresholds),
            r.status
        );
    }
    // Pages of two walk through the same order.
    let mut walked = Vec::new();
    let mut after: Option<ReminderCursor> = None;
    loop {
        let page = care
            .reminders(
                ReminderFilter::default(),
                horizon,
                after,
                Limit::parse(2).unwrap(),
            )
            .await
            .unwrap();
        walked.extend(page.items.iter().map(|r| r.plan.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let ids: Vec<PlanId> = all.items.iter().map(|r| r.plan.id).collect();
    assert_eq!(walked, ids);
    // Filters.
    let plates = |filter: ReminderFilter| async move {
        care.reminders(filter, horizon, None, Limit::parse(100).unwrap())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|r| r.vehicle.license_plate.as_str().to_owned())
            .collect::<BTreeSet<_>>()
    };
    let set = |plates: &[&str]| {
        plates
            .iter()
            .map(|p| (*p).to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        plates(ReminderFilter {
            statuses: vec![CareStatus::DueSoon],
            ..ReminderFilter::default()
        })
        .await,
        set(&[
            "AA002AA", "AA005AA", "AA006AA", "AA010AA", "AA011AA", "AA013AA", "AA014AA", "AA015AA"
        ])
    );
    assert_eq!(
        plates(ReminderFilter {
            statuses: vec![CareStatus::Overdue],
            garage_id: Some(south.id),
            ..ReminderFilter::default()
        })
        .await,
        set(&["AA004AA", "AA007AA", "AA009AA", "AA012AA"])
    );
    assert_eq!(
        plates(ReminderFilter {
            kind: Some(CareKind::Inspection),
            ..ReminderFilter::default()
        })
        .await,
        set(&["AA002AA"])
    );
    assert_eq!(
        plates(ReminderFilter {
            within: Some(vec![north.id]),
            ..ReminderFilter::default()
        })
        .await,
        set(&["AA001AA", "AA002AA", "AA010AA", "AA011AA", "AA013AA", "AA015AA"])
    );
}

pub(super) async fn each_reminder_is_recorded_once_per_cycle_whoever_races(store: Store) {
    let (_, _, horizon) = due_fleet(&store).await;
    let care = &store.care;
    let due = care
        .unnotified(horizon, Limit::parse(100).unwrap())
        .await
        .unwrap();
    assert_eq!(due.len(), 13);
    // Eight instances race to record the first one's reminder.
    let first = due[0].clone();
    let tries = (0..8).map(|_| {
        let care = care.clone();
        let first = first.clone();
        async move {
            care.notify(
                first.plan.id,
                first.plan.cycle,
                first.status,
                NewEvent::care_due(&first),
                Origin::anonymous(),
            )
            .await
            .unwrap()
        }
    });
    let won = join_all(tries).await.into_iter().filter(|w| *w).count();
    assert_eq!(won, 1);
    // Read back newest first (the feed may hold a committed event back
    // while other databases' transactions run).
    let events = store
        .events
        .recent(
            EventFilter {
                kinds: Some(vec![EventKind::CareDueSoon, EventKind::CareOverdue]),
                ..EventFilter::default()
            },
            page(100, None),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].vehicle_id, Some(first.vehicle.id));
    // It is no longer waiting; the others are.
    let left = care
        .unnotified(horizon, Limit::parse(100).unwrap())
        .await
        .unwrap();
    assert_eq!(left.len(), 12);
    assert!(left.iter().all(|r| r.plan.id != first.plan.id));
    // A plan reminded as due soon is reminded again once overdue.
    let soon = left
        .iter()
        .find(|r| r.status == CareStatus::DueSoon && r.due.km.is_none())
        .unwrap()
        .clone();
    assert!(care
        .notify(
            soon.plan.id,
            soon.plan.cycle,
            CareStatus::DueSoon,
            NewEvent::care_due(&soon),
            Origin::anonymous()
        )
        .await
        .unwrap());
    let later = Horizon {
        today: day("2027-01-15"),
        ..horizon
    };
    let again = care
        .unnotified(later, Limit::parse(100).unwrap())
        .await
        .unwrap();
    let overdue = again.iter().find(|r| r.plan.id == soon.plan.id).unwrap();
    assert_eq!(overdue.status, CareStatus::Overdue);
    // A stale cycle records nothing.
    assert!(!care
        .notify(
            first.plan.id,
            first.plan.cycle + 1,
            CareStatus::Overdue,
            NewEvent::care_due(&first),
            Origin::anonymous()
        )
        .await
        .unwrap());
}

pub(super) async fn calendar_tokens_are_found_by_hash_until_revoked(store: Store) {
    let care = &store.care;
    let secret = CalendarSecret::generate();
    let garage = store.garage("Nord", None).await;
    let other = store.garage("Sud", None).await;
    // The key that makes it, limited to both garages.
    let key_secret = KeySecret::generate();
    let key = store
        .api_keys
        .create(
            NewApiKey {
                name: KeyName::parse("atelier").unwrap(),
                prefix: key_secret.prefix(),
                hash: key_secret.hash(),
                scope: Scope::Write,
                garages: Some(vec![garage.id, other.id]),
                created_at: chrono::Utc::now(),
            },
            Origin::anonymous(),
        )
        .await
        .unwrap();
    let token = care
        .create_token(
            key.id,
            KeyName::parse("Workshop").unwrap(),
            secret.prefix(),
            secret.hash(),
            Some(vec![garage.id]),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(token.garages, Some(vec![garage.id]));
    let found = care.token_by_hash(secret.hash()).await.unwrap().unwrap();
    assert_eq!(found.id, token.id);
    assert_eq!(found.key.id, key.id);
    assert!(found.key.valid);
    assert_eq!(found.key.garages, Some(vec![garage.id, other.id]));
    assert_eq!(found.reach(), Some(access::Reach::Garages(vec![garage.id])));
    assert!(care
        .token_by_hash(KeyHash::of("cal_other"))
        .await
        .unwrap()
        .is_none());
    assert_eq!(care.tokens().await.unwrap().len(), 1);
    // Its key revoked, it reads nothing.
    store
        .api_keys
        .revoke(key.id, chrono::Utc::now(), Origin::anonymous())
        .await
        .unwrap();
    let found = care.token_by_hash(secret.hash()).await.unwrap().unwrap();
    assert!(!found.key.valid);
    assert_eq!(found.reach(), None);
    let revoked = care
        .revoke_token(token.id, chrono::Utc::now())
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(care.tokens().await.unwrap().is_empty());
    let found = care.token_by_hash(secret.hash()).await.unwrap().unwrap();
    assert!(found.revoked_at.is_some());
    let err = care
        .revoke_token(CalendarId::parse(999_999).unwrap(), chrono::Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::CalendarNotFound(_)), "{err:?}");
}

pub(super) async fn an_import_records_odometers_forwards_only(store: Store) {
    let garage = store.garage("Nord", None).await;
    let known = store.vehicle(garage.id, "AB-100-CD").await.unwrap();
    store
        .care
        .record_reading(
            known.id,
            reading(5_000, "2026-01-10", false),
            tester(),
            NewEvent::odometer_recorded(&known, &reading(5_000, "2026-01-10", false)),
        )
        .await
        .unwrap();
    let row = |line: u64, plate: &str, shows: Option<u32>| {
        Ok(ImportRow {
            line,
            vehicle: Ok(super::new_vehicle(garage.id, plate)),
            odometer: shows.map(km),
        })
    };
    let import = |lines: Vec<_>, dry_run| {
        let rows: ImportRows = Box::new(lines.into_iter());
        let options = ImportOptions {
            dry_run,
            mode: ImportMode::Upsert,
            within: None,
            // The fleet's today, which need not be UTC's: the readings
            // are dated with it.
            today: day("2026-02-01"),
        };
        store.vehicles.import(rows, options, Origin::anonymous())
    };
    // Below the latest reading (an export older than it): no reading, the
    // vehicle unchanged; a new vehicle read at 1,200 km.
    let lines = vec![
        row(2, "AB-200-CD", Some(1_200)),
        row(3, "AB-100-CD", Some(4_000)),
    ];
    let report = import(lines, false).await.unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!((report.imported, report.unchanged), (1, 1));
    // Forwards: the known one at 6,000; the same 1,200 again is no reading;
    // a line repeated keeps its first odometer out of the other's way.
    let lines = vec![
        row(2, "AB-200-CD", Some(1_200)),
        row(3, "AB-100-CD", Some(6_000)),
        row(4, "AB-300-CD", None),
    ];
    let report = import(lines, false).await.unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(
        (report.imported, report.updated, report.unchanged),
        (1, 1, 1)
    );
    let repeated = vec![
        row(2, "AB-100-CD", Some(7_000)),
        row(3, "AB-100-CD", Some(1)),
    ];
    let report = import(repeated, true).await.unwrap();
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert_eq!(
        (report.errors[0].line, report.errors[0].field.as_deref()),
        (3, Some("license_plate"))
    );
    // Each reading is told, as the service's are.
    let told = store
        .events
        .recent(
            EventFilter {
                kinds: Some(vec![EventKind::OdometerRecorded]),
                ..EventFilter::default()
            },
            page(100, None),
        )
        .await
        .unwrap()
        .items;
    let kms: Vec<serde_json::Value> = told.iter().map(|e| e.changes["km"].clone()).collect();
    assert_eq!(
        kms,
        [
            serde_json::json!(6_000),
            serde_json::json!(1_200),
            serde_json::json!(5_000)
        ]
    );
    let store = &store;
    let odometer = |plate: &'static str| async move {
        let found = store
            .vehicles
            .list(
                VehicleFilter {
                    plate: Some(LicensePlate::parse(plate).unwrap()),
                    ..VehicleFilter::default()
                },
                page(1, None),
            )
            .await
            .unwrap();
        let vehicle = found.items[0].clone();
        let readings = store
            .care
            .readings(vehicle.id, page(10, None))
            .await
            .unwrap();
        (
            vehicle.odometer.map(Km::get),
            readings
                .items
                .iter()
                .map(|r| (r.km.get(), r.read_on.to_string()))
                .collect::<Vec<_>>(),
        )
    };
    let on = |km: u32, date: &str| (km, date.to_owned());
    assert_eq!(
        odometer("AB200CD").await,
        (Some(1_200), vec![on(1_200, "2026-02-01")])
    );
    assert_eq!(
        odometer("AB100CD").await,
        (
            Some(6_000),
            vec![on(6_000, "2026-02-01"), on(5_000, "2026-01-10")]
        )
    );
    assert_eq!(odometer("AB300CD").await, (None, vec![]));
}

pub(super) async fn readings_after_a_plan_bring_it_due_by_distance(store: Store) {
    let garage = store.garage("Nord", None).await;
    let vehicle = store.vehicle(garage.id, "AB-400-CD").await.unwrap();
    let care = &store.care;
    read(care, &vehicle, reading(10_000, "2026-11-01", false))
        .await
        .unwrap();
    put(
        care,
        &vehicle,
        CareKind::Service,
        state(every(None, Some(5_000)), "2026-11-01", Some(10_000)),
        None,
    )
    .await
    .unwrap();
    let horizon = Horizon {
        today: day("2026-11-30"),
        thresholds: Thresholds::default(),
    };
    let statuses = || async {
        care.reminders(
            ReminderFilter::default(),
            horizon,
            None,
            Limit::parse(10).unwrap(),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| (r.status, r.vehicle.odometer.map(Km::get)))
        .collect::<Vec<_>>()
    };
    assert_eq!(statuses().await, []);
    read(care, &vehicle, reading(14_200, "2026-11-20", false))
        .await
        .unwrap();
    assert_eq!(statuses().await, [(CareStatus::DueSoon, Some(14_200))]);
    read(care, &vehicle, reading(15_001, "2026-11-25", false))
        .await
        .unwrap();
    assert_eq!(statuses().await, [(CareStatus::Overdue, Some(15_001))]);
    // A correction back below: due soon again.
    read(care, &vehicle, reading(14_500, "2026-11-26", true))
        .await
        .unwrap();
    assert_eq!(statuses().await, [(CareStatus::DueSoon, Some(14_500))]);
    // An import's reading counts the same.
    let rows: ImportRows = Box::new(
        vec![Ok(ImportRow {
            line: 2,
            vehicle: Ok(super::new_vehicle(garage.id, "AB-400-CD")),
            odometer: Some(km(15_600)),
        })]
        .into_iter(),
    );
    let report = store
        .vehicles
        .import(
            rows,
            ImportOptions {
                dry_run: false,
                mode: ImportMode::Upsert,
                within: None,
                today: chrono::Utc::now().date_naive(),
            },
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(statuses().await, [(CareStatus::Overdue, Some(15_600))]);
}
