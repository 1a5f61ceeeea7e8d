//! The admin's endpoints for webhooks.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{web, HttpResponse};
use garage_domain::webhooks::WebhookService;
use garage_domain::{DeliveryId, WebhookId};

use super::wire::{
    CreateWebhook, DeliveryBody, DeliveryPage, UpdateWebhook, WebhookBody, WebhookList,
    WebhookWithSecret,
};
use crate::problem::ApiError;
use crate::wire::PageQuery;

type Result<T = HttpResponse> = std::result::Result<T, ApiError>;
type Hooks = web::Data<WebhookService>;

fn webhook_id(raw: i64) -> Result<WebhookId> {
    WebhookId::parse(raw).map_err(|_| ApiError::NotFound(format!("webhook {raw} does not exist")))
}

/// The secret, shown once: never stored by a cache.
fn with_secret(mut response: actix_web::HttpResponseBuilder, body: WebhookWithSecret) -> Result {
    response.insert_header(CacheControl(vec![CacheDirective::NoStore]));
    crate::body::json(response, &body)
}

/// Registers an endpoint; its signing secret is in the answer, this once.
/// Events that happen from now on, of the types named, are delivered to it.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "create_webhook",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Created; `secret` is shown this once", body = WebhookWithSecret,
            headers(("Location" = String))),
        (status = 422, description = "Invalid fields, or a plain http:// URL", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_webhook(
    hooks: Hooks,
    body: crate::body::JsonObject<CreateWebhook>,
) -> Result {
    let (hook, secret) = hooks.create(body.0.try_into_domain()?).await?;
    let mut created = HttpResponse::Created();
    created.insert_header((
        header::LOCATION,
        format!("{}/webhooks/{}", crate::PREFIX, hook.id),
    ));
    with_secret(
        created,
        WebhookWithSecret {
            webhook: hook.into(),
            secret: secret.expose(),
        },
    )
}

/// Every endpoint, in id order.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "list_webhooks",
    responses((status = 200, description = "The endpoints", body = WebhookList)))]
pub(crate) async fn list_webhooks(hooks: Hooks) -> Result {
    let items = hooks
        .list()
        .await?
        .into_iter()
        .map(WebhookBody::from)
        .collect();
    crate::body::json(HttpResponse::Ok(), &WebhookList { items })
}

/// One endpoint.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", operation_id = "get_webhook",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookBody),
        (status = 404, description = "No such endpoint", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_webhook(hooks: Hooks, id: web::Path<i64>) -> Result {
    let hook = hooks.get(webhook_id(id.into_inner())?).await?;
    crate::body::json(HttpResponse::Ok(), &WebhookBody::from(hook))
}

/// Changes an endpoint; `enabled: true` turns a disabled one back on.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", operation_id = "update_webhook",
    params(("id" = i64, Path, description = "The endpoint's id")),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "The changed endpoint", body = WebhookBody),
        (status = 404, description = "No such endpoint", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn update_webhook(
    hooks: Hooks,
    id: web::Path<i64>,
    body: crate::body::JsonObject<UpdateWebhook>,
) -> Result {
    let id = webhook_id(id.into_inner())?;
    let hook = hooks.update(id, body.0.try_into_domain()?).await?;
    crate::body::json(HttpResponse::Ok(), &WebhookBody::from(hook))
}

/// Deletes an endpoint and its deliveries.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", operation_id = "delete_webhook",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such endpoint", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_webhook(hooks: Hooks, id: web::Path<i64>) -> Result {
    hooks.delete(webhook_id(id.into_inner())?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new signing secret, shown this once; the old one keeps signing beside
/// it (a second `v1,` signature) for 24 hours.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", operation_id = "rotate_webhook_secret",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint and its new secret", body = WebhookWithSecret),
        (status = 404, description = "No such endpoint", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn rotate_webhook_secret(hooks: Hooks, id: web::Path<i64>) -> Result {
    let (hook, secret) = hooks.rotate(webhook_id(id.into_inner())?).await?;
    with_secret(
        HttpResponse::Ok(),
        WebhookWithSecret {
            webhook: hook.into(),
            secret: secret.expose(),
        },
    )
}

/// Queues a `webhook.test` message to the endpoint.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", operation_id = "test_webhook",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 202, description = "Queued; its delivery", body = DeliveryBody),
        (status = 404, description = "No such endpoint", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn test_webhook(hooks: Hooks, id: web::Path<i64>) -> Result {
    let delivery = hooks.test(webhook_id(id.into_inner())?).await?;
    crate::body::json(HttpResponse::Accepted(), &DeliveryBody::from(delivery))
}

/// The endpoint's deliveries, newest first: attempts, last status, latency,
/// error and next attempt.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "list_webhook_deliveries",
    params(("id" = i64, Path, description = "The endpoint's id"), PageQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        (status = 404, description = "No such endpoint", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_webhook_deliveries(
    hooks: Hooks,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result {
    let id = webhook_id(id.into_inner())?;
    let page = hooks
        .deliveries(id, query.into_inner().try_into_domain()?)
        .await?;
    crate::body::json(HttpResponse::Ok(), &DeliveryPage::from_page(page))
}

/// Sends a delivery again now, whatever became of it.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks", operation_id = "retry_webhook_delivery",
    params(("id" = i64, Path, description = "The endpoint's id"), ("delivery_id" = i64, Path, description = "The delivery's id")),
    responses(
        (status = 202, description = "Queued again", body = DeliveryBody),
        (status = 404, description = "No such endpoint or delivery", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn retry_webhook_delivery(hooks: Hooks, path: web::Path<(i64, i64)>) -> Result {
    let (id, delivery) = path.into_inner();
    let id = webhook_id(id)?;
    let delivery = DeliveryId::parse(delivery)
        .map_err(|_| ApiError::NotFound(format!("delivery {delivery} does not exist")))?;
    let delivery = hooks.retry(id, delivery).await?;
    crate::body::json(HttpResponse::Accepted(), &DeliveryBody::from(delivery))
}
