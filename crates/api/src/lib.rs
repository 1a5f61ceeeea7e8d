//! Garage's HTTP adapter: the `/api/v1` routes, their wire types, and the
//! mapping of every failure to an RFC 9457 problem.

mod access;
mod body;
pub mod care;
mod conditional;
pub mod edge;
pub mod events;
pub mod garages;
pub mod idempotency;
pub mod openapi;
pub mod overview;
mod problem;
mod routes;
pub mod vehicles;
pub mod webhooks;
mod wire;

pub use edge::{Caller, Edge};
pub use problem::{ApiError, ProblemType, PROBLEM_JSON};
pub use routes::{configure, Endpoint, ENDPOINTS};

/// The largest JSON body accepted; larger ones get a 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";
