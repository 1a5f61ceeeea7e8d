//! The ports the fleet needs from a store. Adapters implement them; the
//! contract each method states is tested against every adapter.

use async_trait::async_trait;

use crate::error::Error;
use crate::models::{
    Garage, GarageChanges, GarageFilter, ImportReport, ImportRows, NewGarage, NewVehicle, Page,
    PageRequest, Vehicle, VehicleChanges, VehicleFilter,
};
use crate::values::{GarageId, VehicleId, Version};

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

    /// Applies `changes` (which are never empty), only if the garage is at
    /// version `expected` when one is given.
    ///
    /// MUST return `Error::GarageNotFound` when there is no such garage,
    /// `Error::Stale` when it is at another version than `expected` (checked
    /// atomically with the write), and `Error::CapacityBelowCount` when the
    /// new capacity is lower than the vehicles it holds at that moment, even
    /// under concurrent writes.
    async fn update(
        &self,
        id: GarageId,
        changes: GarageChanges,
        expected: Option<Version>,
    ) -> Result<Garage, Error>;

    /// MUST return `Error::GarageNotFound` when there is no such garage,
    /// `Error::Stale` as `update` does, and `Error::GarageNotEmpty` while it
    /// holds a vehicle: deleting a garage never deletes vehicles.
    async fn delete(&self, id: GarageId, expected: Option<Version>) -> Result<(), Error>;
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
    /// `Error::DuplicatePlate` when a vehicle with the same plate exists,
    /// `Error::DuplicateVin` when one with the same VIN exists, and
    /// `Error::GarageFull` when the garage holds its capacity; the last two
    /// hold under any number of concurrent calls.
    async fn create(&self, vehicle: NewVehicle) -> Result<Vehicle, Error>;

    /// Applies `changes` (which are never empty), only if the vehicle is at
    /// version `expected` when one is given; a new `garage_id` moves it.
    ///
    /// MUST return `Error::VehicleNotFound`, `Error::Stale` (checked
    /// atomically with the write), and the errors of `create` for the new
    /// garage, plate and VIN, under the same concurrency guarantees.
    async fn update(
        &self,
        id: VehicleId,
        changes: VehicleChanges,
        expected: Option<Version>,
    ) -> Result<Vehicle, Error>;

    /// MUST return `Error::VehicleNotFound` when there is no such vehicle,
    /// and `Error::Stale` as `update` does.
    async fn delete(&self, id: VehicleId, expected: Option<Version>) -> Result<(), Error>;

    /// Creates every vehicle of `rows` in one transaction, or none.
    ///
    /// Every bad row MUST be reported with its line: its own field errors, an
    /// unknown garage, a plate or VIN already registered or repeated in the
    /// file, a garage the rows would fill beyond its capacity. Nothing is
    /// written when any row is bad, or on a `dry_run`. `rows` MUST be read
    /// once, lazily. An `Err` from `rows` aborts with `Error::Internal`.
    async fn import(&self, rows: ImportRows, dry_run: bool) -> Result<ImportReport, Error>;
}

/// What a request with an idempotency key finds when it claims the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or expired): the caller runs the request, then
    /// `complete`s or `release`s the key.
    Claimed,
    /// A request with this key and the same fingerprint completed: here is
    /// its response, to send again.
    Replay(StoredResponse),
    /// The key was used with another request.
    Mismatch,
    /// A request with this key is running now.
    InProgress,
}

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub location: Option<String>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub body: Vec<u8>,
}

/// How long a claimed key may stay without a response before another
/// request may claim it: far longer than any request runs.
pub const ABANDONED_CLAIM: std::time::Duration = std::time::Duration::from_secs(300);

/// Keeps idempotency keys and the responses they produced, shared by every
/// instance of the service. Every method MUST return `Error::Unavailable`
/// when the store cannot be reached in time.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Claims `key` for a request with this `fingerprint`. Of concurrent
    /// claims of one key, exactly one MUST get `Claim::Claimed`. A key
    /// claimed or completed longer than `ttl` ago is treated as new, and so
    /// is a claim neither completed nor released within
    /// [`ABANDONED_CLAIM`] (its request died with its instance).
    async fn claim(
        &self,
        key: String,
        fingerprint: String,
        ttl: std::time::Duration,
    ) -> Result<Claim, Error>;

    /// Stores the response of the request that claimed `key`.
    async fn complete(&self, key: String, response: StoredResponse) -> Result<(), Error>;

    /// Forgets `key`, so a retry runs again (the request failed without effect).
    async fn release(&self, key: String) -> Result<(), Error>;

    /// Deletes keys older than `ttl`; returns how many.
    async fn purge(&self, ttl: std::time::Duration) -> Result<u64, Error>;
}
