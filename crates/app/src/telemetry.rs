//! Logs: pretty in a terminal, JSON for collectors; one line per request,
//! every line of a request carrying its request id.

use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::metrics::Metrics;
use crate::settings::{LogFormat, LogSettings};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the global subscriber; `RUST_LOG`, when set, overrides the level.
pub fn init(settings: &LogSettings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match settings.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// A client's id when it is short and plain, else a new one: ids end up in
/// logs, so nothing else is trusted.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map_or_else(new_request_id, str::to_owned)
}

/// A random (v4) UUID, as 32 hex digits.
fn new_request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Gives each request an id (`X-Request-Id`, on the response too) and logs
/// it once answered: method, route template, status, latency, bytes. Never
/// bodies, query strings or headers, which may carry secrets.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    let metrics = req.app_data::<actix_web::web::Data<Metrics>>().cloned();
    if let Some(m) = &metrics {
        m.started();
    }
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = match next.call(req).instrument(span.clone()).await {
        Ok(response) => response,
        Err(err) => {
            if let Some(m) = &metrics {
                m.finished(
                    method.as_str(),
                    "(failed)",
                    500,
                    started.elapsed().as_secs_f64(),
                );
            }
            return Err(err);
        }
    };
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(unmatched)".into());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(m) = &metrics {
        m.finished(method.as_str(), &route, status, elapsed.as_secs_f64());
    }
    // Whole microseconds, shown in milliseconds.
    let latency_ms = elapsed.as_micros() as f64 / 1000.0;
    let bytes = match response.response().body().size() {
        BodySize::Sized(n) => n,
        _ => 0,
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(%method, %route, status, latency_ms, bytes, "request");
        } else {
            tracing::info!(%method, %route, status, latency_ms, bytes, "request");
        }
    });
    Ok(response)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn plain_client_ids_are_kept_and_others_replaced() {
        let kept = TestRequest::default()
            .insert_header(("x-request-id", "abc-123_x.y"))
            .to_srv_request();
        assert_eq!(request_id(&kept), "abc-123_x.y");
        for bad in ["", "has space", "semi;colon", &"x".repeat(65)] {
            let req = TestRequest::default()
                .insert_header(("x-request-id", bad))
                .to_srv_request();
            let id = request_id(&req);
            assert_eq!(id.len(), 32, "{bad:?}");
            assert_ne!(id, bad);
        }
    }

    #[test]
    fn new_ids_differ() {
        assert_ne!(new_request_id(), new_request_id());
    }
}
