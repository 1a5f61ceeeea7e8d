//! Idempotency keys: a request sent again with the same key takes effect
//! once. The store keeps, per key, the request's fingerprint and an opaque
//! answer that the HTTP adapter encodes; nothing here knows what it holds.

use async_trait::async_trait;

use crate::error::Error;

/// What a request with an idempotency key finds when it claims the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or expired): the caller runs the request, then
    /// `complete`s or `release`s the key.
    Claimed,
    /// A request with this key and the same fingerprint completed: here is
    /// the answer it stored, to send again.
    Replay(Vec<u8>),
    /// The key was used with another request.
    Mismatch,
    /// A request with this key is running now.
    InProgress,
}

/// How long a claimed key may stay without a response before another
/// request may claim it: far longer than any request runs.
pub const ABANDONED_CLAIM: std::time::Duration = std::time::Duration::from_secs(300);

/// Keeps idempotency keys and the answers they produced, shared by every
/// instance of the service. Every method MUST return `Error::Unavailable`
/// when the store cannot be reached in time.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Claims `key` for a request with this `fingerprint`. Of concurrent
    /// claims of one key, exactly one MUST get `Claim::Claimed`. A key
    /// claimed or completed longer than `ttl` ago is treated as new, and so
    /// is a claim neither completed nor released within
    /// [`ABANDONED_CLAIM`] (its request died with its instance).
    async fn claim(
        &self,
        key: String,
        fingerprint: String,
        ttl: std::time::Duration,
    ) -> Result<Claim, Error>;

    /// Stores the answer of the request that claimed `key`.
    async fn complete(&self, key: String, answer: Vec<u8>) -> Result<(), Error>;

    /// Forgets `key`, so a retry runs again (the request failed without effect).
    async fn release(&self, key: String) -> Result<(), Error>;

    /// Deletes keys older than `ttl`; returns how many.
    async fn purge(&self, ttl: std::time::Duration) -> Result<u64, Error>;
}
