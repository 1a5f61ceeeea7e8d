//! JSON responses serialised into a buffer sized for them up front: growing
//! a small one by doubling showed up as copies and reallocations under load.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde::Serialize;

use crate::error::ApiError;

/// A page of 50 vehicles is about 12 KiB.
const START_CAPACITY: usize = 16 * 1024;

pub(crate) fn json(
    mut builder: HttpResponseBuilder,
    value: &impl Serialize,
) -> Result<HttpResponse, ApiError> {
    let mut buffer = Vec::with_capacity(START_CAPACITY);
    serde_json::to_writer(&mut buffer, value).map_err(|err| {
        tracing::error!(error = %err, "response serialisation failed");
        ApiError::Internal
    })?;
    Ok(builder.insert_header(ContentType::json()).body(buffer))
}
