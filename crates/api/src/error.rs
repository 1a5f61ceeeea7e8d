//! Every failure as an `application/problem+json` document (RFC 9457). The
//! title depends on the type only; internal causes are logged, never sent.

use actix_web::http::{header, StatusCode};
use actix_web::{error, HttpRequest, HttpResponse, ResponseError};
use garage_domain::{Error, FieldError};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

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
    PayloadTooLarge,
    UnsupportedMediaType,
    MethodNotAllowed,
    /// No valid `Authorization: Bearer <key>` where one is required.
    Unauthorized,
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
    GarageFull,
    GarageNotEmpty,
    CapacityBelowCount,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldErrorBody<'a>],
}

#[derive(Serialize)]
struct FieldErrorBody<'a> {
    field: &'a str,
    message: &'a str,
}

impl ApiError {
    /// `(type, title)`: one title per type, whatever the instance.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) => ("/problems/bad-request", "Malformed request"),
            Self::BadQuery(_) => ("/problems/invalid-query", "Invalid query parameters"),
            Self::Validation(_) => ("/problems/validation", "Invalid input"),
            Self::NotFound(_) => ("/problems/not-found", "Resource not found"),
            Self::Conflict { kind, .. } => match kind {
                ConflictKind::DuplicatePlate => (
                    "/problems/duplicate-plate",
                    "License plate already registered",
                ),
                ConflictKind::GarageFull => ("/problems/garage-full", "Garage is full"),
                ConflictKind::GarageNotEmpty => {
                    ("/problems/garage-not-empty", "Garage still holds vehicles")
                }
                ConflictKind::CapacityBelowCount => (
                    "/problems/capacity-below-count",
                    "Capacity below the vehicles held",
                ),
            },
            Self::PayloadTooLarge => ("/problems/payload-too-large", "Request body too large"),
            Self::UnsupportedMediaType => (
                "/problems/unsupported-media-type",
                "Unsupported content type",
            ),
            Self::MethodNotAllowed => ("/problems/method-not-allowed", "Method not allowed"),
            Self::Unauthorized => ("/problems/unauthorized", "Authentication required"),
            Self::TooManyRequests { .. } => ("/problems/too-many-requests", "Too many requests"),
            Self::Unavailable => ("/problems/unavailable", "Service temporarily unavailable"),
            Self::Internal => ("/problems/internal", "Internal error"),
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
            Self::PayloadTooLarge => {
                format!("the body must be at most {} bytes", crate::MAX_BODY_BYTES)
            }
            Self::UnsupportedMediaType => "send the body as application/json".into(),
            Self::MethodNotAllowed => "this resource does not support that method".into(),
            Self::Unauthorized => "send a valid API key as `Authorization: Bearer <key>`".into(),
            Self::TooManyRequests { retry_after } => {
                format!("request budget spent; retry in {retry_after} s")
            }
            Self::Unavailable => "the database is unavailable; retry shortly".into(),
            Self::Internal => "the request failed on our side; it has been logged".into(),
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::BadQuery(errors) | Self::Validation(errors) => errors.clone(),
            Self::Conflict {
                field: Some(field),
                detail,
                ..
            } => vec![FieldError {
                field: (*field).to_owned(),
                message: detail.clone(),
            }],
            _ => Vec::new(),
        }
    }

    /// One invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind().1, self.detail())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::BadQuery(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (kind, title) = self.kind();
        let detail = self.detail();
        let field_errors = self.field_errors();
        let errors: Vec<_> = field_errors
            .iter()
            .map(|e| FieldErrorBody {
                field: &e.field,
                message: &e.message,
            })
            .collect();
        let problem = Problem {
            kind,
            title,
            status: status.as_u16(),
            detail: &detail,
            errors: &errors,
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            Self::Unavailable => {
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
            Error::GarageNotFound(_) | Error::VehicleNotFound(_) => Self::NotFound(detail),
            Error::UnknownGarage(_) => Self::invalid("garage_id", detail),
            Error::DuplicatePlate(_) => {
                conflict(ConflictKind::DuplicatePlate, Some("license_plate"))
            }
            Error::GarageFull { .. } => conflict(ConflictKind::GarageFull, Some("garage_id")),
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
        | error::JsonPayloadError::OverflowKnownLength { .. } => ApiError::PayloadTooLarge,
        error::JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
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
    ApiError::BadQuery(vec![FieldError {
        field: "query".into(),
        message: detail,
    }])
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
