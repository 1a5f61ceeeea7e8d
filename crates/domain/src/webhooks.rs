//! Webhooks: endpoints that receive the events they subscribe to, signed as
//! the Standard Webhooks specification says, delivered at least once from
//! a persisted outbox, retried with backoff, disabled when they are gone or
//! have failed for three days.

mod models;
mod ports;
mod service;

pub use models::{
    Attempt, Backlog, Delivery, DeliveryState, NewWebhook, Outcome, SigningSecret, Subscription,
    Webhook, WebhookChanges, WebhookUrl, GIVE_UP_AFTER, TIMEOUT,
};
pub use ports::{Lease, Sender, WebhookRepository};
pub use service::{signature, WebhookService};

#[cfg(any(test, feature = "mocks"))]
pub use ports::{MockSender, MockWebhookRepository};
