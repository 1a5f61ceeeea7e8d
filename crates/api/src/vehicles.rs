//! `/api/v1/vehicles`: the handlers, their wire types, and bulk import
//! (CSV) and export (CSV or JSON).

mod csv;
pub(crate) mod export;
pub(crate) mod handlers;
pub(crate) mod import;
mod wire;

pub(crate) use csv::inert;
pub use csv::{csv_rows, IMPORT_COLUMNS};
pub use import::{ImportBody, MAX_IMPORT_BYTES};
pub use wire::{
    CreateVehicle, ExportFormat, ExportQuery, ImportQuery, UpdateVehicle, VehicleBody, VehiclePage,
    VehicleQuery,
};
