//! Garage's outbound adapters: the repository ports implemented with Diesel
//! over one r2d2 pool, on PostgreSQL or SQLite chosen by the database URL.

mod access;
pub mod backup;
mod care;
mod db;
mod events;
mod garages;
mod idempotency;
mod keyset;
mod limits;
mod reads;
mod rows;
mod schema;
mod vehicles;
mod webhooks;

#[cfg(feature = "testing")]
pub mod testing;

pub use access::DieselKeyRepository;
pub use care::DieselCareRepository;
pub use db::{one_deadline, Backend, Database, DatabaseUrl, PoolOptions, PoolStats};
pub use events::DieselEventRepository;
pub use garages::DieselGarageRepository;
pub use idempotency::DieselIdempotencyStore;
pub use limits::{LocalBudgets, SharedBudgets};
pub use reads::{consistent, Lsn, Reads};
pub use vehicles::DieselVehicleRepository;
pub use webhooks::{DieselWebhookRepository, HttpSender};
