//! The feed and the histories.

use actix_web::{web, HttpResponse};
use garage_domain::events::{EventService, HistoryOf};

use super::wire::{ActivityQuery, EventFeed, EventPage, FeedQuery};
use crate::edge::Events;
use crate::problem::ApiError;
use crate::wire::{InPath, PageQuery};
use garage_domain::{GarageId, VehicleId};

type Result<T = HttpResponse> = std::result::Result<T, ApiError>;

/// Every change, oldest first, in the order the changes committed: a client
/// that resumes from `next_cursor` never misses an event, even when writes
/// commit out of order. Events about API keys are shown to admin keys that
/// reach every garage.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", operation_id = "list_events",
    params(FeedQuery),
    responses((status = 200, description = "Events after the cursor", body = EventFeed)))]
pub(crate) async fn feed(events: Events, query: web::Query<FeedQuery>) -> Result {
    let (mut filter, after, limit) = query.into_inner().try_into_domain()?;
    filter.with_keys = events.admin;
    let (items, next) = events.feed(filter, after, limit).await?;
    crate::body::json(HttpResponse::Ok(), &EventFeed::new(items, next))
}

/// Recent activity, newest first, for people looking back (an
/// integrator that must miss nothing reads `/events`); the same filters and
/// visibility as the feed.
#[utoipa::path(get, path = "/api/v1/activity", tag = "events", operation_id = "recent_activity",
    params(ActivityQuery),
    responses((status = 200, description = "A page of events, newest first", body = EventPage)))]
pub(crate) async fn activity(events: Events, query: web::Query<ActivityQuery>) -> Result {
    let (mut filter, page) = query.into_inner().try_into_domain()?;
    filter.with_keys = events.admin;
    let page = events.recent(filter, page).await?;
    crate::body::json(HttpResponse::Ok(), &EventPage::from_page(page))
}

async fn history(events: &EventService, of: HistoryOf, query: PageQuery) -> Result {
    let page = events.history(of, query.try_into_domain()?).await?;
    crate::body::json(HttpResponse::Ok(), &EventPage::from_page(page))
}

/// A vehicle's changes, newest first; still there once it is deleted.
#[utoipa::path(get, path = "/api/v1/vehicles/{id}/history", tag = "events", operation_id = "vehicle_history",
    params(crate::wire::InPath<VehicleId>, PageQuery),
    responses(
        (status = 200, description = "A page of its events", body = EventPage),
        (status = 404, description = "No such vehicle, nor any trace of one", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn vehicle_history(
    events: Events,
    InPath(id): InPath<VehicleId>,
    query: web::Query<PageQuery>,
) -> Result {
    history(&events, HistoryOf::Vehicle(id), query.into_inner()).await
}

/// A garage's own changes and the vehicles moved into or out of it, newest
/// first; still there once it is deleted.
#[utoipa::path(get, path = "/api/v1/garages/{id}/history", tag = "events", operation_id = "garage_history",
    params(crate::wire::InPath<GarageId>, PageQuery),
    responses(
        (status = 200, description = "A page of its events", body = EventPage),
        (status = 404, description = "No such garage, nor any trace of one", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn garage_history(
    events: Events,
    InPath(id): InPath<GarageId>,
    query: web::Query<PageQuery>,
) -> Result {
    history(&events, HistoryOf::Garage(id), query.into_inner()).await
}
