//! The fleet's entities, the inputs that create and change them, and pages of them.

use chrono::{DateTime, Utc};

use crate::values::{
    Address, Brand, Capacity, FieldError, GarageId, GarageName, LicensePlate, Limit, ModelName,
    ModelYear, VehicleId, Version, Vin,
};

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

/// A vehicle of the fleet, always kept in one garage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vehicle {
    pub id: VehicleId,
    pub garage_id: GarageId,
    pub brand: Brand,
    pub model: ModelName,
    pub year: ModelYear,
    pub license_plate: LicensePlate,
    pub vin: Option<Vin>,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVehicle {
    pub garage_id: GarageId,
    pub brand: Brand,
    pub model: ModelName,
    pub year: ModelYear,
    pub license_plate: LicensePlate,
    pub vin: Option<Vin>,
}

/// The fields of a vehicle to change; a new `garage_id` moves it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VehicleChanges {
    pub garage_id: Option<GarageId>,
    pub brand: Option<Brand>,
    pub model: Option<ModelName>,
    pub year: Option<ModelYear>,
    pub license_plate: Option<LicensePlate>,
    /// `Some(None)` removes the VIN.
    pub vin: Option<Option<Vin>>,
}

impl VehicleChanges {
    pub fn is_empty(&self) -> bool {
        self.garage_id.is_none()
            && self.brand.is_none()
            && self.model.is_none()
            && self.year.is_none()
            && self.license_plate.is_none()
            && self.vin.is_none()
    }
}

/// Which garages to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GarageFilter {
    /// Keeps garages whose name contains this text, ignoring case.
    pub name_contains: Option<String>,
    /// Keeps only these garages (a caller limited to them).
    pub within: Option<Vec<GarageId>>,
}

/// Which vehicles to list; every filter set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VehicleFilter {
    pub plate: Option<LicensePlate>,
    /// Keeps vehicles of this brand, ignoring case.
    pub brand: Option<String>,
    pub garage_id: Option<GarageId>,
    pub vin: Option<Vin>,
    /// Keeps only vehicles in these garages (a caller limited to them).
    pub within: Option<Vec<GarageId>>,
}

/// Keyset pagination: items ordered by id, those after `after`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Limit,
    /// The id of the last item of the previous page.
    pub after: Option<i64>,
}

/// One page of items and, when more follow, where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in id order: the
    /// extra row only says that another page follows.
    pub fn from_rows(mut rows: Vec<T>, limit: Limit, id: impl Fn(&T) -> i64) -> Self {
        let limit = usize::from(limit.get());
        let next_after = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&id)
        } else {
            None
        };
        Self {
            items: rows,
            next_after,
        }
    }
}

/// One data line of a bulk import: where it is in the file, and the vehicle
/// it describes or what is wrong with its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based, counting the header line.
    pub line: u64,
    /// The errors' `field` is the column; an empty one means the whole line.
    pub vehicle: Result<NewVehicle, Vec<FieldError>>,
}

/// The rows of an import, read lazily so a large file never sits in memory
/// whole; an `Err` stops the import (the input could not be read).
pub type ImportRows = Box<dyn Iterator<Item = Result<ImportRow, anyhow::Error>> + Send>;

/// Why one line of an import cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    /// The column at fault, when one is.
    pub field: Option<String>,
    pub message: String,
}

/// What an import did, or would do on a dry run: every row is imported, or
/// (when any is bad) none is and every bad row is reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u64,
    /// Rows written: all of them, or none on a dry run or on any error.
    pub imported: u64,
    pub errors: Vec<RowError>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_from_rows_cuts_the_lookahead_row_and_points_past_the_last_item() {
        let limit = Limit::parse(3).unwrap();
        let full = Page::from_rows(vec![10, 11, 12, 13], limit, |x| *x);
        assert_eq!(full.items, [10, 11, 12]);
        assert_eq!(full.next_after, Some(12));
        let last = Page::from_rows(vec![20, 21, 22], limit, |x| *x);
        assert_eq!(last.items, [20, 21, 22]);
        assert_eq!(last.next_after, None);
        let empty = Page::from_rows(Vec::<i64>::new(), limit, |x| *x);
        assert!(empty.items.is_empty() && empty.next_after.is_none());
    }
}
