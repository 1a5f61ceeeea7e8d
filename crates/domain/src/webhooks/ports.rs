//! Where endpoints and their outbox are kept, and how a message leaves.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::models::{
    Attempt, Backlog, Delivery, NewWebhook, Outcome, SigningSecret, Webhook, WebhookChanges,
    WebhookUrl,
};
use crate::error::Error;
use crate::events::Event;
use crate::paging::{Page, PageRequest};
use crate::values::{DeliveryId, WebhookId};

/// A delivery leased for one attempt, with what it takes to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub delivery: Delivery,
    pub webhook: Webhook,
    /// `None` for a test message.
    pub event: Option<Event>,
    /// Until when the lease holds; it also names the lease, for `record`.
    pub until: DateTime<Utc>,
}

/// Stores endpoints and their deliveries, shared by every instance. Every
/// method MUST return `Error::Unavailable` when the store cannot be reached
/// in time; those naming an endpoint `Error::WebhookNotFound` when there is
/// none.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WebhookRepository: Send + Sync + 'static {
    /// Stores a new endpoint, made at `at`. It gets every event the store
    /// publishes after taking it, in the feed's order, whatever the clock
    /// of the instance that made it says; on PostgreSQL, an event of a
    /// transaction the feed still held back then (an older one was open)
    /// comes too: never fewer.
    async fn create(
        &self,
        hook: NewWebhook,
        secret: SigningSecret,
        at: DateTime<Utc>,
    ) -> Result<Webhook, Error>;

    /// Every endpoint, in id order.
    async fn list(&self) -> Result<Vec<Webhook>, Error>;

    async fn get(&self, id: WebhookId) -> Result<Option<Webhook>, Error>;

    async fn update(
        &self,
        id: WebhookId,
        changes: WebhookChanges,
        at: DateTime<Utc>,
    ) -> Result<Webhook, Error>;

    /// Deletes the endpoint and its deliveries.
    async fn delete(&self, id: WebhookId) -> Result<(), Error>;

    /// Makes `secret` the endpoint's secret; the one before keeps signing
    /// beside it until `previous_until`.
    async fn rotate(
        &self,
        id: WebhookId,
        secret: SigningSecret,
        previous_until: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Webhook, Error>;

    /// The endpoint's deliveries, newest first, ids below `page.after`.
    async fn deliveries(&self, id: WebhookId, page: PageRequest) -> Result<Page<Delivery>, Error>;

    /// Queues the delivery again for `at`, whatever its state, with a fresh
    /// failure clock; a delivery being sent now is left to that attempt.
    /// MUST return `Error::DeliveryNotFound` when the endpoint has no such
    /// delivery.
    async fn retry(
        &self,
        id: WebhookId,
        delivery: DeliveryId,
        at: DateTime<Utc>,
    ) -> Result<Delivery, Error>;

    /// Queues a `webhook.test` message to the endpoint.
    async fn enqueue_test(&self, id: WebhookId, at: DateTime<Utc>) -> Result<Delivery, Error>;

    /// Queues a delivery of each new event of the feed to every endpoint
    /// subscribed to its type (a disabled one keeps them until it is
    /// enabled again), up to `limit` events, and returns
    /// how many events it read. MUST queue each event once, whatever the
    /// number of instances calling it at once, and miss none. While there
    /// is no endpoint at all, it passes over the published events without
    /// reading them (0); an endpoint made meanwhile still gets every event
    /// from its creation on.
    async fn dispatch(&self, limit: u32) -> Result<usize, Error>;

    /// Up to `limit` pending deliveries due at `at`, each leased until
    /// `until` so no other instance sends it meanwhile. Only the oldest
    /// pending delivery of an entity to an endpoint is due: an entity's
    /// events arrive in order.
    async fn lease(
        &self,
        at: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Lease>, Error>;

    /// The pending deliveries of enabled endpoints.
    async fn backlog(&self) -> Result<Backlog, Error>;

    /// Records an attempt, ends the lease, and disables the endpoint when
    /// `attempt.disable` says so; only while the lease taken until `lease`
    /// is still the delivery's (a lease that ran out and was taken again
    /// belongs to another attempt, whose outcome wins). Whether it recorded.
    async fn record(
        &self,
        delivery: DeliveryId,
        lease: DateTime<Utc>,
        attempt: Attempt,
        at: DateTime<Utc>,
    ) -> Result<bool, Error>;
}

/// Sends one message, within `TIMEOUT`, and says how the receiver took it.
/// Refuses (an `Outcome::Failed` without a status) a URL whose host
/// resolves to a loopback, private or link-local address, unless private
/// targets are allowed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Sender: Send + Sync + 'static {
    async fn send(
        &self,
        url: &WebhookUrl,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) -> Outcome;
}
