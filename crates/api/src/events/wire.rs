//! Events on the wire.

use chrono::{DateTime, Utc};
use garage_domain::events::{Event, EventFilter, EventKind, FeedPosition};
use garage_domain::{FieldErrors, GarageId, Limit, ValueError, VehicleId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::problem::ApiError;
use crate::wire::bad_query;

/// Who made a change: `key_id` and the key's name, or `anonymous` (no key),
/// or `cli` (the command line).
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<i64>,
    name: String,
}

/// Something that happened: one per write.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    id: i64,
    /// `garage.created`, `garage.updated`, `garage.deleted`,
    /// `vehicle.created`, `vehicle.updated`, `vehicle.moved`,
    /// `vehicle.deleted`, `key.created` or `key.revoked`.
    #[serde(rename = "type")]
    #[schema(example = "vehicle.moved")]
    kind: &'static str,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    occurred_at: DateTime<Utc>,
    actor: ActorBody,
    /// The `X-Request-Id` of the request that made the change.
    request_id: Option<String>,
    /// The garage it concerns; for a move, the garage the vehicle went to.
    garage_id: Option<i64>,
    /// For a move, the garage the vehicle left.
    #[serde(skip_serializing_if = "Option::is_none")]
    from_garage_id: Option<i64>,
    vehicle_id: Option<i64>,
    key_id: Option<i64>,
    /// `{"field": {"from": …, "to": …}}` for a change; the whole entity
    /// for a creation or a deletion.
    #[schema(value_type = Object)]
    changes: serde_json::Map<String, serde_json::Value>,
}

impl From<Event> for EventBody {
    fn from(event: Event) -> Self {
        Self {
            id: event.id,
            kind: event.kind.as_str(),
            occurred_at: event.occurred_at,
            actor: ActorBody {
                key_id: event.actor.key_id.map(|k| k.get()),
                name: event.actor.name,
            },
            request_id: event.request_id,
            garage_id: event.garage_id.map(GarageId::get),
            from_garage_id: event.from_garage_id.map(GarageId::get),
            vehicle_id: event.vehicle_id.map(VehicleId::get),
            key_id: event.key_id.map(|k| k.get()),
            changes: event.changes,
        }
    }
}

crate::wire::page_of! {
    /// A page of a history, newest first.
    EventPage of EventBody
}

/// A page of the feed, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventFeed {
    items: Vec<EventBody>,
    /// Where to resume: always set, on the last page too (then it points
    /// past the last event returned, or stays where the read started).
    next_cursor: String,
}

impl EventFeed {
    pub(crate) fn new(events: Vec<Event>, next: FeedPosition) -> Self {
        Self {
            items: events.into_iter().map(EventBody::from).collect(),
            next_cursor: next.to_string(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// The `next_cursor` of the previous read; from the start when absent.
    after: Option<String>,
    /// Events per page, 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Only these types, comma-separated (e.g. `vehicle.moved,vehicle.created`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only events of this garage (a move counts for both garages).
    garage_id: Option<i64>,
    /// Only events of this vehicle.
    vehicle_id: Option<i64>,
}

/// The filters of the recent activity, with `limit` and `cursor` like every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    /// Only these types, comma-separated.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only events of this garage (a move counts for both garages).
    garage_id: Option<i64>,
    /// Events per page, 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl ActivityQuery {
    pub fn try_into_domain(self) -> Result<(EventFilter, garage_domain::PageRequest), ApiError> {
        let mut errors = FieldErrors::new();
        let filter = filter(&mut errors, self.kind, self.garage_id, None);
        let page = crate::wire::page_request(&mut errors, self.limit, self.cursor.as_deref());
        bad_query(errors)?;
        Ok((filter, page))
    }
}

/// The filters the feed and the activity share, recording what is wrong
/// with them; reach and key events are the service's to set.
fn filter(
    errors: &mut FieldErrors,
    kind: Option<String>,
    garage_id: Option<i64>,
    vehicle_id: Option<i64>,
) -> EventFilter {
    EventFilter {
        kinds: kind.and_then(|list| errors.check("type", kinds(&list))),
        garage_id: garage_id.and_then(|g| errors.check("garage_id", GarageId::parse(g))),
        vehicle_id: vehicle_id.and_then(|v| errors.check("vehicle_id", VehicleId::parse(v))),
        ..EventFilter::default()
    }
}

/// A comma-separated list of event types, each once.
fn kinds(list: &str) -> Result<Vec<EventKind>, ValueError> {
    let mut kinds = Vec::new();
    for name in list.split(',') {
        let kind = name.trim().parse::<EventKind>()?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

impl FeedQuery {
    pub fn try_into_domain(self) -> Result<(EventFilter, FeedPosition, Limit), ApiError> {
        let mut errors = FieldErrors::new();
        let after = self
            .after
            .and_then(|a| errors.check("after", a.parse::<FeedPosition>()))
            .unwrap_or_default();
        let limit = self
            .limit
            .and_then(|l| errors.check("limit", Limit::parse(l)))
            .unwrap_or_default();
        let filter = filter(&mut errors, self.kind, self.garage_id, self.vehicle_id);
        bad_query(errors)?;
        Ok((filter, after, limit))
    }
}

#[cfg(test)]
mod tests {
    use garage_domain::events::{Actor, Event, EventKind, FeedPosition};
    use garage_domain::{GarageId, VehicleId};

    use super::EventBody;

    /// The feed and webhooks show an event the same way.
    #[test]
    fn the_wire_body_is_the_domain_s_rendering() {
        let mut changes = serde_json::Map::new();
        changes.insert("garage_id".into(), serde_json::json!({"from": 1, "to": 2}));
        for (actor, from) in [
            (
                Actor {
                    key_id: Some(garage_domain::access::KeyId::parse(4).unwrap()),
                    name: "alice".into(),
                },
                Some(GarageId::parse(1).unwrap()),
            ),
            (Actor::cli(), None),
        ] {
            let event = Event {
                id: 41,
                position: FeedPosition { tx: 7, id: 41 },
                kind: EventKind::VehicleMoved,
                occurred_at: chrono::Utc::now(),
                actor,
                request_id: Some("r-1".into()),
                garage_id: Some(GarageId::parse(2).unwrap()),
                from_garage_id: from,
                vehicle_id: Some(VehicleId::parse(7).unwrap()),
                key_id: None,
                changes: changes.clone(),
            };
            assert_eq!(
                serde_json::to_value(EventBody::from(event.clone())).unwrap(),
                event.to_json()
            );
        }
    }
}
