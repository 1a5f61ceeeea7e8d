//! The overview: the fleet at a glance, in figures a few aggregate queries
//! give (each store sums what it holds), never one query per garage.

mod models;
mod service;

pub use models::{AgeBand, BrandCount, GarageFigures, Overview, VehicleFigures, AGE_BANDS};
