//! Vehicles: each kept in one garage, under a unique plate (and VIN).

mod models;
mod ports;
mod service;

pub use models::{
    ImportMode, ImportOptions, ImportReport, ImportRow, ImportRows, LineError, NewVehicle,
    RowError, Vehicle, VehicleChanges, VehicleFilter, VehicleSortKey,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockVehicleRepository;
pub use ports::VehicleRepository;
pub(crate) use service::reachable;
