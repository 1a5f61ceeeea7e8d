//! An endpoint, its signing secret, its deliveries, and the retry rules.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};

use crate::events::EventKind;
use crate::values::{DeliveryId, Reason, ValueError, WebhookId};

/// How long a receiver may take to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// An endpoint failing for this long is disabled.
pub const GIVE_UP_AFTER: TimeDelta = TimeDelta::days(3);

/// Where deliveries go: an absolute `https://` URL (`http://` only where
/// private targets are allowed, as in tests). Whether its host resolves to
/// a private address is checked when it is sent to, by the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub const MAX_LEN: usize = 2_000;

    /// # Errors
    /// When `raw` is not an absolute http(s) URL with a host, is too long,
    /// holds spaces or control characters, or carries credentials.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let bad = |why: &str| Err(ValueError::new(Reason::InvalidFormat, why));
        if raw.len() > Self::MAX_LEN {
            return bad("must be at most 2000 characters");
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("must not contain spaces or control characters");
        }
        // The WHATWG parser the sender uses too: what passes here is sent.
        let Ok(url) = url::Url::parse(raw) else {
            return bad("is not a URL");
        };
        if !matches!(url.scheme(), "https" | "http") {
            return bad("must be an https:// URL");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return bad("must not carry a user or password");
        }
        if url.host_str().is_none_or(str::is_empty) {
            return bad("must name a host");
        }
        Ok(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_https(&self) -> bool {
        self.0
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The events an endpoint receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    All,
    Only(Vec<EventKind>),
}

impl Subscription {
    /// `["*"]` for all, else event types; never empty.
    ///
    /// # Errors
    /// An empty list, an unknown type, or `*` beside types.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, ValueError> {
        match names {
            [] => Err(ValueError::new(
                Reason::Required,
                "must name at least one event type, or \"*\"",
            )),
            [one] if one.as_ref() == "*" => Ok(Self::All),
            names => {
                let mut kinds = Vec::with_capacity(names.len());
                for name in names {
                    if name.as_ref() == "*" {
                        return Err(ValueError::new(Reason::InvalidChoice, "\"*\" stands alone"));
                    }
                    let kind = name.as_ref().parse::<EventKind>()?;
                    if !kinds.contains(&kind) {
                        kinds.push(kind);
                    }
                }
                Ok(Self::Only(kinds))
            }
        }
    }

    pub fn includes(&self, kind: EventKind) -> bool {
        match self {
            Self::All => true,
            Self::Only(kinds) => kinds.contains(&kind),
        }
    }

    pub fn names(&self) -> Vec<&'static str> {
        match self {
            Self::All => vec!["*"],
            Self::Only(kinds) => kinds.iter().map(|k| k.as_str()).collect(),
        }
    }
}

/// A signing secret: `whsec_` and 32 random bytes in base64. Its `Debug`
/// hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    const PREFIX: &'static str = "whsec_";

    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        Self(bytes)
    }

    /// # Errors
    /// When `text` is not `whsec_` and base64 of 24 to 64 bytes.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let bytes = text
            .strip_prefix(Self::PREFIX)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|b| (24..=64).contains(&b.len()))
            .ok_or_else(|| ValueError::new(Reason::InvalidFormat, "is not a whsec_ secret"))?;
        Ok(Self(bytes))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text to store and to show once.
    pub fn expose(&self) -> String {
        format!(
            "{}{}",
            Self::PREFIX,
            base64::engine::general_purpose::STANDARD.encode(&self.0)
        )
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(…)")
    }
}

/// An endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: WebhookUrl,
    pub events: Subscription,
    pub description: String,
    pub enabled: bool,
    /// Why it was disabled by the service (gone, failing), if it was.
    pub disabled_reason: Option<String>,
    pub secret: SigningSecret,
    /// After a rotation, the old secret, which signs beside the new one
    /// until `previous_until`.
    pub previous_secret: Option<(SigningSecret, DateTime<Utc>)>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    /// The secrets that sign a message sent `at`: the current one, and the
    /// one before it during the 24 hours after a rotation.
    pub fn signing_secrets(&self, at: DateTime<Utc>) -> Vec<&SigningSecret> {
        let mut secrets = vec![&self.secret];
        if let Some((previous, until)) = &self.previous_secret {
            if at < *until {
                secrets.push(previous);
            }
        }
        secrets
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    pub url: WebhookUrl,
    pub events: Subscription,
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookChanges {
    pub url: Option<WebhookUrl>,
    pub events: Option<Subscription>,
    pub description: Option<String>,
    /// Enabling again clears the reason it was disabled and the failure clock.
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    Delivered,
    /// Given up: the endpoint is gone, disabled, or failed for too long.
    Failed,
}

impl DeliveryState {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// # Errors
    /// An unknown name.
    pub fn parse(name: &str) -> Result<Self, ValueError> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| {
                ValueError::new(
                    Reason::InvalidChoice,
                    format!("unknown delivery state {name:?}"),
                )
            })
    }
}

/// One event's delivery to one endpoint, as its last attempt left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    /// The event delivered; `None` for a test message.
    pub event_id: Option<i64>,
    /// The event's type (`webhook.test` for a test).
    pub event_type: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_latency_ms: Option<u32>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When its attempts started failing without a success since; a retry
    /// asked for by hand, or the endpoint enabled again, starts it anew.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a receiver made of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx.
    Delivered { status: u16 },
    /// `410 Gone`: the endpoint is to be disabled.
    Gone,
    /// Any other status, or no answer at all (`status` is `None`).
    Failed {
        status: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
    },
}

/// What to record of an attempt, decided by the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub outcome: Outcome,
    pub latency_ms: u32,
    pub state: DeliveryState,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the delivery's failures began, `None` once it succeeded.
    pub failing_since: Option<DateTime<Utc>>,
    /// Set when the endpoint is to be disabled, with the reason.
    pub disable: Option<String>,
}

impl Attempt {
    /// How the attempt ended, for metrics: `delivered`, `retrying` or
    /// `failed` (given up).
    pub fn result(&self) -> &'static str {
        match self.state {
            DeliveryState::Delivered => "delivered",
            DeliveryState::Pending => "retrying",
            DeliveryState::Failed => "failed",
        }
    }
}

/// The outbox: deliveries waiting, and since when the oldest has waited;
/// and the oldest event the dispatcher has not queued yet (a transaction
/// left open holds the feed, and so the dispatcher, back).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub pending: u64,
    pub oldest: Option<DateTime<Utc>>,
    pub undispatched: Option<DateTime<Utc>>,
}

/// Waits between attempts: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h,
/// then every 8 h; past the third day of failures the endpoint is
/// disabled.
const BACKOFF: [u64; 9] = [5, 30, 120, 600, 1_800, 3_600, 7_200, 14_400, 28_800];

/// The schedule's wait before attempt `attempts + 1`, give or take a fifth
/// (`jitter` in 0..1 picks where).
pub fn backoff(attempts: u32, jitter: f64) -> Duration {
    let step = BACKOFF[(attempts.saturating_sub(1) as usize).min(BACKOFF.len() - 1)];
    let spread = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    Duration::from_secs_f64(step as f64 * spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_absolute_with_a_host_and_no_credentials() {
        for good in [
            "https://hooks.example.com/garage",
            "https://hooks.example.com:8443/garage?x=1",
            "http://127.0.0.1:9000/h",
            "https://[::1]:8443/h",
            "HTTPS://Example.com",
        ] {
            assert!(WebhookUrl::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ftp://example.com",
            "https://",
            "https://:443/x",
            "https://user:pw@example.com/",
            "https://exa mple.com",
            "https://example.com/\n",
            "example.com/hook",
            "https://a.example:99999/",
            &format!("https://example.com/{}", "a".repeat(2_000)),
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad:?}");
        }
        assert!(WebhookUrl::parse("HTTPS://x.example").unwrap().is_https());
        assert!(!WebhookUrl::parse("http://x.example").unwrap().is_https());
    }

    #[test]
    fn a_subscription_is_every_event_or_known_types() {
        assert_eq!(Subscription::parse(&["*"]), Ok(Subscription::All));
        let some =
            Subscription::parse(&["vehicle.moved", "vehicle.moved", "garage.created"]).unwrap();
        assert_eq!(some.names(), ["vehicle.moved", "garage.created"]);
        assert!(some.includes(EventKind::VehicleMoved));
        assert!(!some.includes(EventKind::VehicleCreated));
        assert!(Subscription::parse::<&str>(&[]).is_err());
        assert!(Subscription::parse(&["*", "vehicle.moved"]).is_err());
        assert!(Subscription::parse(&["vehicle.flew"]).is_err());
    }

    #[test]
    fn secrets_read_back_and_never_show_in_debug() {
        let secret = SigningSecret::generate();
        assert_eq!(SigningSecret::parse(&secret.expose()), Ok(secret.clone()));
        assert!(!format!("{secret:?}").contains(&secret.expose()[6..]));
        assert!(SigningSecret::parse("whsec_short").is_err());
        assert!(SigningSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
    }
}
