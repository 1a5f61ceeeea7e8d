//! Each request's id: the client's `X-Request-Id` when it is short and
//! plain, else a new random one. Ids end up in logs and events, so nothing
//! else a client sends is kept.

use std::future::{ready, Ready};

use actix_web::http::header::HeaderName;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

/// The header that carries it, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id; assigned once, the first time it is asked for, and the
/// same for the rest of the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub fn of(req: &HttpRequest) -> Self {
        if let Some(id) = req.extensions().get::<Self>() {
            return id.clone();
        }
        let id = Self(
            req.headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .filter(|id| is_plain(id))
                .map_or_else(new_id, str::to_owned),
        );
        req.extensions_mut().insert(id.clone());
        id
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromRequest for RequestId {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

fn is_plain(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A random (v4) UUID, as 32 hex digits.
fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn plain_client_ids_are_kept_and_others_replaced() {
        let kept = TestRequest::default()
            .insert_header((REQUEST_ID, "abc-123_x.y"))
            .to_http_request();
        assert_eq!(RequestId::of(&kept).as_str(), "abc-123_x.y");
        for bad in ["", "has space", "semi;colon", "é", &"x".repeat(65)] {
            let req = TestRequest::default()
                .insert_header((REQUEST_ID, bad))
                .to_http_request();
            let id = RequestId::of(&req);
            assert_eq!(id.as_str().len(), 32, "{bad:?}");
            assert_ne!(id.as_str(), bad);
        }
    }

    #[test]
    fn a_request_keeps_its_id_and_new_ids_differ() {
        let one = TestRequest::default().to_http_request();
        let other = TestRequest::default().to_http_request();
        assert_eq!(RequestId::of(&one), RequestId::of(&one));
        assert_ne!(RequestId::of(&one), RequestId::of(&other));
    }
}
