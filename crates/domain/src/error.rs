//! The one error type of the fleet's ports and use cases.

use crate::access::KeyId;
use crate::values::{CalendarId, DeliveryId, GarageId, LicensePlate, VehicleId, Vin, WebhookId};

/// What a port or a use case can answer instead of a result.
///
/// Each port method's documentation says which variants it must return.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("garage {0} does not exist")]
    GarageNotFound(GarageId),
    #[error("vehicle {0} does not exist")]
    VehicleNotFound(VehicleId),
    #[error("API key {0} does not exist")]
    KeyNotFound(KeyId),
    #[error("webhook {0} does not exist")]
    WebhookNotFound(WebhookId),
    #[error("delivery {0} does not exist")]
    DeliveryNotFound(DeliveryId),
    #[error("vehicle {vehicle} has no {kind} plan")]
    PlanNotFound { vehicle: VehicleId, kind: String },
    #[error("calendar {0} does not exist")]
    CalendarNotFound(CalendarId),
    /// A reading below one taken before it, or above one taken after it:
    /// odometers do not go backwards (an admin may record a correction).
    #[error("an odometer does not go backwards: {km} km is {} the reading of {bound} km on {on}", if *.later { "above" } else { "below" })]
    OdometerBackwards {
        km: u32,
        bound: u32,
        on: chrono::NaiveDate,
        /// Whether the reading it contradicts was taken after it.
        later: bool,
    },
    /// Something only a named (stored) API key may do.
    #[error("{0} needs a named API key: sign in with one")]
    KeyRequired(&'static str),
    /// Something only an admin key may do.
    #[error("only an admin key may {0}")]
    AdminOnly(&'static str),
    /// A care input that a rule refuses (`field` names it, the message says why).
    #[error("{message}")]
    CareRefused {
        field: &'static str,
        message: String,
    },
    /// A webhook endpoint that cannot be accepted (the reason says why).
    #[error("{0}")]
    WebhookRefused(String),
    /// A vehicle named a garage that does not exist (a reference in the
    /// input, not the resource addressed).
    #[error("garage {0} does not exist")]
    UnknownGarage(GarageId),
    #[error("license plate {0} is already registered")]
    DuplicatePlate(LicensePlate),
    #[error("VIN {0} is already registered")]
    DuplicateVin(Vin),
    /// A conditional write found another version than the one expected:
    /// someone changed the resource since the caller read it.
    #[error("it has changed since you read it; read it again and retry")]
    Stale,
    #[error("garage {garage} is full: it holds its capacity of {capacity} vehicles")]
    GarageFull { garage: GarageId, capacity: u32 },
    /// A move of many vehicles at once that the garage has too few places for.
    #[error("garage {garage} has {free} free place(s) for {moving} vehicle(s): {} missing", moving - free)]
    NotEnoughRoom {
        garage: GarageId,
        free: u32,
        moving: u32,
    },
    #[error("garage {garage} still holds {count} vehicle(s); move or delete them first")]
    GarageNotEmpty { garage: GarageId, count: u32 },
    #[error(
        "garage {garage} holds {count} vehicle(s), more than the requested capacity of {capacity}"
    )]
    CapacityBelowCount {
        garage: GarageId,
        capacity: u32,
        count: u32,
    },
    /// A key that cannot be given out as asked (the reason says why).
    #[error("{0}")]
    KeyRefused(&'static str),
    /// The caller is limited to some garages and this reaches beyond them.
    #[error("this key is limited to some garages: {0}")]
    OutOfReach(&'static str),
    /// The store cannot answer now (pool exhausted, connection lost); a retry may succeed.
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}
