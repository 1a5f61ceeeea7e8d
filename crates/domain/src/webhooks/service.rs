//! Managing endpoints, and delivering: sign, send, decide what comes next.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::models::{
    backoff, Attempt, Backlog, Delivery, DeliveryState, NewWebhook, Outcome, SigningSecret,
    Webhook, WebhookChanges, GIVE_UP_AFTER,
};
use super::ports::{Lease, Sender, WebhookRepository};
use crate::clock::Clock;
use crate::error::Error;
use crate::events::Event;
use crate::paging::{Page, PageRequest};
use crate::values::{DeliveryId, WebhookId};

/// How long an old secret keeps signing after a rotation.
const ROTATION_OVERLAP: TimeDelta = TimeDelta::hours(24);

/// How long a leased delivery is kept from other instances: longer than
/// an attempt can take.
const LEASE: TimeDelta = TimeDelta::seconds(60);
/// Events read for the endpoints in one transaction.
const DISPATCH_BATCH: u32 = 500;
/// Batches read in one call of `dispatch`: 10,000 events.
const DISPATCH_ROUNDS: usize = 20;

/// `webhook-signature`: `v1,<base64 of HMAC-SHA256 of "id.timestamp.body">`
/// for each secret, space-separated.
pub fn signature(secrets: &[&SigningSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|secret| {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.bytes())
                .expect("HMAC takes a key of any length");
            mac.update(format!("{id}.{timestamp}.").as_bytes());
            mac.update(body);
            let tag = mac.finalize().into_bytes();
            format!(
                "v1,{}",
                base64::engine::general_purpose::STANDARD.encode(tag)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The message of an event: `{"type","timestamp","data"}`, `data` the
/// event as the feed shows it.
fn message(event: Option<&Event>, webhook: &Webhook, at: DateTime<Utc>) -> serde_json::Value {
    match event {
        Some(event) => json!({
            "type": event.kind.as_str(),
            "timestamp": event.occurred_at,
            "data": event.to_json(),
        }),
        None => json!({
            "type": "webhook.test",
            "timestamp": at,
            "data": {"webhook_id": webhook.id.get()},
        }),
    }
}

/// Endpoints and their deliveries.
#[derive(Clone)]
pub struct WebhookService {
    hooks: Arc<dyn WebhookRepository>,
    sender: Arc<dyn Sender>,
    clock: Arc<dyn Clock>,
    /// Whether `http://` endpoints are accepted (tests, private networks).
    allow_http: bool,
    /// Multiplies every wait between attempts (1 in production; tests
    /// shorten them).
    backoff_scale: f64,
}

impl std::fmt::Debug for WebhookService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookService").finish_non_exhaustive()
    }
}

impl WebhookService {
    pub fn new(
        hooks: Arc<dyn WebhookRepository>,
        sender: Arc<dyn Sender>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            hooks,
            sender,
            clock,
            allow_http: false,
            backoff_scale: 1.0,
        }
    }

    #[must_use]
    pub fn allowing_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    #[must_use]
    pub fn with_backoff_scale(mut self, scale: f64) -> Self {
        self.backoff_scale = scale.clamp(0.0, 1.0);
        self
    }

    fn check_url(&self, url: &super::WebhookUrl) -> Result<(), Error> {
        if url.is_https() || self.allow_http {
            Ok(())
        } else {
            Err(Error::WebhookRefused(
                "must be an https:// URL: plain http:// is only for private targets, when allowed"
                    .into(),
            ))
        }
    }

    /// A new endpoint and its secret, shown this once.
    ///
    /// # Errors
    /// `WebhookRefused` for a plain `http://` URL unless allowed; the
    /// store's errors.
    pub async fn create(&self, hook: NewWebhook) -> Result<(Webhook, SigningSecret), Error> {
        self.check_url(&hook.url)?;
        let secret = SigningSecret::generate();
        let created = self
            .hooks
            .create(hook, secret.clone(), self.clock.now())
            .await?;
        Ok((created, secret))
    }

    /// # Errors
    /// The store's errors.
    pub async fn list(&self) -> Result<Vec<Webhook>, Error> {
        self.hooks.list().await
    }

    /// # Errors
    /// `WebhookNotFound`, the store's errors.
    pub async fn get(&self, id: WebhookId) -> Result<Webhook, Error> {
        self.hooks.get(id).await?.ok_or(Error::WebhookNotFound(id))
    }

    /// # Errors
    /// As `create`, and `WebhookNotFound`.
    pub async fn update(&self, id: WebhookId, changes: WebhookChanges) -> Result<Webhook, Error> {
        if let Some(url) = &changes.url {
            self.check_url(url)?;
        }
        if changes == WebhookChanges::default() {
            return self.get(id).await;
        }
        self.hooks.update(id, changes, self.clock.now()).await
    }

    /// # Errors
    /// `WebhookNotFound`, the store's errors.
    pub async fn delete(&self, id: WebhookId) -> Result<(), Error> {
        self.hooks.delete(id).await
    }

    /// A new secret, shown this once; the old one signs beside it for 24 h.
    ///
    /// # Errors
    /// `WebhookNotFound`, the store's errors.
    pub async fn rotate(&self, id: WebhookId) -> Result<(Webhook, SigningSecret), Error> {
        let now = self.clock.now();
        let secret = SigningSecret::generate();
        let hook = self
            .hooks
            .rotate(id, secret.clone(), now + ROTATION_OVERLAP, now)
            .await?;
        Ok((hook, secret))
    }

    /// # Errors
    /// `WebhookNotFound`, the store's errors.
    pub async fn test(&self, id: WebhookId) -> Result<Delivery, Error> {
        self.hooks.enqueue_test(id, self.clock.now()).await
    }

    /// # Errors
    /// `WebhookNotFound`, the store's errors.
    pub async fn deliveries(
        &self,
        id: WebhookId,
        page: PageRequest,
    ) -> Result<Page<Delivery>, Error> {
        self.get(id).await?;
        self.hooks.deliveries(id, page).await
    }

    /// # Errors
    /// `WebhookNotFound`, `DeliveryNotFound`, the store's errors.
    pub async fn retry(&self, id: WebhookId, delivery: DeliveryId) -> Result<Delivery, Error> {
        self.hooks.retry(id, delivery, self.clock.now()).await
    }

    /// Queues the feed's new events for the endpoints, batch after batch
    /// while batches come full (up to `DISPATCH_ROUNDS` of them), so a busy
    /// fleet's events do not outrun the dispatcher's rounds; how many it read.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn dispatch(&self) -> Result<usize, Error> {
        let mut read = 0;
        for _ in 0..DISPATCH_ROUNDS {
            let batch = self.hooks.dispatch(DISPATCH_BATCH).await?;
            read += batch;
            if batch < DISPATCH_BATCH as usize {
                break;
            }
        }
        Ok(read)
    }

    /// Sends what is due, up to `limit` messages, one after the other
    /// (instances share the work through their leases); how each attempt
    /// ended (`Attempt::result`).
    ///
    /// # Errors
    /// The store's errors; a receiver's failure is recorded, not returned.
    pub async fn deliver_due(&self, limit: u32) -> Result<Vec<&'static str>, Error> {
        let mut results = Vec::new();
        // One lease per attempt, taken just before it: a lease outlives the
        // attempt it covers, whatever the receivers before it took.
        while results.len() < limit as usize {
            let now = self.clock.now();
            let Some(lease) = self.hooks.lease(now, now + LEASE, 1).await?.pop() else {
                break;
            };
            results.push(self.attempt(lease).await?);
        }
        Ok(results)
    }

    /// # Errors
    /// The store's errors.
    pub async fn backlog(&self) -> Result<Backlog, Error> {
        self.hooks.backlog().await
    }

    async fn attempt(&self, lease: Lease) -> Result<&'static str, Error> {
        let Lease {
            delivery,
            webhook,
            event,
            until,
        } = lease;
        let at = self.clock.now();
        let id = match &event {
            Some(event) => format!("evt_{}", event.id),
            None => format!("test_{}", delivery.id),
        };
        let body = message(event.as_ref(), &webhook, at)
            .to_string()
            .into_bytes();
        let timestamp = at.timestamp();
        let headers = vec![
            ("webhook-id", id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                signature(&webhook.signing_secrets(at), &id, timestamp, &body),
            ),
        ];
        let started = std::time::Instant::now();
        let outcome = self.sender.send(&webhook.url, headers, body).await;
        let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        let jitter = f64::from(getrandom::u32().unwrap_or(0)) / f64::from(u32::MAX);
        let attempt = decide(
            &delivery,
            outcome,
            latency_ms,
            self.clock.now(),
            jitter,
            self.backoff_scale,
        );
        let result = attempt.result();
        let recorded = self
            .hooks
            .record(delivery.id, until, attempt, self.clock.now())
            .await?;
        if !recorded {
            tracing::warn!(delivery = %delivery.id, "a webhook attempt outlived its lease; its outcome was not recorded");
        }
        Ok(result)
    }
}

/// What an attempt's outcome means for the delivery and its endpoint.
pub(crate) fn decide(
    delivery: &Delivery,
    outcome: Outcome,
    latency_ms: u32,
    now: DateTime<Utc>,
    jitter: f64,
    scale: f64,
) -> Attempt {
    let failing_since = match &outcome {
        Outcome::Delivered { .. } => None,
        _ => Some(delivery.failing_since.unwrap_or(now)),
    };
    let (state, next_attempt_at, disable) = match &outcome {
        Outcome::Delivered { .. } => (DeliveryState::Delivered, None, None),
        Outcome::Gone => (
            DeliveryState::Failed,
            None,
            Some("the endpoint answered 410 Gone".to_owned()),
        ),
        Outcome::Failed { retry_after, .. } => {
            if now - delivery.failing_since.unwrap_or(now) >= GIVE_UP_AFTER {
                (
                    DeliveryState::Failed,
                    None,
                    Some("the endpoint has failed for 3 days".to_owned()),
                )
            } else {
                let planned = backoff(delivery.attempts + 1, jitter).mul_f64(scale);
                // A receiver asking for longer is heard (up to a day), and
                // its wait is never shortened.
                let asked =
                    retry_after.map_or(Duration::ZERO, |a| a.min(Duration::from_secs(86_400)));
                let wait = planned.max(asked);
                let wait = TimeDelta::from_std(wait).unwrap_or(TimeDelta::days(1));
                (DeliveryState::Pending, Some(now + wait), None)
            }
        }
    };
    Attempt {
        outcome,
        latency_ms,
        state,
        next_attempt_at,
        failing_since,
        disable,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use mockall::predicate::eq;

    use super::*;
    use crate::clock::MockClock;
    use crate::webhooks::{MockSender, MockWebhookRepository, Subscription, WebhookUrl};

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
    }

    fn hook(url: &str) -> Webhook {
        Webhook {
            id: WebhookId(3),
            url: WebhookUrl::parse(url).unwrap(),
            events: Subscription::All,
            description: String::new(),
            enabled: true,
            disabled_reason: None,
            secret: SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
            previous_secret: None,
            created_at: at(0),
            updated_at: at(0),
        }
    }

    fn delivery(attempts: u32, created: DateTime<Utc>) -> Delivery {
        Delivery {
            id: DeliveryId(9),
            webhook_id: WebhookId(3),
            event_id: None,
            event_type: "webhook.test".into(),
            state: DeliveryState::Pending,
            attempts,
            last_status: None,
            last_latency_ms: None,
            last_error: None,
            next_attempt_at: Some(created),
            failing_since: None,
            created_at: created,
            updated_at: created,
        }
    }

    fn failing(attempts: u32, since: DateTime<Utc>) -> Delivery {
        Delivery {
            failing_since: Some(since),
            ..delivery(attempts, since)
        }
    }

    fn clock(now: DateTime<Utc>) -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock.expect_now().returning(move || now);
        Arc::new(clock)
    }

    #[test]
    fn signatures_match_the_specification_and_both_secrets_sign_during_a_rotation() {
        // The example of the Standard Webhooks specification.
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(
                &[&secret],
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                body
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let mut rotated = hook("https://example.com/h");
        let old = rotated.secret.clone();
        rotated.secret = SigningSecret::generate();
        rotated.previous_secret = Some((old, at(100)));
        assert_eq!(rotated.signing_secrets(at(99)).len(), 2);
        assert_eq!(rotated.signing_secrets(at(100)).len(), 1);
        let both = signature(&rotated.signing_secrets(at(99)), "evt_1", 5, b"{}");
        assert_eq!(both.split(' ').count(), 2);
        assert!(both.split(' ').all(|s| s.starts_with("v1,")));
    }

    #[test]
    fn a_delivery_is_retried_with_backoff_until_three_days_have_passed() {
        let fresh = delivery(1, at(0));
        let failed = Outcome::Failed {
            status: Some(500),
            error: "500 Internal Server Error".into(),
            retry_after: None,
        };
        let next = decide(&fresh, failed.clone(), 12, at(10), 0.5, 1.0);
        assert_eq!(next.state, DeliveryState::Pending);
        // The second attempt comes 30 s later, give or take a fifth.
        assert_eq!(next.next_attempt_at, Some(at(10 + 30)));
        let low = decide(&fresh, failed.clone(), 12, at(10), 0.0, 1.0);
        assert_eq!(low.next_attempt_at, Some(at(10 + 24)));
        // Tests may shorten the waits.
        let short = decide(&fresh, failed.clone(), 12, at(10), 0.5, 0.1);
        assert_eq!(short.next_attempt_at, Some(at(13)));
        // A receiver that asks for longer is heard, and not shortened.
        let asked = Outcome::Failed {
            status: Some(503),
            error: "busy".into(),
            retry_after: Some(Duration::from_secs(600)),
        };
        let later = decide(&fresh, asked, 12, at(10), 0.5, 0.1);
        assert_eq!(later.next_attempt_at, Some(at(610)));
        // Shortened waits do not shorten the receiver's.
        let one_second = Outcome::Failed {
            status: Some(503),
            error: "busy".into(),
            retry_after: Some(Duration::from_secs(1)),
        };
        let heard = decide(&fresh, one_second, 12, at(10), 0.5, 0.01);
        assert_eq!(heard.next_attempt_at, Some(at(11)));
        assert_eq!(next.failing_since, Some(at(10)), "the failure clock starts");
        // Three days after the first failure, the endpoint is disabled.
        let old = decide(
            &failing(14, at(0)),
            failed.clone(),
            12,
            at(3 * 86_400),
            0.5,
            1.0,
        );
        assert_eq!(old.state, DeliveryState::Failed);
        assert_eq!(old.next_attempt_at, None);
        assert!(old.disable.is_some());
        // An old delivery retried by hand (its clock cleared) fails anew.
        let retried = decide(&delivery(14, at(0)), failed, 12, at(9 * 86_400), 0.5, 1.0);
        assert_eq!(retried.state, DeliveryState::Pending);
        assert_eq!(retried.failing_since, Some(at(9 * 86_400)));
    }

    #[test]
    fn success_ends_a_delivery_and_gone_disables_the_endpoint() {
        let done = decide(
            &delivery(1, at(0)),
            Outcome::Delivered { status: 204 },
            5,
            at(1),
            0.5,
            1.0,
        );
        assert_eq!(
            (
                done.state,
                done.next_attempt_at,
                done.failing_since,
                done.disable
            ),
            (DeliveryState::Delivered, None, None, None)
        );
        let gone = decide(&delivery(1, at(0)), Outcome::Gone, 5, at(1), 0.5, 1.0);
        assert_eq!(gone.state, DeliveryState::Failed);
        assert_eq!(
            gone.disable.as_deref(),
            Some("the endpoint answered 410 Gone")
        );
    }

    #[test]
    fn the_schedule_spans_more_than_a_day() {
        let total: f64 = (1..=14).map(|n| backoff(n, 0.0).as_secs_f64()).sum();
        assert!(total > 86_400.0, "{total}");
    }

    #[tokio::test]
    async fn dispatching_reads_batches_until_one_comes_short() {
        let mut hooks = MockWebhookRepository::new();
        let mut batches = vec![500, 500, 12].into_iter();
        hooks
            .expect_dispatch()
            .with(eq(500))
            .times(3)
            .returning(move |_| Ok(batches.next().unwrap()));
        let service =
            WebhookService::new(Arc::new(hooks), Arc::new(MockSender::new()), clock(at(0)));
        assert_eq!(service.dispatch().await.unwrap(), 1012);
    }

    #[tokio::test]
    async fn dispatching_stops_after_its_rounds_when_the_feed_keeps_filling() {
        let mut hooks = MockWebhookRepository::new();
        hooks
            .expect_dispatch()
            .times(DISPATCH_ROUNDS)
            .returning(|limit| Ok(limit as usize));
        let service =
            WebhookService::new(Arc::new(hooks), Arc::new(MockSender::new()), clock(at(0)));
        assert_eq!(service.dispatch().await.unwrap(), 10_000);
    }

    #[tokio::test]
    async fn plain_http_endpoints_are_refused_unless_allowed() {
        let new = NewWebhook {
            url: WebhookUrl::parse("http://receiver.example/hook").unwrap(),
            events: Subscription::All,
            description: String::new(),
        };
        let service = WebhookService::new(
            Arc::new(MockWebhookRepository::new()),
            Arc::new(MockSender::new()),
            clock(at(0)),
        );
        assert!(matches!(
            service.create(new.clone()).await,
            Err(Error::WebhookRefused(_))
        ));
        let mut hooks = MockWebhookRepository::new();
        hooks.expect_create().times(1).returning(|new, secret, at| {
            Ok(Webhook {
                url: new.url,
                secret,
                created_at: at,
                ..hook("https://unused.example")
            })
        });
        let allowed =
            WebhookService::new(Arc::new(hooks), Arc::new(MockSender::new()), clock(at(0)))
                .allowing_http(true);
        let (created, secret) = allowed.create(new).await.unwrap();
        assert_eq!(created.secret, secret, "the secret shown is the one stored");
        assert!(secret.expose().starts_with("whsec_"));
    }

    #[tokio::test]
    async fn a_due_delivery_is_signed_sent_and_its_outcome_recorded() {
        let mut hooks = MockWebhookRepository::new();
        hooks
            .expect_lease()
            .with(eq(at(7)), eq(at(67)), eq(1))
            .times(1)
            .returning(|_, _, _| {
                Ok(vec![Lease {
                    delivery: delivery(0, at(5)),
                    webhook: hook("https://receiver.example/hook"),
                    event: None,
                    until: at(67),
                }])
            });
        // Then nothing more is due.
        hooks.expect_lease().returning(|_, _, _| Ok(vec![]));
        hooks
            .expect_record()
            .withf(|id, lease, attempt, _| {
                *id == DeliveryId(9)
                    && *lease == at(67)
                    && attempt.state == DeliveryState::Delivered
                    && attempt.outcome == Outcome::Delivered { status: 200 }
            })
            .times(1)
            .returning(|_, _, _, _| Ok(true));
        let mut sender = MockSender::new();
        sender
            .expect_send()
            .withf(|url, headers, body| {
                let header = |name: &str| {
                    headers
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v.clone())
                        .unwrap()
                };
                let secret =
                    SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
                let message: serde_json::Value = serde_json::from_slice(body).unwrap();
                url.as_str() == "https://receiver.example/hook"
                    && header("webhook-id") == "test_9"
                    && header("webhook-timestamp") == at(7).timestamp().to_string()
                    && header("webhook-signature")
                        == signature(&[&secret], "test_9", at(7).timestamp(), body)
                    && message["type"] == "webhook.test"
                    && message["data"]["webhook_id"] == 3
            })
            .times(1)
            .returning(|_, _, _| Outcome::Delivered { status: 200 });
        let sent = WebhookService::new(Arc::new(hooks), Arc::new(sender), clock(at(7)))
            .deliver_due(10)
            .await
            .unwrap();
        assert_eq!(sent, ["delivered"]);
    }
}
