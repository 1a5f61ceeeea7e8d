//! `/api/v1/stats`: the fleet at a glance.

pub(crate) mod handlers;
mod wire;

pub use wire::{AgeBandBody, BrandBody, StatsBody};
