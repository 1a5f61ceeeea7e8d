//! The overview's use case.

use chrono::Datelike;

use super::models::Overview;
use crate::error::Error;
use crate::fleet::FleetService;

impl FleetService {
    /// How many garages, busiest and fullest first, and brands shown by name.
    pub const OVERVIEW_TOP: u32 = 10;

    /// The fleet at a glance, within the caller's reach.
    ///
    /// # Errors
    /// The stores' errors.
    #[tracing::instrument(skip_all)]
    pub async fn overview(&self) -> Result<Overview, Error> {
        let within = self.reach.garages();
        let garages = self
            .garages
            .figures(within.clone(), Self::OVERVIEW_TOP)
            .await?;
        let vehicles = self.vehicles.figures(within, Self::OVERVIEW_TOP).await?;
        Ok(Overview::of(garages, vehicles, self.today().year()))
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::access::Reach;
    use crate::fleet::fixtures::*;
    use crate::garages::MockGarageRepository;
    use crate::overview::{BrandCount, GarageFigures, VehicleFigures};
    use crate::values::GarageId;
    use crate::vehicles::MockVehicleRepository;

    fn brand(name: &str, vehicles: u64) -> BrandCount {
        BrandCount {
            brand: name.into(),
            vehicles,
        }
    }

    #[test]
    fn figures_add_up_to_free_places_other_brands_and_age_bands() {
        let garages = GarageFigures {
            garages: 3,
            unlimited: 1,
            capacity: 30,
            held_in_limited: 26,
            vehicles: 40,
            ..GarageFigures::default()
        };
        let vehicles = VehicleFigures {
            vehicles: 40,
            top_brands: vec![brand("Renault", 20), brand("Peugeot", 12)],
            // Ages in 2026: 0 (and next year's model), 2 | 3, 5 | 6 | 14 | 15, 60.
            by_year: vec![
                (1966, 1),
                (2011, 2),
                (2012, 3),
                (2020, 4),
                (2021, 5),
                (2023, 6),
                (2024, 7),
                (2026, 8),
                (2027, 4),
            ],
        };
        let overview = Overview::of(garages, vehicles, 2026);
        assert_eq!(overview.free_places, 4);
        assert_eq!(overview.unlimited_garages, 1);
        assert_eq!(overview.other_brands, 8);
        let bands: Vec<(u16, Option<u16>, u64)> = overview
            .by_age
            .iter()
            .map(|b| (b.from, b.to, b.vehicles))
            .collect();
        assert_eq!(
            bands,
            [
                (0, Some(2), 7 + 8 + 4),
                (3, Some(5), 6 + 5),
                (6, Some(9), 4),
                (10, Some(14), 3),
                (15, None, 2 + 1),
            ]
        );
    }

    #[test]
    fn more_vehicles_held_than_places_leaves_none_free_and_never_wraps() {
        let garages = GarageFigures {
            capacity: 5,
            held_in_limited: 9,
            ..GarageFigures::default()
        };
        let vehicles = VehicleFigures {
            vehicles: 3,
            top_brands: vec![brand("Renault", 4)],
            by_year: vec![],
        };
        let overview = Overview::of(garages, vehicles, 2026);
        assert_eq!((overview.free_places, overview.other_brands), (0, 0));
        assert!(overview.by_age.iter().all(|b| b.vehicles == 0));
    }

    #[tokio::test]
    async fn ages_count_from_the_year_it_is_where_the_fleet_is() {
        let mut garages = MockGarageRepository::new();
        garages
            .expect_figures()
            .returning(|_, _| Ok(GarageFigures::default()));
        let mut vehicles = MockVehicleRepository::new();
        vehicles.expect_figures().returning(|_, _| {
            Ok(VehicleFigures {
                vehicles: 1,
                top_brands: vec![],
                by_year: vec![(2024, 1)],
            })
        });
        // 23:30 UTC on New Year's Eve: already 2027 in Paris.
        let mut clock = crate::clock::MockClock::new();
        clock.expect_now().returning(|| {
            use chrono::TimeZone;
            chrono::Utc
                .with_ymd_and_hms(2026, 12, 31, 23, 30, 0)
                .unwrap()
        });
        let fleet = service(garages, vehicles).with_clock(std::sync::Arc::new(clock));
        let age = |fleet: &FleetService| {
            let fleet = fleet.clone();
            async move {
                let overview = fleet.overview().await.unwrap();
                overview
                    .by_age
                    .iter()
                    .find(|b| b.vehicles == 1)
                    .unwrap()
                    .from
            }
        };
        // A 2024 model is in the 0-2 band in 2026, the 3-5 band in 2027.
        assert_eq!(age(&fleet).await, 0);
        let paris = crate::clock::Zone::parse("Europe/Paris").unwrap();
        assert_eq!(age(&fleet.clone().in_zone(paris)).await, 3);
    }

    #[tokio::test]
    async fn a_caller_limited_to_some_garages_gets_figures_of_those_only() {
        let mine = vec![GarageId(4), GarageId(9)];
        let mut garages = MockGarageRepository::new();
        garages
            .expect_figures()
            .with(eq(Some(mine.clone())), eq(FleetService::OVERVIEW_TOP))
            .times(1)
            .returning(|_, _| {
                Ok(GarageFigures {
                    garages: 2,
                    vehicles: 3,
                    busiest: vec![garage(9, Some(2), 2)],
                    ..GarageFigures::default()
                })
            });
        let mut vehicles = MockVehicleRepository::new();
        vehicles
            .expect_figures()
            .with(eq(Some(mine.clone())), eq(FleetService::OVERVIEW_TOP))
            .times(1)
            .returning(|_, _| {
                Ok(VehicleFigures {
                    vehicles: 3,
                    ..VehicleFigures::default()
                })
            });
        let overview = service(garages, vehicles)
            .within(Reach::Garages(mine))
            .overview()
            .await
            .unwrap();
        assert_eq!((overview.garages, overview.vehicles), (2, 3));
        assert_eq!(overview.busiest[0].id, GarageId(9));
    }
}
