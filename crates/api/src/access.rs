//! `/api/v1/me` and `/api/v1/keys`: who the caller is, and the keys an
//! admin manages.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use garage_domain::access::{ApiKey, KeyId, KeyName, Principal, Scope};
use garage_domain::{Error, FieldErrors, GarageId, Reason};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::edge::{Author, Caller, Edge};
use crate::problem::ApiError;
use crate::wire::InPath;

crate::wire::path_id!(KeyId, "id", "The key's id", "API key");

type Result<T = HttpResponse> = std::result::Result<T, ApiError>;

/// What a key may do: `read` < `write` < `admin`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScopeBody {
    Read,
    Write,
    Admin,
}

impl From<Scope> for ScopeBody {
    fn from(scope: Scope) -> Self {
        match scope {
            Scope::Read => Self::Read,
            Scope::Write => Self::Write,
            Scope::Admin => Self::Admin,
        }
    }
}

impl From<ScopeBody> for Scope {
    fn from(scope: ScopeBody) -> Self {
        match scope {
            ScopeBody::Read => Self::Read,
            ScopeBody::Write => Self::Write,
            ScopeBody::Admin => Self::Admin,
        }
    }
}

fn garage_ids(garages: Option<&Vec<GarageId>>) -> Option<Vec<i64>> {
    garages.map(|ids| ids.iter().map(|id| id.get()).collect())
}

/// The caller, as the server sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeBody {
    /// The key's name, or `anonymous` without one.
    name: String,
    /// The stored key's id (`null` for a configured key or nobody).
    key_id: Option<i64>,
    /// What the caller may do; `null` when it may do nothing without a key.
    scope: Option<ScopeBody>,
    /// The garages it is limited to; `null` for every garage.
    garages: Option<Vec<i64>>,
    /// No key exists: anyone may read and write.
    open: bool,
}

fn me_body(principal: &Principal, open: bool) -> MeBody {
    MeBody {
        name: principal.name.clone(),
        key_id: principal.key_id.map(KeyId::get),
        scope: principal.scope.map(ScopeBody::from),
        garages: garage_ids(principal.garages.as_ref()),
        open,
    }
}

/// Who is calling: the key's name, scope and garages, or anonymous.
#[utoipa::path(get, path = "/api/v1/me", tag = "access", operation_id = "me",
    security((), ("bearer" = [])),
    responses((status = 200, description = "The caller", body = MeBody)))]
pub(crate) async fn me(edge: web::Data<Edge>, caller: Caller) -> Result {
    let open = edge.access.is_open().await.unwrap_or(false);
    crate::body::json(HttpResponse::Ok(), &me_body(&caller.principal, open))
}

/// A stored key; its secret is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyBody {
    id: i64,
    name: String,
    /// The secret's first characters, to recognise it.
    #[schema(example = "gar_Xy3kP9aQ")]
    prefix: String,
    scope: ScopeBody,
    /// The garages it is limited to; `null` for every garage.
    garages: Option<Vec<i64>>,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::wire::instant::serialize_option")]
    last_used_at: Option<DateTime<Utc>>,
    /// Set once revoked: the key no longer works.
    #[serde(serialize_with = "crate::wire::instant::serialize_option")]
    revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for KeyBody {
    fn from(key: ApiKey) -> Self {
        Self {
            id: key.id.get(),
            garages: garage_ids(key.garages.as_ref()),
            name: key.name,
            prefix: key.prefix,
            scope: key.scope.into(),
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
        }
    }
}

/// Every key, revoked ones too, in creation order.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    items: Vec<KeyBody>,
}

/// A new key, with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    key: KeyBody,
    /// Send it as `Authorization: Bearer <secret>`. Only its hash is kept.
    #[schema(example = "gar_Xy3kP9aQ2mN7vB1cD4eF6gH8jK0lM5nO7pQ9rS1tU3")]
    secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// Who or what holds it; 1 to 100 characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100, example = "dashboard")]
    name: Option<String>,
    #[schema(value_type = ScopeBody, required = true)]
    scope: Option<ScopeBody>,
    /// Limits the key to these garages and their vehicles; absent or `null` for every garage.
    #[schema(value_type = Option<Vec<i64>>)]
    garages: Option<Vec<i64>>,
}

impl CreateKey {
    fn try_into_domain(self) -> Result<(KeyName, Scope, Option<Vec<GarageId>>)> {
        let mut errors = FieldErrors::new();
        let name = match self.name {
            Some(name) => errors.check("name", KeyName::parse(&name)),
            None => {
                errors.push("name", Reason::Required, "is required");
                None
            }
        };
        if self.scope.is_none() {
            errors.push("scope", Reason::Required, "is required");
        }
        let garages = match self.garages {
            None => None,
            Some(ids) if ids.len() > 1_000 => {
                errors.push(
                    "garages",
                    Reason::TooLong { max: 1_000 },
                    "must list at most 1000 garages",
                );
                None
            }
            Some(ids) => errors
                .check(
                    "garages",
                    ids.into_iter()
                        .map(GarageId::parse)
                        .collect::<std::result::Result<Vec<_>, _>>(),
                )
                .map(Some),
        };
        errors.finish().map_err(ApiError::Validation)?;
        match (name, self.scope) {
            (Some(name), Some(scope)) => Ok((name, scope.into(), garages.flatten())),
            _ => Err(ApiError::Internal),
        }
    }
}

/// Every key, without secrets.
#[utoipa::path(get, path = "/api/v1/keys", tag = "access", operation_id = "list_keys",
    responses((status = 200, description = "Every key", body = KeyList)))]
pub(crate) async fn list_keys(edge: web::Data<Edge>) -> Result {
    let keys = edge.access.list().await?;
    crate::body::json(
        HttpResponse::Ok(),
        &KeyList {
            items: keys.into_iter().map(KeyBody::from).collect(),
        },
    )
}

/// Creates a key; the answer holds its secret, shown this once.
#[utoipa::path(post, path = "/api/v1/keys", tag = "access", operation_id = "create_key",
    request_body = CreateKey,
    responses(
        (status = 201, description = "Created; `secret` is shown this once", body = CreatedKey,
            headers(("Location" = String))),
        (status = 422, description = "Invalid fields, or an unknown garage", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_key(
    edge: web::Data<Edge>,
    author: Author,
    body: crate::body::JsonObject<CreateKey>,
) -> Result {
    let (name, scope, garages) = body.0.try_into_domain()?;
    let (key, secret) = match edge.access.create(name, scope, garages, author.0).await {
        Ok(created) => created,
        Err(Error::UnknownGarage(id)) => {
            return Err(ApiError::invalid(
                "garages",
                Reason::UnknownGarage,
                format!("garage {id} does not exist"),
            ))
        }
        Err(err) => return Err(err.into()),
    };
    let location = format!("{}/keys/{}", crate::PREFIX, key.id);
    let mut created = HttpResponse::Created();
    created
        .insert_header((header::LOCATION, location))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]));
    crate::body::json(
        created,
        &CreatedKey {
            key: key.into(),
            secret: secret.expose().to_owned(),
        },
    )
}

/// Revokes a key: it stops working on every instance within a second.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "access", operation_id = "revoke_key",
    params(crate::wire::InPath<KeyId>),
    responses(
        (status = 200, description = "The revoked key", body = KeyBody),
        (status = 404, description = "No such key", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn revoke_key(
    edge: web::Data<Edge>,
    author: Author,
    InPath(id): InPath<KeyId>,
) -> Result {
    let key = edge.access.revoke(id, author.0).await?;
    crate::body::json(HttpResponse::Ok(), &KeyBody::from(key))
}
