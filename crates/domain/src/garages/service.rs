//! The garage use cases.

use super::models::{Garage, GarageChanges, GarageFilter, NewGarage};
use crate::access::Reach;
use crate::error::Error;
use crate::fleet::{check_version, FleetService};
use crate::paging::{Page, PageRequest};
use crate::values::{GarageId, Version};
use crate::vehicles::{Vehicle, VehicleFilter};

impl FleetService {
    /// # Errors
    /// The store's errors.
    pub async fn list_garages(
        &self,
        mut filter: GarageFilter,
        page: PageRequest,
    ) -> Result<Page<Garage>, Error> {
        // Garages asked for by id, within those the caller may see.
        filter.within = match (filter.within.take(), self.reach.garages()) {
            (Some(asked), Some(allowed)) => {
                Some(asked.into_iter().filter(|g| allowed.contains(g)).collect())
            }
            (asked, allowed) => asked.or(allowed),
        };
        self.garages.list(filter, page).await
    }

    /// Every garage `filter` keeps, read page by page: for callers that
    /// need them all at once (an export naming its garages, an import
    /// finding garages by name).
    ///
    /// # Errors
    /// The store's errors.
    pub async fn all_garages(&self, filter: GarageFilter) -> Result<Vec<Garage>, Error> {
        let mut all = Vec::new();
        let mut page = PageRequest {
            limit: crate::values::Limit::LARGEST,
            after: None,
        };
        loop {
            let found = self.list_garages(filter.clone(), page).await?;
            all.extend(found.items);
            match found.next_after {
                Some(after) => page.after = Some(after),
                None => return Ok(all),
            }
        }
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
        self.garages.create(garage, self.origin.clone()).await
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
        self.garages
            .update(id, changes, expected, self.origin.clone())
            .await
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
        self.garages.delete(id, expected, self.origin.clone()).await
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
}

#[cfg(test)]
mod tests {
    use mockall::predicate::{always, eq};

    use super::*;
    use crate::fleet::fixtures::*;
    use crate::garages::MockGarageRepository;
    use crate::values::*;
    use crate::vehicles::MockVehicleRepository;

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

    /// What the store answers a garage write, as the caller hears it:
    /// unchanged; the garage addressed is the resource, so a missing one
    /// stays `GarageNotFound` (a 404), unlike a garage named in a vehicle.
    #[tokio::test]
    async fn the_stores_answers_to_garage_writes_reach_the_caller_unchanged() {
        type Case = (fn() -> Error, fn(&Error) -> bool);
        let cases: [Case; 5] = [
            (
                || Error::GarageNotFound(GarageId(1)),
                |e| matches!(e, Error::GarageNotFound(GarageId(1))),
            ),
            (
                || Error::GarageNotEmpty {
                    garage: GarageId(1),
                    count: 3,
                },
                |e| matches!(e, Error::GarageNotEmpty { count: 3, .. }),
            ),
            (
                || Error::CapacityBelowCount {
                    garage: GarageId(1),
                    capacity: 2,
                    count: 4,
                },
                |e| {
                    matches!(
                        e,
                        Error::CapacityBelowCount {
                            capacity: 2,
                            count: 4,
                            ..
                        }
                    )
                },
            ),
            (|| Error::Stale, |e| matches!(e, Error::Stale)),
            (
                || Error::Unavailable(anyhow::anyhow!("pool timed out")),
                |e| matches!(e, Error::Unavailable(_)),
            ),
        ];
        for (answer, heard) in cases {
            let mut garages = MockGarageRepository::new();
            garages
                .expect_update()
                .times(1)
                .returning(move |_, _, _, _| Err(answer()));
            garages
                .expect_delete()
                .with(eq(GarageId(1)), eq(None), always())
                .times(1)
                .returning(move |_, _, _| Err(answer()));
            garages
                .expect_get()
                .times(1)
                .returning(move |_| Err(answer()));
            let fleet = service(garages, MockVehicleRepository::new());
            let changes = GarageChanges {
                capacity: Some(Some(Capacity::parse(2).unwrap())),
                ..GarageChanges::default()
            };
            let updated = fleet
                .update_garage(GarageId(1), changes, None)
                .await
                .unwrap_err();
            assert!(heard(&updated), "an update heard {updated:?}");
            let deleted = fleet.delete_garage(GarageId(1), None).await.unwrap_err();
            assert!(heard(&deleted), "a deletion heard {deleted:?}");
            let read = fleet.garage(GarageId(1)).await.unwrap_err();
            assert!(heard(&read), "a read heard {read:?}");
        }
    }

    #[tokio::test]
    async fn garages_asked_for_by_id_are_kept_within_the_callers_reach() {
        let mut garages = MockGarageRepository::new();
        garages
            .expect_list()
            .withf(|filter, _| filter.within == Some(vec![GarageId(2)]))
            .times(1)
            .returning(|_, _| {
                Ok(Page {
                    items: vec![],
                    next_after: None,
                })
            });
        garages
            .expect_list()
            .withf(|filter, _| filter.within == Some(vec![GarageId(7), GarageId(9)]))
            .times(1)
            .returning(|_, _| {
                Ok(Page {
                    items: vec![],
                    next_after: None,
                })
            });
        let fleet = service(garages, MockVehicleRepository::new());
        let asked = GarageFilter {
            within: Some(vec![GarageId(2), GarageId(3)]),
            ..GarageFilter::default()
        };
        fleet
            .within(Reach::Garages(vec![GarageId(1), GarageId(2)]))
            .list_garages(asked, PageRequest::default())
            .await
            .unwrap();
        let asked = GarageFilter {
            within: Some(vec![GarageId(7), GarageId(9)]),
            ..GarageFilter::default()
        };
        fleet
            .list_garages(asked, PageRequest::default())
            .await
            .unwrap();
    }
}
