//! A vehicle, the inputs that create and change one, which to list, and
//! the rows of a bulk import.

use chrono::{DateTime, NaiveDate, Utc};

use crate::care::Km;

use crate::paging::{Sort, SortKey, SortValue};
use crate::values::{
    Brand, FieldError, GarageId, LicensePlate, ModelName, ModelYear, PlateFragment, Reason,
    VehicleId, Version, Vin,
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
    /// Its first registration, which some care plans count from.
    pub registered_on: Option<NaiveDate>,
    /// Its latest odometer reading, kept by the care area.
    pub odometer: Option<Km>,
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
    pub registered_on: Option<NaiveDate>,
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
    /// `Some(None)` removes the date.
    pub registered_on: Option<Option<NaiveDate>>,
}

impl VehicleChanges {
    pub fn is_empty(&self) -> bool {
        self.garage_id.is_none()
            && self.brand.is_none()
            && self.model.is_none()
            && self.year.is_none()
            && self.license_plate.is_none()
            && self.vin.is_none()
            && self.registered_on.is_none()
    }
}

/// Which vehicles to list, and in which order; every filter set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VehicleFilter {
    pub plate: Option<LicensePlate>,
    /// Keeps vehicles whose plate holds this run of letters and digits.
    pub plate_contains: Option<PlateFragment>,
    /// Keeps vehicles of this brand, ignoring case.
    pub brand: Option<String>,
    pub garage_id: Option<GarageId>,
    pub vin: Option<Vin>,
    /// Keeps vehicles of this model year or later.
    pub year_min: Option<ModelYear>,
    /// Keeps vehicles of this model year or earlier.
    pub year_max: Option<ModelYear>,
    /// Keeps only vehicles in these garages (a caller limited to them).
    pub within: Option<Vec<GarageId>>,
    pub sort: Sort<VehicleSortKey>,
    /// The sort value of the item the page starts after, for any sort but by id.
    pub after_value: Option<SortValue>,
}

/// What vehicles may be sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VehicleSortKey {
    #[default]
    Id,
    LicensePlate,
    Brand,
    Model,
    Year,
    /// By garage id: a garage's vehicles together.
    Garage,
    UpdatedAt,
}

impl SortKey for VehicleSortKey {
    const ALL: &'static [Self] = &[
        Self::Id,
        Self::LicensePlate,
        Self::Brand,
        Self::Model,
        Self::Year,
        Self::Garage,
        Self::UpdatedAt,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::LicensePlate => "license_plate",
            Self::Brand => "brand",
            Self::Model => "model",
            Self::Year => "year",
            Self::Garage => "garage_id",
            Self::UpdatedAt => "updated_at",
        }
    }

    fn fits(self, value: Option<&SortValue>) -> bool {
        matches!(
            (self, value),
            (Self::Id, None)
                | (
                    Self::LicensePlate | Self::Brand | Self::Model,
                    Some(SortValue::Text(_))
                )
                | (Self::Year, Some(SortValue::Int(0..=0xffff)))
                | (Self::Garage, Some(SortValue::Int(1..)))
                | (Self::UpdatedAt, Some(SortValue::Time(_)))
        )
    }
}

impl VehicleSortKey {
    /// `vehicle`'s place in this order, beside its id; `None` by id.
    pub fn value_of(self, vehicle: &Vehicle) -> Option<SortValue> {
        Some(match self {
            Self::Id => return None,
            Self::LicensePlate => SortValue::Text(vehicle.license_plate.as_str().to_owned()),
            Self::Brand => SortValue::Text(vehicle.brand.as_str().to_owned()),
            Self::Model => SortValue::Text(vehicle.model.as_str().to_owned()),
            Self::Year => SortValue::Int(vehicle.year.get().into()),
            Self::Garage => SortValue::Int(vehicle.garage_id.get()),
            Self::UpdatedAt => SortValue::Time(vehicle.updated_at),
        })
    }
}

/// One data line of a bulk import: where it is in the file, and the vehicle
/// it describes or what is wrong with its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based, counting the header line.
    pub line: u64,
    /// The errors' `field` is the column; an empty one means the whole line.
    pub vehicle: Result<NewVehicle, Vec<LineError>>,
    /// What its odometer shows today, when the line says: recorded as a
    /// reading (it may not go below the vehicle's latest).
    pub odometer: Option<crate::care::Km>,
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
    /// Vehicles created (on a dry run, that would be): none on any error.
    pub imported: u64,
    /// Vehicles already registered that rows changed, or would
    /// (`ImportMode::Upsert`): none on any error.
    pub updated: u64,
    /// Vehicles already registered as rows describe them, left as they
    /// are: none on any error.
    pub unchanged: u64,
    pub errors: Vec<RowError>,
}

/// How an import runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Checks every row, writes nothing.
    pub dry_run: bool,
    pub mode: ImportMode,
    /// The garages the caller may reach, when limited: a registered vehicle
    /// elsewhere is, to it, a plate already taken, never one to update.
    pub within: Option<Vec<GarageId>>,
    /// The fleet's today: the day an odometer the file gives is read on.
    pub today: chrono::NaiveDate,
}

/// What an import does with a plate already registered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ImportMode {
    /// Refuses the row: every row is a new vehicle.
    #[default]
    Create,
    /// Updates that vehicle to what the row says (moving it when its
    /// garage differs, within capacity), so an export imports again as is.
    Upsert,
}
