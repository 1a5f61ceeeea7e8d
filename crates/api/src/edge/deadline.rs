//! A deadline for the request body: a client that sends it too slowly gets
//! a 408 and the connection closes, so a trickle of bytes cannot hold a
//! worker's connection for ever. (actix's own timeout covers the head only.)

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{header, ConnectionType};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, ResponseError};
use futures_util::Stream;

use crate::problem::ApiError;

pub const DEFAULT_BODY_DEADLINE: Duration = Duration::from_secs(10);

/// The body, cut off with an error once the deadline passes.
struct Deadline {
    inner: Payload,
    timer: Pin<Box<actix_web::rt::time::Sleep>>,
    expired: Rc<Cell<bool>>,
    done: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if self.timer.as_mut().poll(cx).is_ready() {
            self.done = true;
            self.expired.set(true);
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            )))));
        }
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if matches!(next, Poll::Ready(None)) {
            self.done = true;
        }
        next
    }
}

/// Whether the request announces a body.
pub(crate) fn has_body(req: &actix_web::HttpRequest) -> bool {
    let headers = req.headers();
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.to_str().map_or(true, |v| v.trim() != "0"))
}

/// What the middleware answers, in time.
pub type Answer<B> =
    Pin<Box<dyn Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>>>;

/// Middleware: the body must have arrived within `limit` of the request
/// reaching the service; past it, whatever the handler made of the cut
/// body, the answer is a 408 and the connection is closed.
pub fn body_deadline<B: MessageBody + 'static>(
    limit: Duration,
) -> impl Fn(ServiceRequest, Next<B>) -> Answer<B> + Clone + 'static {
    move |mut req: ServiceRequest, next: Next<B>| {
        Box::pin(async move {
            if !has_body(req.request()) {
                return next
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body);
            }
            let expired = Rc::new(Cell::new(false));
            let stream = Deadline {
                inner: req.take_payload(),
                timer: Box::pin(actix_web::rt::time::sleep(limit)),
                expired: expired.clone(),
                done: false,
            };
            req.set_payload(Payload::from(
                Box::pin(stream) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
            ));
            let response = next.call(req).await;
            if !expired.get() {
                return response.map(ServiceResponse::map_into_left_body);
            }
            let request = match response {
                Ok(response) => response.request().clone(),
                Err(err) => return Err(err),
            };
            tracing::info!(
                seconds = limit.as_secs_f64(),
                "request refused: its body did not arrive in time"
            );
            let mut refused = ApiError::RequestTimeout.error_response();
            refused
                .head_mut()
                .set_connection_type(ConnectionType::Close);
            Ok(ServiceResponse::new(request, refused).map_into_right_body())
        })
    }
}
