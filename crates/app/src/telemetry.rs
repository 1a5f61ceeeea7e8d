//! Logs: pretty in a terminal, JSON for collectors; one line per request,
//! every line of a request carrying its request id.

use std::time::{Duration, Instant};

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use garage_api::edge::RequestId;
pub use garage_api::edge::REQUEST_ID;
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;

use crate::metrics::Metrics;
use crate::settings::{LogFormat, LogSettings};

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

/// The root span of every request (through `tracing-actix-web`): every
/// line logged while serving it, its streamed body included, carries the
/// request id. Once answered, one line: method, route template, status,
/// latency, bytes. Never bodies, query strings or headers, which may carry
/// secrets.
#[derive(Debug)]
pub struct RequestSpan;

/// When the request started, for its latency.
#[derive(Clone, Copy)]
struct Started(Instant);

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(req: &ServiceRequest) -> Span {
        let id = RequestId::of(req.request());
        req.extensions_mut().insert(Started(Instant::now()));
        tracing::info_span!("request", request_id = %id)
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let _entered = span.enter();
        let (req, route, status, bytes) = match outcome {
            Ok(response) => (
                response.request(),
                response
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "(unmatched)".into()),
                response.status().as_u16(),
                match response.response().body().size() {
                    BodySize::Sized(n) => n,
                    _ => 0,
                },
            ),
            // A middleware failed outright; actix answers it with a 500.
            Err(_) => {
                tracing::error!(status = 500, "request failed before any answer");
                return;
            }
        };
        let elapsed = req
            .extensions()
            .get::<Started>()
            .map_or(Duration::ZERO, |started| started.0.elapsed());
        let method = req.method();
        // Whole microseconds, shown in milliseconds.
        let latency_ms = elapsed.as_micros() as f64 / 1000.0;
        if status >= 500 {
            tracing::error!(%method, %route, status, latency_ms, bytes, "request");
        } else {
            tracing::info!(%method, %route, status, latency_ms, bytes, "request");
        }
    }
}

/// Counts the request in the metrics, and sends its id back in
/// `X-Request-Id`.
pub async fn measure(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = RequestId::of(req.request());
    let method = req.method().clone();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    if let Some(m) = &metrics {
        m.started();
    }
    let outcome = next.call(req).await;
    let seconds = started.elapsed().as_secs_f64();
    let mut response = match outcome {
        Ok(response) => response,
        Err(err) => {
            if let Some(m) = &metrics {
                m.finished(method.as_str(), "(failed)", 500, seconds);
            }
            return Err(err);
        }
    };
    if let Some(m) = &metrics {
        let route = response.request().match_pattern();
        let route = route.as_deref().unwrap_or("(unmatched)");
        m.finished(method.as_str(), route, response.status().as_u16(), seconds);
    }
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}
