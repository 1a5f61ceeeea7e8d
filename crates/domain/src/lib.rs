//! Garage's domain: validated values, the areas of the product (garages,
//! vehicles, access, events), each with its entities, ports and rules, and the
//! fleet service built on them (care: the upkeep of the vehicles). It knows nothing of HTTP or SQL.
//!
//! A new area is a new folder beside the others: `<area>.rs` names what it
//! exports, `<area>/models.rs`, `<area>/ports.rs`, `<area>/service.rs` hold it.

pub mod access;
pub mod care;
pub mod clock;
pub mod error;
pub mod events;
pub mod fleet;
pub mod garages;
pub mod idempotency;
pub mod overview;
pub mod paging;
pub mod search;
pub mod values;
pub mod vehicles;
pub mod webhooks;

pub use clock::{Clock, SystemClock, Zone};
pub use error::Error;
pub use fleet::FleetService;
pub use garages::{
    Garage, GarageChanges, GarageFilter, GarageRepository, GarageSortKey, NewGarage,
};
pub use idempotency::{Claim, IdempotencyStore, ABANDONED_CLAIM};
pub use paging::{Page, PageRequest, Sort, SortKey, SortValue};
pub use values::*;
pub use vehicles::{
    ImportMode, ImportOptions, ImportReport, ImportRow, ImportRows, LineError, NewVehicle,
    RowError, Vehicle, VehicleChanges, VehicleFilter, VehicleRepository, VehicleSortKey,
};

#[cfg(any(test, feature = "mocks"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mocks"))]
pub use garages::MockGarageRepository;
#[cfg(any(test, feature = "mocks"))]
pub use idempotency::MockIdempotencyStore;
#[cfg(any(test, feature = "mocks"))]
pub use vehicles::MockVehicleRepository;
