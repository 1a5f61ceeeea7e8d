//! Webhooks on the wire.

use chrono::{DateTime, Utc};
use garage_domain::webhooks::{
    Delivery, NewWebhook, Subscription, Webhook, WebhookChanges, WebhookUrl,
};
use garage_domain::{FieldErrors, Reason, ValueError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::problem::ApiError;
use crate::wire::{required, validated};

crate::wire::path_id!(
    garage_domain::WebhookId,
    "id",
    "The endpoint's id",
    "webhook"
);
crate::wire::path_id!(
    garage_domain::DeliveryId,
    "delivery_id",
    "The delivery's id",
    "delivery"
);

const MAX_DESCRIPTION: usize = 500;

fn description(text: String) -> Result<String, ValueError> {
    let text = text.trim().to_owned();
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(ValueError::new(
            Reason::TooLong {
                max: MAX_DESCRIPTION as i64,
            },
            "must be at most 500 characters",
        ));
    }
    Ok(text)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where to POST: `https://`, to a public address.
    #[schema(value_type = String, required = true, example = "https://hooks.example.com/garage")]
    url: Option<String>,
    /// Event types, or `["*"]` for all.
    #[schema(value_type = Vec<String>, required = true, example = json!(["vehicle.moved"]))]
    events: Option<Vec<String>>,
    #[schema(max_length = 500)]
    description: Option<String>,
}

impl CreateWebhook {
    pub fn try_into_domain(self) -> Result<NewWebhook, ApiError> {
        let mut errors = FieldErrors::new();
        let url = required(&mut errors, "url", self.url, |u| WebhookUrl::parse(&u));
        let events = required(&mut errors, "events", self.events, |e| {
            Subscription::parse(&e)
        });
        let description = self.description.map_or(Some(String::new()), |d| {
            errors.check("description", description(d))
        });
        validated(errors, || {
            Some(NewWebhook {
                url: url?,
                events: events?,
                description: description?,
            })
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    url: Option<String>,
    events: Option<Vec<String>>,
    description: Option<String>,
    /// `true` enables it again (and forgets why it was disabled).
    enabled: Option<bool>,
}

/// A field left out (`Some(None)`), or given and valid (`Some(Some(_))`);
/// `None` when given and refused.
fn given<T>(field: Option<Option<T>>) -> Option<Option<T>> {
    match field {
        None => Some(None),
        Some(parsed) => parsed.map(Some),
    }
}

impl UpdateWebhook {
    pub fn try_into_domain(self) -> Result<WebhookChanges, ApiError> {
        let mut errors = FieldErrors::new();
        let url = self.url.map(|u| errors.check("url", WebhookUrl::parse(&u)));
        let events = self
            .events
            .map(|e| errors.check("events", Subscription::parse(&e)));
        let description = self
            .description
            .map(|d| errors.check("description", description(d)));
        // A field given and refused is in `errors`: `validated` stops there.
        validated(errors, || {
            Some(WebhookChanges {
                url: given(url)?,
                events: given(events)?,
                description: given(description)?,
                enabled: self.enabled,
            })
        })
    }
}

/// An endpoint; never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookBody {
    id: i64,
    url: String,
    events: Vec<&'static str>,
    description: String,
    enabled: bool,
    /// Why the service disabled it (410 Gone, three days of failures).
    disabled_reason: Option<String>,
    /// Until when the secret before the last rotation still signs.
    #[serde(serialize_with = "crate::wire::instant::serialize_option")]
    previous_secret_until: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    updated_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookBody {
    fn from(hook: Webhook) -> Self {
        Self {
            id: hook.id.get(),
            url: hook.url.to_string(),
            events: hook.events.names(),
            description: hook.description,
            enabled: hook.enabled,
            disabled_reason: hook.disabled_reason,
            previous_secret_until: hook.previous_secret.map(|(_, until)| until),
            created_at: hook.created_at,
            updated_at: hook.updated_at,
        }
    }
}

/// An endpoint with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub(crate) webhook: WebhookBody,
    /// `whsec_…`: verify `webhook-signature` with it. Not shown again.
    pub(crate) secret: String,
}

/// One event's delivery to an endpoint, as its last attempt left it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryBody {
    id: i64,
    /// The event delivered; `null` for a test message.
    event_id: Option<i64>,
    event_type: String,
    /// `pending`, `delivered` or `failed`.
    state: &'static str,
    attempts: u32,
    /// The receiver's last status; `null` when it did not answer.
    status_code: Option<u16>,
    latency_ms: Option<u32>,
    error: Option<String>,
    #[serde(serialize_with = "crate::wire::instant::serialize_option")]
    next_attempt_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    updated_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryBody {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id.get(),
            event_id: d.event_id,
            event_type: d.event_type,
            state: d.state.as_str(),
            attempts: d.attempts,
            status_code: d.last_status,
            latency_ms: d.last_latency_ms,
            error: d.last_error,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

crate::wire::page_of! {
    /// A page of deliveries, newest first.
    DeliveryPage of DeliveryBody
}

/// Every endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub(crate) items: Vec<WebhookBody>,
}
