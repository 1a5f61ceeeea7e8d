//! The overview on the wire.

use garage_domain::overview::{AgeBand, BrandCount, Overview};
use serde::Serialize;
use utoipa::ToSchema;

use crate::garages::GarageBody;

/// The fleet at a glance, within the caller's reach.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsBody {
    pub garages: u64,
    pub vehicles: u64,
    /// Places left in the garages with a limit.
    pub free_places: u64,
    /// Garages without a limit (their places are not counted).
    pub unlimited_garages: u64,
    /// The garages holding the most vehicles, most first (at most 10).
    pub busiest: Vec<GarageBody>,
    /// The garages with a limit, fullest first (at most 10).
    pub fullest: Vec<GarageBody>,
    /// The most common brands, most first (at most 10).
    pub brands: Vec<BrandBody>,
    /// Vehicles of every other brand.
    pub other_brands: u64,
    /// Vehicles by age (this year minus their model year), youngest first.
    pub ages: Vec<AgeBandBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BrandBody {
    #[schema(example = "Renault")]
    pub brand: String,
    pub vehicles: u64,
}

/// Vehicles aged `from` to `to` years (`to` absent: and older).
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeBandBody {
    pub from: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub to: Option<u16>,
    pub vehicles: u64,
}

impl From<Overview> for StatsBody {
    fn from(o: Overview) -> Self {
        Self {
            garages: o.garages,
            vehicles: o.vehicles,
            free_places: o.free_places,
            unlimited_garages: o.unlimited_garages,
            busiest: o.busiest.into_iter().map(GarageBody::from).collect(),
            fullest: o.fullest.into_iter().map(GarageBody::from).collect(),
            brands: o.top_brands.into_iter().map(BrandBody::from).collect(),
            other_brands: o.other_brands,
            ages: o.by_age.into_iter().map(AgeBandBody::from).collect(),
        }
    }
}

impl From<BrandCount> for BrandBody {
    fn from(b: BrandCount) -> Self {
        Self {
            brand: b.brand,
            vehicles: b.vehicles,
        }
    }
}

impl From<AgeBand> for AgeBandBody {
    fn from(b: AgeBand) -> Self {
        Self {
            from: b.from,
            to: b.to,
            vehicles: b.vehicles,
        }
    }
}
