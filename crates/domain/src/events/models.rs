//! An event, who made it, and what it says changed.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::access::{ApiKey, KeyId, Principal};
use crate::care::{CareKind, CareStatus, Done, Km, NewReading, PlanState, Reminder};
use crate::garages::Garage;
use crate::values::{GarageId, LicensePlate, Reason, ValueError, VehicleId};
use crate::vehicles::{NewVehicle, Vehicle};

/// The kinds of event, one per kind of write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    GarageCreated,
    GarageUpdated,
    GarageDeleted,
    VehicleCreated,
    VehicleUpdated,
    VehicleMoved,
    VehicleDeleted,
    KeyCreated,
    KeyRevoked,
    OdometerRecorded,
    CarePlanSet,
    CarePlanDeleted,
    CareDone,
    CareDueSoon,
    CareOverdue,
}

impl EventKind {
    pub const ALL: [Self; 15] = [
        Self::GarageCreated,
        Self::GarageUpdated,
        Self::GarageDeleted,
        Self::VehicleCreated,
        Self::VehicleUpdated,
        Self::VehicleMoved,
        Self::VehicleDeleted,
        Self::KeyCreated,
        Self::KeyRevoked,
        Self::OdometerRecorded,
        Self::CarePlanSet,
        Self::CarePlanDeleted,
        Self::CareDone,
        Self::CareDueSoon,
        Self::CareOverdue,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::GarageCreated => "garage.created",
            Self::GarageUpdated => "garage.updated",
            Self::GarageDeleted => "garage.deleted",
            Self::VehicleCreated => "vehicle.created",
            Self::VehicleUpdated => "vehicle.updated",
            Self::VehicleMoved => "vehicle.moved",
            Self::VehicleDeleted => "vehicle.deleted",
            Self::KeyCreated => "key.created",
            Self::KeyRevoked => "key.revoked",
            Self::OdometerRecorded => "odometer.recorded",
            Self::CarePlanSet => "care.plan_set",
            Self::CarePlanDeleted => "care.plan_deleted",
            Self::CareDone => "care.done",
            Self::CareDueSoon => "care.due_soon",
            Self::CareOverdue => "care.overdue",
        }
    }

    /// Events about API keys, which only unlimited admins may read.
    pub const fn is_about_keys(self) -> bool {
        matches!(self, Self::KeyCreated | Self::KeyRevoked)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                ValueError::new(Reason::InvalidChoice, format!("unknown event type {s:?}"))
            })
    }
}

/// Who made a change: a stored key, or (without one) a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub key_id: Option<KeyId>,
    pub name: String,
}

impl Actor {
    /// A caller without a key (open mode) or with a configured key.
    pub fn anonymous() -> Self {
        Self::named("anonymous")
    }

    /// The command line.
    pub fn cli() -> Self {
        Self::named("cli")
    }

    /// The service itself, on its schedule (care reminders).
    pub fn scheduler() -> Self {
        Self::named("scheduler")
    }

    fn named(name: &str) -> Self {
        Self {
            key_id: None,
            name: name.to_owned(),
        }
    }

    pub fn of(principal: &Principal) -> Self {
        Self {
            key_id: principal.key_id,
            name: principal.name.clone(),
        }
    }
}

/// Who makes a write, and in which request: what its event records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub actor: Actor,
    pub request_id: Option<String>,
}

impl Origin {
    pub fn new(actor: Actor, request_id: Option<String>) -> Self {
        Self { actor, request_id }
    }

    /// Writes made outside any request, by nobody in particular.
    pub fn anonymous() -> Self {
        Self::new(Actor::anonymous(), None)
    }
}

/// What a write changed: `{"field": {"from": …, "to": …}}`, or the whole
/// entity for a creation or a deletion.
pub type Changes = Map<String, Value>;

/// An event still to be stored, with the write it records.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub garage_id: Option<GarageId>,
    /// For a move: the garage the vehicle left.
    pub from_garage_id: Option<GarageId>,
    pub vehicle_id: Option<VehicleId>,
    pub key_id: Option<KeyId>,
    pub changes: Changes,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    /// Where it stands in the feed.
    pub position: FeedPosition,
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    pub actor: Actor,
    pub request_id: Option<String>,
    pub garage_id: Option<GarageId>,
    pub from_garage_id: Option<GarageId>,
    pub vehicle_id: Option<VehicleId>,
    pub key_id: Option<KeyId>,
    pub changes: Changes,
}

impl Event {
    /// The event as the feed and webhooks show it.
    pub fn to_json(&self) -> Value {
        let mut actor = Map::new();
        if let Some(key) = self.actor.key_id {
            actor.insert("key_id".into(), json!(key.get()));
        }
        actor.insert("name".into(), json!(self.actor.name));
        let mut event = json!({
            "id": self.id,
            "type": self.kind.as_str(),
            "occurred_at": self.occurred_at,
            "actor": actor,
            "request_id": self.request_id,
            "garage_id": self.garage_id.map(GarageId::get),
            "vehicle_id": self.vehicle_id.map(VehicleId::get),
            "key_id": self.key_id.map(KeyId::get),
            "changes": self.changes,
        });
        if let Some(from) = self.from_garage_id {
            event["from_garage_id"] = json!(from.get());
        }
        event
    }
}

/// A place in the feed: events come in the order their writes committed.
/// `tx` orders by transaction (PostgreSQL's transaction id; 0 where writes
/// are serial, as on SQLite), `id` within one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedPosition {
    pub tx: i64,
    pub id: i64,
}

impl fmt::Display for FeedPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.tx, self.id)
    }
}

impl FromStr for FeedPosition {
    type Err = ValueError;

    /// The text `Display` writes; anything else is refused.
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let bad = || ValueError::new(Reason::InvalidFormat, "must be a cursor this API returned");
        let (tx, id) = s.split_once('-').ok_or_else(bad)?;
        let number = |text: &str| {
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            text.parse::<i64>().map_err(|_| bad())
        };
        Ok(Self {
            tx: number(tx)?,
            id: number(id)?,
        })
    }
}

/// Which events to read from the feed; every filter set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub kinds: Option<Vec<EventKind>>,
    pub garage_id: Option<GarageId>,
    pub vehicle_id: Option<VehicleId>,
    /// Only events of these garages (a move counts for both ends); `None`
    /// for all. Set by the service from the caller's reach.
    pub within: Option<Vec<GarageId>>,
    /// Whether events about keys are included.
    pub with_keys: bool,
}

/// Whose history to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryOf {
    /// Every event of the vehicle.
    Vehicle(VehicleId),
    /// The garage's own events, and the moves into or out of it.
    Garage(GarageId),
}

fn garage_fields(garage: &Garage) -> [(&'static str, Value); 3] {
    [
        ("name", json!(garage.name.as_str())),
        ("address", json!(garage.address.as_str())),
        ("capacity", json!(garage.capacity.map(|c| c.get()))),
    ]
}

fn vehicle_fields(vehicle: &Vehicle) -> [(&'static str, Value); 7] {
    new_vehicle_fields(&NewVehicle {
        garage_id: vehicle.garage_id,
        brand: vehicle.brand.clone(),
        model: vehicle.model.clone(),
        year: vehicle.year,
        license_plate: vehicle.license_plate.clone(),
        vin: vehicle.vin.clone(),
        registered_on: vehicle.registered_on,
    })
}

fn new_vehicle_fields(vehicle: &NewVehicle) -> [(&'static str, Value); 7] {
    [
        ("garage_id", json!(vehicle.garage_id.get())),
        ("brand", json!(vehicle.brand.as_str())),
        ("model", json!(vehicle.model.as_str())),
        ("year", json!(vehicle.year.get())),
        ("license_plate", json!(vehicle.license_plate.as_str())),
        ("vin", json!(vehicle.vin.as_ref().map(|v| v.as_str()))),
        ("registered_on", json!(vehicle.registered_on)),
    ]
}

/// The whole entity, its id first.
fn whole<const N: usize>(id: i64, fields: [(&'static str, Value); N]) -> Changes {
    let mut changes = Changes::new();
    changes.insert("id".into(), json!(id));
    for (name, value) in fields {
        changes.insert(name.into(), value);
    }
    changes
}

/// The fields that differ, each `{"from", "to"}`.
fn diff<const N: usize>(
    before: [(&'static str, Value); N],
    after: [(&'static str, Value); N],
) -> Changes {
    before
        .into_iter()
        .zip(after)
        .filter(|((_, from), (_, to))| from != to)
        .map(|((name, from), (_, to))| (name.to_owned(), json!({"from": from, "to": to})))
        .collect()
}

impl NewEvent {
    fn about_garage(kind: EventKind, garage: &Garage, changes: Changes) -> Self {
        Self {
            kind,
            garage_id: Some(garage.id),
            from_garage_id: None,
            vehicle_id: None,
            key_id: None,
            changes,
        }
    }

    pub fn garage_created(garage: &Garage) -> Self {
        let changes = whole(garage.id.get(), garage_fields(garage));
        Self::about_garage(EventKind::GarageCreated, garage, changes)
    }

    /// `None` when no field of the garage's own changed.
    pub fn garage_updated(before: &Garage, after: &Garage) -> Option<Self> {
        let changes = diff(garage_fields(before), garage_fields(after));
        (!changes.is_empty()).then(|| Self::about_garage(EventKind::GarageUpdated, after, changes))
    }

    pub fn garage_deleted(garage: &Garage) -> Self {
        let changes = whole(garage.id.get(), garage_fields(garage));
        Self::about_garage(EventKind::GarageDeleted, garage, changes)
    }

    fn about_vehicle(kind: EventKind, vehicle: &Vehicle, changes: Changes) -> Self {
        Self {
            kind,
            garage_id: Some(vehicle.garage_id),
            from_garage_id: None,
            vehicle_id: Some(vehicle.id),
            key_id: None,
            changes,
        }
    }

    pub fn vehicle_created(vehicle: &Vehicle) -> Self {
        let changes = whole(vehicle.id.get(), vehicle_fields(vehicle));
        Self::about_vehicle(EventKind::VehicleCreated, vehicle, changes)
    }

    /// The same event from what was inserted and the id it got: imports
    /// need not read their rows back.
    pub fn vehicle_imported(id: VehicleId, vehicle: &NewVehicle) -> Self {
        Self {
            kind: EventKind::VehicleCreated,
            garage_id: Some(vehicle.garage_id),
            from_garage_id: None,
            vehicle_id: Some(id),
            key_id: None,
            changes: whole(id.get(), new_vehicle_fields(vehicle)),
        }
    }

    /// One write, one event: a change of garage makes it a move (with the
    /// other changed fields beside `garage_id`), else an update; `None`
    /// when nothing changed.
    pub fn vehicle_updated(before: &Vehicle, after: &Vehicle) -> Option<Self> {
        let changes = diff(vehicle_fields(before), vehicle_fields(after));
        if changes.is_empty() {
            return None;
        }
        if before.garage_id == after.garage_id {
            return Some(Self::about_vehicle(
                EventKind::VehicleUpdated,
                after,
                changes,
            ));
        }
        Some(Self {
            from_garage_id: Some(before.garage_id),
            ..Self::about_vehicle(EventKind::VehicleMoved, after, changes)
        })
    }

    pub fn vehicle_deleted(vehicle: &Vehicle) -> Self {
        let changes = whole(vehicle.id.get(), vehicle_fields(vehicle));
        Self::about_vehicle(EventKind::VehicleDeleted, vehicle, changes)
    }

    fn about_key(kind: EventKind, key: &ApiKey, changes: Changes) -> Self {
        Self {
            kind,
            garage_id: None,
            from_garage_id: None,
            vehicle_id: None,
            key_id: Some(key.id),
            changes,
        }
    }

    /// Never the secret, nor its hash.
    pub fn key_created(key: &ApiKey) -> Self {
        let garages = key
            .garages
            .as_ref()
            .map(|ids| ids.iter().map(|g| g.get()).collect::<Vec<_>>());
        let changes = whole(
            key.id.get(),
            [
                ("name", json!(key.name)),
                ("prefix", json!(key.prefix)),
                ("scope", json!(key.scope.as_str())),
                ("garage_ids", json!(garages)),
            ],
        );
        Self::about_key(EventKind::KeyCreated, key, changes)
    }

    /// A plan that became due soon or overdue: when, at which distance, and
    /// the odometer then. Its `cycle` tells reminders of one due point from
    /// the next.
    pub fn care_due(reminder: &Reminder) -> Self {
        let kind = if reminder.status == CareStatus::Overdue {
            EventKind::CareOverdue
        } else {
            EventKind::CareDueSoon
        };
        let vehicle = &reminder.vehicle;
        let changes = whole(
            reminder.plan.id.get(),
            [
                ("vehicle_id", json!(vehicle.id.get())),
                ("license_plate", json!(vehicle.license_plate.as_str())),
                ("garage", json!(vehicle.garage_name.as_str())),
                ("kind", json!(reminder.plan.kind.as_str())),
                ("status", json!(reminder.status.as_str())),
                ("due_on", json!(reminder.due.on)),
                ("due_km", json!(reminder.due.km.map(Km::get))),
                ("odometer_km", json!(vehicle.odometer.map(Km::get))),
                ("cycle", json!(reminder.plan.cycle)),
            ],
        );
        Self {
            kind,
            garage_id: Some(vehicle.garage_id),
            from_garage_id: None,
            vehicle_id: Some(vehicle.id),
            key_id: None,
            changes,
        }
    }

    /// An event about a vehicle's care, its plate first (for whoever reads
    /// it apart from the vehicle).
    fn about_care(kind: EventKind, vehicle: &Vehicle, changes: Changes) -> Self {
        Self::about_care_of(
            kind,
            vehicle.id,
            vehicle.garage_id,
            &vehicle.license_plate,
            changes,
        )
    }

    fn about_care_of(
        kind: EventKind,
        id: VehicleId,
        garage: GarageId,
        plate: &LicensePlate,
        changes: Changes,
    ) -> Self {
        let mut all = Changes::new();
        all.insert("license_plate".into(), json!(plate.as_str()));
        all.extend(changes);
        Self {
            kind,
            garage_id: Some(garage),
            from_garage_id: None,
            vehicle_id: Some(id),
            key_id: None,
            changes: all,
        }
    }

    /// An odometer reading, a correction or not.
    pub fn odometer_recorded(vehicle: &Vehicle, reading: &NewReading) -> Self {
        Self::odometer_read(
            vehicle.id,
            vehicle.garage_id,
            &vehicle.license_plate,
            reading,
        )
    }

    /// The same, from what an import knows of the vehicle.
    pub fn odometer_read(
        id: VehicleId,
        garage: GarageId,
        plate: &LicensePlate,
        reading: &NewReading,
    ) -> Self {
        let mut changes = Changes::new();
        changes.insert("km".into(), json!(reading.km.get()));
        changes.insert("read_on".into(), json!(reading.read_on));
        changes.insert("correction".into(), json!(reading.correction));
        Self::about_care_of(EventKind::OdometerRecorded, id, garage, plate, changes)
    }

    /// A plan set up or replaced: its schedule and when it is next due.
    pub fn care_plan_set(vehicle: &Vehicle, kind: &CareKind, state: &PlanState) -> Self {
        let mut changes = Changes::new();
        changes.insert("kind".into(), json!(kind.as_str()));
        changes.insert(
            "every_months".into(),
            json!(state.schedule.every_months.map(|m| m.get())),
        );
        changes.insert(
            "every_km".into(),
            json!(state.schedule.every_km.map(Km::get)),
        );
        changes.insert("due_on".into(), json!(state.due.on));
        changes.insert("due_km".into(), json!(state.due.km.map(Km::get)));
        Self::about_care(EventKind::CarePlanSet, vehicle, changes)
    }

    pub fn care_plan_deleted(vehicle: &Vehicle, kind: &CareKind) -> Self {
        let mut changes = Changes::new();
        changes.insert("kind".into(), json!(kind.as_str()));
        Self::about_care(EventKind::CarePlanDeleted, vehicle, changes)
    }

    /// Work done on a plan, and when the plan is next due.
    pub fn care_done(vehicle: &Vehicle, kind: &CareKind, done: &Done, next: &PlanState) -> Self {
        let mut changes = Changes::new();
        changes.insert("kind".into(), json!(kind.as_str()));
        changes.insert("done_on".into(), json!(done.done_on));
        changes.insert("km".into(), json!(done.km.map(Km::get)));
        changes.insert("note".into(), json!(done.note.as_ref().map(|n| n.as_str())));
        changes.insert("due_on".into(), json!(next.due.on));
        changes.insert("due_km".into(), json!(next.due.km.map(Km::get)));
        Self::about_care(EventKind::CareDone, vehicle, changes)
    }

    pub fn key_revoked(key: &ApiKey) -> Self {
        let changes = whole(key.id.get(), [("name", json!(key.name))]);
        Self::about_key(EventKind::KeyRevoked, key, changes)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::fleet::fixtures::{garage, new_vehicle, vehicle};
    use crate::values::{Brand, Capacity, Vin};

    #[test]
    fn an_unchanged_write_makes_no_event_and_a_change_names_only_what_changed() {
        let before = vehicle(5, &new_vehicle(1, "AB-123-CD"));
        assert_eq!(NewEvent::vehicle_updated(&before, &before.clone()), None);
        let mut after = before.clone();
        after.brand = Brand::parse("Citroën").unwrap();
        after.vin = Some(Vin::parse("VF1RFB00X12345678").unwrap());
        after.updated_at = Utc::now();
        let event = NewEvent::vehicle_updated(&before, &after).unwrap();
        assert_eq!(event.kind, EventKind::VehicleUpdated);
        assert_eq!(event.from_garage_id, None);
        assert_eq!(
            Value::Object(event.changes),
            json!({
                "brand": {"from": "Renault", "to": "Citroën"},
                "vin": {"from": null, "to": "VF1RFB00X12345678"},
            })
        );
    }

    #[test]
    fn an_imported_vehicle_is_told_as_a_created_one() {
        let new = new_vehicle(3, "AB-123-CD");
        let stored = vehicle(9, &new);
        assert_eq!(
            NewEvent::vehicle_imported(VehicleId(9), &new),
            NewEvent::vehicle_created(&stored)
        );
    }

    #[test]
    fn a_change_of_garage_is_a_move_told_from_the_new_garage() {
        let before = vehicle(5, &new_vehicle(1, "AB-123-CD"));
        let mut after = before.clone();
        after.garage_id = GarageId(2);
        let event = NewEvent::vehicle_updated(&before, &after).unwrap();
        assert_eq!(event.kind, EventKind::VehicleMoved);
        assert_eq!(event.garage_id, Some(GarageId(2)));
        assert_eq!(event.from_garage_id, Some(GarageId(1)));
        assert_eq!(
            Value::Object(event.changes),
            json!({"garage_id": {"from": 1, "to": 2}})
        );
    }

    #[test]
    fn a_garage_event_ignores_its_vehicle_count() {
        let before = garage(1, Some(10), 3);
        let mut counted = before.clone();
        counted.vehicle_count = 4;
        assert_eq!(NewEvent::garage_updated(&before, &counted), None);
        counted.capacity = None;
        let event = NewEvent::garage_updated(&before, &counted).unwrap();
        assert_eq!(
            Value::Object(event.changes),
            json!({"capacity": {"from": 10, "to": null}})
        );
        let created = NewEvent::garage_created(&garage(1, Some(10), 0));
        assert_eq!(
            created.changes["capacity"],
            json!(Capacity::parse(10).unwrap().get())
        );
        assert_eq!(created.changes["id"], json!(1));
    }

    #[test]
    fn a_cursor_is_read_back_exactly_and_nothing_else_is() {
        let position = FeedPosition { tx: 7_400, id: 42 };
        assert_eq!(position.to_string().parse::<FeedPosition>(), Ok(position));
        for bad in [
            "",
            "-",
            "42",
            "1-",
            "-1",
            "a-1",
            "1-+2",
            "1--2",
            "1-2-3",
            "99999999999999999999-1",
        ] {
            assert!(bad.parse::<FeedPosition>().is_err(), "{bad:?}");
        }
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
        }
        assert!("vehicle.exploded".parse::<EventKind>().is_err());
    }
}
