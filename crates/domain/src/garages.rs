//! Garages: places that keep vehicles, each with an optional capacity.

mod models;
mod ports;
mod service;

pub use models::{Garage, GarageChanges, GarageFilter, GarageSortKey, NewGarage};
pub use ports::GarageRepository;
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockGarageRepository;
