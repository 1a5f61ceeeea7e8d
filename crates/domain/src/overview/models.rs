//! The figures of the overview, as the stores give them and as people read them.

use crate::garages::Garage;

/// What the garages hold, taken together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GarageFigures {
    pub garages: u64,
    /// Garages without a limit.
    pub unlimited: u64,
    /// The sum of the limits of the other garages.
    pub capacity: u64,
    /// The vehicles in garages with a limit.
    pub held_in_limited: u64,
    /// The vehicles in every garage.
    pub vehicles: u64,
    /// The garages holding the most vehicles, most first (then by id).
    pub busiest: Vec<Garage>,
    /// The garages with a limit, fullest first (held over capacity, then
    /// most held, then by id).
    pub fullest: Vec<Garage>,
}

/// How many vehicles of one brand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandCount {
    pub brand: String,
    pub vehicles: u64,
}

/// What the vehicles are, taken together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VehicleFigures {
    pub vehicles: u64,
    /// The most common brands, most first (then by name).
    pub top_brands: Vec<BrandCount>,
    /// Vehicles per model year, in year order.
    pub by_year: Vec<(u16, u64)>,
}

/// Vehicles whose age (this year minus their model year) is within
/// `from..=to` years; `to` is `None` for the last band.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeBand {
    pub from: u16,
    pub to: Option<u16>,
    pub vehicles: u64,
}

/// The bands of ages the overview counts vehicles in, youngest first.
pub const AGE_BANDS: [(u16, Option<u16>); 5] = [
    (0, Some(2)),
    (3, Some(5)),
    (6, Some(9)),
    (10, Some(14)),
    (15, None),
];

/// The fleet at a glance, as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub garages: u64,
    pub vehicles: u64,
    /// Places left in the garages with a limit (none is counted for the others).
    pub free_places: u64,
    pub unlimited_garages: u64,
    pub busiest: Vec<Garage>,
    pub fullest: Vec<Garage>,
    pub top_brands: Vec<BrandCount>,
    /// Vehicles of every other brand.
    pub other_brands: u64,
    pub by_age: Vec<AgeBand>,
}

impl Overview {
    /// Puts the stores' figures together, counting ages as of `current_year`.
    pub fn of(garages: GarageFigures, vehicles: VehicleFigures, current_year: i32) -> Self {
        let in_top: u64 = vehicles.top_brands.iter().map(|b| b.vehicles).sum();
        let mut by_age: Vec<AgeBand> = AGE_BANDS
            .iter()
            .map(|&(from, to)| AgeBand {
                from,
                to,
                vehicles: 0,
            })
            .collect();
        for (year, count) in vehicles.by_year {
            // Next year's models are new: age 0.
            let age = u16::try_from((current_year - i32::from(year)).max(0)).unwrap_or(u16::MAX);
            if let Some(band) = by_age
                .iter_mut()
                .find(|b| age >= b.from && b.to.is_none_or(|to| age <= to))
            {
                band.vehicles += count;
            }
        }
        Self {
            garages: garages.garages,
            vehicles: garages.vehicles,
            free_places: garages.capacity.saturating_sub(garages.held_in_limited),
            unlimited_garages: garages.unlimited,
            busiest: garages.busiest,
            fullest: garages.fullest,
            top_brands: vehicles.top_brands,
            other_brands: vehicles.vehicles.saturating_sub(in_top),
            by_age,
        }
    }
}
