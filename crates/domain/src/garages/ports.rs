//! Where garages are kept.

use async_trait::async_trait;

use super::models::{Garage, GarageChanges, GarageFilter, NewGarage};
use crate::error::Error;
use crate::events::Origin;
use crate::overview::GarageFigures;
use crate::paging::{Page, PageRequest};
use crate::values::{GarageId, Version};

/// Stores garages. Every write records its event (see `events`), made
/// by `origin`, in its own transaction: one write, one event, or neither.
/// Every method MUST return `Error::Unavailable` when the
/// store cannot be reached in time, and `Error::Internal` for anything else
/// unexpected.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait GarageRepository: Send + Sync + 'static {
    /// Garages matching `filter`, in id order, after `page.after`.
    async fn list(&self, filter: GarageFilter, page: PageRequest) -> Result<Page<Garage>, Error>;

    /// The garages (only those `within`, when given) taken together, with
    /// the `top` busiest and fullest: a few aggregate queries, however many
    /// garages there are.
    async fn figures(
        &self,
        within: Option<Vec<GarageId>>,
        top: u32,
    ) -> Result<GarageFigures, Error>;

    /// The garage, or `None` when there is no such garage.
    async fn get(&self, id: GarageId) -> Result<Option<Garage>, Error>;

    async fn create(&self, garage: NewGarage, origin: Origin) -> Result<Garage, Error>;

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
        origin: Origin,
    ) -> Result<Garage, Error>;

    /// MUST return `Error::GarageNotFound` when there is no such garage,
    /// `Error::Stale` as `update` does, and `Error::GarageNotEmpty` while it
    /// holds a vehicle: deleting a garage never deletes vehicles.
    async fn delete(
        &self,
        id: GarageId,
        expected: Option<Version>,
        origin: Origin,
    ) -> Result<(), Error>;
}
