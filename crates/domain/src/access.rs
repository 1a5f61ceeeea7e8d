//! Who may do what: named API keys with a scope and, optionally, the
//! garages they are limited to. The HTTP edge turns a credential into a
//! [`Principal`]; the rest of the service sees only that.

mod limits;
mod models;
mod ports;
mod service;

#[cfg(any(test, feature = "mocks"))]
pub use limits::MockBudgets;
pub use limits::{Budget, Budgets, Quota, Spent};
pub use models::{
    is_secret, random_secret, ApiKey, KeyHash, KeyId, KeyName, KeySecret, NewApiKey, Principal,
    Reach, Scope,
};
pub use ports::KeyRepository;
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockKeyRepository;
pub use service::{AccessService, BOOTSTRAP_MIN_CHARS};
