//! The fleet's use cases, one service over the garage and vehicle stores.
//! The rules that must hold under concurrency (unique plates, capacity, no
//! deleting a garage that holds vehicles) are enforced atomically by the
//! store, as the ports require; the service turns the store's answers into
//! the errors a caller acts on. Its use cases live with their area:
//! `garages/service.rs` and `vehicles/service.rs`.

use std::sync::Arc;

use chrono::NaiveDate;

use crate::access::Reach;
use crate::clock::{Clock, SystemClock, Zone};
use crate::error::Error;
use crate::events::Origin;
use crate::garages::GarageRepository;
use crate::values::{GarageId, Version};
use crate::vehicles::VehicleRepository;

/// Everything a user can do with the fleet.
#[derive(Clone)]
pub struct FleetService {
    pub(crate) garages: Arc<dyn GarageRepository>,
    pub(crate) vehicles: Arc<dyn VehicleRepository>,
    /// What the caller may see: other garages, and their vehicles, do not
    /// exist for it (404, never 403, so their ids do not leak).
    pub(crate) reach: Reach,
    /// Who its writes are made by, for their events.
    pub(crate) origin: Origin,
    /// What day it is, where the fleet is.
    clock: Arc<dyn Clock>,
    zone: Zone,
}

impl std::fmt::Debug for FleetService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetService").finish_non_exhaustive()
    }
}

/// Holds a read to the version a conditional request expected.
pub(crate) fn check_version(current: Version, expected: Option<Version>) -> Result<(), Error> {
    match expected {
        Some(expected) if expected != current => Err(Error::Stale),
        _ => Ok(()),
    }
}

/// In a vehicle's input, a missing garage is a bad reference, not a missing resource.
pub(crate) fn as_reference(err: Error) -> Error {
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
            origin: Origin::anonymous(),
            clock: Arc::new(SystemClock),
            zone: Zone::UTC,
        }
    }

    /// Its days counted in `zone` (UTC until told).
    #[must_use]
    pub fn in_zone(self, zone: Zone) -> Self {
        Self { zone, ..self }
    }

    /// Its time read from `clock` (the system's until told).
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// The day it is where the fleet is: an export's date, the year
    /// vehicles' ages are counted from.
    pub fn today(&self) -> NaiveDate {
        self.zone.today(self.clock.now())
    }

    /// The fleet as a caller limited to `reach` sees it.
    #[must_use]
    pub fn within(&self, reach: Reach) -> Self {
        Self {
            reach,
            ..self.clone()
        }
    }

    /// The fleet whose writes `origin` makes.
    #[must_use]
    pub fn by(&self, origin: Origin) -> Self {
        Self {
            origin,
            ..self.clone()
        }
    }

    pub(crate) fn reachable(&self, id: GarageId) -> Result<(), Error> {
        if self.reach.allows(id) {
            Ok(())
        } else {
            Err(Error::GarageNotFound(id))
        }
    }
}

/// What the service tests of both areas build on.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::sync::Arc;

    use chrono::Utc;

    use super::FleetService;
    use crate::access::Reach;
    use crate::garages::{Garage, MockGarageRepository};
    use crate::values::*;
    use crate::vehicles::{MockVehicleRepository, NewVehicle, Vehicle};

    pub(crate) fn garage(id: i64, capacity: Option<u32>, count: u32) -> Garage {
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

    pub(crate) fn new_vehicle(garage_id: i64, plate: &str) -> NewVehicle {
        NewVehicle {
            garage_id: GarageId(garage_id),
            brand: Brand::parse("Renault").unwrap(),
            model: ModelName::parse("Clio").unwrap(),
            year: ModelYear::parse_in(2020, 2026).unwrap(),
            license_plate: LicensePlate::parse(plate).unwrap(),
            vin: None,
            registered_on: None,
        }
    }

    pub(crate) fn vehicle(id: i64, new: &NewVehicle) -> Vehicle {
        Vehicle {
            id: VehicleId(id),
            garage_id: new.garage_id,
            brand: new.brand.clone(),
            model: new.model.clone(),
            year: new.year,
            license_plate: new.license_plate.clone(),
            vin: new.vin.clone(),
            registered_on: new.registered_on,
            odometer: None,
            version: Version(1),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    pub(crate) fn service(
        garages: MockGarageRepository,
        vehicles: MockVehicleRepository,
    ) -> FleetService {
        FleetService::new(Arc::new(garages), Arc::new(vehicles))
    }

    /// A caller limited to garage 3.
    pub(crate) fn depot() -> Reach {
        Reach::Garages(vec![GarageId(3)])
    }
}
