//! A garage on the wire: what clients send to create, change and search
//! garages, and what they receive.

use chrono::{DateTime, Utc};
use garage_domain::{
    Address, Capacity, FieldErrors, Garage, GarageChanges, GarageFilter, GarageId, GarageName,
    GarageSortKey, NewGarage, PageRequest,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::problem::ApiError;
use crate::wire::{bad_query, change, nullable, required, sort_of, sorted_page_request, validated};

crate::wire::path_id!(garage_domain::GarageId, "id", "The garage's id", "garage");

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGarage {
    /// Trimmed; 1 to 100 characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100, example = "Garage du Nord")]
    name: Option<String>,
    /// Trimmed; 1 to 200 characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200, example = "12 rue de Lille, Paris")]
    address: Option<String>,
    /// The most vehicles it may hold; absent or `null` means no limit.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000)]
    capacity: Option<i64>,
}

impl CreateGarage {
    pub fn try_into_domain(self) -> Result<NewGarage, ApiError> {
        let mut errors = FieldErrors::new();
        let name = required(&mut errors, "name", self.name, |s| GarageName::parse(&s));
        let address = required(&mut errors, "address", self.address, |s| Address::parse(&s));
        let capacity = self
            .capacity
            .map(|c| errors.check("capacity", Capacity::parse(c)));
        validated(errors, || {
            Some(NewGarage {
                name: name?,
                address: address?,
                capacity: match capacity {
                    None => None,
                    Some(parsed) => Some(parsed?),
                },
            })
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGarage {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    address: Option<Option<String>>,
    /// `null` removes the limit.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000)]
    capacity: Option<Option<i64>>,
}

impl UpdateGarage {
    pub fn try_into_domain(self) -> Result<GarageChanges, ApiError> {
        let mut errors = FieldErrors::new();
        let name = change(&mut errors, "name", self.name, |s| GarageName::parse(&s));
        let address = change(&mut errors, "address", self.address, |s| Address::parse(&s));
        let capacity = self
            .capacity
            .map(|c| c.map(|c| errors.check("capacity", Capacity::parse(c))));
        validated(errors, || {
            Some(GarageChanges {
                name,
                address,
                capacity: match capacity {
                    None => None,
                    Some(None) => Some(None),
                    Some(Some(parsed)) => Some(Some(parsed?)),
                },
            })
        })
    }
}

/// Where a garage's vehicles go, all at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveVehicles {
    /// The garage that takes them; it must have room for them all.
    #[schema(value_type = i64, required = true, minimum = 1)]
    to_garage_id: Option<i64>,
}

impl MoveVehicles {
    pub fn try_into_domain(self) -> Result<GarageId, ApiError> {
        let mut errors = FieldErrors::new();
        let to = required(
            &mut errors,
            "to_garage_id",
            self.to_garage_id,
            GarageId::parse,
        );
        validated(errors, || to)
    }
}

/// What a move of every vehicle did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovedBody {
    /// How many vehicles moved (0 from an empty garage, or into their own).
    pub moved: u32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GarageQuery {
    /// Items per page, 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Part of a garage's name; case, accents and punctuation aside
    /// (`depot` finds `Dépôt`, `part dieu` finds `Part-Dieu`).
    #[param(max_length = 100)]
    q: Option<String>,
    /// `id` (the default), `name` (case and accents aside) or
    /// `vehicle_count`; `-` before it reverses the order.
    #[param(example = "-vehicle_count")]
    sort: Option<String>,
}

impl GarageQuery {
    pub fn try_into_domain(self) -> Result<(GarageFilter, PageRequest), ApiError> {
        let mut errors = FieldErrors::new();
        let sort = sort_of::<GarageSortKey>(&mut errors, self.sort.as_deref());
        let (page, after_value) =
            sorted_page_request(&mut errors, self.limit, self.cursor.as_deref(), sort);
        // A search is held to a name's rules (no control characters, which
        // PostgreSQL would refuse), except that an empty one means "all".
        let name_contains = self
            .q
            .filter(|q| !q.trim().is_empty())
            .and_then(|q| errors.check("q", GarageName::parse(&q)))
            .map(GarageName::into_inner);
        bad_query(errors)?;
        Ok((
            GarageFilter {
                name_contains,
                within: None,
                sort,
                after_value,
            },
            page,
        ))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GarageBody {
    id: i64,
    name: String,
    address: String,
    /// `null`: no limit.
    capacity: Option<u32>,
    /// The vehicles it holds now.
    vehicle_count: u32,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    updated_at: DateTime<Utc>,
}

impl From<Garage> for GarageBody {
    fn from(g: Garage) -> Self {
        Self {
            id: g.id.get(),
            name: g.name.into_inner(),
            address: g.address.into_inner(),
            capacity: g.capacity.map(Capacity::get),
            vehicle_count: g.vehicle_count,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

crate::wire::page_of! {
    /// A page of garages.
    GaragePage of GarageBody
}
