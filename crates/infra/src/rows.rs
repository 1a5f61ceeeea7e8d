//! Row structs, private to this crate, and their conversion to entities.

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use garage_domain::care::Km;
use garage_domain::{
    Address, Brand, Capacity, Garage, GarageId, GarageName, LicensePlate, ModelName, ModelYear,
    Vehicle, VehicleId, Version, Vin,
};

use crate::schema::{garages, vehicles};

diesel::define_sql_function! {
    /// SQL's `lower`, for searches that ignore case on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `column = expected`, or true when no version is expected: one filter
/// either way, so a conditional write stays one statement.
pub(crate) fn at_version<C>(
    column: C,
    expected: Option<Version>,
) -> diesel::dsl::Or<diesel::dsl::Eq<C, i64>, diesel::dsl::AsExprOf<bool, diesel::sql_types::Bool>>
where
    C: diesel::ExpressionMethods + diesel::Expression<SqlType = diesel::sql_types::BigInt>,
{
    column
        .eq(expected.map_or(0, |v| v.get()))
        .or(expected.is_none().into_sql::<diesel::sql_types::Bool>())
}

/// Now, at the microsecond precision both backends keep.
pub(crate) fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = garages)]
pub(crate) struct GarageRow {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub capacity: Option<i32>,
    pub vehicle_count: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

/// The columns of a [`GarageRow`], in its order, for `RETURNING` (which
/// `as_returning` cannot spell on both backends at once).
pub(crate) const GARAGE_COLUMNS: (
    garages::id,
    garages::name,
    garages::address,
    garages::capacity,
    garages::vehicle_count,
    garages::created_at,
    garages::updated_at,
    garages::version,
) = (
    garages::id,
    garages::name,
    garages::address,
    garages::capacity,
    garages::vehicle_count,
    garages::created_at,
    garages::updated_at,
    garages::version,
);

#[derive(Insertable)]
#[diesel(table_name = garages)]
pub(crate) struct NewGarageRow<'a> {
    pub name: &'a str,
    pub name_key: String,
    pub address: &'a str,
    pub capacity: Option<i32>,
    pub vehicle_count: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(AsChangeset)]
#[diesel(table_name = garages)]
pub(crate) struct GarageChangeset<'a> {
    pub name: Option<&'a str>,
    pub name_key: Option<String>,
    pub address: Option<&'a str>,
    // None leaves it; Some(None) sets NULL, removing the limit.
    pub capacity: Option<Option<i32>>,
}

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = vehicles)]
pub(crate) struct VehicleRow {
    pub id: i64,
    pub garage_id: i64,
    pub brand: String,
    pub model: String,
    pub year: i32,
    pub license_plate: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub vin: Option<String>,
    pub registered_on: Option<NaiveDate>,
    pub odometer_km: Option<i32>,
}

// None is NULL, not DEFAULT, so SQLite takes many rows in one INSERT.
#[derive(Insertable)]
#[diesel(table_name = vehicles, treat_none_as_default_value = false)]
pub(crate) struct NewVehicleRow<'a> {
    pub garage_id: i64,
    pub brand: &'a str,
    pub model: &'a str,
    pub year: i32,
    pub license_plate: &'a str,
    pub vin: Option<&'a str>,
    pub registered_on: Option<NaiveDate>,
    /// Set by an import whose line gives it (with a reading).
    pub odometer_km: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(AsChangeset)]
#[diesel(table_name = vehicles)]
pub(crate) struct VehicleChangeset<'a> {
    pub garage_id: Option<i64>,
    pub brand: Option<&'a str>,
    pub model: Option<&'a str>,
    pub year: Option<i32>,
    pub license_plate: Option<&'a str>,
    // None leaves it; Some(None) removes it.
    pub vin: Option<Option<&'a str>>,
    pub registered_on: Option<Option<NaiveDate>>,
}

pub(crate) fn capacity_column(capacity: Option<Capacity>) -> Option<i32> {
    // Capacity::MAX fits an i32.
    capacity.map(|c| c.get() as i32)
}

// Rows were validated when written; a row that no longer parses is a bug or
// a hand edit, reported as an internal error rather than served.
impl TryFrom<GarageRow> for Garage {
    type Error = anyhow::Error;

    fn try_from(row: GarageRow) -> anyhow::Result<Self> {
        let ctx = || format!("garage {} in the database is invalid", row.id);
        Ok(Garage {
            id: GarageId::parse(row.id).with_context(ctx)?,
            name: GarageName::parse_owned(row.name).with_context(ctx)?,
            address: Address::parse_owned(row.address).with_context(ctx)?,
            capacity: row
                .capacity
                .map(|c| Capacity::parse(c.into()))
                .transpose()
                .with_context(ctx)?,
            vehicle_count: u32::try_from(row.vehicle_count).with_context(ctx)?,
            version: Version::new(row.version),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

impl TryFrom<VehicleRow> for Vehicle {
    type Error = anyhow::Error;

    fn try_from(row: VehicleRow) -> anyhow::Result<Self> {
        let ctx = || format!("vehicle {} in the database is invalid", row.id);
        Ok(Vehicle {
            id: VehicleId::parse(row.id).with_context(ctx)?,
            garage_id: GarageId::parse(row.garage_id).with_context(ctx)?,
            brand: Brand::parse_owned(row.brand).with_context(ctx)?,
            model: ModelName::parse_owned(row.model).with_context(ctx)?,
            // Stored years stay valid as the calendar moves on.
            year: ModelYear::parse_in(row.year.into(), i64::from(i32::MAX)).with_context(ctx)?,
            license_plate: LicensePlate::parse_owned(row.license_plate).with_context(ctx)?,
            vin: row
                .vin
                .as_deref()
                .map(Vin::parse)
                .transpose()
                .with_context(ctx)?,
            registered_on: row.registered_on,
            odometer: row
                .odometer_km
                .map(|km| Km::parse(km.into()))
                .transpose()
                .with_context(ctx)?,
            version: Version::new(row.version),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

impl<'a> NewVehicleRow<'a> {
    pub fn of(vehicle: &'a garage_domain::NewVehicle, at: NaiveDateTime) -> Self {
        Self {
            garage_id: vehicle.garage_id.get(),
            brand: vehicle.brand.as_str(),
            model: vehicle.model.as_str(),
            year: i32::from(vehicle.year.get()),
            license_plate: vehicle.license_plate.as_str(),
            vin: vehicle.vin.as_ref().map(Vin::as_str),
            registered_on: vehicle.registered_on,
            odometer_km: None,
            created_at: at,
            updated_at: at,
        }
    }
}
