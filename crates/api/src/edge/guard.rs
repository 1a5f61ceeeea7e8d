//! Authentication and budgets on the `/api/v1` scope, authorization and
//! body size on each route.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};
use garage_domain::access::{AccessService, Budget, Budgets, Principal, Quota, Scope, Spent};
use garage_domain::events::{Actor, Origin};

use super::client::{address_bucket, TrustedProxies};
use super::deadline::has_body;
use super::request_id::RequestId;
use crate::problem::ApiError;

/// What the edge needs, as app data.
#[derive(Clone)]
pub struct Edge {
    pub access: AccessService,
    budgets: Arc<dyn Budgets>,
    proxies: TrustedProxies,
    /// Reads need a key too.
    protect_reads: bool,
    /// Addresses past their failed sign-ins, until when: no credential from
    /// them is looked up meanwhile, so a right guess is refused like a wrong one.
    lockouts: Arc<Mutex<HashMap<String, Instant>>>,
}

/// Past this many locked-out addresses, those whose lockout ended are forgotten.
const MAX_LOCKOUTS: usize = 100_000;

impl std::fmt::Debug for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edge")
            .field("proxies", &self.proxies)
            .field("protect_reads", &self.protect_reads)
            .finish_non_exhaustive()
    }
}

impl Edge {
    pub fn new(
        access: AccessService,
        budgets: Arc<dyn Budgets>,
        proxies: TrustedProxies,
        protect_reads: bool,
    ) -> Self {
        Self {
            access,
            budgets,
            proxies,
            protect_reads,
            lockouts: Arc::default(),
        }
    }

    /// How long `address` stays locked out, if it is.
    fn locked_out(&self, address: &str) -> Option<Duration> {
        let lockouts = self.lockouts.lock().unwrap_or_else(|e| e.into_inner());
        let until = *lockouts.get(address)?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    fn lock_out(&self, address: String, for_: Duration) {
        let now = Instant::now();
        let mut lockouts = self.lockouts.lock().unwrap_or_else(|e| e.into_inner());
        if lockouts.len() >= MAX_LOCKOUTS {
            lockouts.retain(|_, until| *until > now);
            if lockouts.len() >= MAX_LOCKOUTS {
                lockouts.clear();
            }
        }
        lockouts.insert(address, now + for_);
    }

    /// What a caller without a key may do: write while the server is open
    /// (no key exists), read unless reads are protected, else nothing. When
    /// the key store cannot tell, the server is taken as closed.
    async fn anonymous(&self) -> Principal {
        let open = self.access.is_open().await.unwrap_or_else(|err| {
            tracing::warn!(error = %err, "cannot tell whether keys exist; treating the server as closed");
            false
        });
        Principal::anonymous(if open {
            Some(Scope::Write)
        } else if self.protect_reads {
            None
        } else {
            Some(Scope::Read)
        })
    }

    async fn spend(&self, budget: Budget, client: &str) -> Spent {
        self.budgets
            .spend(budget, client)
            .await
            .unwrap_or_else(|err| {
                tracing::warn!(error = %err, "rate limit not checked");
                Spent::Allowed {
                    remaining: 0,
                    full_in: Duration::ZERO,
                }
            })
    }
}

/// Who sent the request, from where; in the request's extensions once the
/// edge let it through, and a handler argument.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub address: Option<IpAddr>,
}

impl Caller {
    /// One name per credential: the key, or without one, the address. Used
    /// for budgets and for scoping idempotency keys.
    pub fn identity(&self) -> String {
        match (&self.principal.key_id, self.principal.is_anonymous()) {
            (Some(id), _) => format!("key:{id}"),
            (None, false) => format!("configured:{}", self.principal.name),
            (None, true) => address_bucket(self.address),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(req.extensions().get::<Self>().cloned().ok_or_else(|| {
            tracing::error!("a handler needs a caller but the edge did not run");
            ApiError::Internal
        }))
    }
}

pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-10).
fn rate_headers(headers: &mut header::HeaderMap, budget: Budget, quota: Quota, spent: Spent) {
    if quota.is_off() {
        return;
    }
    let window = quota.window().as_secs_f64().ceil().max(1.0) as u64;
    let policy = format!("\"{}\";q={};w={window}", budget.as_str(), quota.burst);
    let (remaining, reset) = match spent {
        Spent::Allowed { remaining, full_in } => (remaining, full_in),
        Spent::Limited { retry_in } => (0, retry_in),
    };
    let reset = reset.as_secs_f64().ceil() as u64;
    let state = format!("\"{}\";r={remaining};t={reset}", budget.as_str());
    for (name, value) in [(RATELIMIT_POLICY, policy), (RATELIMIT, state)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

/// Seconds for `Retry-After`: at least one.
fn retry_after(retry_in: Duration) -> u64 {
    (retry_in.as_secs_f64().ceil() as u64).max(1)
}

/// A refusal; the connection closes when the request's body was not read,
/// so a client cannot keep it busy by trickling a body nobody wants.
fn refuse<B>(req: ServiceRequest, err: &ApiError) -> ServiceResponse<EitherBody<B>> {
    let mut response = err.error_response();
    if has_body(req.request()) {
        response
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    req.into_response(response).map_into_right_body()
}

/// The bearer credential: `None` without an `Authorization` header,
/// `Some(None)` when it is not a bearer token.
fn credential(req: &ServiceRequest) -> Option<Option<&str>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    let token = value.to_str().ok().and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    Some(token)
}

/// Wraps `/api/v1`: names the caller (a key, or nobody from an address),
/// refuses a bad credential with 401 (429 once an address has failed too
/// often), and spends one request of the caller's budget.
pub(crate) async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(edge) = req.app_data::<web::Data<Edge>>().cloned() else {
        tracing::error!("the API is served without its edge: refusing every request");
        return Ok(refuse(req, &ApiError::Internal));
    };
    let address = edge
        .proxies
        .client(req.peer_addr().map(|a| a.ip()), req.headers());
    let principal = match credential(&req) {
        None => edge.anonymous().await,
        Some(token) => {
            let from = address_bucket(address);
            let quota = edge.budgets.quota(Budget::FailedSignIns);
            if let Some(retry_in) = edge.locked_out(&from) {
                let mut response = refuse(
                    req,
                    &ApiError::TooManyRequests {
                        retry_after: retry_after(retry_in),
                    },
                );
                let spent = Spent::Limited { retry_in };
                rate_headers(response.headers_mut(), Budget::FailedSignIns, quota, spent);
                return Ok(response);
            }
            let found = match token {
                Some(token) => edge.access.authenticate(token).await,
                None => Ok(None),
            };
            match found {
                Ok(Some(principal)) => principal,
                Ok(None) => {
                    let spent = edge.spend(Budget::FailedSignIns, &from).await;
                    tracing::info!(path = req.path(), "request refused: invalid API key");
                    let err = match spent {
                        Spent::Limited { retry_in } => {
                            edge.lock_out(from, retry_in);
                            ApiError::TooManyRequests {
                                retry_after: retry_after(retry_in),
                            }
                        }
                        Spent::Allowed { .. } => ApiError::Unauthorized,
                    };
                    let mut response = refuse(req, &err);
                    rate_headers(response.headers_mut(), Budget::FailedSignIns, quota, spent);
                    return Ok(response);
                }
                Err(err) => return Ok(refuse(req, &ApiError::from(err))),
            }
        }
    };
    let caller = Caller { principal, address };
    let spent = edge.spend(Budget::Requests, &caller.identity()).await;
    let quota = edge.budgets.quota(Budget::Requests);
    if let Spent::Limited { retry_in } = spent {
        let mut response = refuse(
            req,
            &ApiError::TooManyRequests {
                retry_after: retry_after(retry_in),
            },
        );
        rate_headers(response.headers_mut(), Budget::Requests, quota, spent);
        return Ok(response);
    }
    req.extensions_mut().insert(caller);
    let mut response = next.call(req).await?.map_into_left_body();
    rate_headers(response.headers_mut(), Budget::Requests, quota, spent);
    Ok(response)
}

/// Wraps one route: the caller must hold `needed` (401 without a key, 403
/// with one too narrow), and a body announced larger than the route takes
/// is a 413 before a byte is read.
pub(crate) async fn authorize(
    needed: Option<Scope>,
    max_body: usize,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(needed) = needed {
        let principal = req
            .extensions()
            .get::<Caller>()
            .map(|c| c.principal.clone());
        let refusal = match principal {
            // Fail closed: a route outside the authenticated scope.
            None => Some(ApiError::Internal),
            Some(p) if p.may(needed) => None,
            Some(p) if p.is_anonymous() => Some(ApiError::Unauthorized),
            Some(_) => Some(ApiError::Forbidden(format!(
                "this needs a key with the {needed} scope"
            ))),
        };
        if let Some(err) = refusal {
            if matches!(err, ApiError::Internal) {
                tracing::error!(
                    path = req.path(),
                    "a guarded route was reached without the edge"
                );
            }
            return Ok(refuse(req, &err));
        }
    }
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > max_body as u64) {
        return Ok(refuse(req, &ApiError::PayloadTooLarge(max_body)));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The fleet as the caller sees it: a key limited to some garages finds
/// nothing else. Handlers take this, never the unlimited service.
pub(crate) struct Fleet(garage_domain::FleetService);

impl Fleet {
    pub(crate) fn into_inner(self) -> Arc<garage_domain::FleetService> {
        Arc::new(self.0)
    }
}

impl std::ops::Deref for Fleet {
    type Target = garage_domain::FleetService;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Who makes this request's writes, and which request it is: what their
/// events record.
pub(crate) fn origin(req: &HttpRequest) -> Origin {
    let actor = req
        .extensions()
        .get::<Caller>()
        .map_or_else(Actor::anonymous, |caller| Actor::of(&caller.principal));
    Origin::new(actor, Some(RequestId::of(req).to_string()))
}

/// The request's [`Origin`], for handlers that write outside the fleet.
#[derive(Debug)]
pub(crate) struct Author(pub(crate) Origin);

impl FromRequest for Author {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self(origin(req))))
    }
}

/// The events as the caller may see them; `admin` when it may read the
/// events about keys too.
#[derive(Debug)]
pub(crate) struct Events {
    service: garage_domain::events::EventService,
    pub(crate) admin: bool,
}

impl std::ops::Deref for Events {
    type Target = garage_domain::events::EventService;

    fn deref(&self) -> &Self::Target {
        &self.service
    }
}

impl FromRequest for Events {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(scoped::<garage_domain::events::EventService>(req).map(
            |(events, caller)| Self {
                service: events.within(caller.principal.reach()),
                admin: caller.principal.may(Scope::Admin),
            },
        ))
    }
}

/// The fleet's care as the caller may see it: its garages, its name on
/// what it records, corrections only for an admin.
#[derive(Debug)]
pub(crate) struct Care(garage_domain::care::CareService);

impl std::ops::Deref for Care {
    type Target = garage_domain::care::CareService;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromRequest for Care {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            scoped::<garage_domain::care::CareService>(req).map(|(care, caller)| {
                Self(care.for_caller(
                    caller.principal.reach(),
                    origin(req),
                    caller.principal.may(Scope::Admin),
                ))
            }),
        )
    }
}

/// A service the API registered, and the caller the edge found: what a
/// handler's view of that service is built from. A 500 when either is
/// missing, which only a route outside the edge can cause.
fn scoped<S: 'static>(req: &HttpRequest) -> Result<(web::Data<S>, Caller), ApiError> {
    let service = req.app_data::<web::Data<S>>().cloned();
    let caller = req.extensions().get::<Caller>().cloned();
    match (service, caller) {
        (Some(service), Some(caller)) => Ok((service, caller)),
        _ => {
            tracing::error!(
                service = std::any::type_name::<S>(),
                "a handler needs a service the edge provides, but the edge did not run"
            );
            Err(ApiError::Internal)
        }
    }
}

impl FromRequest for Fleet {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            scoped::<garage_domain::FleetService>(req).map(|(fleet, caller)| {
                Self(fleet.within(caller.principal.reach()).by(origin(req)))
            }),
        )
    }
}
