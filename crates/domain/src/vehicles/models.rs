//! A vehicle, the inputs that create and change one, which to list, and
//! the rows of a bulk import.

use chrono::{DateTime, Utc};

use crate::values::{
    Brand, FieldError, GarageId, LicensePlate, ModelName, ModelYear, Reason, VehicleId, Version,
    Vin,
};

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

/// One data line of a bulk import: where it is in the file, and the vehicle
/// it describes or what is wrong with its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based, counting the header line.
    pub line: u64,
    /// The errors' `field` is the column; an empty one means the whole line.
    pub vehicle: Result<NewVehicle, Vec<LineError>>,
}

/// What is wrong with one line of an import: a column of it, or the whole
/// line (an unreadable record, a bad header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// `None` for the whole line.
    pub column: Option<String>,
    pub reason: Reason,
    pub message: String,
}

impl LineError {
    pub fn whole_line(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            column: None,
            reason,
            message: message.into(),
        }
    }
}

impl From<FieldError> for LineError {
    fn from(error: FieldError) -> Self {
        Self {
            column: Some(error.field),
            reason: error.reason,
            message: error.message,
        }
    }
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
    pub reason: Reason,
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
