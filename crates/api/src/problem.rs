//! Every failure as an `application/problem+json` document (RFC 9457). The
//! title depends on the type only; internal causes are logged, never sent.

use actix_web::http::{header, StatusCode};
use actix_web::{error, HttpRequest, HttpResponse, ResponseError};
use garage_domain::{Error, FieldError, Reason, RowError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every kind of problem the API answers with: its type URI, its title
/// (the same for every instance), its status and when it is answered. The
/// OpenAPI document lists them from here; a test holds them to `ApiError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    BadRequest,
    InvalidQuery,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    DuplicatePlate,
    DuplicateVin,
    GarageFull,
    GarageNotEmpty,
    CapacityBelowCount,
    OdometerBackwards,
    IdempotencyKeyInUse,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    Validation,
    ImportRejected,
    IdempotencyKeyReused,
    TooManyRequests,
    Internal,
    Unavailable,
}

impl ProblemType {
    pub const ALL: [Self; 23] = [
        Self::BadRequest,
        Self::InvalidQuery,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::RequestTimeout,
        Self::DuplicatePlate,
        Self::DuplicateVin,
        Self::GarageFull,
        Self::GarageNotEmpty,
        Self::CapacityBelowCount,
        Self::OdometerBackwards,
        Self::IdempotencyKeyInUse,
        Self::PreconditionFailed,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::Validation,
        Self::ImportRejected,
        Self::IdempotencyKeyReused,
        Self::TooManyRequests,
        Self::Internal,
        Self::Unavailable,
    ];

    /// `(type, title, status, when)`, one line per problem.
    fn facts(self) -> (&'static str, &'static str, u16, &'static str) {
        match self {
            Self::BadRequest => (
                "/problems/bad-request",
                "Malformed request",
                400,
                "malformed JSON, wrong types, unknown fields, a bad id in the path, a malformed header",
            ),
            Self::InvalidQuery => (
                "/problems/invalid-query",
                "Invalid query parameters",
                400,
                "a query parameter out of range or unknown",
            ),
            Self::Unauthorized => (
                "/problems/unauthorized",
                "Authentication required",
                401,
                "a write (or protected read) without a valid API key",
            ),
            Self::Forbidden => (
                "/problems/forbidden",
                "Not allowed for this key",
                403,
                "a valid API key whose scope does not allow this operation, or limited to some garages and asked to create one",
            ),
            Self::NotFound => (
                "/problems/not-found",
                "Resource not found",
                404,
                "no such garage, vehicle or route",
            ),
            Self::MethodNotAllowed => (
                "/problems/method-not-allowed",
                "Method not allowed",
                405,
                "a method the resource does not support",
            ),
            Self::RequestTimeout => (
                "/problems/request-timeout",
                "Request body too slow",
                408,
                "the request body did not arrive within the deadline; the connection is closed",
            ),
            Self::DuplicatePlate => (
                "/problems/duplicate-plate",
                "License plate already registered",
                409,
                "the license plate is already registered",
            ),
            Self::DuplicateVin => (
                "/problems/duplicate-vin",
                "VIN already registered",
                409,
                "the VIN is already registered",
            ),
            Self::GarageFull => (
                "/problems/garage-full",
                "Garage is full",
                409,
                "the garage holds its capacity, or lacks places for every vehicle moved at once (`errors[0].missing`)",
            ),
            Self::GarageNotEmpty => (
                "/problems/garage-not-empty",
                "Garage still holds vehicles",
                409,
                "deleting a garage that holds vehicles",
            ),
            Self::CapacityBelowCount => (
                "/problems/capacity-below-count",
                "Capacity below the vehicles held",
                409,
                "a capacity lower than the vehicles held",
            ),
            Self::OdometerBackwards => (
                "/problems/odometer-backwards",
                "Odometer reading goes backwards",
                409,
                "a reading below one taken before it (or above one taken after it); `errors[0]` gives the range that fits. An admin may record it as a correction",
            ),
            Self::IdempotencyKeyInUse => (
                "/problems/idempotency-key-in-use",
                "A request with this idempotency key is in progress",
                409,
                "the first request with this Idempotency-Key has not finished",
            ),
            Self::PreconditionFailed => (
                "/problems/precondition-failed",
                "Resource changed since it was read",
                412,
                "If-Match names a version the resource is no longer at",
            ),
            Self::PayloadTooLarge => (
                "/problems/payload-too-large",
                "Request body too large",
                413,
                "a JSON body over 64 KiB, an import over 32 MiB",
            ),
            Self::UnsupportedMediaType => (
                "/problems/unsupported-media-type",
                "Unsupported content type",
                415,
                "a body not of the documented media type",
            ),
            Self::Validation => (
                "/problems/validation",
                "Invalid input",
                422,
                "well-formed input with invalid values, or an unknown garage_id",
            ),
            Self::ImportRejected => (
                "/problems/import-rejected",
                "Import has invalid rows",
                422,
                "an import with bad rows (each in `errors`, with its `line`); nothing written",
            ),
            Self::IdempotencyKeyReused => (
                "/problems/idempotency-key-reused",
                "Idempotency key used for another request",
                422,
                "an Idempotency-Key already used for another request",
            ),
            Self::TooManyRequests => (
                "/problems/too-many-requests",
                "Too many requests",
                429,
                "past the rate limit; see Retry-After",
            ),
            Self::Internal => (
                "/problems/internal",
                "Internal error",
                500,
                "a bug; the cause is logged, never sent",
            ),
            Self::Unavailable => (
                "/problems/unavailable",
                "Service temporarily unavailable",
                503,
                "the database cannot be reached in time; see Retry-After",
            ),
        }
    }

    pub fn uri(self) -> &'static str {
        self.facts().0
    }

    pub fn title(self) -> &'static str {
        self.facts().1
    }

    pub fn status(self) -> StatusCode {
        StatusCode::from_u16(self.facts().2).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// When the API answers with it, for the documentation.
    pub fn when(self) -> &'static str {
        self.facts().3
    }
}

/// A request the API refuses, or could not serve.
#[derive(Debug)]
pub enum ApiError {
    /// Malformed JSON, wrong types, unknown fields, bad path segments.
    BadRequest(String),
    /// Query parameters out of range or unreadable.
    BadQuery(Vec<FieldError>),
    /// Well-formed input with invalid values.
    Validation(Vec<FieldError>),
    NotFound(String),
    Conflict {
        kind: ConflictKind,
        detail: String,
        field: Option<&'static str>,
    },
    /// The body is longer than this many bytes.
    PayloadTooLarge(usize),
    /// The body is not of this media type.
    UnsupportedMediaType(&'static str),
    MethodNotAllowed,
    /// An `If-Match` names a version the resource is no longer at.
    PreconditionFailed,
    /// An `Idempotency-Key` already used for another request.
    IdempotencyKeyReused,
    /// A request with the same `Idempotency-Key` is still running.
    IdempotencyKeyInUse,
    /// An import with bad rows: nothing was written.
    ImportRejected {
        rows: u64,
        dry_run: bool,
        errors: Vec<RowError>,
    },
    /// No valid `Authorization: Bearer <key>` where one is required.
    Unauthorized,
    /// A valid key that may not do this.
    Forbidden(String),
    /// The body did not arrive in time.
    RequestTimeout,
    /// The client spent its request budget; it may retry after this many seconds.
    TooManyRequests {
        retry_after: u64,
    },
    Unavailable,
    Internal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    DuplicatePlate,
    DuplicateVin,
    GarageFull,
    /// Too few places for many vehicles at once: `missing` lack.
    NotEnoughRoom {
        missing: i64,
    },
    GarageNotEmpty,
    CapacityBelowCount,
    /// An odometer reading out of `min..=max`, the readings around it.
    OdometerBackwards {
        min: i64,
        max: i64,
    },
}

impl ConflictKind {
    /// The code of the field it blames.
    fn reason(self) -> Reason {
        match self {
            Self::DuplicatePlate | Self::DuplicateVin => Reason::Duplicate,
            Self::GarageFull => Reason::GarageFull,
            Self::NotEnoughRoom { missing } => Reason::NotEnoughRoom { missing },
            Self::GarageNotEmpty => Reason::Refused,
            Self::CapacityBelowCount => Reason::CapacityBelowCount,
            Self::OdometerBackwards { min, max } => Reason::OutOfRange { min, max },
        }
    }
}

// The OpenAPI document describes this very type, `type`'s values added
// from `ProblemType`.
/// An RFC 9457 problem: the body of every 4xx and 5xx answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// One of the problem types (listed in the document).
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: &'static str,
    /// The same for every problem of this type.
    #[schema(value_type = String)]
    pub title: &'static str,
    pub status: u16,
    /// What happened this time, for a person.
    pub detail: String,
    /// Each input at fault, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub errors: Option<Vec<ProblemItem>>,
}

/// One thing wrong with the input: a field, a line of an import, or both.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemItem {
    /// The line of an import.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub line: Option<u64>,
    /// The field, column or query parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
    /// What is wrong, for a program: stable, to translate or act upon.
    #[schema(value_type = ProblemCode)]
    pub code: &'static str,
    /// The lowest value or length accepted (`out_of_range`, `too_short`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub min: Option<i64>,
    /// The highest value or length accepted (`out_of_range`, `too_long`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub max: Option<i64>,
    /// The places a garage lacks (`not_enough_room`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub missing: Option<i64>,
    /// What is wrong, in English for a person; may change, never match on it.
    pub message: String,
}

/// The codes of `errors[]`, stable across versions: `required`, `too_long`
/// (with `max`), `too_short` (with `min`), `out_of_range` (with `min` and
/// `max`), `invalid_format`, `invalid_choice`, `duplicate`,
/// `unknown_garage`, `garage_full`, `not_enough_room` (with `missing`),
/// `capacity_below_count`, `refused`; an import's also `unknown_column`
/// (`field` is the column as written), `field_count` (with the header's
/// `max`), `ambiguous_garage`, `garage_mismatch`.
#[derive(ToSchema)]
#[schema(as = ProblemCode)]
#[allow(dead_code)] // Only its schema is used.
pub enum ProblemCode {
    #[schema(rename = "required")]
    Required,
    #[schema(rename = "too_long")]
    TooLong,
    #[schema(rename = "too_short")]
    TooShort,
    #[schema(rename = "out_of_range")]
    OutOfRange,
    #[schema(rename = "invalid_format")]
    InvalidFormat,
    #[schema(rename = "invalid_choice")]
    InvalidChoice,
    #[schema(rename = "duplicate")]
    Duplicate,
    #[schema(rename = "unknown_garage")]
    UnknownGarage,
    #[schema(rename = "garage_full")]
    GarageFull,
    #[schema(rename = "not_enough_room")]
    NotEnoughRoom,
    #[schema(rename = "capacity_below_count")]
    CapacityBelowCount,
    #[schema(rename = "unknown_column")]
    UnknownColumn,
    #[schema(rename = "field_count")]
    FieldCount,
    #[schema(rename = "ambiguous_garage")]
    AmbiguousGarage,
    #[schema(rename = "garage_mismatch")]
    GarageMismatch,
    #[schema(rename = "refused")]
    Refused,
}

impl ProblemItem {
    fn new(line: Option<u64>, field: Option<String>, reason: Reason, message: String) -> Self {
        Self {
            line,
            field,
            code: reason.code(),
            min: reason.min(),
            max: reason.max(),
            missing: reason.missing(),
            message,
        }
    }
}

impl ApiError {
    /// The kind of problem this is.
    pub fn problem_type(&self) -> ProblemType {
        match self {
            Self::BadRequest(_) => ProblemType::BadRequest,
            Self::BadQuery(_) => ProblemType::InvalidQuery,
            Self::Validation(_) => ProblemType::Validation,
            Self::NotFound(_) => ProblemType::NotFound,
            Self::Conflict { kind, .. } => match kind {
                ConflictKind::DuplicatePlate => ProblemType::DuplicatePlate,
                ConflictKind::DuplicateVin => ProblemType::DuplicateVin,
                ConflictKind::GarageFull | ConflictKind::NotEnoughRoom { .. } => {
                    ProblemType::GarageFull
                }
                ConflictKind::GarageNotEmpty => ProblemType::GarageNotEmpty,
                ConflictKind::CapacityBelowCount => ProblemType::CapacityBelowCount,
                ConflictKind::OdometerBackwards { .. } => ProblemType::OdometerBackwards,
            },
            Self::PayloadTooLarge(_) => ProblemType::PayloadTooLarge,
            Self::UnsupportedMediaType(_) => ProblemType::UnsupportedMediaType,
            Self::MethodNotAllowed => ProblemType::MethodNotAllowed,
            Self::PreconditionFailed => ProblemType::PreconditionFailed,
            Self::IdempotencyKeyReused => ProblemType::IdempotencyKeyReused,
            Self::IdempotencyKeyInUse => ProblemType::IdempotencyKeyInUse,
            Self::ImportRejected { .. } => ProblemType::ImportRejected,
            Self::Unauthorized => ProblemType::Unauthorized,
            Self::Forbidden(_) => ProblemType::Forbidden,
            Self::RequestTimeout => ProblemType::RequestTimeout,
            Self::TooManyRequests { .. } => ProblemType::TooManyRequests,
            Self::Unavailable => ProblemType::Unavailable,
            Self::Internal => ProblemType::Internal,
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest(detail) | Self::NotFound(detail) => detail.clone(),
            Self::Conflict { detail, .. } => detail.clone(),
            Self::BadQuery(errors) | Self::Validation(errors) => match errors.as_slice() {
                [one] => format!("{}: {}", one.field, one.message),
                many => format!("{} fields are invalid", many.len()),
            },
            Self::PayloadTooLarge(limit) => format!("the body must be at most {limit} bytes"),
            Self::UnsupportedMediaType(expected) => format!("send the body as {expected}"),
            Self::MethodNotAllowed => "this resource does not support that method".into(),
            Self::PreconditionFailed => {
                "the resource has changed since the version in If-Match; read it again (its ETag is current) and retry".into()
            }
            Self::IdempotencyKeyReused => {
                "this Idempotency-Key was already used with a different request; use a new key for a new request".into()
            }
            Self::IdempotencyKeyInUse => {
                "a request with this Idempotency-Key has not finished; retry shortly".into()
            }
            Self::ImportRejected {
                rows,
                dry_run,
                errors,
            } => {
                let outcome = if *dry_run {
                    "this was a dry run"
                } else {
                    "nothing was imported"
                };
                // Line 1 is the header: without its columns no row was read.
                if errors.iter().all(|e| e.line == 1) {
                    return format!("the header line is invalid; {outcome}");
                }
                let mut lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
                lines.dedup();
                format!("{} of {rows} rows are invalid; {outcome}", lines.len())
            }
            Self::Unauthorized => "send a valid API key as `Authorization: Bearer <key>`".into(),
            Self::Forbidden(detail) => detail.clone(),
            Self::RequestTimeout => "the request body did not arrive in time".into(),
            Self::TooManyRequests { retry_after } => {
                format!("request budget spent; retry in {retry_after} s")
            }
            Self::Unavailable => "the database is unavailable; retry shortly".into(),
            Self::Internal => "the request failed on our side; it has been logged".into(),
        }
    }

    fn items(&self) -> Vec<ProblemItem> {
        match self {
            Self::BadQuery(errors) | Self::Validation(errors) => errors
                .iter()
                .map(|e| ProblemItem::new(None, Some(e.field.clone()), e.reason, e.message.clone()))
                .collect(),
            Self::Conflict {
                kind,
                field: Some(field),
                detail,
            } => vec![ProblemItem::new(
                None,
                Some((*field).to_owned()),
                kind.reason(),
                detail.clone(),
            )],
            Self::ImportRejected { errors, .. } => errors
                .iter()
                .map(|e| {
                    ProblemItem::new(Some(e.line), e.field.clone(), e.reason, e.message.clone())
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// One invalid field.
    pub fn invalid(field: &str, reason: Reason, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, reason, message)])
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.problem_type().title(), self.detail())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.problem_type().status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let kind = self.problem_type();
        let errors = self.items();
        let problem = Problem {
            kind: kind.uri(),
            title: kind.title(),
            status: status.as_u16(),
            detail: self.detail(),
            errors: (!errors.is_empty()).then_some(errors),
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            Self::Unavailable | Self::IdempotencyKeyInUse => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            Self::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            Self::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let detail = err.to_string();
        let conflict = |kind, field| Self::Conflict {
            kind,
            detail: detail.clone(),
            field,
        };
        match &err {
            Error::GarageNotFound(_)
            | Error::VehicleNotFound(_)
            | Error::KeyNotFound(_)
            | Error::WebhookNotFound(_)
            | Error::DeliveryNotFound(_)
            | Error::PlanNotFound { .. }
            | Error::CalendarNotFound(_) => Self::NotFound(detail),
            Error::OdometerBackwards { bound, later, .. } => {
                let bound = i64::from(*bound);
                let (min, max) = if *later {
                    (0, bound)
                } else {
                    (bound, i64::from(garage_domain::care::Km::MAX))
                };
                conflict(ConflictKind::OdometerBackwards { min, max }, Some("km"))
            }
            Error::AdminOnly(_) | Error::KeyRequired(_) => Self::Forbidden(detail),
            Error::CareRefused { field, .. } => Self::invalid(field, Reason::Refused, detail),
            Error::WebhookRefused(_) => Self::invalid("url", Reason::Refused, detail),
            Error::UnknownGarage(_) => Self::invalid("garage_id", Reason::UnknownGarage, detail),
            Error::DuplicatePlate(_) => {
                conflict(ConflictKind::DuplicatePlate, Some("license_plate"))
            }
            Error::DuplicateVin(_) => conflict(ConflictKind::DuplicateVin, Some("vin")),
            Error::Stale => Self::PreconditionFailed,
            Error::OutOfReach(_) => Self::Forbidden(detail),
            Error::KeyRefused(_) => Self::invalid("garages", Reason::Refused, detail),
            Error::GarageFull { .. } => conflict(ConflictKind::GarageFull, Some("garage_id")),
            Error::NotEnoughRoom { free, moving, .. } => conflict(
                ConflictKind::NotEnoughRoom {
                    missing: i64::from(moving.saturating_sub(*free)),
                },
                Some("to_garage_id"),
            ),
            Error::GarageNotEmpty { .. } => conflict(ConflictKind::GarageNotEmpty, None),
            Error::CapacityBelowCount { .. } => {
                conflict(ConflictKind::CapacityBelowCount, Some("capacity"))
            }
            Error::Unavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "database unavailable");
                Self::Unavailable
            }
            Error::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
                Self::Internal
            }
        }
    }
}

pub(crate) fn json_error(err: error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    match err {
        error::JsonPayloadError::Overflow { .. }
        | error::JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES)
        }
        error::JsonPayloadError::ContentType => ApiError::UnsupportedMediaType("application/json"),
        error::JsonPayloadError::Deserialize(err) => {
            ApiError::BadRequest(format!("the JSON body is invalid: {err}"))
        }
        other => ApiError::BadRequest(format!("the body could not be read: {other}")),
    }
    .into()
}

pub(crate) fn query_error(err: error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let detail = match err {
        error::QueryPayloadError::Deserialize(err) => err.to_string(),
        other => other.to_string(),
    };
    ApiError::BadQuery(vec![FieldError::new(
        "query",
        Reason::InvalidFormat,
        detail,
    )])
    .into()
}

pub(crate) fn path_error(err: error::PathError, _: &HttpRequest) -> actix_web::Error {
    let detail = match err {
        error::PathError::Deserialize(err) => err.to_string(),
        other => other.to_string(),
    };
    ApiError::BadRequest(format!("the path is invalid: {detail}")).into()
}

pub(crate) async fn no_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such API resource".into()))
}

pub(crate) async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each kind of `ApiError`.
    fn every_error() -> Vec<ApiError> {
        let conflict = |kind| ApiError::Conflict {
            kind,
            detail: String::new(),
            field: None,
        };
        vec![
            ApiError::BadRequest(String::new()),
            ApiError::BadQuery(vec![]),
            ApiError::Validation(vec![]),
            ApiError::NotFound(String::new()),
            conflict(ConflictKind::DuplicatePlate),
            conflict(ConflictKind::DuplicateVin),
            conflict(ConflictKind::GarageFull),
            conflict(ConflictKind::NotEnoughRoom { missing: 2 }),
            conflict(ConflictKind::GarageNotEmpty),
            conflict(ConflictKind::CapacityBelowCount),
            conflict(ConflictKind::OdometerBackwards { min: 0, max: 10 }),
            ApiError::PayloadTooLarge(1),
            ApiError::UnsupportedMediaType("text/csv"),
            ApiError::MethodNotAllowed,
            ApiError::PreconditionFailed,
            ApiError::IdempotencyKeyReused,
            ApiError::IdempotencyKeyInUse,
            ApiError::ImportRejected {
                rows: 0,
                dry_run: false,
                errors: vec![],
            },
            ApiError::Unauthorized,
            ApiError::Forbidden(String::new()),
            ApiError::RequestTimeout,
            ApiError::TooManyRequests { retry_after: 1 },
            ApiError::Unavailable,
            ApiError::Internal,
        ]
    }

    #[test]
    fn every_problem_type_is_answered_and_every_answer_has_one() {
        let answered: Vec<ProblemType> = every_error().iter().map(ApiError::problem_type).collect();
        for kind in ProblemType::ALL {
            assert!(answered.contains(&kind), "{kind:?} is never answered");
            assert!(kind.uri().starts_with("/problems/"), "{kind:?}");
        }
        let mut uris: Vec<_> = ProblemType::ALL.iter().map(|k| k.uri()).collect();
        uris.dedup();
        assert_eq!(uris.len(), ProblemType::ALL.len(), "one URI per type");
        for err in every_error() {
            assert_eq!(err.status_code(), err.problem_type().status());
            assert_eq!(err.error_response().status(), err.problem_type().status());
        }
    }
}
