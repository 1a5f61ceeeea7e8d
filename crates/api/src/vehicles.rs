//! `/api/v1/vehicles`: the handlers, their wire types, and bulk import
//! (CSV) and export (CSV or JSON).

mod csv;
pub(crate) mod export;
pub(crate) mod handlers;
pub(crate) mod import;
mod wire;

pub use csv::{csv_rows, IMPORT_COLUMNS};
pub(crate) use export::export;
pub(crate) use handlers::{create, delete, list, show, update};
pub(crate) use import::import;
pub use import::{ImportBody, MAX_IMPORT_BYTES};
pub use wire::{
    CreateVehicle, ExportFormat, ExportQuery, ImportQuery, UpdateVehicle, VehicleBody, VehicleQuery,
};
