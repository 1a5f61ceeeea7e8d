//! `/api/v1/garages`: the handlers and their wire types.

pub(crate) mod handlers;
mod wire;

pub use wire::{
    CreateGarage, GarageBody, GaragePage, GarageQuery, MoveVehicles, MovedBody, UpdateGarage,
};
