//! JSON responses serialised into a buffer sized for them up front: growing
//! a small one by doubling showed up as copies and reallocations under load.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde::Serialize;

use crate::problem::ApiError;

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

/// A JSON body that must be an object: serde would also read a struct from
/// an array of its fields, so `[]` would pass as a change of nothing.
#[derive(Debug)]
pub(crate) struct JsonObject<T>(pub T);

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for JsonObject<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(
        req: &actix_web::HttpRequest,
        payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        // The JSON configuration (limit, content type, errors) applies as to any body.
        let object =
            actix_web::web::Json::<serde_json::Map<String, serde_json::Value>>::from_request(
                req, payload,
            );
        Box::pin(async move {
            let actix_web::web::Json(fields) = object.await?;
            serde_json::from_value(serde_json::Value::Object(fields))
                .map(Self)
                .map_err(|err| {
                    ApiError::BadRequest(format!("the JSON body is invalid: {err}")).into()
                })
        })
    }
}
