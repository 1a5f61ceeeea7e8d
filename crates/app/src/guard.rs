//! What stands between the internet and the API: API keys, per-client rate
//! limits and the security headers of every response.

use std::collections::hash_map::{DefaultHasher, HashMap};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{web, ResponseError};
use garage_api::ApiError;

use crate::settings::{AuthSettings, RateLimitSettings};

/// The API keys a request may present.
#[derive(Clone)]
pub struct ApiKeys {
    keys: Vec<Vec<u8>>,
    protect_reads: bool,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field("count", &self.keys.len())
            .field("protect_reads", &self.protect_reads)
            .finish()
    }
}

impl ApiKeys {
    pub fn new(settings: &AuthSettings) -> Self {
        Self {
            keys: settings
                .api_keys
                .iter()
                .map(|k| k.as_bytes().to_vec())
                .collect(),
            protect_reads: settings.protect_reads,
        }
    }

    pub fn is_open(&self) -> bool {
        self.keys.is_empty()
    }

    fn required(&self, method: &Method, path: &str) -> bool {
        // The API's description is public, like its documentation page.
        let public = path == OPENAPI_PATH;
        if self.is_open() || public || !path.starts_with("/api/") || method == Method::OPTIONS {
            return false;
        }
        let read = method == Method::GET || method == Method::HEAD;
        !read || self.protect_reads
    }

    /// Compares against every key, each in constant time, so timing tells
    /// nothing of how much of a key was right.
    fn accepts(&self, presented: &[u8]) -> bool {
        self.keys
            .iter()
            .fold(false, |found, key| found | constant_time_eq(key, presented))
    }
}

const OPENAPI_PATH: &str = "/api/v1/openapi.json";

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bearer(req: &ServiceRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Answers 401 to an API call that needs a key and lacks a valid one.
pub async fn require_api_key(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(keys) = req.app_data::<web::Data<ApiKeys>>() {
        if keys.required(req.method(), req.path())
            && !bearer(&req).is_some_and(|k| keys.accepts(k.as_bytes()))
        {
            tracing::info!(
                path = req.path(),
                "request refused: missing or invalid API key"
            );
            return Ok(req
                .into_response(ApiError::Unauthorized.error_response())
                .map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// A token bucket per client: `burst` requests at once, refilled at
/// `per_second`. State is in this process: behind a load balancer each
/// instance counts alone.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    trust_forwarded_for: bool,
    buckets: Mutex<HashMap<ClientKey, Bucket>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ClientKey {
    /// A hash of the API key: the key itself is not kept.
    ApiKey(u64),
    Address(IpAddr),
    Unknown,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Past this many clients, buckets that have refilled are forgotten.
const MAX_TRACKED_CLIENTS: usize = 10_000;

impl RateLimiter {
    /// `None` when rate limiting is off.
    pub fn new(settings: &RateLimitSettings) -> Option<Self> {
        (settings.per_second > 0.0).then(|| Self {
            per_second: settings.per_second,
            burst: f64::from(settings.burst.max(1)),
            trust_forwarded_for: settings.trust_forwarded_for,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    fn client(&self, req: &ServiceRequest) -> ClientKey {
        if let Some(key) = bearer(req) {
            let mut hasher = DefaultHasher::new();
            key.hash(&mut hasher);
            return ClientKey::ApiKey(hasher.finish());
        }
        let address = if self.trust_forwarded_for {
            req.connection_info().realip_remote_addr().and_then(|a| {
                a.parse::<IpAddr>()
                    .ok()
                    .or_else(|| a.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
            })
        } else {
            req.peer_addr().map(|a| a.ip())
        };
        address.map_or(ClientKey::Unknown, ClientKey::Address)
    }

    /// Takes one token, or says in how many seconds one will be there.
    fn take(&self, client: ClientKey, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED_CLIENTS && !buckets.contains_key(&client) {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refilled =
            bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * self.per_second;
        bucket.tokens = refilled.min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

/// Answers 429 with `Retry-After` to an API client past its budget.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if req.path().starts_with("/api/") {
        if let Some(limiter) = req.app_data::<web::Data<RateLimiter>>() {
            if let Err(retry_after) = limiter.take(limiter.client(&req), Instant::now()) {
                return Ok(req
                    .into_response(ApiError::TooManyRequests { retry_after }.error_response())
                    .map_into_right_body());
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Headers every response carries; HSTS only when this server speaks TLS.
pub fn security_headers(tls: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ));
    if tls {
        headers.add((
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        ))
    } else {
        headers
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn keys(list: &[&str], protect_reads: bool) -> ApiKeys {
        ApiKeys::new(&AuthSettings {
            api_keys: list.iter().map(|k| (*k).to_owned()).collect(),
            protect_reads,
        })
    }

    #[test]
    fn keys_guard_writes_and_reads_only_when_asked() {
        let writes = keys(&["k-0123456789abcdef"], false);
        assert!(writes.required(&Method::POST, "/api/v1/vehicles"));
        assert!(writes.required(&Method::DELETE, "/api/v1/garages/1"));
        assert!(!writes.required(&Method::GET, "/api/v1/garages"));
        assert!(!writes.required(&Method::OPTIONS, "/api/v1/garages"));
        assert!(!writes.required(&Method::POST, "/health/ready"));
        assert!(keys(&["k-0123456789abcdef"], true).required(&Method::GET, "/api/v1/garages"));
        assert!(!keys(&[], true).required(&Method::POST, "/api/v1/garages"));
    }

    #[test]
    fn only_a_configured_key_is_accepted() {
        let k = keys(&["first-0123456789", "second-0123456789"], false);
        assert!(k.accepts(b"second-0123456789"));
        assert!(!k.accepts(b"second-012345678"));
        assert!(!k.accepts(b"second-0123456780"));
        assert!(!k.accepts(b""));
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refills_over_time() {
        let limiter = RateLimiter::new(&RateLimitSettings {
            per_second: 2.0,
            burst: 3,
            trust_forwarded_for: false,
        })
        .unwrap();
        let client = ClientKey::Address("127.0.0.1".parse().unwrap());
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take(client.clone(), start), Ok(()));
        }
        assert_eq!(limiter.take(client.clone(), start), Err(1));
        let other = ClientKey::Address("127.0.0.2".parse().unwrap());
        assert_eq!(limiter.take(other, start), Ok(()));
        assert_eq!(
            limiter.take(client, start + Duration::from_millis(500)),
            Ok(())
        );
    }

    #[test]
    fn zero_per_second_turns_limiting_off() {
        assert!(RateLimiter::new(&RateLimitSettings {
            per_second: 0.0,
            burst: 10,
            trust_forwarded_for: false
        })
        .is_none());
    }
}
