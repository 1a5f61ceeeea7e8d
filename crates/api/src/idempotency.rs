//! `Idempotency-Key` on every `POST`: a client that sends a key may retry
//! as often as it likes and the request takes effect once. The creations
//! take it through a middleware; an import, whose body is streamed, in its
//! handler.
//!
//! The first request with a key claims it in the shared store, runs, and
//! stores its response when it succeeded; later requests with the same key
//! and body get that response again (`Idempotent-Replayed: true`). A key
//! reused with another body is a 422, a key whose request is still running
//! a 409. A request that failed releases its key, since it changed nothing.
//! Keys are scoped to the caller (its API key, or its address without one)
//! and the route, and expire
//! after 24 hours.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::BytesMut;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::StreamExt;
use garage_domain::{Claim, IdempotencyStore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::problem::ApiError;

/// `Idempotency-Key`, as the OpenAPI document names it on the creations.
#[derive(utoipa::IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
pub(crate) struct IdempotencyKeyParam(
    /// 1 to 255 visible ASCII characters. A retry with the same key and body replays the first response (with `Idempotent-Replayed: true`) instead of creating again; keys last 24 hours.
    #[allow(dead_code)]
    Option<String>,
);

pub const HEADER: &str = "idempotency-key";
/// Set on a response sent again for a repeated key.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long a key and its response are kept.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);
pub const MAX_KEY_CHARS: usize = 255;

/// A response kept for replay: what the store holds, opaque to it, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub location: Option<String>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    /// The body: this API's answers are JSON, so text.
    pub body: String,
}

impl StoredResponse {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// `None` when the bytes are not an encoded response.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
}

/// The store, as the API's app data.
pub type Store = web::Data<Arc<dyn IdempotencyStore>>;

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of the parts, each length-prefixed so no two lists hash alike.
fn hex_digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex(&hasher.finalize())
}

fn valid_key(raw: &header::HeaderValue) -> Option<&str> {
    let key = raw.to_str().ok()?;
    let ok = (1..=MAX_KEY_CHARS).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(key)
}

/// A request's idempotency key, scoped to its caller and route.
pub(crate) struct Keyed {
    store: Store,
    scope: String,
}

impl Keyed {
    /// The key of `req`, or `None` when it sends none.
    pub(crate) fn of(req: &HttpRequest) -> Result<Option<Self>, ApiError> {
        let Some(raw) = req.headers().get(HEADER) else {
            return Ok(None);
        };
        let key = valid_key(raw).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters"
            ))
        })?;
        let store = req.app_data::<Store>().cloned().ok_or_else(|| {
            tracing::error!("no idempotency store configured");
            ApiError::Internal
        })?;
        // Scoped to the caller: its key, or without one, its address, so
        // two anonymous clients never share a key's answer.
        let caller = req
            .extensions()
            .get::<crate::edge::Caller>()
            .map(crate::edge::Caller::identity)
            .ok_or_else(|| {
                tracing::error!("an idempotent route was reached without the edge");
                ApiError::Internal
            })?;
        let scope = hex_digest(&[
            caller.as_bytes(),
            req.method().as_str().as_bytes(),
            req.path().as_bytes(),
            key.as_bytes(),
        ]);
        Ok(Some(Self { store, scope }))
    }

    /// Claims the key for a request with this fingerprint: `Ok(None)` to run
    /// it, `Ok(Some(response))` to send an earlier answer again.
    async fn claim(&self, fingerprint: String) -> Result<Option<HttpResponse>, ApiError> {
        match self
            .store
            .claim(self.scope.clone(), fingerprint, TTL)
            .await?
        {
            Claim::Claimed => Ok(None),
            Claim::Replay(stored) => match StoredResponse::decode(&stored) {
                Some(stored) => Ok(Some(replay(stored))),
                None => {
                    tracing::error!("a stored idempotent answer cannot be read");
                    Err(ApiError::Internal)
                }
            },
            Claim::Mismatch => Err(ApiError::IdempotencyKeyReused),
            Claim::InProgress => Err(ApiError::IdempotencyKeyInUse),
        }
    }

    /// Keeps a successful response for replay.
    async fn complete(self, response: StoredResponse) {
        if let Err(err) = self.store.complete(self.scope, response.encode()).await {
            // The request took effect; a retry will find the key in use
            // until it is abandoned, and will never run twice.
            tracing::error!(error = %err, "could not store an idempotent response");
        }
    }

    /// Forgets the key: the request failed without effect, a retry may run.
    async fn release(self) {
        if let Err(err) = self.store.release(self.scope).await {
            tracing::warn!(error = %err, "could not release an idempotency key");
        }
    }

    /// The one flow of every idempotent request: an earlier answer to this
    /// key is sent again instead of running `work`; otherwise `work` runs
    /// once, a success is kept for replay, and a failure releases the key
    /// (it changed nothing, so a retry may run).
    pub(crate) async fn once(
        self,
        fingerprint: String,
        work: impl std::future::Future<Output = Result<HttpResponse, actix_web::Error>>,
    ) -> Result<HttpResponse, actix_web::Error> {
        if let Some(earlier) = self.claim(fingerprint).await? {
            return Ok(earlier);
        }
        match work.await {
            Ok(response) if response.status().is_success() => Ok(self.keep(response).await),
            other => {
                self.release().await;
                other
            }
        }
    }

    /// Stores a successful response for replay, and sends it.
    async fn keep(self, response: HttpResponse) -> HttpResponse {
        let (head, body) = response.into_parts();
        let Ok(bytes) = body::to_bytes(body).await else {
            // The request took effect but its answer is lost: keep a failure
            // as its answer, so a retry is told the same and never runs it
            // twice.
            tracing::error!("an idempotent response's body could not be read");
            let (head, body) = ApiError::Internal.error_response().into_parts();
            let body = body::to_bytes(body).await.unwrap_or_default();
            self.complete(StoredResponse {
                status: head.status().as_u16(),
                location: None,
                content_type: Some(crate::PROBLEM_JSON.to_owned()),
                etag: None,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
            .await;
            return head.set_body(body).map_into_boxed_body();
        };
        let header_text = |name| {
            head.headers()
                .get(name)
                .and_then(|v: &header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let stored = StoredResponse {
            status: head.status().as_u16(),
            location: header_text(header::LOCATION),
            content_type: header_text(header::CONTENT_TYPE),
            etag: header_text(header::ETAG),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        self.complete(stored).await;
        head.set_body(bytes).map_into_boxed_body()
    }
}

/// What makes two requests with one key the same request: the query, the
/// content type and the body, fed in as it arrives.
pub(crate) struct Fingerprint(Sha256);

impl Fingerprint {
    pub(crate) fn new(req: &HttpRequest) -> Self {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map_or(&b""[..], header::HeaderValue::as_bytes);
        let mut hasher = Sha256::new();
        for part in [req.query_string().as_bytes(), content_type] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        Self(hasher)
    }

    pub(crate) fn update(&mut self, body: &[u8]) {
        self.0.update(body);
    }

    pub(crate) fn finish(self) -> String {
        hex(&self.0.finalize())
    }
}

/// Middleware for resources whose `POST` creates something from a JSON body.
pub(crate) async fn idempotent(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Other methods of these resources ignore the header.
    let keyed = match req.method() {
        &actix_web::http::Method::POST => Keyed::of(req.request()),
        _ => Ok(None),
    };
    let keyed = match keyed {
        Ok(Some(keyed)) => keyed,
        Err(err) => return Ok(req.error_response(err)),
        Ok(None) => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body)
        }
    };

    // The body is small (the JSON limit applies): read it to fingerprint
    // the request, then hand it on.
    let mut fingerprint = Fingerprint::new(req.request());
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            let err = ApiError::BadRequest("the body could not be read".into());
            return Ok(req.error_response(err));
        };
        if body.len() + chunk.len() > crate::MAX_BODY_BYTES {
            let err = ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES);
            return Ok(req.error_response(err));
        }
        fingerprint.update(&chunk);
        body.extend_from_slice(&chunk);
    }
    req.set_payload(Payload::from(body.freeze()));
    let request = req.request().clone();
    let work = async move {
        next.call(req)
            .await
            .map(|response| response.into_parts().1.map_into_boxed_body())
    };
    Ok(match keyed.once(fingerprint.finish(), work).await {
        Ok(response) => ServiceResponse::new(request, response),
        Err(err) => ServiceResponse::from_err(err, request),
    })
}

fn replay(stored: StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    response.insert_header((REPLAYED, "true"));
    if let Some(location) = stored.location {
        response.insert_header((header::LOCATION, location));
    }
    if let Some(content_type) = stored.content_type {
        response.insert_header((header::CONTENT_TYPE, content_type));
    }
    if let Some(etag) = stored.etag {
        response.insert_header((header::ETAG, etag));
    }
    response.body(stored.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_response_reads_back_as_it_was() {
        let stored = StoredResponse {
            status: 201,
            location: Some("/api/v1/garages/7".into()),
            content_type: Some("application/json".into()),
            etag: Some("\"1\"".into()),
            body: r#"{"id":7,"name":"Dépôt"}"#.into(),
        };
        assert_eq!(
            StoredResponse::decode(&stored.encode()),
            Some(stored.clone())
        );
        assert_eq!(StoredResponse::decode(b"not json"), None);
        // As the migration that introduced this encoding wrote answers kept
        // before it (PostgreSQL's json_build_object spacing).
        let migrated = r#"{"status" : 201, "location" : "/api/v1/garages/7", "content_type" : "application/json", "etag" : "\"1\"", "body" : "{\"id\":7,\"name\":\"Dépôt\"}"}"#;
        assert_eq!(StoredResponse::decode(migrated.as_bytes()), Some(stored));
    }

    #[test]
    fn digests_keep_parts_apart() {
        assert_ne!(hex_digest(&[b"ab", b"c"]), hex_digest(&[b"a", b"bc"]));
        assert_eq!(hex_digest(&[b"x"]).len(), 64);
    }

    #[actix_web::test]
    async fn a_response_whose_body_cannot_be_read_still_settles_its_key() {
        use futures_util::stream;
        use garage_domain::MockIdempotencyStore;

        let mut store = MockIdempotencyStore::new();
        store
            .expect_complete()
            .withf(|key, stored| {
                key == "scope" && StoredResponse::decode(stored).is_some_and(|s| s.status == 500)
            })
            .times(1)
            .returning(|_, _| Ok(()));
        store.expect_release().never();
        let keyed = Keyed {
            store: web::Data::new(Arc::new(store) as Arc<dyn IdempotencyStore>),
            scope: "scope".into(),
        };
        let broken = body::BodyStream::new(stream::once(async {
            Err::<web::Bytes, _>(std::io::Error::other("the handler's stream failed"))
        }));
        let answer = keyed.keep(HttpResponse::Created().body(broken)).await;
        assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        let value = |s: &str| header::HeaderValue::from_str(s).unwrap();
        assert_eq!(valid_key(&value("order-42")), Some("order-42"));
        assert_eq!(valid_key(&value("")), None);
        assert_eq!(valid_key(&value("a b")), None);
        assert_eq!(valid_key(&value(&"k".repeat(256))), None);
        assert!(valid_key(&value(&"k".repeat(255))).is_some());
    }
}
