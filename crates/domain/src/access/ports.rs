//! Where keys are kept.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::models::{ApiKey, KeyHash, KeyId, NewApiKey};
use crate::error::Error;
use crate::events::Origin;

/// Stores API keys, shared by every instance. Creating and revoking
/// record their event, made by `origin`, in the same transaction (a second
/// revocation records none). Every method MUST return
/// `Error::Unavailable` when the store cannot be reached in time.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait KeyRepository: Send + Sync + 'static {
    async fn create(&self, key: NewApiKey, origin: Origin) -> Result<ApiKey, Error>;

    /// The key whose secret hashes to `hash`, unless it is revoked.
    async fn find_active(&self, hash: KeyHash) -> Result<Option<ApiKey>, Error>;

    /// Every key, revoked ones too, in id order.
    async fn list(&self) -> Result<Vec<ApiKey>, Error>;

    /// Marks the key revoked at `at`; a key already revoked keeps its first
    /// revocation time. MUST return `Error::KeyNotFound` when there is no
    /// such key.
    async fn revoke(&self, id: KeyId, at: DateTime<Utc>, origin: Origin) -> Result<ApiKey, Error>;

    /// Records that the key was used at `at`.
    async fn touch(&self, id: KeyId, at: DateTime<Utc>) -> Result<(), Error>;

    /// Whether any key was ever created: revoked keys count, so revoking
    /// the last key never reopens the server.
    async fn any_created(&self) -> Result<bool, Error>;
}
