//! Garage's domain: validated values, entities, the repository ports and the
//! fleet rules built on them. It knows nothing of HTTP or SQL.

pub mod access;
pub mod clock;
pub mod error;
pub mod models;
pub mod ports;
pub mod service;
pub mod values;

pub use clock::{Clock, SystemClock};
pub use error::Error;
pub use models::*;
pub use ports::{Claim, GarageRepository, IdempotencyStore, StoredResponse, VehicleRepository};
pub use service::FleetService;
pub use values::*;

#[cfg(any(test, feature = "mocks"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockGarageRepository, MockIdempotencyStore, MockVehicleRepository};
