//! The vehicle use cases, bulk import among them.

use super::models::{
    ImportMode, ImportOptions, ImportReport, ImportRows, NewVehicle, Vehicle, VehicleChanges,
    VehicleFilter,
};
use super::ports::VehicleRepository;
use crate::access::Reach;
use crate::error::Error;
use crate::fleet::{as_reference, check_version, FleetService};
use crate::paging::{Page, PageRequest};
use crate::values::{GarageId, VehicleId, Version};

/// `id`'s vehicle when `reach` takes in its garage: to a caller limited to
/// other garages it is as missing as one never registered.
pub(crate) async fn reachable(
    vehicles: &dyn VehicleRepository,
    reach: &Reach,
    id: VehicleId,
) -> Result<Vehicle, Error> {
    vehicles
        .get(id)
        .await?
        .filter(|v| reach.allows(v.garage_id))
        .ok_or(Error::VehicleNotFound(id))
}

impl FleetService {
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
        reachable(&*self.vehicles, &self.reach, id).await
    }

    /// A vehicle the caller may reach: checked first only for a limited
    /// caller (it costs a read).
    pub(crate) async fn reachable_vehicle(&self, id: VehicleId) -> Result<(), Error> {
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
        self.vehicles
            .create(vehicle, self.origin.clone())
            .await
            .map_err(as_reference)
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
            .update(id, changes, expected, self.origin.clone())
            .await
            .map_err(as_reference)
    }

    /// Moves every vehicle of garage `from` into garage `to` at once, or
    /// none when `to` lacks places for them all; says how many moved. A move
    /// into the garage they are in moves nothing.
    ///
    /// # Errors
    /// `GarageNotFound` (`from`), `UnknownGarage` (`to`), `NotEnoughRoom`,
    /// or the store's errors.
    #[tracing::instrument(skip(self))]
    pub async fn move_all_vehicles(&self, from: GarageId, to: GarageId) -> Result<u32, Error> {
        self.reachable(from)?;
        self.reachable(to).map_err(as_reference)?;
        if from == to {
            self.garage(from).await?;
            return Ok(0);
        }
        self.vehicles.move_all(from, to, self.origin.clone()).await
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
        self.vehicles
            .delete(id, expected, self.origin.clone())
            .await
    }

    /// Registers every vehicle of `rows` (or, in `ImportMode::Upsert`,
    /// updates those already registered), or none: see
    /// [`VehicleRepository::import`]. A dry run checks every row, writes nothing.
    ///
    /// # Errors
    /// The store's errors; bad rows are in the report, not errors.
    #[tracing::instrument(skip(self, rows))]
    pub async fn import_vehicles(
        &self,
        rows: ImportRows,
        dry_run: bool,
        mode: ImportMode,
        today: chrono::NaiveDate,
    ) -> Result<ImportReport, Error> {
        let rows: ImportRows = match self.reach.clone() {
            Reach::Everything => rows,
            // A row for a garage out of reach reads as one for a garage
            // that does not exist.
            reach => Box::new(rows.map(move |row| {
                row.map(|mut row| {
                    if let Ok(vehicle) = &row.vehicle {
                        if !reach.allows(vehicle.garage_id) {
                            row.vehicle = Err(vec![super::models::LineError {
                                column: Some("garage_id".into()),
                                reason: crate::Reason::UnknownGarage,
                                message: Error::UnknownGarage(vehicle.garage_id).to_string(),
                            }]);
                        }
                    }
                    row
                })
            })),
        };
        self.vehicles
            .import(
                rows,
                ImportOptions {
                    dry_run,
                    mode,
                    within: self.reach.garages(),
                    today,
                },
                self.origin.clone(),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::{always, eq};

    use super::*;
    use crate::events::{Actor, Origin};
    use crate::fleet::fixtures::*;
    use crate::garages::MockGarageRepository;
    use crate::values::*;
    use crate::vehicles::{ImportRow, MockVehicleRepository};

    #[tokio::test]
    async fn a_vehicle_is_created_in_its_garage_as_given_by_its_author() {
        let new = new_vehicle(3, "ab-123-cd");
        let stored = vehicle(10, &new);
        let origin = Origin::new(Actor::cli(), Some("req-1".into()));
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_create()
            .with(eq(new.clone()), eq(origin.clone()))
            .times(1)
            .return_once(move |_, _| Ok(stored));
        let created = service(MockGarageRepository::new(), vehicles)
            .by(origin)
            .create_vehicle(new)
            .await
            .unwrap();
        assert_eq!(created.id, VehicleId(10));
        assert_eq!(created.license_plate.as_str(), "AB123CD");
    }

    #[tokio::test]
    async fn moving_a_vehicle_follows_the_same_rules() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_update()
            .withf(|id, changes, _, _| {
                *id == VehicleId(4) && changes.garage_id == Some(GarageId(8))
            })
            .times(1)
            .returning(|_, changes, _, _| Err(Error::GarageNotFound(changes.garage_id.unwrap())));
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
    async fn the_expected_version_reaches_the_store_with_the_changes() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_update()
            .withf(|_, _, expected, _| *expected == Some(Version(3)))
            .times(1)
            .returning(|_, _, _, _| Err(Error::Stale));
        vehicles
            .expect_delete()
            .with(eq(VehicleId(4)), eq(Some(Version(3))), always())
            .times(1)
            .returning(|_, _, _| Err(Error::Stale));
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
    async fn an_import_hands_its_rows_to_the_store_once_with_the_dry_run_flag() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_import()
            .withf(|_, options, _| {
                options.dry_run
                    && options.mode == ImportMode::Upsert
                    && options.within.is_none()
                    && options.today == chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
            })
            .times(1)
            .returning(|rows, _, _| {
                let rows: Vec<_> = rows.collect();
                Ok(ImportReport {
                    rows: rows.len() as u64,
                    ..ImportReport::default()
                })
            });
        let rows = (2..5).map(|line| {
            Ok(ImportRow {
                line,
                vehicle: Ok(new_vehicle(1, &format!("AB{line}"))),
                odometer: None,
            })
        });
        let report = service(MockGarageRepository::new(), vehicles)
            .import_vehicles(
                Box::new(rows),
                true,
                ImportMode::Upsert,
                chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(report.rows, 3);
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
        vehicles.expect_import().times(1).returning(|rows, _, _| {
            let rows: Vec<ImportRow> = rows.map(Result::unwrap).collect();
            assert!(rows[0].vehicle.is_ok(), "garage 3 is reachable");
            let errors = rows[1].vehicle.as_ref().unwrap_err();
            assert_eq!(errors[0].column.as_deref(), Some("garage_id"));
            assert_eq!(errors[0].message, "garage 4 does not exist");
            Ok(ImportReport {
                rows: 2,
                ..ImportReport::default()
            })
        });
        let fleet = service(MockGarageRepository::new(), vehicles).within(depot());
        let rows: ImportRows = Box::new(
            vec![
                Ok(ImportRow {
                    line: 2,
                    vehicle: Ok(new_vehicle(3, "AA-1")),
                    odometer: None,
                }),
                Ok(ImportRow {
                    line: 3,
                    vehicle: Ok(new_vehicle(4, "AA-2")),
                    odometer: None,
                }),
            ]
            .into_iter(),
        );
        fleet
            .import_vehicles(
                rows,
                true,
                ImportMode::Create,
                chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            )
            .await
            .unwrap();
    }

    /// What the store answers a vehicle write, as the caller hears it: the
    /// same, but for a missing garage named in the input, which is a bad
    /// reference (`UnknownGarage`, a 422), not a missing resource.
    #[tokio::test]
    async fn the_stores_answers_to_vehicle_writes_reach_the_caller_as_documented() {
        type Case = (fn() -> Error, fn(&Error) -> bool);
        let cases: [Case; 6] = [
            (
                || Error::GarageNotFound(GarageId(2)),
                |e| matches!(e, Error::UnknownGarage(GarageId(2))),
            ),
            (
                || Error::DuplicatePlate(LicensePlate::parse("ab 123.cd").unwrap()),
                |e| matches!(e, Error::DuplicatePlate(p) if p.as_str() == "AB123CD"),
            ),
            (
                || Error::DuplicateVin(Vin::parse("vf1rfb00x12345678").unwrap()),
                |e| matches!(e, Error::DuplicateVin(v) if v.as_str() == "VF1RFB00X12345678"),
            ),
            (
                || Error::GarageFull {
                    garage: GarageId(2),
                    capacity: 5,
                },
                |e| {
                    matches!(
                        e,
                        Error::GarageFull {
                            garage: GarageId(2),
                            capacity: 5
                        }
                    )
                },
            ),
            (
                || Error::VehicleNotFound(VehicleId(9)),
                |e| matches!(e, Error::VehicleNotFound(VehicleId(9))),
            ),
            (
                || Error::Unavailable(anyhow::anyhow!("pool timed out")),
                |e| matches!(e, Error::Unavailable(_)),
            ),
        ];
        for (answer, heard) in cases {
            let mut vehicles = MockVehicleRepository::new();
            vehicles
                .expect_create()
                .times(1)
                .returning(move |_, _| Err(answer()));
            vehicles
                .expect_update()
                .times(1)
                .returning(move |_, _, _, _| Err(answer()));
            let fleet = service(MockGarageRepository::new(), vehicles);
            let created = fleet
                .create_vehicle(new_vehicle(2, "AB123CD"))
                .await
                .unwrap_err();
            assert!(heard(&created), "a creation heard {created:?}");
            let moved = fleet
                .update_vehicle(
                    VehicleId(9),
                    VehicleChanges {
                        garage_id: Some(GarageId(2)),
                        ..VehicleChanges::default()
                    },
                    None,
                )
                .await
                .unwrap_err();
            assert!(heard(&moved), "a move heard {moved:?}");
        }
    }

    #[tokio::test]
    async fn moving_all_vehicles_hands_both_garages_to_the_store() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_move_all()
            .with(eq(GarageId(3)), eq(GarageId(8)), always())
            .times(1)
            .returning(|_, _, _| Ok(12));
        let moved = service(MockGarageRepository::new(), vehicles)
            .move_all_vehicles(GarageId(3), GarageId(8))
            .await
            .unwrap();
        assert_eq!(moved, 12);
    }

    #[tokio::test]
    async fn a_move_of_all_into_their_own_garage_moves_nothing_once_it_is_found() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles.expect_move_all().never();
        let mut garages = MockGarageRepository::new();
        garages
            .expect_get()
            .with(eq(GarageId(3)))
            .returning(|id| Ok(Some(garage(id.0, None, 4))));
        garages
            .expect_get()
            .with(eq(GarageId(4)))
            .returning(|_| Ok(None));
        let fleet = service(garages, vehicles);
        assert_eq!(
            fleet
                .move_all_vehicles(GarageId(3), GarageId(3))
                .await
                .unwrap(),
            0
        );
        assert!(matches!(
            fleet.move_all_vehicles(GarageId(4), GarageId(4)).await,
            Err(Error::GarageNotFound(GarageId(4)))
        ));
    }

    #[tokio::test]
    async fn a_limited_caller_moves_only_between_its_garages() {
        let mut vehicles = MockVehicleRepository::new();
        vehicles.expect_move_all().never();
        let fleet = service(MockGarageRepository::new(), vehicles)
            .within(Reach::Garages(vec![GarageId(1), GarageId(2)]));
        assert!(matches!(
            fleet.move_all_vehicles(GarageId(7), GarageId(1)).await,
            Err(Error::GarageNotFound(GarageId(7)))
        ));
        assert!(matches!(
            fleet.move_all_vehicles(GarageId(1), GarageId(7)).await,
            Err(Error::UnknownGarage(GarageId(7)))
        ));
    }
}
