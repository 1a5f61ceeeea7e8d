//! The `garage` service: configuration, telemetry and composition of the
//! domain, its Diesel adapters and the HTTP API into one server.

pub mod cli;
pub mod headers;
pub mod memory;
pub mod metrics;
pub mod settings;
pub mod startup;
pub mod telemetry;

pub use settings::Settings;
pub use startup::Application;
