//! `Idempotency-Key` on creations: a client that sends a key may retry a
//! `POST` as often as it likes and the creation happens once.
//!
//! The first request with a key claims it in the shared store, runs, and
//! stores its response when it succeeded; later requests with the same key
//! and body get that response again (`Idempotent-Replayed: true`). A key
//! reused with another body is a 422, a key whose request is still running
//! a 409. A request that failed releases its key, since it changed nothing.
//! Keys are scoped to the caller's credential and the route, and expire
//! after 24 hours.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::BytesMut;
use actix_web::{web, HttpMessage, HttpResponse};
use futures_util::StreamExt;
use garage_domain::{Claim, IdempotencyStore, StoredResponse};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

pub const HEADER: &str = "idempotency-key";
/// Set on a response sent again for a repeated key.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long a key and its response are kept.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);
pub const MAX_KEY_CHARS: usize = 255;

/// The store, as the API's app data.
pub type Store = web::Data<Arc<dyn IdempotencyStore>>;

fn hex_digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        // Length-prefixed, so no two different part lists hash alike.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn valid_key(raw: &header::HeaderValue) -> Option<&str> {
    let key = raw.to_str().ok()?;
    let ok = (1..=MAX_KEY_CHARS).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(key)
}

fn refuse(req: ServiceRequest, err: ApiError) -> ServiceResponse<BoxBody> {
    req.error_response(err)
}

/// Middleware for resources whose `POST` creates something.
pub(crate) async fn idempotent(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let raw = match req.headers().get(HEADER) {
        Some(raw) if req.method() == actix_web::http::Method::POST => raw.clone(),
        _ => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body)
        }
    };
    let Some(key) = valid_key(&raw) else {
        return Ok(refuse(
            req,
            ApiError::BadRequest(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters"
            )),
        ));
    };
    let Some(store) = req.app_data::<Store>().cloned() else {
        tracing::error!("no idempotency store configured");
        return Ok(refuse(req, ApiError::Internal));
    };

    // The body is small (the JSON limit applies): read it to fingerprint
    // the request, then hand it on.
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return Ok(refuse(
                req,
                ApiError::BadRequest("the body could not be read".into()),
            ));
        };
        if body.len() + chunk.len() > crate::MAX_BODY_BYTES {
            return Ok(refuse(
                req,
                ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let header_bytes = |name| {
        req.headers()
            .get(name)
            .map_or(&b""[..], header::HeaderValue::as_bytes)
    };
    let scope = hex_digest(&[
        header_bytes(header::AUTHORIZATION),
        req.method().as_str().as_bytes(),
        req.path().as_bytes(),
        key.as_bytes(),
    ]);
    let fingerprint = hex_digest(&[header_bytes(header::CONTENT_TYPE), &body]);

    match store.claim(scope.clone(), fingerprint, TTL).await {
        Err(err) => Ok(refuse(req, err.into())),
        Ok(Claim::Mismatch) => Ok(refuse(req, ApiError::IdempotencyKeyReused)),
        Ok(Claim::InProgress) => Ok(refuse(req, ApiError::IdempotencyKeyInUse)),
        Ok(Claim::Replay(stored)) => {
            let response = replay(stored);
            Ok(req.into_response(response))
        }
        Ok(Claim::Claimed) => {
            req.set_payload(Payload::from(body));
            let result = next.call(req).await;
            finish(store, scope, result).await
        }
    }
}

/// Stores a successful response for replay, or releases the key.
async fn finish(
    store: Store,
    scope: String,
    result: Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = match result {
        Ok(response) if response.status().is_success() => response,
        other => {
            if let Err(err) = store.release(scope).await {
                tracing::warn!(error = %err, "could not release an idempotency key");
            }
            return other.map(ServiceResponse::map_into_boxed_body);
        }
    };
    let (req, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let Ok(bytes) = body::to_bytes(body).await else {
        return Ok(ServiceResponse::new(
            req,
            HttpResponse::InternalServerError().finish(),
        ));
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
        body: bytes.to_vec(),
    };
    if let Err(err) = store.complete(scope, stored).await {
        // The creation happened; a retry will find the key in use until it
        // is abandoned, and will never create twice.
        tracing::error!(error = %err, "could not store an idempotent response");
    }
    Ok(ServiceResponse::new(
        req,
        head.set_body(bytes).map_into_boxed_body(),
    ))
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
    response.body(stored.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_keep_parts_apart() {
        assert_ne!(hex_digest(&[b"ab", b"c"]), hex_digest(&[b"a", b"bc"]));
        assert_eq!(hex_digest(&[b"x"]).len(), 64);
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
