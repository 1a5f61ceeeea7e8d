//! The repository contract, run against PostgreSQL and SQLite alike: each
//! test below runs once per backend on a fresh database of its own.

#[path = "contract/care.rs"]
mod care;
use care::*;

use std::sync::Arc;

use futures_util::future::join_all;
use garage_domain::access::{KeyHash, KeyId, KeyName, KeyRepository, KeySecret, NewApiKey, Scope};
use garage_domain::events::{
    Actor, Event, EventFilter, EventKind, EventRepository, FeedPosition, HistoryOf, NewEvent,
    Origin,
};
use garage_domain::*;
use garage_infra::testing::TestDb;
use garage_infra::{
    DieselCareRepository, DieselEventRepository, DieselGarageRepository, DieselIdempotencyStore,
    DieselKeyRepository, DieselVehicleRepository,
};

/// A clock the test moves.
struct TestClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl TestClock {
    fn advance(&self, by: std::time::Duration) {
        *self.0.lock().unwrap() += chrono::Duration::from_std(by).unwrap();
    }
}

impl Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap()
    }
}

struct Store {
    clock: Arc<TestClock>,
    garages: Arc<DieselGarageRepository>,
    vehicles: Arc<DieselVehicleRepository>,
    keys: Arc<DieselIdempotencyStore>,
    api_keys: Arc<DieselKeyRepository>,
    events: Arc<DieselEventRepository>,
    care: Arc<DieselCareRepository>,
    // Last, so the pool closes before the database is dropped.
    _db: TestDb,
}

impl Store {
    fn new(db: TestDb) -> Self {
        let pool = db.connect();
        Self::with_pool(db, pool)
    }

    fn with_pool(db: TestDb, pool: garage_infra::Database) -> Self {
        let clock = Arc::new(TestClock(std::sync::Mutex::new(chrono::Utc::now())));
        Self {
            clock: clock.clone(),
            garages: Arc::new(DieselGarageRepository::new(pool.clone())),
            vehicles: Arc::new(DieselVehicleRepository::new(pool.clone())),
            keys: Arc::new(DieselIdempotencyStore::with_clock(pool.clone(), clock)),
            api_keys: Arc::new(DieselKeyRepository::new(pool.clone())),
            events: Arc::new(DieselEventRepository::new(pool.clone())),
            care: Arc::new(DieselCareRepository::new(pool)),
            _db: db,
        }
    }

    async fn garage(&self, name: &str, capacity: Option<i64>) -> Garage {
        self.garages
            .create(
                NewGarage {
                    name: GarageName::parse(name).unwrap(),
                    address: Address::parse("12 rue des Lilas, Lyon").unwrap(),
                    capacity: capacity.map(|c| Capacity::parse(c).unwrap()),
                },
                Origin::anonymous(),
            )
            .await
            .unwrap()
    }

    async fn vehicle(&self, garage: GarageId, plate: &str) -> Result<Vehicle, Error> {
        self.vehicles
            .create(new_vehicle(garage, plate), Origin::anonymous())
            .await
    }

    async fn count(&self, garage: GarageId) -> u32 {
        self.garages
            .get(garage)
            .await
            .unwrap()
            .unwrap()
            .vehicle_count
    }

    async fn vehicles_in(&self, garage: GarageId) -> Vec<Vehicle> {
        let filter = VehicleFilter {
            garage_id: Some(garage),
            ..VehicleFilter::default()
        };
        let page = PageRequest {
            limit: Limit::parse(200).unwrap(),
            after: None,
        };
        self.vehicles.list(filter, page).await.unwrap().items
    }
}

fn new_vehicle(garage: GarageId, plate: &str) -> NewVehicle {
    NewVehicle {
        garage_id: garage,
        brand: Brand::parse("Renault").unwrap(),
        model: ModelName::parse("Clio").unwrap(),
        year: ModelYear::parse(2021).unwrap(),
        license_plate: LicensePlate::parse(plate).unwrap(),
        vin: None,
        registered_on: None,
    }
}

fn page(limit: i64, after: Option<i64>) -> PageRequest {
    PageRequest {
        limit: Limit::parse(limit).unwrap(),
        after,
    }
}

fn move_to(garage: GarageId) -> VehicleChanges {
    VehicleChanges {
        garage_id: Some(garage),
        ..VehicleChanges::default()
    }
}

macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test(super::Store::new(garage_infra::testing::TestDb::postgres())).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test(super::Store::new(garage_infra::testing::TestDb::sqlite())).await;
                }
            )*
        }
    };
}

contract!(
    odometer_readings_never_go_backwards_unless_corrected,
    plans_are_replaced_advanced_and_deleted_with_their_cycle,
    reminders_agree_with_the_domain_filtered_ordered_and_paged,
    each_reminder_is_recorded_once_per_cycle_whoever_races,
    calendar_tokens_are_found_by_hash_until_revoked,
    an_import_records_odometers_forwards_only,
    readings_after_a_plan_bring_it_due_by_distance,
    fleet_figures_add_up_within_any_reach,
    garages_are_created_read_and_listed_in_pages,
    garage_search_ignores_case_accents_and_punctuation,
    names_left_unkeyed_or_stale_are_keyed_at_the_next_start,
    every_sort_pages_through_every_item_once_in_order,
    vehicles_are_found_by_part_of_their_plate_and_their_years,
    garages_are_updated_and_their_limit_removed,
    capacity_never_drops_below_the_vehicles_held,
    only_an_empty_garage_is_deleted,
    vehicles_are_stored_with_their_canonical_plate,
    a_plate_is_unique_whatever_its_spelling,
    a_vehicle_needs_an_existing_garage,
    a_full_garage_refuses_vehicles,
    vehicles_are_filtered_and_paged_stably,
    vehicles_move_between_garages_within_capacity,
    a_vehicle_cannot_take_a_plate_already_registered,
    deleting_a_vehicle_frees_its_place,
    fifty_concurrent_creates_of_one_plate_make_one_vehicle,
    twenty_concurrent_creates_fill_a_garage_of_five_exactly,
    concurrent_moves_never_overfill_a_garage,
    a_garage_is_emptied_into_another_all_or_nothing,
    concurrent_move_alls_into_one_garage_never_overfill_it,
    deletes_racing_moves_and_each_other_delete_each_vehicle_once,
    versions_move_with_every_write_and_guard_conditional_ones,
    a_vin_is_optional_unique_and_searchable,
    an_import_writes_every_row,
    an_upsert_import_updates_and_moves_registered_vehicles_within_capacity,
    an_import_with_any_bad_row_writes_none_and_names_every_one,
    a_dry_run_checks_everything_and_writes_nothing,
    a_dry_run_inserts_no_vehicle_even_for_a_moment,
    a_dry_run_reports_what_the_import_does_across_batches,
    an_import_whose_input_fails_writes_nothing,
    an_idempotency_key_is_claimed_once_then_replayed,
    concurrent_claims_of_one_key_let_one_through,
    api_keys_are_found_by_hash_until_revoked,
    lists_keep_only_the_garages_within,
    every_write_records_one_event_with_its_author,
    a_refused_write_records_no_event,
    histories_outlive_what_they_tell_of,
    a_poller_sees_every_event_once_in_order_under_concurrent_writers,
    old_events_are_purged_with_their_deliveries,
    without_endpoints_the_dispatcher_passes_over_the_feed,
    an_endpoint_gets_what_follows_it_whatever_its_makers_clock,
);

async fn garages_are_created_read_and_listed_in_pages(s: Store) {
    let a = s.garage("Garage A", Some(3)).await;
    assert_eq!(a.name.as_str(), "Garage A");
    assert_eq!(a.capacity.map(Capacity::get), Some(3));
    assert_eq!(a.vehicle_count, 0);
    assert_eq!(s.garages.get(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        s.garages
            .get(GarageId::parse(a.id.get() + 1000).unwrap())
            .await
            .unwrap(),
        None
    );

    let b = s.garage("Garage B", None).await;
    let c = s.garage("Garage C", None).await;
    let first = s
        .garages
        .list(GarageFilter::default(), page(2, None))
        .await
        .unwrap();
    assert_eq!(
        first.items.iter().map(|g| g.id).collect::<Vec<_>>(),
        [a.id, b.id]
    );
    assert_eq!(first.next_after, Some(b.id.get()));
    let second = s
        .garages
        .list(GarageFilter::default(), page(2, first.next_after))
        .await
        .unwrap();
    assert_eq!(
        second.items.iter().map(|g| g.id).collect::<Vec<_>>(),
        [c.id]
    );
    assert_eq!(second.next_after, None);
}

async fn garage_search_ignores_case_accents_and_punctuation(s: Store) {
    let nord = s.garage("Garage du Nord", None).await;
    s.garage("Atelier Sud", None).await;
    let depot = s.garage("Dépôt Lyon Part-Dieu", None).await;
    let unicode = s.garage("Ünïcødé", None).await;
    let percent = s.garage("Promo 50% off", None).await;
    let search = |text: &str| GarageFilter {
        name_contains: Some(text.to_owned()),
        ..GarageFilter::default()
    };
    let find = |text: &'static str| {
        let garages = s.garages.clone();
        async move {
            let found = garages.list(search(text), page(50, None)).await.unwrap();
            found.items.iter().map(|g| g.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(find("NORD").await, [nord.id]);
    assert_eq!(find("depot").await, [depot.id]);
    assert_eq!(find("part dieu").await, [depot.id]);
    assert_eq!(find("PART-DIEU").await, [depot.id]);
    assert_eq!(find("ünïcødé").await, [unicode.id]);
    assert_eq!(find("unicode").await, [unicode.id]);
    // Wildcards are punctuation, never patterns.
    assert_eq!(find("50%").await, [percent.id]);
    assert!(find("n_rd").await.is_empty());
    // A new name is keyed as it is written.
    s.garages
        .update(
            nord.id,
            GarageChanges {
                name: Some(GarageName::parse("Hangar Nœud").unwrap()),
                ..GarageChanges::default()
            },
            None,
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert!(find("nord").await.is_empty());
    assert_eq!(find("noeud").await, [nord.id]);
}

/// Names a migration leaves unkeyed, or an older version renames without
/// keying, are keyed when the service next starts, so they are found like
/// the others.
async fn names_left_unkeyed_or_stale_are_keyed_at_the_next_start(s: Store) {
    use diesel::{Connection, RunQueryDsl};

    let kept = s.garage("Déjà là", None).await;
    {
        let url = s._db.url().to_owned();
        let run = |sql: &str| match &url {
            url if url.starts_with("postgres") => {
                let mut conn = diesel::PgConnection::establish(url).unwrap();
                diesel::sql_query(sql).execute(&mut conn).unwrap();
            }
            url => {
                let mut conn = diesel::SqliteConnection::establish(url).unwrap();
                diesel::sql_query(sql).execute(&mut conn).unwrap();
            }
        };
        run("INSERT INTO garages (name, address) VALUES ('Entrepôt Brûlé', 'x')");
        // Renamed by a version of the service that did not key names.
        run("UPDATE garages SET name = 'Déjà vu' WHERE name = 'Déjà là'");
    }
    let search = |text: &str| GarageFilter {
        name_contains: Some(text.to_owned()),
        ..GarageFilter::default()
    };
    assert!(s
        .garages
        .list(search("entrepot"), page(50, None))
        .await
        .unwrap()
        .items
        .is_empty());
    s._db.connect().migrate().unwrap();
    let found = s
        .garages
        .list(search("entrepot brule"), page(50, None))
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    let found = s
        .garages
        .list(search("deja vu"), page(50, None))
        .await
        .unwrap();
    assert_eq!(found.items[0].id, kept.id);
    assert!(s
        .garages
        .list(search("deja la"), page(50, None))
        .await
        .unwrap()
        .items
        .is_empty());
}

/// Every sort, both ways, walked a few items a page: the pages hold every
/// item once, in the order the whole list sorted at once has.
async fn every_sort_pages_through_every_item_once_in_order(s: Store) {
    let a = s.garage("Zèbre", Some(10)).await;
    let b = s.garage("âne", None).await;
    let c = s.garage("Ours", None).await;
    let specs = [
        (a.id, "SO-003", "Renault", "Clio", 2020),
        (a.id, "SO-001", "Peugeot", "208", 2020),
        (b.id, "SO-010", "Renault", "Zoe", 2018),
        (b.id, "SO-002", "Citroën", "C3", 2023),
        (c.id, "SO-007", "Renault", "Clio", 2020),
        (c.id, "SO-004", "Dacia", "Sandero", 2018),
        (a.id, "SO-009", "Peugeot", "3008", 2021),
    ];
    for (garage, plate, brand, model, year) in specs {
        let mut v = new_vehicle(garage, plate);
        v.brand = Brand::parse(brand).unwrap();
        v.model = ModelName::parse(model).unwrap();
        v.year = ModelYear::parse(year).unwrap();
        s.vehicles.create(v, Origin::anonymous()).await.unwrap();
    }
    // One more write, so updated_at differs from the creation order.
    let first = s.vehicles_in(a.id).await[0].id;
    s.vehicles
        .update(
            first,
            VehicleChanges {
                model: Some(ModelName::parse("Clio V").unwrap()),
                ..VehicleChanges::default()
            },
            None,
            Origin::anonymous(),
        )
        .await
        .unwrap();

    for &by in VehicleSortKey::ALL {
        for descending in [false, true] {
            let sort = Sort { by, descending };
            let mut walked = Vec::new();
            let (mut after, mut after_value) = (None, None);
            loop {
                let filter = VehicleFilter {
                    sort,
                    after_value: after_value.clone(),
                    ..VehicleFilter::default()
                };
                let got = s.vehicles.list(filter, page(3, after)).await.unwrap();
                walked.extend(got.items.iter().cloned());
                let Some(next) = got.next_after else { break };
                after = Some(next);
                after_value = got.items.last().and_then(|v| by.value_of(v));
            }
            let whole = s
                .vehicles
                .list(
                    VehicleFilter {
                        sort,
                        ..VehicleFilter::default()
                    },
                    page(200, None),
                )
                .await
                .unwrap()
                .items;
            let ids = |vs: &[Vehicle]| vs.iter().map(|v| v.id).collect::<Vec<_>>();
            assert_eq!(ids(&walked), ids(&whole), "{} desc={descending}", by.name());
            assert_eq!(whole.len(), 7);
            // The order is the sort's, ties by id the same way.
            let key = |v: &Vehicle| (by.value_of(v), v.id);
            let mut expected = whole.clone();
            expected.sort_by(|x, y| {
                let order = match (key(x), key(y)) {
                    ((Some(SortValue::Text(p)), i), (Some(SortValue::Text(q)), j))
                        if by == VehicleSortKey::LicensePlate =>
                    {
                        (p, i).cmp(&(q, j))
                    }
                    ((Some(SortValue::Int(p)), i), (Some(SortValue::Int(q)), j)) => {
                        (p, i).cmp(&(q, j))
                    }
                    ((Some(SortValue::Time(p)), i), (Some(SortValue::Time(q)), j)) => {
                        (p, i).cmp(&(q, j))
                    }
                    ((None, i), (None, j)) => i.cmp(&j),
                    // Brand and model follow the database's collation.
                    _ => std::cmp::Ordering::Equal,
                };
                if descending {
                    order.reverse()
                } else {
                    order
                }
            });
            if !matches!(by, VehicleSortKey::Brand | VehicleSortKey::Model) {
                assert_eq!(
                    ids(&whole),
                    ids(&expected),
                    "{} desc={descending}",
                    by.name()
                );
            }
        }
    }

    for &by in GarageSortKey::ALL {
        for descending in [false, true] {
            let sort = Sort { by, descending };
            let mut walked = Vec::new();
            let (mut after, mut after_value) = (None, None);
            loop {
                let filter = GarageFilter {
                    sort,
                    after_value: after_value.clone(),
                    ..GarageFilter::default()
                };
                let got = s.garages.list(filter, page(1, after)).await.unwrap();
                walked.extend(got.items.iter().map(|g| g.name.as_str().to_owned()));
                let Some(next) = got.next_after else { break };
                after = Some(next);
                after_value = got.items.last().and_then(|g| by.value_of(g));
            }
            let mut expected: Vec<&str> = match by {
                GarageSortKey::Id => vec!["Zèbre", "âne", "Ours"],
                // Accents and case aside: âne, ours, zebre.
                GarageSortKey::Name => vec!["âne", "Ours", "Zèbre"],
                // Ours 2, âne 2 (older first), Zèbre 3.
                GarageSortKey::VehicleCount => vec!["âne", "Ours", "Zèbre"],
            };
            if descending {
                expected.reverse();
            }
            assert_eq!(walked, expected, "{} desc={descending}", by.name());
        }
    }
}

async fn vehicles_are_found_by_part_of_their_plate_and_their_years(s: Store) {
    let g = s.garage("Filtres", None).await;
    for (plate, year) in [
        ("AB-123-CD", 2015),
        ("XY-512-AB", 2019),
        ("CD-100-EF", 2023),
    ] {
        let mut v = new_vehicle(g.id, plate);
        v.year = ModelYear::parse(year).unwrap();
        s.vehicles.create(v, Origin::anonymous()).await.unwrap();
    }
    let plates = |filter: VehicleFilter| {
        let vehicles = s.vehicles.clone();
        async move {
            vehicles
                .list(filter, page(50, None))
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|v| v.license_plate.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let part = |text: &str| VehicleFilter {
        plate_contains: Some(PlateFragment::parse(text).unwrap()),
        ..VehicleFilter::default()
    };
    assert_eq!(plates(part("12")).await, ["AB123CD", "XY512AB"]);
    assert_eq!(plates(part("b-12")).await, ["AB123CD"]);
    assert_eq!(plates(part("cd")).await, ["AB123CD", "CD100EF"]);
    assert_eq!(plates(part("512-ab")).await, ["XY512AB"]);
    assert!(plates(part("ZZ")).await.is_empty());
    assert!(plates(part("ZZZ")).await.is_empty());
    let years = |min: Option<i64>, max: Option<i64>| VehicleFilter {
        year_min: min.map(|y| ModelYear::parse(y).unwrap()),
        year_max: max.map(|y| ModelYear::parse(y).unwrap()),
        ..VehicleFilter::default()
    };
    assert_eq!(
        plates(years(Some(2019), None)).await,
        ["XY512AB", "CD100EF"]
    );
    assert_eq!(
        plates(years(None, Some(2019))).await,
        ["AB123CD", "XY512AB"]
    );
    assert_eq!(plates(years(Some(2016), Some(2020))).await, ["XY512AB"]);
    let both = VehicleFilter {
        year_min: Some(ModelYear::parse(2016).unwrap()),
        ..part("AB")
    };
    assert_eq!(plates(both).await, ["XY512AB"]);
    // A plate changed or a vehicle deleted is found as it is now.
    let xy = s.vehicles_in(g.id).await[1].clone();
    s.vehicles
        .update(
            xy.id,
            VehicleChanges {
                license_plate: Some(LicensePlate::parse("XY-777-QQ").unwrap()),
                ..VehicleChanges::default()
            },
            None,
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert!(plates(part("512AB")).await.is_empty());
    assert_eq!(plates(part("777Q")).await, ["XY777QQ"]);
    s.vehicles
        .delete(xy.id, None, Origin::anonymous())
        .await
        .unwrap();
    assert!(plates(part("777Q")).await.is_empty());
}

async fn garages_are_updated_and_their_limit_removed(s: Store) {
    let g = s.garage("Old name", Some(2)).await;
    let changed = s
        .garages
        .update(
            g.id,
            GarageChanges {
                name: Some(GarageName::parse("New name").unwrap()),
                capacity: Some(None),
                ..GarageChanges::default()
            },
            None,
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert_eq!(changed.name.as_str(), "New name");
    assert_eq!(changed.address, g.address);
    assert_eq!(changed.capacity, None);
    assert!(changed.updated_at >= g.updated_at);
    assert_eq!(s.garages.get(g.id).await.unwrap(), Some(changed));

    let missing = s
        .garages
        .update(
            GarageId::parse(g.id.get() + 99).unwrap(),
            GarageChanges {
                name: Some(GarageName::parse("x").unwrap()),
                ..GarageChanges::default()
            },
            None,
            Origin::anonymous(),
        )
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::GarageNotFound(_)), "{missing:?}");
}

async fn capacity_never_drops_below_the_vehicles_held(s: Store) {
    let g = s.garage("G", None).await;
    for plate in ["AA01", "AA02", "AA03"] {
        s.vehicle(g.id, plate).await.unwrap();
    }
    let to = |c: i64| GarageChanges {
        capacity: Some(Some(Capacity::parse(c).unwrap())),
        ..GarageChanges::default()
    };
    let err = s
        .garages
        .update(g.id, to(2), None, Origin::anonymous())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::CapacityBelowCount {
                capacity: 2,
                count: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(s.garages.get(g.id).await.unwrap().unwrap().capacity, None);
    let ok = s
        .garages
        .update(g.id, to(3), None, Origin::anonymous())
        .await
        .unwrap();
    assert_eq!(ok.capacity.map(Capacity::get), Some(3));
}

async fn only_an_empty_garage_is_deleted(s: Store) {
    let full = s.garage("Full", None).await;
    let v = s.vehicle(full.id, "ZZ99").await.unwrap();
    let err = s
        .garages
        .delete(full.id, None, Origin::anonymous())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::GarageNotEmpty { count: 1, .. }),
        "{err:?}"
    );
    assert!(s.garages.get(full.id).await.unwrap().is_some());
    assert_eq!(s.vehicles.get(v.id).await.unwrap(), Some(v));

    let empty = s.garage("Empty", None).await;
    s.garages
        .delete(empty.id, None, Origin::anonymous())
        .await
        .unwrap();
    assert_eq!(s.garages.get(empty.id).await.unwrap(), None);
    let err = s
        .garages
        .delete(empty.id, None, Origin::anonymous())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::GarageNotFound(_)), "{err:?}");
}

async fn vehicles_are_stored_with_their_canonical_plate(s: Store) {
    let g = s.garage("G", None).await;
    let v = s.vehicle(g.id, "ab-123-cd").await.unwrap();
    assert_eq!(v.license_plate.as_str(), "AB123CD");
    assert_eq!(v.garage_id, g.id);
    assert_eq!(v.brand.as_str(), "Renault");
    assert_eq!(v.year.get(), 2021);
    assert_eq!(s.vehicles.get(v.id).await.unwrap(), Some(v.clone()));
    assert_eq!(s.count(g.id).await, 1);
}

async fn a_plate_is_unique_whatever_its_spelling(s: Store) {
    let g = s.garage("G", None).await;
    s.vehicle(g.id, "AB123CD").await.unwrap();
    let err = s.vehicle(g.id, "ab 123-cd").await.unwrap_err();
    assert!(
        matches!(&err, Error::DuplicatePlate(p) if p.as_str() == "AB123CD"),
        "{err:?}"
    );
    assert_eq!(
        s.count(g.id).await,
        1,
        "a refused create must not take a place"
    );
    assert_eq!(s.vehicles_in(g.id).await.len(), 1);
}

async fn a_vehicle_needs_an_existing_garage(s: Store) {
    let err = s
        .vehicle(GarageId::parse(424242).unwrap(), "AB123CD")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::GarageNotFound(id) if id.get() == 424242),
        "{err:?}"
    );
}

async fn a_full_garage_refuses_vehicles(s: Store) {
    let g = s.garage("Small", Some(1)).await;
    s.vehicle(g.id, "AA11").await.unwrap();
    let err = s.vehicle(g.id, "BB22").await.unwrap_err();
    assert!(
        matches!(err, Error::GarageFull { capacity: 1, .. }),
        "{err:?}"
    );
    assert_eq!(s.vehicles_in(g.id).await.len(), 1);
}

async fn vehicles_are_filtered_and_paged_stably(s: Store) {
    let a = s.garage("A", None).await;
    let b = s.garage("B", None).await;
    let v1 = s.vehicle(a.id, "AA01").await.unwrap();
    let v2 = s.vehicle(b.id, "AA02").await.unwrap();
    let mut peugeot = new_vehicle(a.id, "AA03");
    peugeot.brand = Brand::parse("Peugeot").unwrap();
    let v3 = s
        .vehicles
        .create(peugeot, Origin::anonymous())
        .await
        .unwrap();

    let by_plate = VehicleFilter {
        plate: Some(LicensePlate::parse("aa-02").unwrap()),
        ..VehicleFilter::default()
    };
    let found = s.vehicles.list(by_plate, page(50, None)).await.unwrap();
    assert_eq!(found.items, [v2]);

    let by_brand = VehicleFilter {
        brand: Some("PEUGEOT".into()),
        ..VehicleFilter::default()
    };
    let found = s.vehicles.list(by_brand, page(50, None)).await.unwrap();
    assert_eq!(found.items, std::slice::from_ref(&v3));

    let in_a = VehicleFilter {
        garage_id: Some(a.id),
        ..VehicleFilter::default()
    };
    let first = s.vehicles.list(in_a.clone(), page(1, None)).await.unwrap();
    assert_eq!(first.items, [v1]);
    // A vehicle added between two pages appears on a later page, and no
    // vehicle is seen twice.
    let v4 = s.vehicle(a.id, "AA04").await.unwrap();
    let second = s
        .vehicles
        .list(in_a.clone(), page(1, first.next_after))
        .await
        .unwrap();
    assert_eq!(second.items, [v3]);
    let third = s
        .vehicles
        .list(in_a, page(1, second.next_after))
        .await
        .unwrap();
    assert_eq!(third.items, [v4]);
    assert_eq!(third.next_after, None);
}

async fn vehicles_move_between_garages_within_capacity(s: Store) {
    let from = s.garage("From", None).await;
    let to = s.garage("To", Some(1)).await;
    let v = s.vehicle(from.id, "MV01").await.unwrap();
    let w = s.vehicle(from.id, "MV02").await.unwrap();

    let moved = s
        .vehicles
        .update(v.id, move_to(to.id), None, Origin::anonymous())
        .await
        .unwrap();
    assert_eq!(moved.garage_id, to.id);
    assert_eq!(moved.license_plate, v.license_plate);
    assert_eq!((s.count(from.id).await, s.count(to.id).await), (1, 1));

    let err = s
        .vehicles
        .update(w.id, move_to(to.id), None, Origin::anonymous())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::GarageFull { capacity: 1, .. }),
        "{err:?}"
    );
    assert_eq!(
        s.vehicles.get(w.id).await.unwrap().unwrap().garage_id,
        from.id
    );
    assert_eq!((s.count(from.id).await, s.count(to.id).await), (1, 1));

    let err = s
        .vehicles
        .update(
            w.id,
            move_to(GarageId::parse(999_999).unwrap()),
            None,
            Origin::anonymous(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::GarageNotFound(_)), "{err:?}");

    // Staying in place with other changes is no move.
    let changes = VehicleChanges {
        garage_id: Some(to.id),
        model: Some(ModelName::parse("Zoe").unwrap()),
        ..VehicleChanges::default()
    };
    let same = s
        .vehicles
        .update(v.id, changes, None, Origin::anonymous())
        .await
        .unwrap();
    assert_eq!(same.model.as_str(), "Zoe");
    assert_eq!(s.count(to.id).await, 1);

    let err = s
        .vehicles
        .update(
            VehicleId::parse(999_999).unwrap(),
            move_to(from.id),
            None,
            Origin::anonymous(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::VehicleNotFound(_)), "{err:?}");
}

async fn a_vehicle_cannot_take_a_plate_already_registered(s: Store) {
    let g = s.garage("G", None).await;
    s.vehicle(g.id, "AA11").await.unwrap();
    let v = s.vehicle(g.id, "BB22").await.unwrap();
    let changes = VehicleChanges {
        license_plate: Some(LicensePlate::parse("aa 11").unwrap()),
        ..VehicleChanges::default()
    };
    let err = s
        .vehicles
        .update(v.id, changes, None, Origin::anonymous())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicatePlate(p) if p.as_str() == "AA11"),
        "{err:?}"
    );
    assert_eq!(
        s.vehicles
            .get(v.id)
            .await
            .unwrap()
            .unwrap()
            .license_plate
            .as_str(),
        "BB22"
    );
}

async fn deleting_a_vehicle_frees_its_place(s: Store) {
    let g = s.garage("G", Some(1)).await;
    let v = s.vehicle(g.id, "DL01").await.unwrap();
    s.vehicles
        .delete(v.id, None, Origin::anonymous())
        .await
        .unwrap();
    assert_eq!(s.vehicles.get(v.id).await.unwrap(), None);
    assert_eq!(s.count(g.id).await, 0);
    s.vehicle(g.id, "DL02").await.unwrap();
    let err = s
        .vehicles
        .delete(v.id, None, Origin::anonymous())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::VehicleNotFound(_)), "{err:?}");
}

async fn fifty_concurrent_creates_of_one_plate_make_one_vehicle(s: Store) {
    let g = s.garage("G", None).await;
    let spellings = ["AB-123-CD", "ab123cd", "AB 123 CD", "ab.123.cd", "Ab123Cd"];
    let results = join_all((0..50).map(|i| {
        let vehicles = s.vehicles.clone();
        let new = new_vehicle(g.id, spellings[i % spellings.len()]);
        tokio::spawn(async move { vehicles.create(new, Origin::anonymous()).await })
    }))
    .await;
    let (mut created, mut duplicates) = (0, 0);
    for result in results {
        match result.unwrap() {
            Ok(_) => created += 1,
            Err(Error::DuplicatePlate(_)) => duplicates += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((created, duplicates), (1, 49));
    assert_eq!(s.vehicles_in(g.id).await.len(), 1);
    assert_eq!(s.count(g.id).await, 1);
}

async fn twenty_concurrent_creates_fill_a_garage_of_five_exactly(s: Store) {
    let g = s.garage("Five", Some(5)).await;
    let results = join_all((0..20).map(|i| {
        let vehicles = s.vehicles.clone();
        let new = new_vehicle(g.id, &format!("CAP{i:03}"));
        tokio::spawn(async move { vehicles.create(new, Origin::anonymous()).await })
    }))
    .await;
    let (mut created, mut full) = (0, 0);
    for result in results {
        match result.unwrap() {
            Ok(_) => created += 1,
            Err(Error::GarageFull { capacity: 5, .. }) => full += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((created, full), (5, 15));
    assert_eq!(s.vehicles_in(g.id).await.len(), 5);
    assert_eq!(s.count(g.id).await, 5);
}

async fn concurrent_moves_never_overfill_a_garage(s: Store) {
    let target = s.garage("Target", Some(3)).await;
    let a = s.garage("A", None).await;
    let b = s.garage("B", None).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let from = if i % 2 == 0 { a.id } else { b.id };
        ids.push(s.vehicle(from, &format!("MOV{i:02}")).await.unwrap().id);
    }
    let results = join_all(ids.into_iter().map(|id| {
        let vehicles = s.vehicles.clone();
        tokio::spawn(async move {
            vehicles
                .update(id, move_to(target.id), None, Origin::anonymous())
                .await
        })
    }))
    .await;
    let moved = results
        .into_iter()
        .map(|r| match r.unwrap() {
            Ok(_) => 1,
            Err(Error::GarageFull { .. }) => 0,
            Err(other) => panic!("unexpected error: {other:?}"),
        })
        .sum::<u32>();
    assert_eq!(moved, 3);
    assert_eq!(s.vehicles_in(target.id).await.len(), 3);
    assert_eq!(s.count(target.id).await, 3);
    assert_eq!(s.count(a.id).await + s.count(b.id).await, 9);
    assert_eq!(
        s.vehicles_in(a.id).await.len() + s.vehicles_in(b.id).await.len(),
        9
    );
}

fn vin(text: &str) -> Vin {
    Vin::parse(text).unwrap()
}

fn rows(rows: Vec<(u64, Result<NewVehicle, Vec<LineError>>)>) -> ImportRows {
    Box::new(rows.into_iter().map(|(line, vehicle)| {
        Ok(ImportRow {
            line,
            vehicle,
            odometer: None,
        })
    }))
}

/// PostgreSQL deletes what it read at the version it read (no lock held in
/// between): a move in between makes it read again, a second delete finds
/// nothing. Counts, rows and events agree at the end.
async fn deletes_racing_moves_and_each_other_delete_each_vehicle_once(s: Store) {
    let a = s.garage("A", None).await;
    let b = s.garage("B", None).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(s.vehicle(a.id, &format!("RACE{i:02}")).await.unwrap().id);
    }
    let tasks = ids.iter().flat_map(|&id| {
        let vehicles = s.vehicles.clone();
        let deletes = (0..2).map(move |_| {
            let vehicles = vehicles.clone();
            tokio::spawn(async move {
                match vehicles.delete(id, None, Origin::anonymous()).await {
                    Ok(()) => 1,
                    Err(Error::VehicleNotFound(_)) => 0,
                    Err(other) => panic!("unexpected error: {other:?}"),
                }
            })
        });
        let vehicles = s.vehicles.clone();
        let moves = (0..3).map(move |n| {
            let vehicles = vehicles.clone();
            let to = if n % 2 == 0 { b.id } else { a.id };
            tokio::spawn(async move {
                match vehicles
                    .update(id, move_to(to), None, Origin::anonymous())
                    .await
                {
                    Ok(_) | Err(Error::VehicleNotFound(_)) => 0,
                    Err(other) => panic!("unexpected error: {other:?}"),
                }
            })
        });
        deletes.chain(moves).collect::<Vec<_>>()
    });
    let deleted: u32 = join_all(tasks).await.into_iter().map(Result::unwrap).sum();
    assert_eq!(deleted, 10, "each vehicle deleted exactly once");
    for id in &ids {
        assert_eq!(s.vehicles.get(*id).await.unwrap(), None);
    }
    assert_eq!((s.count(a.id).await, s.count(b.id).await), (0, 0));
    let (events, _) = drain(&s, everything(), FeedPosition::default(), 100).await;
    let deletions = events
        .iter()
        .filter(|e| e.kind.as_str() == "vehicle.deleted")
        .count();
    assert_eq!(deletions, 10);
}

async fn versions_move_with_every_write_and_guard_conditional_ones(s: Store) {
    let g = s.garage("Versioned", None).await;
    let rename = |name: &str| GarageChanges {
        name: Some(GarageName::parse(name).unwrap()),
        ..GarageChanges::default()
    };
    let g2 = s
        .garages
        .update(
            g.id,
            rename("Renamed"),
            Some(g.version),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert!(g2.version > g.version);
    let err = s
        .garages
        .update(
            g.id,
            rename("Lost update"),
            Some(g.version),
            Origin::anonymous(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Stale), "{err:?}");
    assert_eq!(
        s.garages.get(g.id).await.unwrap().unwrap().name.as_str(),
        "Renamed"
    );

    // The vehicle count is part of a garage: taking a place moves its version.
    let v = s.vehicle(g.id, "VER-1").await.unwrap();
    let g3 = s.garages.get(g.id).await.unwrap().unwrap();
    assert!(g3.version > g2.version);

    let model = VehicleChanges {
        model: Some(ModelName::parse("Megane").unwrap()),
        ..VehicleChanges::default()
    };
    let v2 = s
        .vehicles
        .update(v.id, model.clone(), Some(v.version), Origin::anonymous())
        .await
        .unwrap();
    assert!(v2.version > v.version);
    let err = s
        .vehicles
        .update(v.id, model, Some(v.version), Origin::anonymous())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Stale), "{err:?}");
    let err = s
        .vehicles
        .delete(v.id, Some(v.version), Origin::anonymous())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Stale), "{err:?}");
    let err = s
        .vehicles
        .delete(
            VehicleId::parse(v.id.get() + 999).unwrap(),
            Some(v.version),
            Origin::anonymous(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::VehicleNotFound(_)), "{err:?}");
    s.vehicles
        .delete(v.id, Some(v2.version), Origin::anonymous())
        .await
        .unwrap();
    assert_eq!(s.count(g.id).await, 0);

    let err = s
        .garages
        .delete(g.id, Some(g3.version), Origin::anonymous())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Stale), "{err:?}");
    let now = s.garages.get(g.id).await.unwrap().unwrap();
    s.garages
        .delete(g.id, Some(now.version), Origin::anonymous())
        .await
        .unwrap();
    assert_eq!(s.garages.get(g.id).await.unwrap(), None);
}

async fn a_vin_is_optional_unique_and_searchable(s: Store) {
    let g = s.garage("VINs", None).await;
    let mut with_vin = new_vehicle(g.id, "VIN-1");
    with_vin.vin = Some(vin("vf1rfb00x12345678"));
    let v = s
        .vehicles
        .create(with_vin, Origin::anonymous())
        .await
        .unwrap();
    assert_eq!(v.vin.as_ref().map(Vin::as_str), Some("VF1RFB00X12345678"));
    // No VIN at all is no duplicate.
    s.vehicle(g.id, "VIN-2").await.unwrap();
    let w = s.vehicle(g.id, "VIN-3").await.unwrap();
    assert_eq!(w.vin, None);

    let mut same_vin = new_vehicle(g.id, "VIN-4");
    same_vin.vin = Some(vin("VF1RFB00X12345678"));
    let err = s
        .vehicles
        .create(same_vin, Origin::anonymous())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateVin(_)), "{err:?}");

    let take = VehicleChanges {
        vin: Some(Some(vin("VF1RFB00X12345678"))),
        ..VehicleChanges::default()
    };
    let err = s
        .vehicles
        .update(w.id, take, None, Origin::anonymous())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateVin(_)), "{err:?}");

    let filter = VehicleFilter {
        vin: Some(vin("VF1RFB00X12345678")),
        ..VehicleFilter::default()
    };
    let found = s
        .vehicles
        .list(filter.clone(), page(10, None))
        .await
        .unwrap();
    assert_eq!(found.items.iter().map(|v| v.id).collect::<Vec<_>>(), [v.id]);

    let remove = VehicleChanges {
        vin: Some(None),
        ..VehicleChanges::default()
    };
    assert_eq!(
        s.vehicles
            .update(v.id, remove, None, Origin::anonymous())
            .await
            .unwrap()
            .vin,
        None
    );
    assert!(s
        .vehicles
        .list(filter, page(10, None))
        .await
        .unwrap()
        .items
        .is_empty());
}

async fn an_import_writes_every_row(s: Store) {
    let g = s.garage("Import", Some(3)).await;
    let before = s.garages.get(g.id).await.unwrap().unwrap();
    let mut third = new_vehicle(g.id, "IMP-3");
    third.vin = Some(vin("1HGCM82633A004352"));
    let report = s
        .vehicles
        .import(
            rows(vec![
                (2, Ok(new_vehicle(g.id, "IMP-1"))),
                (3, Ok(new_vehicle(g.id, "IMP-2"))),
                (4, Ok(third)),
            ]),
            opts(false, ImportMode::Create),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert_eq!(
        report,
        ImportReport {
            rows: 3,
            imported: 3,
            ..ImportReport::default()
        }
    );
    let stored = s.vehicles_in(g.id).await;
    let plates: Vec<_> = stored.iter().map(|v| v.license_plate.as_str()).collect();
    assert_eq!(plates, ["IMP1", "IMP2", "IMP3"]);
    assert_eq!(stored[2].vin, Some(vin("1HGCM82633A004352")));
    let after = s.garages.get(g.id).await.unwrap().unwrap();
    assert_eq!(after.vehicle_count, 3);
    assert!(after.version > before.version);
    // The garage is full now, and the counts say so.
    let err = s.vehicle(g.id, "IMP-4").await.unwrap_err();
    assert!(matches!(err, Error::GarageFull { .. }), "{err:?}");
}

async fn an_import_with_any_bad_row_writes_none_and_names_every_one(s: Store) {
    let g = s.garage("Strict", Some(3)).await;
    let mut registered = new_vehicle(g.id, "TAKEN");
    registered.vin = Some(vin("VF1RFB00X12345678"));
    s.vehicles
        .create(registered, Origin::anonymous())
        .await
        .unwrap();
    let mut vin_taken = new_vehicle(g.id, "NEW-2");
    vin_taken.vin = Some(vin("VF1RFB00X12345678"));
    let bad_fields = vec![
        LineError {
            column: Some("year".into()),
            reason: Reason::OutOfRange {
                min: 1886,
                max: 2027,
            },
            message: "must be 1886 or later".into(),
        },
        LineError::whole_line(Reason::InvalidFormat, "has 4 fields where the header has 5"),
    ];
    let report = s
        .vehicles
        .import(
            rows(vec![
                (2, Ok(new_vehicle(g.id, "NEW-1"))),
                (3, Err(bad_fields)),
                (4, Ok(new_vehicle(g.id, "taken"))),
                (5, Ok(new_vehicle(g.id, "NEW 1"))),
                (6, Ok(vin_taken)),
                (
                    7,
                    Ok(new_vehicle(
                        GarageId::parse(g.id.get() + 500).unwrap(),
                        "NEW-3",
                    )),
                ),
                (8, Ok(new_vehicle(g.id, "NEW-4"))),
                (9, Ok(new_vehicle(g.id, "NEW-5"))),
            ]),
            opts(false, ImportMode::Create),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert_eq!((report.rows, report.imported), (8, 0));
    let found: Vec<(u64, Option<&str>, &str)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_deref(), e.reason.code()))
        .collect();
    // In file order, though the database's refusals are found a batch later.
    assert_eq!(
        found,
        [
            (3, Some("year"), "out_of_range"),
            (3, None, "invalid_format"),
            (4, Some("license_plate"), "duplicate"),
            (5, Some("license_plate"), "duplicate"),
            (6, Some("vin"), "duplicate"),
            (7, Some("garage_id"), "unknown_garage"),
            (9, Some("garage_id"), "garage_full"),
        ],
        "{:#?}",
        report.errors
    );
    let message = |line| {
        &report
            .errors
            .iter()
            .find(|e| e.line == line)
            .unwrap()
            .message
    };
    assert!(message(5).contains("line 2"), "{}", message(5));
    assert!(message(9).contains("capacity of 3"), "{}", message(9));
    // Nothing was written: the one vehicle from before is all there is.
    assert_eq!(s.vehicles_in(g.id).await.len(), 1);
    assert_eq!(s.count(g.id).await, 1);
}

async fn a_dry_run_checks_everything_and_writes_nothing(s: Store) {
    let g = s.garage("Dry", None).await;
    let before = s.garages.get(g.id).await.unwrap().unwrap();
    let report = s
        .vehicles
        .import(
            rows(vec![
                (2, Ok(new_vehicle(g.id, "DRY-1"))),
                (3, Ok(new_vehicle(g.id, "DRY-2"))),
            ]),
            opts(true, ImportMode::Create),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    // It says what the import would do.
    assert_eq!(
        report,
        ImportReport {
            rows: 2,
            imported: 2,
            ..ImportReport::default()
        }
    );
    assert!(s.vehicles_in(g.id).await.is_empty());
    assert_eq!(s.garages.get(g.id).await.unwrap().unwrap(), before);

    let report = s
        .vehicles
        .import(
            rows(vec![(
                2,
                Ok(new_vehicle(
                    GarageId::parse(g.id.get() + 9).unwrap(),
                    "DRY-3",
                )),
            )]),
            opts(true, ImportMode::Create),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 2);
}

/// A dry run counts the vehicles it would create without inserting them
/// (then rolling back): PostgreSQL's id sequence, which no rollback
/// returns, is untouched. (SQLite reuses rolled-back ids: there the test
/// holds either way.)
async fn a_dry_run_inserts_no_vehicle_even_for_a_moment(s: Store) {
    let g = s.garage("Ids", None).await;
    let first = s
        .vehicles
        .create(new_vehicle(g.id, "IDS-1"), Origin::anonymous())
        .await
        .unwrap();
    let report = s
        .vehicles
        .import(
            rows(vec![
                (2, Ok(new_vehicle(g.id, "IDS-2"))),
                (3, Ok(new_vehicle(g.id, "IDS-3"))),
            ]),
            opts(true, ImportMode::Create),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert_eq!((report.rows, report.imported), (2, 2));
    let next = s
        .vehicles
        .create(new_vehicle(g.id, "IDS-4"), Origin::anonymous())
        .await
        .unwrap();
    assert_eq!(
        next.id.get(),
        first.id.get() + 1,
        "the dry run took ids: it inserted rows"
    );
}

/// A dry run over several batches (an import checks 500 rows at a time)
/// reports what the import then does, rows of later batches depending on
/// earlier ones: a VIN an update frees, room a move frees, a new vehicle's
/// VIN taken again, a refusal in the last batch.
async fn a_dry_run_reports_what_the_import_does_across_batches(s: Store) {
    let small = s.garage("Small", Some(1)).await;
    let big = s.garage("Big", None).await;
    let mut held = new_vehicle(small.id, "HELD-1");
    held.vin = Some(vin("VF1AAAAAA11111111"));
    s.vehicles.create(held, Origin::anonymous()).await.unwrap();
    let file = |last_vin: &str| {
        let mut lines = Vec::new();
        // Batch 1: the held vehicle moves to Big (Small's place frees) and
        // changes its VIN (its old one frees).
        let mut moved = new_vehicle(big.id, "HELD-1");
        moved.vin = Some(vin("VF1BBBBBB22222222"));
        lines.push((2, Ok(moved)));
        for n in 0..520u64 {
            lines.push((3 + n, Ok(new_vehicle(big.id, &format!("NEW-{n}")))));
        }
        // Batch 2: into the freed place, with the freed VIN.
        let mut into = new_vehicle(small.id, "INTO-1");
        into.vin = Some(vin("VF1AAAAAA11111111"));
        lines.push((600, Ok(into)));
        // And a VIN: new, or the one line 600 takes.
        let mut last = new_vehicle(big.id, "LAST-1");
        last.vin = Some(vin(last_vin));
        lines.push((601, Ok(last)));
        rows(lines)
    };
    for (last_vin, good) in [("VF1AAAAAA11111111", false), ("VF1CCCCCC33333333", true)] {
        let checked = s
            .vehicles
            .import(
                file(last_vin),
                opts(true, ImportMode::Upsert),
                Origin::anonymous(),
            )
            .await
            .unwrap();
        let done = s
            .vehicles
            .import(
                file(last_vin),
                opts(false, ImportMode::Upsert),
                Origin::anonymous(),
            )
            .await
            .unwrap();
        assert_eq!(checked, done, "a good file: {good}");
        if good {
            assert_eq!((done.imported, done.updated), (522, 1), "{done:?}");
        } else {
            let lines: Vec<(u64, &str)> = done
                .errors
                .iter()
                .map(|e| (e.line, e.reason.code()))
                .collect();
            assert_eq!(lines, [(601, "duplicate")]);
        }
    }
    assert_eq!(s.count(small.id).await, 1);
    assert_eq!(s.count(big.id).await, 522);
}

async fn an_import_whose_input_fails_writes_nothing(s: Store) {
    let g = s.garage("Broken input", None).await;
    let input = vec![
        Ok(ImportRow {
            line: 2,
            vehicle: Ok(new_vehicle(g.id, "CUT-1")),
            odometer: None,
        }),
        Err(anyhow::anyhow!("the client went away")),
    ];
    let err = s
        .vehicles
        .import(
            Box::new(input.into_iter()),
            opts(false, ImportMode::Create),
            Origin::anonymous(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Internal(_)), "{err:?}");
    assert!(s.vehicles_in(g.id).await.is_empty());
    assert_eq!(s.count(g.id).await, 0);
}

/// An answer as the API would store it: opaque bytes to the store, kept
/// exactly (binary included).
fn response(body: &str) -> Vec<u8> {
    let mut answer = vec![0u8, 0xff, 0x01];
    answer.extend_from_slice(body.as_bytes());
    answer
}

async fn an_idempotency_key_is_claimed_once_then_replayed(s: Store) {
    let day = std::time::Duration::from_secs(86_400);
    let claim = |key: &str, fp: &str, ttl| s.keys.claim(key.into(), fp.into(), ttl);
    assert_eq!(claim("k1", "body-a", day).await.unwrap(), Claim::Claimed);
    assert_eq!(claim("k1", "body-a", day).await.unwrap(), Claim::InProgress);
    assert_eq!(claim("k1", "body-b", day).await.unwrap(), Claim::Mismatch);
    s.keys.complete("k1".into(), response("{}")).await.unwrap();
    assert_eq!(
        claim("k1", "body-a", day).await.unwrap(),
        Claim::Replay(response("{}"))
    );
    assert_eq!(claim("k1", "body-b", day).await.unwrap(), Claim::Mismatch);

    // A released key runs again.
    assert_eq!(claim("k2", "x", day).await.unwrap(), Claim::Claimed);
    s.keys.release("k2".into()).await.unwrap();
    assert_eq!(claim("k2", "x", day).await.unwrap(), Claim::Claimed);

    // A claim left without an answer (its instance died) is free after
    // five minutes, not before.
    assert_eq!(claim("k3", "y", day).await.unwrap(), Claim::Claimed);
    s.clock
        .advance(ABANDONED_CLAIM - std::time::Duration::from_secs(1));
    assert_eq!(claim("k3", "y", day).await.unwrap(), Claim::InProgress);
    s.clock.advance(std::time::Duration::from_secs(2));
    assert_eq!(claim("k3", "y", day).await.unwrap(), Claim::Claimed);

    // k1 and k2 were claimed at 0 s, k3 at 301 s; it is 301 s now. At a
    // day less a minute k1 still replays; a day and a minute in, it is new
    // again, and k2 is purged while k3, younger, is kept.
    let minute = std::time::Duration::from_secs(60);
    s.clock
        .advance(day - std::time::Duration::from_secs(301) - minute);
    assert_eq!(
        claim("k1", "body-a", day).await.unwrap(),
        Claim::Replay(response("{}")),
        "still within its day"
    );
    s.clock.advance(2 * minute);
    assert_eq!(claim("k1", "body-b", day).await.unwrap(), Claim::Claimed);
    assert_eq!(s.keys.purge(day).await.unwrap(), 1, "k2 expired");
    s.clock.advance(ABANDONED_CLAIM);
    assert_eq!(s.keys.purge(day).await.unwrap(), 1, "then k3");
    assert_eq!(s.keys.purge(day).await.unwrap(), 0);
}

async fn concurrent_claims_of_one_key_let_one_through(s: Store) {
    let day = std::time::Duration::from_secs(86_400);
    let claims = (0..20).map(|_| {
        let keys = s.keys.clone();
        tokio::spawn(async move { keys.claim("same".into(), "fp".into(), day).await })
    });
    let claims: Vec<Claim> = join_all(claims)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    let claimed = claims.iter().filter(|c| **c == Claim::Claimed).count();
    let waiting = claims.iter().filter(|c| **c == Claim::InProgress).count();
    assert_eq!((claimed, waiting), (1, 19), "{claims:?}");
}

fn at(seconds: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

async fn api_keys_are_found_by_hash_until_revoked(s: Store) {
    assert!(!s.api_keys.any_created().await.unwrap());
    let depot = s.garage("Dépôt", None).await.id;
    let (limited, open) = (KeySecret::generate(), KeySecret::generate());
    let created = s
        .api_keys
        .create(
            NewApiKey {
                name: KeyName::parse("Dépôt nord").unwrap(),
                prefix: limited.prefix(),
                hash: limited.hash(),
                scope: Scope::Write,
                garages: Some(vec![depot]),
                created_at: at(0),
            },
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            created.name.as_str(),
            created.scope,
            created.garages.clone()
        ),
        ("Dépôt nord", Scope::Write, Some(vec![depot]))
    );
    assert_eq!((created.created_at, created.last_used_at), (at(0), None));
    let other = s
        .api_keys
        .create(
            NewApiKey {
                name: KeyName::parse("dashboard").unwrap(),
                prefix: open.prefix(),
                hash: open.hash(),
                scope: Scope::Read,
                garages: None,
                created_at: at(1),
            },
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert!(s.api_keys.any_created().await.unwrap());
    assert_eq!(
        s.api_keys.find_active(limited.hash()).await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        s.api_keys
            .find_active(KeyHash::of("gar_unknown"))
            .await
            .unwrap(),
        None
    );

    s.api_keys.touch(created.id, at(60)).await.unwrap();
    let revoked = s
        .api_keys
        .revoke(created.id, at(90), Origin::anonymous())
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at(90)));
    assert_eq!(revoked.last_used_at, Some(at(60)));
    let again = s
        .api_keys
        .revoke(created.id, at(120), Origin::anonymous())
        .await
        .unwrap();
    assert_eq!(
        again.revoked_at,
        Some(at(90)),
        "the first revocation stands"
    );
    assert_eq!(s.api_keys.find_active(limited.hash()).await.unwrap(), None);
    assert!(matches!(
        s.api_keys
            .revoke(KeyId::parse(999).unwrap(), at(0), Origin::anonymous())
            .await,
        Err(Error::KeyNotFound(_))
    ));
    let listed = s.api_keys.list().await.unwrap();
    assert_eq!(
        listed.iter().map(|k| k.id).collect::<Vec<_>>(),
        [created.id, other.id]
    );
    s.api_keys
        .revoke(other.id, at(130), Origin::anonymous())
        .await
        .unwrap();
    assert!(
        s.api_keys.any_created().await.unwrap(),
        "revoking every key never reopens the server"
    );
}

async fn lists_keep_only_the_garages_within(s: Store) {
    let (a, b, c) = (
        s.garage("A", None).await.id,
        s.garage("B", None).await.id,
        s.garage("C", None).await.id,
    );
    for (garage, plate) in [(a, "AA-1"), (b, "BB-1"), (c, "CC-1"), (c, "CC-2")] {
        s.vehicle(garage, plate).await.unwrap();
    }
    let garages = s
        .garages
        .list(
            GarageFilter {
                within: Some(vec![a, c]),
                ..GarageFilter::default()
            },
            page(50, None),
        )
        .await
        .unwrap();
    assert_eq!(
        garages.items.iter().map(|g| g.id).collect::<Vec<_>>(),
        [a, c]
    );
    let vehicles = s
        .vehicles
        .list(
            VehicleFilter {
                within: Some(vec![b, c]),
                ..VehicleFilter::default()
            },
            page(50, None),
        )
        .await
        .unwrap();
    let mut plates: Vec<_> = vehicles
        .items
        .iter()
        .map(|v| v.license_plate.as_str().to_owned())
        .collect();
    plates.sort();
    assert_eq!(plates, ["BB1", "CC1", "CC2"]);
    let none = s
        .vehicles
        .list(
            VehicleFilter {
                within: Some(Vec::new()),
                ..VehicleFilter::default()
            },
            page(50, None),
        )
        .await
        .unwrap();
    assert!(
        none.items.is_empty(),
        "limited to no garage, nothing is seen"
    );
}

/// Every event after `after`, read a page of `limit` at a time as a poller
/// would, with where the reading stopped.
async fn drain(
    s: &Store,
    filter: EventFilter,
    mut after: FeedPosition,
    limit: i64,
) -> (Vec<Event>, FeedPosition) {
    let mut all = Vec::new();
    let mut empty_reads = 0;
    loop {
        let page = s
            .events
            .feed(filter.clone(), after, Limit::parse(limit).unwrap())
            .await
            .unwrap();
        let Some(last) = page.last() else {
            // On PostgreSQL the feed holds back, for one read, what a
            // transaction of another database hides if that transaction
            // ends between the statement's snapshot and its look at
            // `pg_stat_activity`: read again before calling the feed drained.
            empty_reads += 1;
            if empty_reads < 3 {
                continue;
            }
            return (all, after);
        };
        empty_reads = 0;
        after = last.position;
        all.extend(page);
    }
}

fn everything() -> EventFilter {
    EventFilter {
        with_keys: true,
        ..EventFilter::default()
    }
}

fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

async fn every_write_records_one_event_with_its_author(s: Store) {
    let alice = Origin::new(
        Actor {
            key_id: Some(KeyId::parse(7).unwrap()),
            name: "alice".into(),
        },
        Some("req-42".into()),
    );
    let nord = s
        .garages
        .create(
            NewGarage {
                name: GarageName::parse("Garage Nord").unwrap(),
                address: Address::parse("1 rue de Lille").unwrap(),
                capacity: None,
            },
            alice.clone(),
        )
        .await
        .unwrap();
    let lyon = s.garage("Dépôt Lyon", Some(10)).await;
    let van = s
        .vehicles
        .create(new_vehicle(nord.id, "AB-123-CD"), alice.clone())
        .await
        .unwrap();
    let changes = VehicleChanges {
        brand: Some(Brand::parse("Citroën").unwrap()),
        ..VehicleChanges::default()
    };
    s.vehicles
        .update(van.id, changes, None, alice.clone())
        .await
        .unwrap();
    // A move that changes the model too: one event, a move.
    let changes = VehicleChanges {
        model: Some(ModelName::parse("Berlingo").unwrap()),
        ..move_to(lyon.id)
    };
    s.vehicles
        .update(van.id, changes, None, alice.clone())
        .await
        .unwrap();
    let capacity = GarageChanges {
        capacity: Some(Some(Capacity::parse(20).unwrap())),
        ..GarageChanges::default()
    };
    s.garages
        .update(lyon.id, capacity, None, alice.clone())
        .await
        .unwrap();
    s.vehicles
        .delete(van.id, None, alice.clone())
        .await
        .unwrap();
    s.garages
        .delete(nord.id, None, alice.clone())
        .await
        .unwrap();
    let report = s
        .vehicles
        .import(
            rows(vec![
                (2, Ok(new_vehicle(lyon.id, "IM-001-AA"))),
                (3, Ok(new_vehicle(lyon.id, "IM-002-AA"))),
            ]),
            opts(false, ImportMode::Create),
            alice.clone(),
        )
        .await
        .unwrap();
    assert_eq!(report.imported, 2);
    let key = s
        .api_keys
        .create(
            NewApiKey {
                name: KeyName::parse("ci").unwrap(),
                prefix: "gar_abc".into(),
                hash: KeySecret::generate().hash(),
                scope: Scope::Write,
                garages: None,
                created_at: at(0),
            },
            alice.clone(),
        )
        .await
        .unwrap();
    s.api_keys
        .revoke(key.id, at(1), alice.clone())
        .await
        .unwrap();
    // A second revocation changes nothing, and says nothing.
    s.api_keys
        .revoke(key.id, at(2), alice.clone())
        .await
        .unwrap();

    let (events, _) = drain(&s, everything(), FeedPosition::default(), 3).await;
    assert_eq!(
        kinds(&events),
        [
            "garage.created",
            "garage.created",
            "vehicle.created",
            "vehicle.updated",
            "vehicle.moved",
            "garage.updated",
            "vehicle.deleted",
            "garage.deleted",
            "vehicle.created",
            "vehicle.created",
            "key.created",
            "key.revoked",
        ]
    );
    let by_alice: Vec<_> = events
        .iter()
        .filter(|e| e.request_id.as_deref() == Some("req-42"))
        .collect();
    assert_eq!(by_alice.len(), events.len() - 1, "all but Lyon's creation");
    assert!(by_alice
        .iter()
        .all(|e| e.actor.name == "alice" && e.actor.key_id == Some(KeyId::parse(7).unwrap())));

    let created = &events[2];
    assert_eq!(created.vehicle_id, Some(van.id));
    assert_eq!(created.garage_id, Some(nord.id));
    assert_eq!(created.changes["license_plate"], "AB123CD");
    assert_eq!(created.changes["id"], van.id.get());
    let updated = &events[3];
    assert_eq!(
        serde_json::Value::Object(updated.changes.clone()),
        serde_json::json!({"brand": {"from": "Renault", "to": "Citroën"}})
    );
    let moved = &events[4];
    assert_eq!(moved.garage_id, Some(lyon.id));
    assert_eq!(moved.from_garage_id, Some(nord.id));
    assert_eq!(
        serde_json::Value::Object(moved.changes.clone()),
        serde_json::json!({
            "garage_id": {"from": nord.id.get(), "to": lyon.id.get()},
            "model": {"from": "Clio", "to": "Berlingo"},
        })
    );
    assert_eq!(
        serde_json::Value::Object(events[5].changes.clone()),
        serde_json::json!({"capacity": {"from": 10, "to": 20}})
    );
    assert_eq!(events[6].changes["brand"], "Citroën");
    assert_eq!(events[7].changes["name"], "Garage Nord");
    assert_eq!(events[11].key_id, Some(key.id));
    assert!(
        !events[10].changes.contains_key("hash") && events[10].changes["scope"] == "write",
        "{:?}",
        events[10].changes
    );

    // Without keys, the key events are left out; filters combine.
    let (plain, _) = drain(&s, EventFilter::default(), FeedPosition::default(), 50).await;
    assert_eq!(plain.len(), 10);
    let moves = EventFilter {
        kinds: Some(vec![EventKind::VehicleMoved, EventKind::GarageDeleted]),
        garage_id: Some(nord.id),
        ..EventFilter::default()
    };
    let (found, _) = drain(&s, moves, FeedPosition::default(), 50).await;
    assert_eq!(kinds(&found), ["vehicle.moved", "garage.deleted"]);
}

async fn a_refused_write_records_no_event(s: Store) {
    let small = s.garage("Petit", Some(1)).await;
    let van = s.vehicle(small.id, "AA-111-AA").await.unwrap();
    let (before, _) = drain(&s, everything(), FeedPosition::default(), 50).await;
    assert_eq!(before.len(), 2);

    let other = s.garage("Autre", None).await;
    assert!(s.vehicle(small.id, "BB-222-BB").await.is_err(), "full");
    assert!(
        s.vehicle(other.id, "AA-111-AA").await.is_err(),
        "plate taken"
    );
    let stale = s
        .vehicles
        .update(
            van.id,
            move_to(other.id),
            Some(Version::new(99)),
            Origin::anonymous(),
        )
        .await;
    assert!(matches!(stale, Err(Error::Stale)));
    let refused = s.garages.delete(small.id, None, Origin::anonymous()).await;
    assert!(matches!(refused, Err(Error::GarageNotEmpty { .. })));
    let report = s
        .vehicles
        .import(
            rows(vec![
                (2, Ok(new_vehicle(other.id, "CC-333-CC"))),
                (3, Ok(new_vehicle(small.id, "DD-444-DD"))),
            ]),
            opts(false, ImportMode::Create),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert_eq!(report.imported, 0);
    let dry = s
        .vehicles
        .import(
            rows(vec![(2, Ok(new_vehicle(other.id, "EE-555-EE")))]),
            opts(true, ImportMode::Create),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert!(dry.errors.is_empty());

    let (after, _) = drain(&s, everything(), FeedPosition::default(), 50).await;
    assert_eq!(
        kinds(&after),
        ["garage.created", "vehicle.created", "garage.created"]
    );
}

async fn histories_outlive_what_they_tell_of(s: Store) {
    let nord = s.garage("Nord", None).await;
    let sud = s.garage("Sud", None).await;
    let est = s.garage("Est", None).await;
    let van = s.vehicle(nord.id, "HI-123-ST").await.unwrap();
    let other = s.vehicle(est.id, "OT-123-HR").await.unwrap();
    s.vehicles
        .update(van.id, move_to(sud.id), None, Origin::anonymous())
        .await
        .unwrap();
    s.vehicles
        .update(other.id, move_to(nord.id), None, Origin::anonymous())
        .await
        .unwrap();
    s.vehicles
        .delete(van.id, None, Origin::anonymous())
        .await
        .unwrap();
    let page = |after| PageRequest {
        limit: Limit::parse(2).unwrap(),
        after,
    };
    // Newest first, paged, after the vehicle is gone.
    let first = s
        .events
        .history(HistoryOf::Vehicle(van.id), None, page(None))
        .await
        .unwrap();
    assert_eq!(kinds(&first.items), ["vehicle.deleted", "vehicle.moved"]);
    let rest = s
        .events
        .history(HistoryOf::Vehicle(van.id), None, page(first.next_after))
        .await
        .unwrap();
    assert_eq!(kinds(&rest.items), ["vehicle.created"]);
    assert_eq!(rest.next_after, None);

    // A garage's own events, and the moves into or out of it.
    let all = PageRequest::default();
    let nord_history = s
        .events
        .history(HistoryOf::Garage(nord.id), None, all)
        .await
        .unwrap();
    assert_eq!(
        kinds(&nord_history.items),
        ["vehicle.moved", "vehicle.moved", "garage.created"]
    );
    // Seen from Sud only, the move of the other vehicle (Est to Nord) is
    // not there.
    let within_sud = s
        .events
        .history(HistoryOf::Vehicle(other.id), Some(vec![sud.id]), all)
        .await
        .unwrap();
    assert!(within_sud.items.is_empty());
    let van_within_sud = s
        .events
        .history(HistoryOf::Vehicle(van.id), Some(vec![sud.id]), all)
        .await
        .unwrap();
    assert_eq!(
        kinds(&van_within_sud.items),
        ["vehicle.deleted", "vehicle.moved"]
    );
}

async fn a_poller_sees_every_event_once_in_order_under_concurrent_writers(s: Store) {
    const WRITERS: usize = 8;
    const EACH: usize = 15;
    let mut garages = Vec::new();
    for i in 0..WRITERS {
        garages.push(s.garage(&format!("G{i}"), None).await);
    }
    let (start, _) = drain(&s, everything(), FeedPosition::default(), 200).await;
    let from = start.last().unwrap().position;
    let s = Arc::new(s);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let expected = WRITERS * (EACH + EACH.div_ceil(3));
    // The poller reads small pages while the writers run, resuming from
    // where it stopped, as a client would. Once they are done, it polls
    // until it has them all or 10 s have passed: on PostgreSQL a
    // transaction still running anywhere in the cluster (another test's)
    // holds back what the feed shows.
    let poller = {
        let (s, done) = (s.clone(), done.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut after = from;
            let mut deadline = None;
            loop {
                let (page, next) = drain(&s, everything(), after, 4).await;
                after = next;
                seen.extend(page);
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    let until = *deadline.get_or_insert_with(|| {
                        std::time::Instant::now() + std::time::Duration::from_secs(10)
                    });
                    if seen.len() >= expected || std::time::Instant::now() > until {
                        return seen;
                    }
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let writers = (0..WRITERS).map(|w| {
        let s = s.clone();
        let garage = garages[w].id;
        tokio::spawn(async move {
            for i in 0..EACH {
                let van = s.vehicle(garage, &format!("W{w}N{i:02}")).await.unwrap();
                if i % 3 == 0 {
                    let changes = VehicleChanges {
                        year: Some(ModelYear::parse(2019).unwrap()),
                        ..VehicleChanges::default()
                    };
                    s.vehicles
                        .update(van.id, changes, None, Origin::anonymous())
                        .await
                        .unwrap();
                }
            }
        })
    });
    for writer in join_all(writers).await {
        writer.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = poller.await.unwrap();

    let mut ids: Vec<i64> = seen.iter().map(|e| e.id).collect();
    let positions: Vec<FeedPosition> = seen.iter().map(|e| e.position).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "feed order broken"
    );
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), seen.len(), "an event was seen twice");
    assert_eq!(seen.len(), expected, "an event was missed");
    // And a fresh reader from the start agrees with the poller.
    let (again, _) = drain(&s, everything(), from, 50).await;
    assert_eq!(
        again.iter().map(|e| e.id).collect::<Vec<_>>(),
        seen.iter().map(|e| e.id).collect::<Vec<_>>()
    );
}

/// Out-of-order commits made on purpose, on PostgreSQL: a write whose
/// transaction began first but commits last holds the feed back until it
/// commits, so the reader never steps over it; a transaction in another
/// database of the server holds nothing back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_late_commit_is_never_stepped_over() {
    use diesel::{Connection, PgConnection, RunQueryDsl};

    let s = Store::new(TestDb::postgres());
    let garage = s.garage("Tôt", None).await;
    let (before, from) = drain(&s, everything(), FeedPosition::default(), 50).await;
    assert_eq!(before.len(), 1);

    // Elsewhere on the server, a transaction that stays open throughout.
    let mut elsewhere = PgConnection::establish(&garage_infra::testing::admin_url()).unwrap();
    diesel::sql_query("BEGIN").execute(&mut elsewhere).unwrap();
    diesel::sql_query("SELECT pg_current_xact_id()")
        .execute(&mut elsewhere)
        .unwrap();
    // Here, a write that takes its transaction id now and commits last.
    let mut late = PgConnection::establish(s._db.url()).unwrap();
    diesel::sql_query("BEGIN").execute(&mut late).unwrap();
    diesel::sql_query("SELECT pg_current_xact_id()")
        .execute(&mut late)
        .unwrap();

    let van = s.vehicle(garage.id, "TA-001-RD").await.unwrap();
    let (seen, at) = drain(&s, everything(), from, 50).await;
    assert!(seen.is_empty(), "shown while an older write runs: {seen:?}");
    assert_eq!(at, from);

    diesel::sql_query(
        "INSERT INTO events (type, occurred_at, actor_name, garage_id, changes) \
         VALUES ('garage.updated', now(), 'late', $1, '{}')",
    )
    .bind::<diesel::sql_types::BigInt, _>(garage.id.get())
    .execute(&mut late)
    .unwrap();
    diesel::sql_query("COMMIT").execute(&mut late).unwrap();

    let (seen, _) = drain(&s, everything(), from, 50).await;
    assert_eq!(kinds(&seen), ["garage.updated", "vehicle.created"]);
    assert!(seen[0].id > seen[1].id, "ids commit out of order");
    assert_eq!(seen[1].vehicle_id, Some(van.id));
    diesel::sql_query("ROLLBACK")
        .execute(&mut elsewhere)
        .unwrap();
}

fn hook_made_at(
    at: chrono::DateTime<chrono::Utc>,
) -> (
    garage_domain::webhooks::NewWebhook,
    garage_domain::webhooks::SigningSecret,
    chrono::DateTime<chrono::Utc>,
) {
    use garage_domain::webhooks::{NewWebhook, SigningSecret, Subscription, WebhookUrl};
    (
        NewWebhook {
            url: WebhookUrl::parse("https://hooks.example.com/h").unwrap(),
            events: Subscription::All,
            description: String::new(),
        },
        SigningSecret::generate(),
        at,
    )
}

/// The dispatcher's cursor, read from the store.
fn dispatch_cursor(s: &Store) -> FeedPosition {
    use diesel::{Connection, RunQueryDsl};

    #[derive(diesel::QueryableByName)]
    struct Cursor {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        tx: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        event_id: i64,
    }
    let sql = "SELECT tx, event_id FROM webhook_dispatch WHERE id = 1";
    let cursor: Cursor = match s._db.url() {
        url if url.starts_with("postgres") => {
            diesel::sql_query(sql).get_result(&mut diesel::PgConnection::establish(url).unwrap())
        }
        url => diesel::sql_query(sql)
            .get_result(&mut diesel::SqliteConnection::establish(url).unwrap()),
    }
    .unwrap();
    FeedPosition {
        tx: cursor.tx,
        id: cursor.event_id,
    }
}

/// With no endpoint, the dispatcher moves its cursor to the end of what is
/// published without reading the events: a fleet without webhooks never
/// pays for them. An endpoint made afterwards gets what follows, even one
/// that says it was made before the events passed over.
async fn without_endpoints_the_dispatcher_passes_over_the_feed(s: Store) {
    use garage_domain::webhooks::WebhookRepository;

    let hooks = garage_infra::DieselWebhookRepository::new(s._db.connect());
    let before = chrono::Utc::now() - chrono::TimeDelta::minutes(1);
    s.garage("Sans écoute", None).await;
    s.garage("Toujours sans", None).await;
    let (passed, _) = drain(&s, everything(), FeedPosition::default(), 50).await;
    let end = passed.last().unwrap().position;
    // The feed may hold the last events back for a read (see `drain`).
    for _ in 0..3 {
        assert_eq!(hooks.dispatch(100).await.unwrap(), 0, "nothing read");
        if dispatch_cursor(&s) == end {
            break;
        }
    }
    assert_eq!(dispatch_cursor(&s), end, "passed over to the end");

    let (new, secret, _) = hook_made_at(before);
    let hook = hooks.create(new, secret, before).await.unwrap();
    s.garage("Écoutée", None).await;
    let mut dispatched = 0;
    for _ in 0..3 {
        dispatched = hooks.dispatch(100).await.unwrap();
        if dispatched > 0 {
            break;
        }
    }
    assert_eq!(dispatched, 1, "only what followed the pass");
    let page = hooks
        .deliveries(hook.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
}

/// Dispatches until `hook` holds `want` deliveries (the feed may hold an
/// event back for a read, see `drain`); returns how many it holds.
async fn dispatched_to(
    hooks: &garage_infra::DieselWebhookRepository,
    hook: garage_domain::WebhookId,
    want: usize,
) -> usize {
    use garage_domain::webhooks::WebhookRepository;

    let mut held = 0;
    for _ in 0..5 {
        hooks.dispatch(100).await.unwrap();
        held = hooks
            .deliveries(hook, PageRequest::default())
            .await
            .unwrap()
            .items
            .len();
        if held >= want {
            break;
        }
    }
    held
}

/// An endpoint gets every event published after it was made, by the feed's
/// order: the clock of the instance that made it, an hour ahead of the
/// writers' or an hour behind, decides nothing.
async fn an_endpoint_gets_what_follows_it_whatever_its_makers_clock(s: Store) {
    use garage_domain::webhooks::WebhookRepository;

    let hooks = garage_infra::DieselWebhookRepository::new(s._db.connect());
    let now = chrono::Utc::now();
    let (new, secret, at) = hook_made_at(now);
    let first = hooks.create(new, secret, at).await.unwrap();
    s.garage("Avant", None).await;
    assert_eq!(dispatched_to(&hooks, first.id, 1).await, 1);

    let hour = chrono::TimeDelta::hours(1);
    let (new, secret, at) = hook_made_at(now + hour);
    let ahead = hooks.create(new, secret, at).await.unwrap();
    let (new, secret, at) = hook_made_at(now - hour);
    let behind = hooks.create(new, secret, at).await.unwrap();
    s.garage("Après", None).await;
    assert_eq!(dispatched_to(&hooks, first.id, 2).await, 2);
    assert_eq!(
        dispatched_to(&hooks, ahead.id, 1).await,
        1,
        "ahead missed it"
    );
    assert_eq!(dispatched_to(&hooks, behind.id, 1).await, 1);
}

/// An endpoint gets nothing published before it was made, not even what the
/// dispatcher has yet to pass. On SQLite, where writes take turns, that is
/// exact; on PostgreSQL an event whose transaction the feed still held back
/// at that moment (an older transaction was open) comes too: never fewer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_an_endpoint_gets_nothing_published_before_it() {
    use garage_domain::webhooks::WebhookRepository;

    let s = Store::new(TestDb::sqlite());
    let hooks = garage_infra::DieselWebhookRepository::new(s._db.connect());
    let (new, secret, at) = hook_made_at(chrono::Utc::now());
    let first = hooks.create(new, secret, at).await.unwrap();
    s.garage("Avant", None).await;
    // Made before any dispatch, by an instance an hour behind.
    let (new, secret, at) = hook_made_at(chrono::Utc::now() - chrono::TimeDelta::hours(1));
    let late = hooks.create(new, secret, at).await.unwrap();
    s.garage("Après", None).await;
    assert_eq!(dispatched_to(&hooks, first.id, 2).await, 2);
    assert_eq!(
        dispatched_to(&hooks, late.id, 1).await,
        1,
        "got what came before it"
    );
}

/// Making the first endpoint waits for a dispatcher's pass in progress, so
/// the pass cannot step over events the endpoint should get.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_making_an_endpoint_waits_for_a_pass_of_the_dispatcher() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, PgConnection, RunQueryDsl};
    use garage_domain::webhooks::WebhookRepository;

    #[derive(diesel::QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    let s = Store::new(TestDb::postgres());
    let hooks = Arc::new(garage_infra::DieselWebhookRepository::new(s._db.connect()));
    // A pass in progress holds the cursor.
    let mut pass = PgConnection::establish(s._db.url()).unwrap();
    pass.batch_execute("BEGIN; SELECT tx FROM webhook_dispatch WHERE id = 1 FOR UPDATE;")
        .unwrap();
    let making = tokio::spawn({
        let hooks = hooks.clone();
        async move {
            let (new, secret, at) = hook_made_at(chrono::Utc::now());
            hooks.create(new, secret, at).await
        }
    });
    let mut watch = PgConnection::establish(s._db.url()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let waiting: Waiting = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
              WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result(&mut watch)
        .unwrap();
        if waiting.n == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the endpoint never waited"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!making.is_finished(), "made while the pass held the cursor");
    pass.batch_execute("COMMIT;").unwrap();
    making.await.unwrap().unwrap();
    assert_eq!(hooks.list().await.unwrap().len(), 1);
}

async fn old_events_are_purged_with_their_deliveries(s: Store) {
    use garage_domain::webhooks::{
        NewWebhook, SigningSecret, Subscription, WebhookRepository, WebhookUrl,
    };

    let hooks = garage_infra::DieselWebhookRepository::new(s._db.connect());
    let hook = hooks
        .create(
            NewWebhook {
                url: WebhookUrl::parse("https://hooks.example.com/h").unwrap(),
                events: Subscription::All,
                description: String::new(),
            },
            SigningSecret::generate(),
            chrono::Utc::now() - chrono::TimeDelta::minutes(1),
        )
        .await
        .unwrap();
    s.garage("Ancien", None).await;
    // The dispatcher reads the feed, which may hold an event back for one
    // read (see `drain`).
    let mut dispatched = 0;
    for _ in 0..3 {
        dispatched = hooks.dispatch(100).await.unwrap();
        if dispatched > 0 {
            break;
        }
    }
    assert_eq!(dispatched, 1);
    let page = hooks
        .deliveries(hook.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);

    let now = chrono::Utc::now();
    assert_eq!(
        s.events
            .purge(now - chrono::TimeDelta::days(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.events
            .purge(now + chrono::TimeDelta::seconds(1))
            .await
            .unwrap(),
        1
    );
    let (left, _) = drain(&s, everything(), FeedPosition::default(), 50).await;
    assert!(left.is_empty());
    let page = hooks
        .deliveries(hook.id, PageRequest::default())
        .await
        .unwrap();
    assert!(page.items.is_empty(), "a delivery outlived its event");
}

/// A row lock held elsewhere (an operator's open transaction) costs a write
/// its deadline and no more: the statement gives up at the lock timeout, so
/// a write answered "unavailable" never commits once the lock goes, and the
/// pool is not left holding connections that wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_write_stuck_behind_a_lock_gives_up_and_never_commits_later() {
    use diesel::connection::SimpleConnection;
    use garage_infra::{Database, DatabaseUrl, PoolOptions};

    let db = TestDb::postgres();
    let pool = Database::connect(
        &DatabaseUrl::parse(db.url()).unwrap(),
        &PoolOptions {
            max_size: 2,
            min_idle: Some(0),
            deadline: std::time::Duration::from_millis(1000),
            ..PoolOptions::default()
        },
    )
    .unwrap();
    let garages = DieselGarageRepository::new(pool);
    let garage = garages
        .create(
            NewGarage {
                name: GarageName::parse("Verrou").unwrap(),
                address: Address::parse("1 rue X").unwrap(),
                capacity: None,
            },
            Origin::anonymous(),
        )
        .await
        .unwrap();
    let rename = |name: &str| GarageChanges {
        name: Some(GarageName::parse(name).unwrap()),
        ..GarageChanges::default()
    };

    let mut holder = lock_garage(db.url(), garage.id);
    // More writes than the pool has connections.
    for i in 0..3 {
        let started = std::time::Instant::now();
        let refused = garages
            .update(
                garage.id,
                rename(&format!("Stuck {i}")),
                None,
                Origin::anonymous(),
            )
            .await
            .unwrap_err();
        assert!(matches!(refused, Error::Unavailable(_)), "{refused:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
    }
    holder.batch_execute("ROLLBACK;").unwrap();

    let renamed = garages
        .update(garage.id, rename("Libre"), None, Origin::anonymous())
        .await
        .expect("the pool serves again");
    assert_eq!(renamed.name.as_str(), "Libre");
    // Writes still waiting for the lock would have committed before this
    // one, each a version: none did.
    assert_eq!(
        renamed.version.get(),
        garage.version.get() + 1,
        "a refused write committed later"
    );
}

/// A store on PostgreSQL whose pool has four connections, which make one
/// lane for each kind of batch, each piece of work within `deadline`; its
/// pool, and its database's URL.
fn one_lane(deadline: std::time::Duration) -> (Store, garage_infra::Database, String) {
    lanes_of_pool(4, deadline)
}

/// A store on PostgreSQL whose pool has `max_size` connections (a lane for
/// each kind of batch, and a spare from 8 connections), each piece of work
/// within `deadline`; its pool, and its database's URL.
fn lanes_of_pool(
    max_size: u32,
    deadline: std::time::Duration,
) -> (Store, garage_infra::Database, String) {
    use garage_infra::{DatabaseUrl, PoolOptions};

    let db = TestDb::postgres();
    let url = db.url().to_owned();
    let pool = garage_infra::Database::connect(
        &DatabaseUrl::parse(&url).unwrap(),
        &PoolOptions {
            max_size,
            min_idle: Some(0),
            deadline,
            ..PoolOptions::default()
        },
    )
    .unwrap();
    (Store::with_pool(db, pool.clone()), pool, url)
}

/// A connection to the database at `url` holding `garage`'s row locked, in
/// a transaction left open until it is rolled back or the connection dropped.
fn lock_garage(url: &str, garage: GarageId) -> diesel::PgConnection {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, PgConnection};

    let mut holder = PgConnection::establish(url).unwrap();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM garages WHERE id = {garage} FOR UPDATE;"
        ))
        .unwrap();
    holder
}

/// Returns once a statement on the database at `url` waits for a lock.
async fn until_a_statement_waits_for_a_lock(url: &str) {
    use diesel::{Connection, PgConnection};

    let mut watcher = PgConnection::establish(url).unwrap();
    while statements_waiting_for_a_lock(&mut watcher) < 1 {
        tokio::task::yield_now().await;
    }
}

/// How many statements on `conn`'s database wait for a lock now.
fn statements_waiting_for_a_lock(conn: &mut diesel::PgConnection) -> i64 {
    use diesel::{QueryableByName, RunQueryDsl};

    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity \
          WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .get_result::<Waiting>(conn)
    .unwrap()
    .n
}

/// A creation for a garage that a batch is writing waits in the queue for
/// that batch, not on the garage's lock in another lane: that lane stays
/// free, and a creation for another garage that arrives after it is
/// written meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_creation_waits_for_its_garage_in_the_queue_not_in_a_lane() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, PgConnection};
    use std::time::{Duration, Instant};

    // A lane for creations, and a spare.
    let (s, pool, url) = lanes_of_pool(16, Duration::from_secs(30));
    let held = s.garage("Tenu", None).await;
    let other = s.garage("Autre", None).await;
    let mut holder = lock_garage(&url, held.id);
    let create = |garage: GarageId, plate: &'static str| {
        let vehicles = s.vehicles.clone();
        tokio::spawn(async move {
            vehicles
                .create(new_vehicle(garage, plate), Origin::anonymous())
                .await
        })
    };
    // The first lane's batch waits for the garage's lock.
    let first = create(held.id, "HE-001-AA");
    until_a_statement_waits_for_a_lock(&url).await;

    // A second creation for that garage: queued (held back), or taken by
    // the spare lane to wait for the lock there too.
    let second = create(held.id, "HE-002-AA");
    let mut watcher = PgConnection::establish(&url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while pool.stats().queued_writes < 1 && statements_waiting_for_a_lock(&mut watcher) < 2 {
        assert!(
            Instant::now() < deadline,
            "the second creation went nowhere"
        );
        tokio::task::yield_now().await;
    }
    assert_eq!(statements_waiting_for_a_lock(&mut watcher), 1);
    assert_eq!(pool.stats().queued_writes, 1, "held back in the queue");

    // The spare lane is free for another garage.
    let elsewhere = tokio::time::timeout(
        Duration::from_secs(10),
        s.vehicles
            .create(new_vehicle(other.id, "EL-001-AA"), Origin::anonymous()),
    )
    .await
    .expect("a creation for another garage is written while the first is locked")
    .unwrap();
    assert_eq!(elsewhere.garage_id, other.id);
    assert!(!second.is_finished());

    holder.batch_execute("ROLLBACK;").unwrap();
    first.await.unwrap().expect("the first creation");
    second
        .await
        .unwrap()
        .expect("the one held back, once its garage is free");
    assert_eq!(s.count(held.id).await, 2);
    assert_eq!(pool.stats().queued_writes, 0);
}

/// Creations that arrive while every batch lane is busy are written
/// together when one comes free, and each gets what it would get alone: its
/// row and its event with its own author, or the reason it has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_creations_queued_together_each_get_their_own_answer() {
    use diesel::connection::SimpleConnection;

    let (s, pool, url) = one_lane(std::time::Duration::from_secs(30));
    let held = s.garage("Tenu", None).await;
    let open = s.garage("Ouvert", None).await;
    let small = s.garage("Petit", Some(2)).await;
    s.vehicle(open.id, "KN-001-AA").await.unwrap();
    let mut registered_vin = new_vehicle(open.id, "KN-002-AA");
    registered_vin.vin = Some(vin("VF1RFB00X12345678"));
    s.vehicles
        .create(registered_vin, Origin::anonymous())
        .await
        .unwrap();
    let start = pool.stats();

    // The lane's batch waits for a lock on its garage.
    let mut holder = lock_garage(&url, held.id);
    let first = {
        let vehicles = s.vehicles.clone();
        let new = new_vehicle(held.id, "HE-001-AA");
        tokio::spawn(async move { vehicles.create(new, Origin::anonymous()).await })
    };
    until_a_statement_waits_for_a_lock(&url).await;

    let missing = GarageId::parse(999_999).unwrap();
    let mut known_vin = new_vehicle(open.id, "NW-004-AA");
    known_vin.vin = Some(vin("VF1RFB00X12345678"));
    let asked = [
        (new_vehicle(open.id, "NW-001-AA"), "created"),
        (new_vehicle(open.id, "NW-002-AA"), "created"),
        (new_vehicle(open.id, "NW-003-AA"), "one of two"),
        (new_vehicle(open.id, "nw 003 aa"), "one of two"),
        (new_vehicle(open.id, "kn001aa"), "duplicate plate"),
        (known_vin, "duplicate vin"),
        (new_vehicle(missing, "NW-005-AA"), "no garage"),
        (new_vehicle(small.id, "NW-006-AA"), "two of three"),
        (new_vehicle(small.id, "NW-007-AA"), "two of three"),
        (new_vehicle(small.id, "NW-008-AA"), "two of three"),
    ];
    let origin = |i: usize| {
        Origin::new(
            Actor {
                key_id: None,
                name: format!("user{i}"),
            },
            Some(format!("req-{i}")),
        )
    };
    let answers: Vec<_> = asked
        .iter()
        .enumerate()
        .map(|(i, (new, _))| {
            let (vehicles, new, origin) = (s.vehicles.clone(), new.clone(), origin(i));
            tokio::spawn(async move { vehicles.create(new, origin).await })
        })
        .collect();
    while pool.stats().queued_writes < asked.len() as u64 {
        tokio::task::yield_now().await;
    }
    holder.batch_execute("ROLLBACK;").unwrap();
    first.await.unwrap().expect("the lane's own creation");

    let mut created = Vec::new();
    let mut tally = std::collections::BTreeMap::<(&str, &str), usize>::new();
    for (i, ((_, expected), answer)) in asked.iter().zip(answers).enumerate() {
        let outcome = match answer.await.unwrap() {
            Ok(vehicle) => {
                created.push((i, vehicle));
                "created"
            }
            Err(Error::DuplicatePlate(_)) => "duplicate plate",
            Err(Error::DuplicateVin(_)) => "duplicate vin",
            Err(Error::GarageNotFound(g)) if g == missing => "no garage",
            Err(Error::GarageFull { capacity: 2, .. }) => "full",
            Err(other) => panic!("{expected}: unexpected {other:?}"),
        };
        *tally.entry((*expected, outcome)).or_default() += 1;
    }
    let expected = std::collections::BTreeMap::from([
        (("created", "created"), 2),
        (("one of two", "created"), 1),
        (("one of two", "duplicate plate"), 1),
        (("duplicate plate", "duplicate plate"), 1),
        (("duplicate vin", "duplicate vin"), 1),
        (("no garage", "no garage"), 1),
        (("two of three", "created"), 2),
        (("two of three", "full"), 1),
    ]);
    assert_eq!(tally, expected);
    assert_eq!(s.count(open.id).await, 2 + 3);
    assert_eq!(s.count(small.id).await, 2);
    assert_eq!(s.count(held.id).await, 1);

    // The lane's creation alone, then the queue's new plates in one
    // statement; what that statement left out was created alone.
    let end = pool.stats();
    assert_eq!(end.write_batches - start.write_batches, 2);
    assert_eq!(end.batched_writes - start.batched_writes, 1 + 3);
    assert_eq!(end.queued_writes, 0);

    // One event each, with its own author and request.
    let (events, _) = drain(&s, everything(), FeedPosition::default(), 100).await;
    for (i, vehicle) in &created {
        let about: Vec<_> = events
            .iter()
            .filter(|e| e.vehicle_id == Some(vehicle.id))
            .collect();
        assert_eq!(about.len(), 1, "{vehicle:?}");
        let event = about[0];
        assert_eq!(event.kind, EventKind::VehicleCreated);
        assert_eq!(event.garage_id, Some(vehicle.garage_id));
        assert_eq!(event.actor.name, format!("user{i}"));
        assert_eq!(
            event.request_id.as_deref(),
            Some(format!("req-{i}").as_str())
        );
        assert_eq!(event.changes, NewEvent::vehicle_created(vehicle).changes);
    }
}

/// Deletions that arrive while every lane is busy are written together,
/// and each gets what it would get alone: the vehicle gone, its place freed
/// and its event with its own author; or why not (gone already, changed
/// since it was read).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_deletions_queued_together_each_get_their_own_answer() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, PgConnection};

    let (s, pool, url) = one_lane(std::time::Duration::from_secs(30));
    let (north, south) = (
        s.garage("Nord", Some(10)).await,
        s.garage("Sud", None).await,
    );
    let mut fleet = Vec::new();
    for (i, garage) in [north.id, north.id, south.id, south.id, north.id, south.id]
        .into_iter()
        .enumerate()
    {
        fleet.push(s.vehicle(garage, &format!("DL-00{i}-AA")).await.unwrap());
    }
    let locked = s.vehicle(north.id, "LK-001-AA").await.unwrap();
    let start = pool.stats();

    // The lane's batch waits for a lock on its vehicle.
    let mut holder = PgConnection::establish(&url).unwrap();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM vehicles WHERE id = {} FOR UPDATE;",
            locked.id
        ))
        .unwrap();
    let first = {
        let vehicles = s.vehicles.clone();
        tokio::spawn(async move { vehicles.delete(locked.id, None, Origin::anonymous()).await })
    };
    until_a_statement_waits_for_a_lock(&url).await;

    let stale = Version::new(fleet[4].version.get() + 1);
    let asked = [
        (fleet[0].id, None, "deleted"),
        (fleet[1].id, Some(fleet[1].version), "deleted"),
        (fleet[2].id, None, "deleted"),
        (fleet[3].id, None, "one of two"),
        (fleet[3].id, None, "one of two"),
        (fleet[4].id, Some(stale), "stale"),
        (VehicleId::parse(999_999).unwrap(), None, "missing"),
    ];
    let origin = |i: usize| {
        Origin::new(
            Actor {
                key_id: None,
                name: format!("user{i}"),
            },
            Some(format!("req-{i}")),
        )
    };
    let answers: Vec<_> = asked
        .iter()
        .enumerate()
        .map(|(i, (id, expected, _))| {
            let (vehicles, id, expected, origin) = (s.vehicles.clone(), *id, *expected, origin(i));
            tokio::spawn(async move { vehicles.delete(id, expected, origin).await })
        })
        .collect();
    while pool.stats().queued_writes < asked.len() as u64 {
        tokio::task::yield_now().await;
    }
    holder.batch_execute("ROLLBACK;").unwrap();
    first.await.unwrap().expect("the lane's own deletion");

    let mut deleted = Vec::new();
    let mut tally = std::collections::BTreeMap::<(&str, &str), usize>::new();
    for (i, ((id, _, expected), answer)) in asked.iter().zip(answers).enumerate() {
        let outcome = match answer.await.unwrap() {
            Ok(()) => {
                deleted.push((i, *id));
                "deleted"
            }
            Err(Error::VehicleNotFound(_)) => "missing",
            Err(Error::Stale) => "stale",
            Err(other) => panic!("{expected}: unexpected {other:?}"),
        };
        *tally.entry((*expected, outcome)).or_default() += 1;
    }
    let expected = std::collections::BTreeMap::from([
        (("deleted", "deleted"), 3),
        (("one of two", "deleted"), 1),
        (("one of two", "missing"), 1),
        (("stale", "stale"), 1),
        (("missing", "missing"), 1),
    ]);
    assert_eq!(tally, expected);
    // Nord kept the stale one; Sud the last one.
    assert_eq!(s.count(north.id).await, 1);
    assert_eq!(s.count(south.id).await, 1);
    assert_eq!(s.vehicles_in(north.id).await.len(), 1);
    assert_eq!(s.vehicles_in(south.id).await.len(), 1);

    // The lane's deletion alone, then the queue's in one statement.
    let end = pool.stats();
    assert_eq!(end.write_batches - start.write_batches, 2);
    assert_eq!(end.batched_writes - start.batched_writes, 1 + 4);
    assert_eq!(end.queued_writes, 0);

    let (events, _) = drain(&s, everything(), FeedPosition::default(), 100).await;
    for (i, id) in &deleted {
        let about: Vec<_> = events
            .iter()
            .filter(|e| e.vehicle_id == Some(*id) && e.kind == EventKind::VehicleDeleted)
            .collect();
        assert_eq!(about.len(), 1, "{id:?}");
        let vehicle = fleet.iter().find(|v| v.id == *id).unwrap();
        let event = about[0];
        assert_eq!(event.garage_id, Some(vehicle.garage_id));
        assert_eq!(event.actor.name, format!("user{i}"));
        assert_eq!(
            event.request_id.as_deref(),
            Some(format!("req-{i}").as_str())
        );
        assert_eq!(event.changes, NewEvent::vehicle_deleted(vehicle).changes);
    }
}

/// One request's deadline is not the others': a batch held by a lock until
/// its earliest deadline writes nothing, and each of its requests then
/// tries alone by its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_batch_cut_at_one_deadline_leaves_the_others_theirs() {
    use diesel::connection::SimpleConnection;
    use garage_infra::one_deadline;
    use std::time::Duration;

    let (s, pool, url) = one_lane(Duration::from_secs(5));
    let first = s.garage("Premier", None).await;
    let busy = s.garage("Occupé", None).await;
    let free = s.garage("Libre", None).await;
    let (mut on_first, mut on_busy) = (lock_garage(&url, first.id), lock_garage(&url, busy.id));

    // The lane waits on the first garage; two requests queue behind it.
    let lane = {
        let vehicles = s.vehicles.clone();
        let new = new_vehicle(first.id, "PR-001-AA");
        tokio::spawn(async move { vehicles.create(new, Origin::anonymous()).await })
    };
    until_a_statement_waits_for_a_lock(&url).await;
    let hurried = {
        let vehicles = s.vehicles.clone();
        let new = new_vehicle(busy.id, "OC-001-AA");
        tokio::spawn(one_deadline(Duration::from_millis(400), async move {
            vehicles.create(new, Origin::anonymous()).await
        }))
    };
    let patient = {
        let vehicles = s.vehicles.clone();
        let new = new_vehicle(free.id, "LI-001-AA");
        tokio::spawn(one_deadline(Duration::from_secs(5), async move {
            vehicles.create(new, Origin::anonymous()).await
        }))
    };
    while pool.stats().queued_writes < 2 {
        tokio::task::yield_now().await;
    }
    // Both go in the next batch, which waits on the busy garage until the
    // hurried request's deadline.
    on_first.batch_execute("ROLLBACK;").unwrap();
    lane.await.unwrap().expect("the lane's own creation");
    let hurried = hurried.await.unwrap().unwrap_err();
    assert!(matches!(hurried, Error::Unavailable(_)), "{hurried:?}");
    let patient = patient
        .await
        .unwrap()
        .expect("written alone, in its own time");
    assert_eq!(patient.garage_id, free.id);
    on_busy.batch_execute("ROLLBACK;").unwrap();
    assert_eq!(s.count(busy.id).await, 0, "a refused write committed later");
    assert_eq!(s.count(free.id).await, 1);
}

/// A creation whose deadline passes while it waits for a batch is never
/// written, and a batch stuck behind a lock gives up at its deadline like a
/// write alone: neither commits once the lock goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_creation_queued_past_its_deadline_is_never_written() {
    use diesel::connection::SimpleConnection;
    use garage_infra::one_deadline;
    use std::time::{Duration, Instant};

    let (s, pool, url) = one_lane(Duration::from_millis(1000));
    let held = s.garage("Tenu", None).await;
    let open = s.garage("Ouvert", None).await;

    let mut holder = lock_garage(&url, held.id);
    let stuck = {
        let vehicles = s.vehicles.clone();
        let new = new_vehicle(held.id, "HE-001-AA");
        tokio::spawn(async move { vehicles.create(new, Origin::anonymous()).await })
    };
    until_a_statement_waits_for_a_lock(&url).await;
    let started = Instant::now();
    let late = one_deadline(
        Duration::from_millis(200),
        s.vehicles
            .create(new_vehicle(open.id, "LA-001-AA"), Origin::anonymous()),
    )
    .await
    .unwrap_err();
    assert!(matches!(late, Error::Unavailable(_)), "{late:?}");
    assert!(started.elapsed() < Duration::from_millis(900));
    let stuck = stuck.await.unwrap().unwrap_err();
    assert!(matches!(stuck, Error::Unavailable(_)), "{stuck:?}");
    holder.batch_execute("ROLLBACK;").unwrap();

    // The lane serves again; nothing refused was written.
    s.vehicle(open.id, "OK-001-AA").await.unwrap();
    let plates: Vec<_> = s
        .vehicles_in(open.id)
        .await
        .into_iter()
        .map(|v| v.license_plate.as_str().to_owned())
        .collect();
    assert_eq!(plates, ["OK001AA"]);
    assert_eq!(s.count(held.id).await, 0);
    assert_eq!(pool.stats().queued_writes, 0);
}

async fn fleet_figures_add_up_within_any_reach(s: Store) {
    let empty = s.garages.figures(None, 10).await.unwrap();
    assert_eq!((empty.garages, empty.vehicles, empty.capacity), (0, 0, 0));
    assert!(empty.busiest.is_empty() && empty.fullest.is_empty());

    let small = s.garage("Petit", Some(2)).await;
    let large = s.garage("Grand", Some(10)).await;
    let open = s.garage("Ouvert", None).await;
    let idle = s.garage("Vide", Some(5)).await;
    let add = |garage: GarageId, plate: &'static str, brand: &'static str, year: i64| {
        let mut v = new_vehicle(garage, plate);
        v.brand = Brand::parse(brand).unwrap();
        v.year = ModelYear::parse(year).unwrap();
        let vehicles = s.vehicles.clone();
        async move { vehicles.create(v, Origin::anonymous()).await.unwrap() }
    };
    add(small.id, "FG-001", "Renault", 2020).await;
    add(small.id, "FG-002", "Peugeot", 2020).await;
    add(large.id, "FG-003", "Renault", 2010).await;
    add(large.id, "FG-004", "Renault", 2024).await;
    add(large.id, "FG-005", "Citroën", 2024).await;
    for (n, plate) in ["FG-006", "FG-007", "FG-008", "FG-009"]
        .into_iter()
        .enumerate()
    {
        add(
            open.id,
            plate,
            if n < 2 { "Peugeot" } else { "Dacia" },
            2024,
        )
        .await;
    }

    let all = s.garages.figures(None, 2).await.unwrap();
    assert_eq!((all.garages, all.unlimited, all.vehicles), (4, 1, 9));
    assert_eq!((all.capacity, all.held_in_limited), (17, 5));
    let ids = |gs: &[Garage]| gs.iter().map(|g| g.id).collect::<Vec<_>>();
    assert_eq!(ids(&all.busiest), [open.id, large.id]);
    // 2 of 2 before 3 of 10; an unlimited garage is never "full".
    assert_eq!(ids(&all.fullest), [small.id, large.id]);

    let fleet = s.vehicles.figures(None, 2).await.unwrap();
    assert_eq!(fleet.vehicles, 9);
    let brands: Vec<(&str, u64)> = fleet
        .top_brands
        .iter()
        .map(|b| (b.brand.as_str(), b.vehicles))
        .collect();
    // Ties go by name: Peugeot and Renault both have 3.
    assert_eq!(brands, [("Peugeot", 3), ("Renault", 3)]);
    assert_eq!(fleet.by_year, [(2010, 1), (2020, 2), (2024, 6)]);

    let mine = Some(vec![small.id, idle.id]);
    let some = s.garages.figures(mine.clone(), 10).await.unwrap();
    assert_eq!((some.garages, some.unlimited, some.vehicles), (2, 0, 2));
    assert_eq!((some.capacity, some.held_in_limited), (7, 2));
    assert_eq!(ids(&some.busiest), [small.id, idle.id]);
    let theirs = s.vehicles.figures(mine, 10).await.unwrap();
    assert_eq!(theirs.vehicles, 2);
    assert_eq!(theirs.by_year, [(2020, 2)]);
}

async fn a_garage_is_emptied_into_another_all_or_nothing(s: Store) {
    let from = s.garage("Départ", None).await;
    let small = s.garage("Petit", Some(2)).await;
    let large = s.garage("Grand", Some(5)).await;
    s.vehicle(large.id, "MA-000").await.unwrap();
    for i in 1..=3 {
        s.vehicle(from.id, &format!("MA-00{i}")).await.unwrap();
    }
    let (_, mark) = drain(&s, everything(), FeedPosition::default(), 100).await;

    // Too few places: nothing moves, and the answer says how many are free.
    match s
        .vehicles
        .move_all(from.id, small.id, Origin::anonymous())
        .await
    {
        Err(Error::NotEnoughRoom {
            garage,
            free: 2,
            moving: 3,
        }) => assert_eq!(garage, small.id),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!((s.count(from.id).await, s.count(small.id).await), (3, 0));
    assert_eq!(s.vehicles_in(from.id).await.len(), 3);

    let before = s.garages.get(large.id).await.unwrap().unwrap().version;
    let moved = s
        .vehicles
        .move_all(from.id, large.id, Origin::anonymous())
        .await
        .unwrap();
    assert_eq!(moved, 3);
    assert_eq!((s.count(from.id).await, s.count(large.id).await), (0, 4));
    assert!(s.vehicles_in(from.id).await.is_empty());
    assert_eq!(s.vehicles_in(large.id).await.len(), 4);
    assert!(s.garages.get(large.id).await.unwrap().unwrap().version > before);
    let (seen, _) = drain(&s, everything(), mark, 100).await;
    assert_eq!(kinds(&seen), ["vehicle.moved"; 3]);
    assert!(seen
        .iter()
        .all(|e| e.from_garage_id == Some(from.id) && e.garage_id == Some(large.id)));

    // An empty garage moves nothing and records nothing; missing garages are named.
    let (_, mark) = drain(&s, everything(), mark, 100).await;
    assert_eq!(
        s.vehicles
            .move_all(from.id, small.id, Origin::anonymous())
            .await
            .unwrap(),
        0
    );
    assert!(drain(&s, everything(), mark, 100).await.0.is_empty());
    let nowhere = GarageId::parse(large.id.get() + 1_000).unwrap();
    assert!(matches!(
        s.vehicles.move_all(nowhere, small.id, Origin::anonymous()).await,
        Err(Error::GarageNotFound(g)) if g == nowhere
    ));
    assert!(matches!(
        s.vehicles.move_all(large.id, nowhere, Origin::anonymous()).await,
        Err(Error::UnknownGarage(g)) if g == nowhere
    ));
    assert!(matches!(
        s.vehicles.move_all(from.id, nowhere, Origin::anonymous()).await,
        Err(Error::UnknownGarage(g)) if g == nowhere
    ));
    assert_eq!(s.vehicles_in(large.id).await.len(), 4);
}

/// Two depots emptied at once into one garage with room for one of them
/// only: one move happens whole, the other not at all, round after round.
async fn concurrent_move_alls_into_one_garage_never_overfill_it(s: Store) {
    for round in 0..5 {
        let target = s.garage(&format!("Cible {round}"), Some(4)).await;
        let a = s.garage(&format!("A {round}"), None).await;
        let b = s.garage(&format!("B {round}"), Some(3)).await;
        for i in 0..3 {
            s.vehicle(a.id, &format!("RA{round}{i}")).await.unwrap();
            s.vehicle(b.id, &format!("RB{round}{i}")).await.unwrap();
        }
        let results = join_all([a.id, b.id].map(|from| {
            let vehicles = s.vehicles.clone();
            tokio::spawn(async move {
                vehicles
                    .move_all(from, target.id, Origin::anonymous())
                    .await
            })
        }))
        .await;
        let moved: Vec<u32> = results
            .into_iter()
            .map(|r| match r.unwrap() {
                Ok(n) => n,
                Err(Error::NotEnoughRoom {
                    free: 1, moving: 3, ..
                }) => 0,
                Err(other) => panic!("unexpected error: {other:?}"),
            })
            .collect();
        assert!(matches!(moved.as_slice(), [3, 0] | [0, 3]), "{moved:?}");
        assert_eq!(s.count(target.id).await, 3);
        assert_eq!(s.vehicles_in(target.id).await.len(), 3);
        let left = s.count(a.id).await + s.count(b.id).await;
        assert_eq!(left, 3);
        assert_eq!(
            s.vehicles_in(a.id).await.len() + s.vehicles_in(b.id).await.len(),
            3
        );
    }
}

async fn an_upsert_import_updates_and_moves_registered_vehicles_within_capacity(s: Store) {
    let big = s.garage("Grand", None).await;
    let small = s.garage("Petit", Some(2)).await;
    let mut kept = new_vehicle(big.id, "UP-001");
    kept.vin = Some(vin("VF1RFB00X12345678"));
    let kept = s.vehicles.create(kept, Origin::anonymous()).await.unwrap();
    let moved = s.vehicle(big.id, "UP-002").await.unwrap();
    let changed = s.vehicle(small.id, "UP-003").await.unwrap();
    s.vehicle(small.id, "UP-004").await.unwrap();
    let (_, mark) = drain(&s, everything(), FeedPosition::default(), 100).await;

    let row = |garage: GarageId, plate: &str, model: &str| {
        let mut v = new_vehicle(garage, plate);
        v.model = ModelName::parse(model).unwrap();
        v
    };
    let mut same = row(big.id, "UP-001", "Clio");
    same.vin = kept.vin.clone();
    let rows_of = |mode_rows: Vec<(u64, NewVehicle)>| {
        rows(mode_rows.into_iter().map(|(l, v)| (l, Ok(v))).collect())
    };
    let file = || {
        vec![
            // As registered, its own VIN included: left alone.
            (2, same.clone()),
            // Moved from Petit (full) to Grand: a place frees in Petit.
            (3, row(big.id, "UP-003", "Zoe")),
            // Moved into Petit, into the place just freed.
            (4, row(small.id, "UP-002", "Clio")),
            // A new vehicle.
            (5, row(big.id, "UP-005", "Twingo")),
        ]
    };
    // Without upsert, registered plates are refused.
    let refused = s
        .vehicles
        .import(
            rows_of(file()),
            opts(true, ImportMode::Create),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    let lines: Vec<(u64, &str)> = refused
        .errors
        .iter()
        .map(|e| (e.line, e.reason.code()))
        .collect();
    // Line 2's plate and its VIN both.
    assert_eq!(
        lines,
        [
            (2, "duplicate"),
            (2, "duplicate"),
            (3, "duplicate"),
            (4, "duplicate")
        ]
    );

    let checked = s
        .vehicles
        .import(
            rows_of(file()),
            opts(true, ImportMode::Upsert),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert!(checked.errors.is_empty(), "{:?}", checked.errors);
    assert_eq!(s.count(small.id).await, 2, "a dry run writes nothing");
    // What it would do is what the import then does.
    let preview = (checked.imported, checked.updated, checked.unchanged);

    let report = s
        .vehicles
        .import(
            rows_of(file()),
            opts(false, ImportMode::Upsert),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        (
            report.rows,
            report.imported,
            report.updated,
            report.unchanged
        ),
        (4, 1, 2, 1)
    );
    assert_eq!(preview, (1, 2, 1));
    assert_eq!((s.count(big.id).await, s.count(small.id).await), (3, 2));
    let now_in = |id| {
        let vehicles = s.vehicles.clone();
        async move { vehicles.get(id).await.unwrap().unwrap() }
    };
    let after = now_in(changed.id).await;
    assert_eq!((after.garage_id, after.model.as_str()), (big.id, "Zoe"));
    assert!(after.version > changed.version);
    assert_eq!(now_in(moved.id).await.garage_id, small.id);
    assert_eq!(
        now_in(kept.id).await.version,
        kept.version,
        "unchanged, unwritten"
    );
    let (seen, _) = drain(&s, everything(), mark, 100).await;
    let mut told = kinds(&seen);
    told.sort_unstable();
    assert_eq!(told, ["vehicle.created", "vehicle.moved", "vehicle.moved"]);

    // A move into a garage without room is refused with its line; nothing moves.
    let full = s
        .vehicles
        .import(
            rows_of(vec![(2, row(small.id, "UP-005", "Twingo"))]),
            opts(false, ImportMode::Upsert),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    let lines: Vec<(u64, &str)> = full
        .errors
        .iter()
        .map(|e| (e.line, e.reason.code()))
        .collect();
    assert_eq!(lines, [(2, "garage_full")]);
    assert_eq!((s.count(big.id).await, s.count(small.id).await), (3, 2));

    // A caller limited to Petit: a vehicle in Grand is, to it, a plate
    // taken, never one to update (nor to pull into its garage).
    let limited = ImportOptions {
        within: Some(vec![small.id]),
        ..opts(false, ImportMode::Upsert)
    };
    let outside = s
        .vehicles
        .import(
            rows_of(vec![(2, row(small.id, "UP-005", "Twingo"))]),
            limited.clone(),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    let lines: Vec<(u64, Option<&str>, &str)> = outside
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_deref(), e.reason.code()))
        .collect();
    assert_eq!(lines, [(2, Some("license_plate"), "duplicate")]);
    assert_eq!(now_in(moved.id).await.garage_id, small.id);
    let inside = s
        .vehicles
        .import(
            rows_of(vec![(2, row(small.id, "UP-002", "Clio Estate"))]),
            limited,
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert_eq!((inside.updated, inside.errors.len()), (1, 0));
    // An empty VIN cell keeps the VIN: an upsert never removes one.
    let mut without_vin = same.clone();
    without_vin.vin = None;
    let kept_vin = s
        .vehicles
        .import(
            rows_of(vec![(2, without_vin)]),
            opts(false, ImportMode::Upsert),
            Origin::anonymous(),
        )
        .await
        .unwrap();
    assert_eq!(kept_vin.unchanged, 1);
    assert_eq!(now_in(kept.id).await.vin, kept.vin);
}

fn opts(dry_run: bool, mode: ImportMode) -> ImportOptions {
    ImportOptions {
        dry_run,
        mode,
        within: None,
        today: chrono::Utc::now().date_naive(),
    }
}

/// A vehicle written changes its garage's count and version in place (a
/// HOT update): no index names them, so each write leaves the garage's
/// indexes (its trigram index among them) as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_garage_count_changes_in_place() {
    use diesel::{Connection, PgConnection, RunQueryDsl};

    #[derive(diesel::QueryableByName)]
    struct Updates {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        updates: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        hot: i64,
    }

    let db = TestDb::postgres();
    {
        let pool = db.connect();
        let garages = DieselGarageRepository::new(pool.clone());
        let vehicles = DieselVehicleRepository::new(pool);
        let garage = garages
            .create(
                NewGarage {
                    name: GarageName::parse("Sur place").unwrap(),
                    address: Address::parse("1 rue X").unwrap(),
                    capacity: Some(Capacity::parse(50).unwrap()),
                },
                Origin::anonymous(),
            )
            .await
            .unwrap();
        for n in 0..10 {
            let v = vehicles
                .create(
                    new_vehicle(garage.id, &format!("HT-{n:03}")),
                    Origin::anonymous(),
                )
                .await
                .unwrap();
            if n % 2 == 0 {
                vehicles
                    .delete(v.id, None, Origin::anonymous())
                    .await
                    .unwrap();
            }
        }
        // The pool closes here: its sessions report their statistics as
        // they end.
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let counted = loop {
        let mut conn = PgConnection::establish(db.url()).unwrap();
        let counted: Updates = diesel::sql_query(
            "SELECT n_tup_upd AS updates, n_tup_hot_upd AS hot \
               FROM pg_stat_user_tables WHERE relname = 'garages'",
        )
        .get_result(&mut conn)
        .unwrap();
        if counted.updates >= 15 || std::time::Instant::now() > deadline {
            break counted;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(counted.updates, 15, "ten places taken, five given back");
    assert_eq!(counted.hot, counted.updates, "every one in place");
}

/// An upsert import never waits on a vehicle another write holds (holding
/// garages while it waited could deadlock with that write): it gives up at
/// once, unavailable, writes nothing, and succeeds once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_an_upsert_meeting_a_locked_vehicle_gives_up_at_once() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, PgConnection};

    let s = Store::new(TestDb::postgres());
    let g = s.garage("Verrou", None).await;
    let held = s.vehicle(g.id, "LK-001").await.unwrap();
    let mut other = PgConnection::establish(s._db.url()).unwrap();
    other
        .batch_execute(&format!(
            "BEGIN; SELECT id FROM vehicles WHERE id = {} FOR UPDATE;",
            held.id
        ))
        .unwrap();
    let mut changed = new_vehicle(g.id, "LK-001");
    changed.model = ModelName::parse("Kangoo").unwrap();
    let upsert = |v: NewVehicle| {
        let vehicles = s.vehicles.clone();
        async move {
            vehicles
                .import(
                    rows(vec![(2, Ok(v))]),
                    opts(false, ImportMode::Upsert),
                    Origin::anonymous(),
                )
                .await
        }
    };
    let started = std::time::Instant::now();
    let refused = upsert(changed.clone()).await;
    assert!(matches!(refused, Err(Error::Unavailable(_))), "{refused:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    other.batch_execute("ROLLBACK").unwrap();
    let report = upsert(changed).await.unwrap();
    assert_eq!(report.updated, 1);
    let now = s.vehicles.get(held.id).await.unwrap().unwrap();
    assert_eq!(now.model.as_str(), "Kangoo");
}
