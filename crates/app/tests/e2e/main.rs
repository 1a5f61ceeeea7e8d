//! End to end: the real composition of the service, started on port 0
//! against a fresh database, driven over HTTP.

mod backup;
mod balanced;
mod bulk_and_retries;
mod care;
mod concurrency;
mod edge;
mod events;
mod fleet_manager;
mod helpers;
mod hostile;
mod journey;
mod logs;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod memory;
mod outage;
mod production;
mod prototype;
mod replica;
mod shutdown;
mod tls;
mod ui;
mod webhooks;
