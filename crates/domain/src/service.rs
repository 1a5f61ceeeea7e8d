//! The fleet's use cases. The rules that must hold under concurrency
//! (unique plates, capacity, no deleting a garage that holds vehicles) are
//! enforced atomically by the store, as the ports require; this layer turns
//! the store's answers into the errors a caller acts on.

use std::sync::Arc;

use crate::access::Reach;
use crate::error::Error;
use crate::models::{
    Garage, GarageChanges, GarageFilter, ImportReport, ImportRows, NewGarage, NewVehicle, Page,
    PageRequest, Vehicle, VehicleChanges, VehicleFilter,
};
use crate::ports::{GarageRepository, VehicleRepository};
use crate::values::{GarageId, VehicleId, Version};

/// Everything a user can do with the fleet.
#[derive(Clone)]
pub struct FleetService {
    garages: Arc<dyn GarageRepository>,
    vehicles: Arc<dyn VehicleRepository>,
    /// What the caller may see: other garages, and their vehicles, do not
    /// exist for it (404, never 403, so their ids do not leak).
    reach: Reach,
}

impl std::fmt::Debug for FleetService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetService").finish_non_exhaustive()
    }
}

/// Holds a read to the version a conditional request expected.
fn check_version(current: Version, expected: Option<Version>) -> Result<(), Error> {
    match expected {
        Some(expected) if expected != current => Err(Error::Stale),
        _ => Ok(()),
    }
}

/// In a vehicle's input, a missing garage is a bad reference, not a missing resource.
fn as_reference(err: Error) -> Error {
    match err {
        Error::GarageNotFound(id) => Error::UnknownGarage(id),
        other => other,
    }
}

impl FleetService {
    pub fn new(garages: Arc<dyn GarageRepository>, vehicles: Arc<dyn VehicleRepository>) -> Self {
        Self {
            garages,
            vehicles,
            reach: Reach::Everything,
        }
    }

    /// The fleet as a caller limited to `reach` sees it.
    #[must_use]
    pub fn within(&self, reach: Reach) -> Self {
        Self {
            reach,
            ..self.clone()
        }
    }

    fn reachable(&self, id: GarageId) -> Result<(), Error> {
        if self.reach.allows(id) {
            Ok(())
        } else {
            Err(Error::GarageNotFound(id))
        }
    }

    /// # Errors
    /// The store's errors.
    pub async fn list_garages(
        &self,
        mut filter: GarageFilter,
        page: PageRequest,
    ) -> Result<Page<Garage>, Error> {
        filter.within = self.reach.garages();
        self.garages.list(filter, page).await
    }

    /// # Errors
    /// `GarageNotFound`, or the store's errors.
    pub async fn garage(&self, id: GarageId) -> Result<Garage, Error> {
        self.reachable(id)?;
        self.garages.get(id).await?.ok_or(Error::GarageNotFound(id))
    }

    /// # Errors
    /// `OutOfReach` for a caller limited to some garages, or the store's errors.
    #[tracing::instrument(skip_all, fields(name = %garage.name))]
    pub async fn create_garage(&self, garage: NewGarage) -> Result<Garage, Error> {
        if self.reach != Reach::Everything {
            return Err(Error::OutOfReach("it cannot create garages"));
        }
        self.garages.create(garage).await
    }

    /// Changes a garage, if it is still at version `expected` when one is
    /// given; no change at all is no write.
    ///
    /// # Errors
    /// `GarageNotFound`, `Stale`, `CapacityBelowCount`, or the store's errors.
    #[tracing::instrument(skip(self, changes))]
    pub async fn update_garage(
        &self,
        id: GarageId,
        changes: GarageChanges,
        expected: Option<Version>,
    ) -> Result<Garage, Error> {
        self.reachable(id)?;
        if changes.is_empty() {
            let garage = self.garage(id).await?;
            check_version(garage.version, expected)?;
            return Ok(garage);
        }
        self.garages.update(id, changes, expected).await
    }

    /// # Errors
    /// `GarageNotFound`, `Stale`, `GarageNotEmpty`, or the store's errors.
    #[tracing::instrument(skip(self))]
    pub async fn delete_garage(
        &self,
        id: GarageId,
        expected: Option<Version>,
    ) -> Result<(), Error> {
        self.reachable(id)?;
        self.garages.delete(id, expected).await
    }

    /// The vehicles a garage holds.
    ///
    /// # Errors
    /// `GarageNotFound` when the garage does not exist, or the store's errors.
    pub async fn garage_vehicles(
        &self,
        id: GarageId,
        page: PageRequest,
    ) -> Result<Page<Vehicle>, Error> {
        self.reachable(id)?;
        let filter = VehicleFilter {
            garage_id: Some(id),
            ..VehicleFilter::default()
        };
        let vehicles = self.vehicles.list(filter, page).await?;
        // A page with vehicles proves the garage exists; only an empty one
        // costs a second query to tell "no vehicles" from "no garage".
        if vehicles.items.is_empty() {
            self.garage(id).await?;
        }
        Ok(vehicles)
    }

    /// # Errors
    /// The store's errors.
    pub async fn list_vehicles(
        &self,
        mut filter: VehicleFilter,
        page: PageRequest,
    ) -> Result<Page<Vehicle>, Error> {
        filter.within = self.reach.garages();
        self.vehicles.list(filter, page).await
    }

    /// # Errors
    /// `VehicleNotFound`, or the store's errors.
    pub async fn vehicle(&self, id: VehicleId) -> Result<Vehicle, Error> {
        self.vehicles
            .get(id)
            .await?
            .filter(|v| self.reach.allows(v.garage_id))
            .ok_or(Error::VehicleNotFound(id))
    }

    /// A vehicle the caller may reach: checked first only for a limited
    /// caller (it costs a read).
    async fn reachable_vehicle(&self, id: VehicleId) -> Result<(), Error> {
        if self.reach != Reach::Everything {
            self.vehicle(id).await?;
        }
        Ok(())
    }

    /// Registers a vehicle in an existing garage that has room for it, under
    /// a plate no other vehicle has.
    ///
    /// # Errors
    /// `UnknownGarage`, `DuplicatePlate`, `GarageFull`, or the store's errors.
    #[tracing::instrument(skip_all, fields(garage_id = %vehicle.garage_id, plate = %vehicle.license_plate))]
    pub async fn create_vehicle(&self, vehicle: NewVehicle) -> Result<Vehicle, Error> {
        self.reachable(vehicle.garage_id).map_err(as_reference)?;
        self.vehicles.create(vehicle).await.map_err(as_reference)
    }

    /// Changes a vehicle, if it is still at version `expected` when one is
    /// given; a new `garage_id` moves it, under the same rules as a
    /// creation. No change at all is no write.
    ///
    /// # Errors
    /// `VehicleNotFound`, `Stale`, `UnknownGarage`, `DuplicatePlate`,
    /// `DuplicateVin`, `GarageFull`, or the store's errors.
    #[tracing::instrument(skip(self, changes))]
    pub async fn update_vehicle(
        &self,
        id: VehicleId,
        changes: VehicleChanges,
        expected: Option<Version>,
    ) -> Result<Vehicle, Error> {
        if changes.is_empty() {
            let vehicle = self.vehicle(id).await?;
            check_version(vehicle.version, expected)?;
            return Ok(vehicle);
        }
        self.reachable_vehicle(id).await?;
        if let Some(target) = changes.garage_id {
            self.reachable(target).map_err(as_reference)?;
        }
        self.vehicles
            .update(id, changes, expected)
            .await
            .map_err(as_reference)
    }

    /// # Errors
    /// `VehicleNotFound`, `Stale`, or the store's errors.
    #[tracing::instrument(skip(self))]
    pub async fn delete_vehicle(
        &self,
        id: VehicleId,
        expected: Option<Version>,
    ) -> Result<(), Error> {
        self.reachable_vehicle(id).await?;
        self.vehicles.delete(id, expected).await
    }

    /// Registers every vehicle of `rows`, or none: see
    /// [`VehicleRepository::import`]. A dry run checks every row, writes nothing.
    ///
    /// # Errors
    /// The store's errors; bad rows are in the report, not errors.
    #[tracing::instrument(skip(self, rows))]
    pub async fn import_vehicles(
        &self,
        rows: ImportRows,
        dry_run: bool,
    ) -> Result<ImportReport, Error> {
        let rows: ImportRows = match self.reach.clone() {
            Reach::Everything => rows,
            // A row for a garage out of reach reads as one for a garage
            // that does not exist.
            reach => Box::new(rows.map(move |row| {
                row.map(|mut row| {
                    if let Ok(vehicle) = &row.vehicle {
                        if !reach.allows(vehicle.garage_id) {
                            row.vehicle = Err(vec![crate::values::FieldError {
                                field: "garage_id".into(),
                                message: Error::UnknownGarage(vehicle.garage_id).to_string(),
                            }]);
                        }
                    }
                    row
                })
            })),
        };
        self.vehicles.import(rows, dry_run).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use mockall::predicate::eq;

    use super::*;
    use crate::ports::{MockGarageRepository, MockVehicleRepository};
    use crate::values::*;

    fn garage(id: i64, capacity: Option<u32>, count: u32) -> Garage {
        Garage {
            id: GarageId(id),
            name: GarageName::parse("Garage du Nord").unwrap(),
            address: Address::parse("1 rue de Lille, Paris").unwrap(),
            capacity: capacity.map(|c| Capacity::parse(c.into()).unwrap()),
            vehicle_count: count,
            version: Version(1),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn new_vehicle(garage_id: i64, plate: &str) -> NewVehicle {
        NewVehicle {
            garage_id: GarageId(garage_id),
            brand: Brand::parse("Renault").unwrap(),
            model: ModelName::parse("Clio").unwrap(),
            year: ModelYear::parse_in(2020, 2026).unwrap(),
            license_plate: LicensePlate::parse(plate).unwrap(),
            vin: None,
        }
    }

    fn vehicle(id: i64, new: &NewVehicle) -> Vehicle {
        Vehicle {
            id: VehicleId(id),
            garage_id: new.garage_id,
            brand: new.brand.clone(),
            model: new.model.clone(),
            year: new.year,
            license_plate: new.license_plate.clone(),
            vin: new.vin.clone(),
            version: Version(1),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn service(garages: MockGarageRepository, vehicles: MockVehicleRepository) -> FleetService {
        FleetService::new(Arc::new(garages), Arc::new(vehicles))
    }

    #[tokio::test]
    async fn a_vehicle_is_created_in_its_garage_as_given() {
        let new = new_vehicle(3, "ab-123-cd");
        let stored = vehicle(10, &new);
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_create()
            .with(eq(new.clone()))
            .times(1)
            .return_once(move |_| Ok(stored));
        let created = service(MockGarageRepository::new(), vehicles)
            .create_vehicle(new)
            .await
            .unwrap();
        assert_eq!(created.id, VehicleId(10));
        assert_eq!(created.license_plate.as_str(), "AB123CD");
    }

    #[tokio::test]
    async fn a_vehicle_must_belong_to_an_existing_garage() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_create()
            .returning(|v| Err(Error::GarageNotFound(v.garage_id)));
        let err = service(MockGarageRepository::new(), vehicles)
            .create_vehicle(new_vehicle(99, "AB123CD"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::UnknownGarage(GarageId(99))), "{err:?}");
    }

    #[tokio::test]
    async fn a_plate_taken_in_another_spelling_is_refused() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_create()
            .returning(|v| Err(Error::DuplicatePlate(v.license_plate)));
        let err = service(MockGarageRepository::new(), vehicles)
            .create_vehicle(new_vehicle(1, "ab 123.cd"))
            .await
            .unwrap_err();
        match err {
            Error::DuplicatePlate(plate) => assert_eq!(plate.as_str(), "AB123CD"),
            other => panic!("expected a duplicate plate, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_full_garage_takes_no_more_vehicles() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles.expect_create().returning(|v| {
            Err(Error::GarageFull {
                garage: v.garage_id,
                capacity: 5,
            })
        });
        let err = service(MockGarageRepository::new(), vehicles)
            .create_vehicle(new_vehicle(1, "AB123CD"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::GarageFull { capacity: 5, .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn moving_a_vehicle_follows_the_same_rules() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_update()
            .withf(|id, changes, _| *id == VehicleId(4) && changes.garage_id == Some(GarageId(8)))
            .times(1)
            .returning(|_, changes, _| Err(Error::GarageNotFound(changes.garage_id.unwrap())));
        let svc = service(MockGarageRepository::new(), vehicles);
        let changes = VehicleChanges {
            garage_id: Some(GarageId(8)),
            ..VehicleChanges::default()
        };
        let err = svc
            .update_vehicle(VehicleId(4), changes, None)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::UnknownGarage(GarageId(8))), "{err:?}");
    }

    #[tokio::test]
    async fn a_move_into_a_full_garage_is_refused() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles.expect_update().returning(|_, changes, _| {
            Err(Error::GarageFull {
                garage: changes.garage_id.unwrap(),
                capacity: 2,
            })
        });
        let changes = VehicleChanges {
            garage_id: Some(GarageId(2)),
            ..VehicleChanges::default()
        };
        let err = service(MockGarageRepository::new(), vehicles)
            .update_vehicle(VehicleId(1), changes, None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::GarageFull {
                    garage: GarageId(2),
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn an_empty_change_writes_nothing_and_still_reports_a_missing_vehicle() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles.expect_update().never();
        vehicles
            .expect_get()
            .with(eq(VehicleId(5)))
            .returning(|_| Ok(None));
        let err = service(MockGarageRepository::new(), vehicles)
            .update_vehicle(VehicleId(5), VehicleChanges::default(), None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::VehicleNotFound(VehicleId(5))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_missing_vehicle_to_update_stays_not_found() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_update()
            .returning(|id, _, _| Err(Error::VehicleNotFound(id)));
        let changes = VehicleChanges {
            brand: Some(Brand::parse("Peugeot").unwrap()),
            ..VehicleChanges::default()
        };
        let err = service(MockGarageRepository::new(), vehicles)
            .update_vehicle(VehicleId(9), changes, None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::VehicleNotFound(VehicleId(9))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_garage_that_holds_vehicles_cannot_be_deleted() {
        let mut garages = MockGarageRepository::new();
        garages
            .expect_delete()
            .with(eq(GarageId(1)), eq(None))
            .returning(|id, _| {
                Err(Error::GarageNotEmpty {
                    garage: id,
                    count: 3,
                })
            });
        let err = service(garages, MockVehicleRepository::new())
            .delete_garage(GarageId(1), None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::GarageNotEmpty { count: 3, .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn capacity_cannot_drop_below_the_vehicles_held() {
        let mut garages = MockGarageRepository::new();
        garages.expect_update().returning(|id, changes, _| {
            Err(Error::CapacityBelowCount {
                garage: id,
                capacity: changes.capacity.flatten().unwrap().get(),
                count: 4,
            })
        });
        let changes = GarageChanges {
            capacity: Some(Some(Capacity::parse(2).unwrap())),
            ..GarageChanges::default()
        };
        let err = service(garages, MockVehicleRepository::new())
            .update_garage(GarageId(1), changes, None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::CapacityBelowCount {
                    capacity: 2,
                    count: 4,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn an_empty_garage_change_returns_the_garage_without_writing() {
        let mut garages = MockGarageRepository::new();
        garages.expect_update().never();
        garages
            .expect_get()
            .with(eq(GarageId(2)))
            .returning(|id| Ok(Some(garage(id.0, Some(3), 1))));
        let found = service(garages, MockVehicleRepository::new())
            .update_garage(GarageId(2), GarageChanges::default(), None)
            .await
            .unwrap();
        assert_eq!(found.id, GarageId(2));
    }

    #[tokio::test]
    async fn an_empty_change_still_honours_the_expected_version() {
        let mut garages = MockGarageRepository::new();
        garages.expect_update().never();
        garages
            .expect_get()
            .returning(|id| Ok(Some(garage(id.0, None, 0))));
        let svc = service(garages, MockVehicleRepository::new());
        let err = svc
            .update_garage(GarageId(2), GarageChanges::default(), Some(Version(7)))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Stale), "{err:?}");
        let found = svc
            .update_garage(GarageId(2), GarageChanges::default(), Some(Version(1)))
            .await
            .unwrap();
        assert_eq!(found.version, Version(1));
    }

    #[tokio::test]
    async fn the_expected_version_reaches_the_store_with_the_changes() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_update()
            .withf(|_, _, expected| *expected == Some(Version(3)))
            .times(1)
            .returning(|_, _, _| Err(Error::Stale));
        vehicles
            .expect_delete()
            .with(eq(VehicleId(4)), eq(Some(Version(3))))
            .times(1)
            .returning(|_, _| Err(Error::Stale));
        let svc = service(MockGarageRepository::new(), vehicles);
        let changes = VehicleChanges {
            vin: Some(None),
            ..VehicleChanges::default()
        };
        let err = svc
            .update_vehicle(VehicleId(4), changes, Some(Version(3)))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Stale), "{err:?}");
        let err = svc
            .delete_vehicle(VehicleId(4), Some(Version(3)))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Stale), "{err:?}");
    }

    #[tokio::test]
    async fn a_duplicate_vin_is_refused() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_create()
            .returning(|v| Err(Error::DuplicateVin(v.vin.unwrap())));
        let mut new = new_vehicle(1, "AB123CD");
        new.vin = Some(Vin::parse("vf1rfb00x12345678").unwrap());
        let err = service(MockGarageRepository::new(), vehicles)
            .create_vehicle(new)
            .await
            .unwrap_err();
        match err {
            Error::DuplicateVin(vin) => assert_eq!(vin.as_str(), "VF1RFB00X12345678"),
            other => panic!("expected a duplicate VIN, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_import_hands_its_rows_to_the_store_once_with_the_dry_run_flag() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_import()
            .withf(|_, dry_run| *dry_run)
            .times(1)
            .returning(|rows, _| {
                let rows: Vec<_> = rows.collect();
                Ok(ImportReport {
                    rows: rows.len() as u64,
                    imported: 0,
                    errors: vec![],
                })
            });
        let rows = (2..5).map(|line| {
            Ok(crate::models::ImportRow {
                line,
                vehicle: Ok(new_vehicle(1, &format!("AB{line}"))),
            })
        });
        let report = service(MockGarageRepository::new(), vehicles)
            .import_vehicles(Box::new(rows), true)
            .await
            .unwrap();
        assert_eq!(report.rows, 3);
    }

    #[tokio::test]
    async fn the_vehicles_of_an_unknown_garage_are_not_found() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_list()
            .withf(|filter, _| filter.garage_id == Some(GarageId(7)))
            .returning(|_, _| {
                Ok(Page {
                    items: vec![],
                    next_after: None,
                })
            });
        let mut garages = MockGarageRepository::new();
        garages
            .expect_get()
            .with(eq(GarageId(7)))
            .returning(|_| Ok(None));
        let err = service(garages, vehicles)
            .garage_vehicles(GarageId(7), PageRequest::default())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::GarageNotFound(GarageId(7))), "{err:?}");
    }

    #[tokio::test]
    async fn an_empty_garage_lists_no_vehicles() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles.expect_list().returning(|_, _| {
            Ok(Page {
                items: vec![],
                next_after: None,
            })
        });
        let mut garages = MockGarageRepository::new();
        garages
            .expect_get()
            .returning(|id| Ok(Some(garage(id.0, None, 0))));
        let page = service(garages, vehicles)
            .garage_vehicles(GarageId(7), PageRequest::default())
            .await
            .unwrap();
        assert!(page.items.is_empty());
    }

    #[tokio::test]
    async fn a_page_of_vehicles_needs_no_second_query() {
        let new = new_vehicle(7, "AA11");
        let mut vehicles = MockVehicleRepository::new();
        vehicles.expect_list().returning(move |_, _| {
            Ok(Page {
                items: vec![vehicle(1, &new)],
                next_after: None,
            })
        });
        let mut garages = MockGarageRepository::new();
        garages.expect_get().never();
        let page = service(garages, vehicles)
            .garage_vehicles(GarageId(7), PageRequest::default())
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
    }

    #[tokio::test]
    async fn store_outages_pass_through_unchanged() {
        let mut garages = MockGarageRepository::new();
        garages
            .expect_get()
            .returning(|_| Err(Error::Unavailable(anyhow::anyhow!("pool timed out"))));
        let err = service(garages, MockVehicleRepository::new())
            .garage(GarageId(1))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    }

    /// A caller limited to garage 3.
    fn depot() -> Reach {
        Reach::Garages(vec![GarageId(3)])
    }

    #[tokio::test]
    async fn other_garages_do_not_exist_for_a_limited_caller() {
        // No expectation: the store is never asked about garage 4.
        let fleet =
            service(MockGarageRepository::new(), MockVehicleRepository::new()).within(depot());
        assert!(matches!(
            fleet.garage(GarageId(4)).await,
            Err(Error::GarageNotFound(GarageId(4)))
        ));
        assert!(matches!(
            fleet.delete_garage(GarageId(4), None).await,
            Err(Error::GarageNotFound(_))
        ));
        assert!(matches!(
            fleet.create_vehicle(new_vehicle(4, "AB-123-CD")).await,
            Err(Error::UnknownGarage(GarageId(4)))
        ));
        assert!(matches!(
            fleet
                .create_garage(NewGarage {
                    name: GarageName::parse("Nouveau").unwrap(),
                    address: Address::parse("1 rue X").unwrap(),
                    capacity: None,
                })
                .await,
            Err(Error::OutOfReach(_))
        ));
    }

    #[tokio::test]
    async fn lists_of_a_limited_caller_hold_its_garages_only() {
        let mut garages = MockGarageRepository::new();
        garages
            .expect_list()
            .withf(|filter, _| filter.within == Some(vec![GarageId(3)]))
            .times(1)
            .returning(|_, _| {
                Ok(Page::from_rows(
                    Vec::new(),
                    Limit::default(),
                    |g: &Garage| g.id.0,
                ))
            });
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_list()
            .withf(|filter, _| filter.within == Some(vec![GarageId(3)]))
            .times(1)
            .returning(|_, _| {
                Ok(Page::from_rows(
                    Vec::new(),
                    Limit::default(),
                    |v: &Vehicle| v.id.0,
                ))
            });
        let fleet = service(garages, vehicles).within(depot());
        let page = PageRequest::default();
        fleet
            .list_garages(GarageFilter::default(), page)
            .await
            .unwrap();
        fleet
            .list_vehicles(VehicleFilter::default(), page)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_vehicle_elsewhere_is_not_found_and_cannot_be_moved_out_of_reach() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_get()
            .with(eq(VehicleId(8)))
            .returning(|_| Ok(Some(vehicle(8, &new_vehicle(4, "XY-1")))));
        vehicles
            .expect_get()
            .with(eq(VehicleId(9)))
            .returning(|_| Ok(Some(vehicle(9, &new_vehicle(3, "XY-2")))));
        vehicles.expect_update().never();
        vehicles.expect_delete().never();
        let fleet = service(MockGarageRepository::new(), vehicles).within(depot());
        assert!(matches!(
            fleet.vehicle(VehicleId(8)).await,
            Err(Error::VehicleNotFound(_))
        ));
        assert!(matches!(
            fleet.delete_vehicle(VehicleId(8), None).await,
            Err(Error::VehicleNotFound(_))
        ));
        let away = VehicleChanges {
            garage_id: Some(GarageId(4)),
            ..VehicleChanges::default()
        };
        assert!(matches!(
            fleet.update_vehicle(VehicleId(9), away, None).await,
            Err(Error::UnknownGarage(GarageId(4)))
        ));
        assert_eq!(fleet.vehicle(VehicleId(9)).await.unwrap().id, VehicleId(9));
    }

    #[tokio::test]
    async fn an_import_row_for_a_garage_out_of_reach_is_a_row_error() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles.expect_import().times(1).returning(|rows, _| {
            let rows: Vec<crate::models::ImportRow> = rows.map(Result::unwrap).collect();
            assert!(rows[0].vehicle.is_ok(), "garage 3 is reachable");
            let errors = rows[1].vehicle.as_ref().unwrap_err();
            assert_eq!(errors[0].field, "garage_id");
            assert_eq!(errors[0].message, "garage 4 does not exist");
            Ok(ImportReport {
                rows: 2,
                imported: 0,
                errors: Vec::new(),
            })
        });
        let fleet = service(MockGarageRepository::new(), vehicles).within(depot());
        let rows: ImportRows = Box::new(
            vec![
                Ok(crate::models::ImportRow {
                    line: 2,
                    vehicle: Ok(new_vehicle(3, "AA-1")),
                }),
                Ok(crate::models::ImportRow {
                    line: 3,
                    vehicle: Ok(new_vehicle(4, "AA-2")),
                }),
            ]
            .into_iter(),
        );
        fleet.import_vehicles(rows, true).await.unwrap();
    }
}
