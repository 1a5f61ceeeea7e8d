//! What happened to the fleet: every write leaves one event, written in the
//! same transaction as the write, naming who made it (the actor), from
//! which request, and what changed. The events feed readers that must not
//! miss one, and each garage's and vehicle's history.

mod models;
mod ports;
mod service;

pub use models::{
    Actor, Changes, Event, EventFilter, EventKind, FeedPosition, HistoryOf, NewEvent, Origin,
};
pub use ports::EventRepository;
pub use service::EventService;

#[cfg(any(test, feature = "mocks"))]
pub use ports::MockEventRepository;
