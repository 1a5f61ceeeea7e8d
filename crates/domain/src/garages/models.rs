//! A garage, the inputs that create and change one, and which to list.

use chrono::{DateTime, Utc};

use crate::paging::{Sort, SortKey, SortValue};
use crate::search::search_key;
use crate::values::{Address, Capacity, GarageId, GarageName, Version};

/// A place that keeps vehicles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Garage {
    pub id: GarageId,
    pub name: GarageName,
    pub address: Address,
    /// The most vehicles it may hold; `None` means no limit.
    pub capacity: Option<Capacity>,
    /// How many vehicles it holds now.
    pub vehicle_count: u32,
    /// Changes with every write, including the vehicle count's.
    pub version: Version,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGarage {
    pub name: GarageName,
    pub address: Address,
    pub capacity: Option<Capacity>,
}

/// The fields of a garage to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GarageChanges {
    pub name: Option<GarageName>,
    pub address: Option<Address>,
    /// `Some(None)` removes the limit.
    pub capacity: Option<Option<Capacity>>,
}

impl GarageChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.address.is_none() && self.capacity.is_none()
    }
}

/// Which garages to list, and in which order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GarageFilter {
    /// Keeps garages whose name contains this text, ignoring case, accents
    /// and punctuation (see [`search_key`]).
    pub name_contains: Option<String>,
    /// Keeps only these garages (a caller limited to them).
    pub within: Option<Vec<GarageId>>,
    pub sort: Sort<GarageSortKey>,
    /// The sort value of the item the page starts after, for any sort but by id.
    pub after_value: Option<SortValue>,
}

/// What garages may be sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GarageSortKey {
    #[default]
    Id,
    /// By name, ignoring case, accents and punctuation.
    Name,
    VehicleCount,
}

impl SortKey for GarageSortKey {
    const ALL: &'static [Self] = &[Self::Id, Self::Name, Self::VehicleCount];

    fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Name => "name",
            Self::VehicleCount => "vehicle_count",
        }
    }

    fn fits(self, value: Option<&SortValue>) -> bool {
        matches!(
            (self, value),
            (Self::Id, None)
                | (Self::Name, Some(SortValue::Text(_)))
                | (Self::VehicleCount, Some(SortValue::Int(0..=0x7fff_ffff)))
        )
    }
}

impl GarageSortKey {
    /// `garage`'s place in this order, beside its id; `None` by id.
    pub fn value_of(self, garage: &Garage) -> Option<SortValue> {
        match self {
            Self::Id => None,
            Self::Name => Some(SortValue::Text(search_key(garage.name.as_str()))),
            Self::VehicleCount => Some(SortValue::Int(garage.vehicle_count.into())),
        }
    }
}
