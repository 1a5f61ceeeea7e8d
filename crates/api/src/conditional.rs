//! Entity tags and conditional requests (RFC 9110 §8.8.3, §13): a garage or
//! vehicle's tag is its version; `If-None-Match` saves a download,
//! `If-Match` turns a write into compare-and-set.

use actix_web::http::header::{self, EntityTag, Header, IfMatch, IfNoneMatch};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use garage_domain::Version;

use crate::problem::ApiError;

/// What a resource's entity tag says: a garage's or vehicle's version, a
/// care plan's id, cycle and status.
pub(crate) trait Tag: Sized + PartialEq + Copy {
    /// The tag's text, without quotes.
    fn text(self) -> String;
    /// The tag of that text, when this API wrote it.
    fn read(text: &str) -> Option<Self>;

    /// Whether a write that expects `self` may go over `current`.
    fn admits(self, current: Self) -> bool {
        self == current
    }
}

impl Tag for Version {
    fn text(self) -> String {
        self.to_string()
    }

    fn read(text: &str) -> Option<Self> {
        text.parse().ok().map(Version::new)
    }
}

pub(crate) fn etag<T: Tag>(version: T) -> EntityTag {
    EntityTag::new_strong(version.text())
}

fn version_of<T: Tag>(tag: &EntityTag) -> Option<T> {
    T::read(tag.tag())
}

/// `If-Match`, as the OpenAPI document names it on every write it guards.
#[derive(utoipa::IntoParams)]
#[into_params(names("If-Match"), parameter_in = Header)]
pub(crate) struct IfMatchParam(
    /// The ETag read before: 412 when the resource has changed since (or `*`)
    #[allow(dead_code)]
    Option<String>,
);

/// `If-None-Match`, as the OpenAPI document names it on every read that honours it.
#[derive(utoipa::IntoParams)]
#[into_params(names("If-None-Match"), parameter_in = Header)]
pub(crate) struct IfNoneMatchParam(
    /// ETags of the client's copy: 304 when one is current
    #[allow(dead_code)]
    Option<String>,
);

/// The client's copy is current
#[derive(utoipa::ToResponse)]
#[response(headers(("ETag" = String, description = "The version of what was returned, for If-Match and If-None-Match")))]
pub(crate) struct NotModified;

/// Changed since the If-Match version
#[derive(utoipa::ToResponse)]
#[response(content_type = "application/problem+json")]
pub(crate) struct PreconditionFailed(#[allow(dead_code)] crate::problem::Problem);

/// What an `If-Match` asks of a write.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Precondition<T = Version> {
    /// No `If-Match`, or `*`: the resource need only exist.
    Exists,
    /// The resource must be at one of these versions.
    AtOneOf(Vec<T>),
}

impl<T: Tag> Precondition<T> {
    pub(crate) fn from_request(req: &HttpRequest) -> Result<Self, ApiError> {
        if !req.headers().contains_key(header::IF_MATCH) {
            return Ok(Self::Exists);
        }
        match IfMatch::parse(req) {
            Ok(IfMatch::Any) => Ok(Self::Exists),
            // Weak tags never match for a write (strong comparison); a tag
            // this API never issued matches nothing.
            Ok(IfMatch::Items(tags)) => Ok(Self::AtOneOf(
                tags.iter()
                    .filter(|t| !t.weak)
                    .filter_map(version_of)
                    .collect(),
            )),
            Err(_) => Err(ApiError::BadRequest(
                "If-Match must be `*` or a list of entity tags such as \"3\"".into(),
            )),
        }
    }

    /// The version to hand the store, after reading the current one when
    /// several are acceptable; the store then checks it atomically.
    pub(crate) async fn version<F>(self, current: F) -> Result<Option<T>, ApiError>
    where
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        match self {
            Self::Exists => Ok(None),
            Self::AtOneOf(versions) => match versions.as_slice() {
                [] => Err(ApiError::PreconditionFailed),
                [one] => Ok(Some(*one)),
                many => {
                    let now = current.await?;
                    if many.iter().any(|tag| tag.admits(now)) {
                        Ok(Some(now))
                    } else {
                        Err(ApiError::PreconditionFailed)
                    }
                }
            },
        }
    }
}

/// A 304 when the client's copy is current (`If-None-Match`, weak comparison).
pub(crate) fn not_modified<T: Tag>(req: &HttpRequest, version: T) -> Option<HttpResponse> {
    if !req.headers().contains_key(header::IF_NONE_MATCH) {
        return None;
    }
    let current = etag(version);
    let fresh = match IfNoneMatch::parse(req) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&current)),
        // An unreadable header is ignored, as the RFC allows: send the body.
        Err(_) => false,
    };
    fresh.then(|| {
        HttpResponse::NotModified()
            .insert_header(header::ETag(current))
            .finish()
    })
}

pub(crate) fn tagged<T: Tag>(mut builder: HttpResponseBuilder, version: T) -> HttpResponseBuilder {
    builder.insert_header(header::ETag(etag(version)));
    builder
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn expect(if_match: &str) -> Result<Precondition<Version>, ApiError> {
        Precondition::from_request(
            &TestRequest::default()
                .insert_header((header::IF_MATCH, if_match))
                .to_http_request(),
        )
    }

    #[test]
    fn if_match_reads_strong_tags_of_this_api_only() {
        assert_eq!(
            Precondition::<Version>::from_request(&TestRequest::default().to_http_request())
                .unwrap(),
            Precondition::Exists
        );
        assert_eq!(expect("*").unwrap(), Precondition::Exists);
        assert_eq!(
            expect("\"4\"").unwrap(),
            Precondition::AtOneOf(vec![Version::new(4)])
        );
        assert_eq!(
            expect("\"4\", W/\"5\", \"x\", \"6\"").unwrap(),
            Precondition::AtOneOf(vec![Version::new(4), Version::new(6)])
        );
        assert_eq!(expect("W/\"4\"").unwrap(), Precondition::AtOneOf(vec![]));
        // Unquoted tags are malformed: they match nothing.
        assert_eq!(expect("4").unwrap(), Precondition::AtOneOf(vec![]));
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let req = |value: &str| {
            TestRequest::default()
                .insert_header((header::IF_NONE_MATCH, value))
                .to_http_request()
        };
        assert!(not_modified(&req("\"3\""), Version::new(3)).is_some());
        assert!(not_modified(&req("W/\"3\""), Version::new(3)).is_some());
        assert!(not_modified(&req("\"1\", \"3\""), Version::new(3)).is_some());
        assert!(not_modified(&req("*"), Version::new(3)).is_some());
        assert!(not_modified(&req("\"2\""), Version::new(3)).is_none());
        assert!(not_modified(&TestRequest::default().to_http_request(), Version::new(3)).is_none());
    }
}
