//! Where vehicles are kept.

use async_trait::async_trait;

use super::models::{
    ImportOptions, ImportReport, ImportRows, NewVehicle, Vehicle, VehicleChanges, VehicleFilter,
};
use crate::error::Error;
use crate::events::Origin;
use crate::overview::VehicleFigures;
use crate::paging::{Page, PageRequest};
use crate::values::{GarageId, VehicleId, Version};

/// Stores vehicles. Every write records its event (see `events`), made
/// by `origin`, in its own transaction: one write, one event, or neither;
/// an import, one event per vehicle. Every method MUST return `Error::Unavailable` when the
/// store cannot be reached in time, and `Error::Internal` for anything else
/// unexpected.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VehicleRepository: Send + Sync + 'static {
    /// Vehicles matching `filter`, in id order, after `page.after`.
    async fn list(&self, filter: VehicleFilter, page: PageRequest) -> Result<Page<Vehicle>, Error>;

    /// The vehicles (only those in garages `within`, when given) taken
    /// together, with the `top` brands: a few aggregate queries.
    async fn figures(
        &self,
        within: Option<Vec<GarageId>>,
        top: u32,
    ) -> Result<VehicleFigures, Error>;

    /// The vehicle, or `None` when there is no such vehicle.
    async fn get(&self, id: VehicleId) -> Result<Option<Vehicle>, Error>;

    /// MUST return `Error::GarageNotFound` when its garage does not exist,
    /// `Error::DuplicatePlate` when a vehicle with the same plate exists,
    /// `Error::DuplicateVin` when one with the same VIN exists, and
    /// `Error::GarageFull` when the garage holds its capacity; the last two
    /// hold under any number of concurrent calls.
    async fn create(&self, vehicle: NewVehicle, origin: Origin) -> Result<Vehicle, Error>;

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
        origin: Origin,
    ) -> Result<Vehicle, Error>;

    /// MUST return `Error::VehicleNotFound` when there is no such vehicle,
    /// and `Error::Stale` as `update` does.
    async fn delete(
        &self,
        id: VehicleId,
        expected: Option<Version>,
        origin: Origin,
    ) -> Result<(), Error>;

    /// Moves every vehicle of garage `from` into garage `to`, all or none,
    /// one `vehicle.moved` event each, and says how many moved.
    ///
    /// MUST return `Error::GarageNotFound` when `from` does not exist,
    /// `Error::UnknownGarage` when `to` does not, and
    /// `Error::NotEnoughRoom` when `to` lacks places for them all, checked
    /// atomically with the move: concurrent moves never overfill it.
    async fn move_all(&self, from: GarageId, to: GarageId, origin: Origin) -> Result<u32, Error>;

    /// Creates every vehicle of `rows` in one transaction, or none; in
    /// `ImportMode::Upsert`, a row whose plate is registered updates that
    /// vehicle instead (one event each; none when nothing changes).
    ///
    /// Every bad row MUST be reported with its line: its own field errors, an
    /// unknown garage, a plate (in `Create` mode) or VIN already registered
    /// or repeated in the file, a garage the rows would fill beyond its
    /// capacity (vehicles moved out by earlier rows counted as gone); in
    /// `Upsert` mode, a registered vehicle outside `options.within` is a
    /// plate already taken.
    /// Nothing is written when any row is bad, or on a `dry_run`. `rows`
    /// MUST be read once, lazily. An `Err` from `rows` aborts with
    /// `Error::Internal`.
    async fn import(
        &self,
        rows: ImportRows,
        options: ImportOptions,
        origin: Origin,
    ) -> Result<ImportReport, Error>;
}
