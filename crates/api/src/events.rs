//! `/api/v1/events` and the histories of garages and vehicles.

pub(crate) mod handlers;
mod wire;

pub use wire::{ActivityQuery, EventBody, EventFeed, EventPage, FeedQuery};
