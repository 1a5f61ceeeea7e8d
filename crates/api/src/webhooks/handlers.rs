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
use crate::wire::{InPath, PageQuery};

type Result<T = HttpResponse> = std::result::Result<T, ApiError>;
type Hooks = web::Data<WebhookService>;

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
    params(crate::wire::InPath<WebhookId>),
    responses(
        (status = 200, description = "The endpoint", body = WebhookBody),
        (status = 404, description = "No such endpoint", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_webhook(hooks: Hooks, InPath(id): InPath<WebhookId>) -> Result {
    let hook = hooks.get(id).await?;
    crate::body::json(HttpResponse::Ok(), &WebhookBody::from(hook))
}

/// Changes an endpoint; `enabled: true` turns a disabled one back on.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", operation_id = "update_webhook",
    params(crate::wire::InPath<WebhookId>),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "The changed endpoint", body = WebhookBody),
        (status = 404, description = "No such endpoint", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn update_webhook(
    hooks: Hooks,
    InPath(id): InPath<WebhookId>,
    body: crate::body::JsonObject<UpdateWebhook>,
) -> Result {
    let hook = hooks.update(id, body.0.try_into_domain()?).await?;
    crate::body::json(HttpResponse::Ok(), &WebhookBody::from(hook))
}

/// Deletes an endpoint and its deliveries.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", operation_id = "delete_webhook",
    params(crate::wire::InPath<WebhookId>),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such endpoint", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_webhook(hooks: Hooks, InPath(id): InPath<WebhookId>) -> Result {
    hooks.delete(id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new signing secret, shown this once; the old one keeps signing beside
/// it (a second `v1,` signature) for 24 hours.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", operation_id = "rotate_webhook_secret",
    params(crate::wire::InPath<WebhookId>),
    responses(
        (status = 200, description = "The endpoint and its new secret", body = WebhookWithSecret),
        (status = 404, description = "No such endpoint", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn rotate_webhook_secret(hooks: Hooks, InPath(id): InPath<WebhookId>) -> Result {
    let (hook, secret) = hooks.rotate(id).await?;
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
    params(crate::wire::InPath<WebhookId>),
    responses(
        (status = 202, description = "Queued; its delivery", body = DeliveryBody),
        (status = 404, description = "No such endpoint", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn test_webhook(hooks: Hooks, InPath(id): InPath<WebhookId>) -> Result {
    let delivery = hooks.test(id).await?;
    crate::body::json(HttpResponse::Accepted(), &DeliveryBody::from(delivery))
}

/// The endpoint's deliveries, newest first: attempts, last status, latency,
/// error and next attempt.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "list_webhook_deliveries",
    params(crate::wire::InPath<WebhookId>, PageQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        (status = 404, description = "No such endpoint", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_webhook_deliveries(
    hooks: Hooks,
    InPath(id): InPath<WebhookId>,
    query: web::Query<PageQuery>,
) -> Result {
    let page = hooks
        .deliveries(id, query.into_inner().try_into_domain()?)
        .await?;
    crate::body::json(HttpResponse::Ok(), &DeliveryPage::from_page(page))
}

/// Sends a delivery again now, whatever became of it.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks", operation_id = "retry_webhook_delivery",
    params(crate::wire::InPath<WebhookId>, crate::wire::InPath<DeliveryId>),
    responses(
        (status = 202, description = "Queued again", body = DeliveryBody),
        (status = 404, description = "No such endpoint or delivery", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn retry_webhook_delivery(
    hooks: Hooks,
    InPath(id): InPath<WebhookId>,
    InPath(delivery): InPath<DeliveryId>,
) -> Result {
    let delivery = hooks.retry(id, delivery).await?;
    crate::body::json(HttpResponse::Accepted(), &DeliveryBody::from(delivery))
}
