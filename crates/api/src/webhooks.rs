//! `/api/v1/webhooks` (admin): endpoints, their secrets and deliveries.

pub(crate) mod handlers;
mod wire;

pub use wire::{CreateWebhook, DeliveryBody, DeliveryPage, UpdateWebhook, WebhookBody};
