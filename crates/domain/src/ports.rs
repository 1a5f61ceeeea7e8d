//! The ports the fleet needs from a store. Adapters implement them; the
//! contract each method states is tested against every adapter.

use async_trait::async_trait;

use crate::error::Error;
use crate::models::{
    Garage, GarageChanges, GarageFilter, NewGarage, NewVehicle, Page, PageRequest, Vehicle,
    VehicleChanges, VehicleFilter,
};
use crate::values::{GarageId, VehicleId};

/// Stores garages. Every method MUST return `Error::Unavailable` when the
/// store cannot be reached in time, and `Error::Internal` for anything else
/// unexpected.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait GarageRepository: Send + Sync + 'static {
    /// Garages matching `filter`, in id order, after `page.after`.
    async fn list(&self, filter: GarageFilter, page: PageRequest) -> Result<Page<Garage>, Error>;

    /// The garage, or `None` when there is no such garage.
    async fn get(&self, id: GarageId) -> Result<Option<Garage>, Error>;

    async fn create(&self, garage: NewGarage) -> Result<Garage, Error>;

    /// Applies `changes` (which are never empty).
    ///
    /// MUST return `Error::GarageNotFound` when there is no such garage, and
    /// `Error::CapacityBelowCount` when the new capacity is lower than the
    /// vehicles it holds at that moment, even under concurrent writes.
    async fn update(&self, id: GarageId, changes: GarageChanges) -> Result<Garage, Error>;

    /// MUST return `Error::GarageNotFound` when there is no such garage, and
    /// `Error::GarageNotEmpty` while it holds a vehicle: deleting a garage
    /// never deletes vehicles.
    async fn delete(&self, id: GarageId) -> Result<(), Error>;
}

/// Stores vehicles. Every method MUST return `Error::Unavailable` when the
/// store cannot be reached in time, and `Error::Internal` for anything else
/// unexpected.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VehicleRepository: Send + Sync + 'static {
    /// Vehicles matching `filter`, in id order, after `page.after`.
    async fn list(&self, filter: VehicleFilter, page: PageRequest) -> Result<Page<Vehicle>, Error>;

    /// The vehicle, or `None` when there is no such vehicle.
    async fn get(&self, id: VehicleId) -> Result<Option<Vehicle>, Error>;

    /// MUST return `Error::GarageNotFound` when its garage does not exist,
    /// `Error::DuplicatePlate` when a vehicle with the same plate exists, and
    /// `Error::GarageFull` when the garage holds its capacity; the last two
    /// hold under any number of concurrent calls.
    async fn create(&self, vehicle: NewVehicle) -> Result<Vehicle, Error>;

    /// Applies `changes` (which are never empty); a new `garage_id` moves it.
    ///
    /// MUST return `Error::VehicleNotFound`, and the errors of `create` for
    /// the new garage and plate, under the same concurrency guarantees.
    async fn update(&self, id: VehicleId, changes: VehicleChanges) -> Result<Vehicle, Error>;

    /// MUST return `Error::VehicleNotFound` when there is no such vehicle.
    async fn delete(&self, id: VehicleId) -> Result<(), Error>;
}
