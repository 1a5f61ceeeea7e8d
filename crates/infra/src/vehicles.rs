//! `VehicleRepository` on Diesel. Every write that changes which garage holds
//! a vehicle updates that garage's `vehicle_count` in the same transaction;
//! the conditional increment is where the capacity rule holds, since its row
//! lock orders concurrent writers to one garage (SQLite has one writer at a time).

mod at_once;
mod batch;
mod import;

use std::sync::Arc;

use async_trait::async_trait;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use garage_domain::events::{NewEvent, Origin};
use garage_domain::overview::{BrandCount, VehicleFigures};
use garage_domain::{
    Error, GarageId, ImportOptions, ImportReport, ImportRows, LicensePlate, NewVehicle, Page,
    PageRequest, Sort, Vehicle, VehicleChanges, VehicleFilter, VehicleId, VehicleRepository,
    VehicleSortKey, Version, Vin,
};

use crate::db::{violation, Backend, Database, DbConnection, StoreError};
use crate::events::{record, record_one};
use crate::keyset::{self, sorted};
use crate::reads::Reads;
use crate::rows::{at_version, lower, now, NewVehicleRow, VehicleChangeset, VehicleRow};
use crate::schema::{garages, vehicles};
use at_once::{Creations, Deletions};
use batch::{Batches, Outcome};
use import::Import;

#[derive(Debug, Clone)]
pub struct DieselVehicleRepository {
    /// Writes, and the reads inside them.
    db: Database,
    /// Plain reads: the primary, or a replica.
    reads: Reads,
    /// Creations and deletions gathered into one statement each
    /// (PostgreSQL).
    creations: Option<Arc<Batches<Creations>>>,
    deletions: Option<Arc<Batches<Deletions>>>,
}

impl DieselVehicleRepository {
    pub fn new(db: Database) -> Self {
        Self::with_reads(db.clone(), Reads::primary(db))
    }

    /// Sends plain reads where `reads` says (a replica that may lag behind
    /// `primary`, see [`Reads`]).
    pub fn with_reads(primary: Database, reads: Reads) -> Self {
        let lanes = batch::lanes(primary.stats().max_size);
        let gathered = primary.backend() == Backend::Postgres;
        Self {
            creations: gathered
                .then(|| Batches::new(primary.clone(), lanes))
                .flatten(),
            deletions: gathered
                .then(|| Batches::new(primary.clone(), lanes))
                .flatten(),
            db: primary,
            reads,
        }
    }
}

/// Takes a place in `garage`, or says why there is none.
fn take_place(conn: &mut DbConnection, garage: GarageId) -> Result<(), StoreError> {
    let taken = diesel::update(
        garages::table.find(garage.get()).filter(
            garages::capacity
                .is_null()
                .or(garages::vehicle_count.nullable().lt(garages::capacity)),
        ),
    )
    .set((
        garages::vehicle_count.eq(garages::vehicle_count + 1),
        garages::version.eq(garages::version + 1),
    ))
    .execute(conn)?;
    if taken == 1 {
        return Ok(());
    }
    Err(no_place(conn, garage))
}

/// Why `garage` had no place: it does not exist, or it is full.
fn no_place(conn: &mut DbConnection, garage: GarageId) -> StoreError {
    let capacity: Result<Option<Option<i32>>, _> = garages::table
        .find(garage.get())
        .select(garages::capacity)
        .first(conn)
        .optional();
    match capacity {
        Err(err) => err.into(),
        Ok(None) => Error::GarageNotFound(garage).into(),
        Ok(Some(capacity)) => Error::GarageFull {
            garage,
            capacity: capacity.unwrap_or_default().max(0) as u32,
        }
        .into(),
    }
}

/// A deletion on PostgreSQL in two prepared statements and no transaction
/// around them: the vehicle is read, then deleted at the version read, with
/// its place and its event, in one statement. A vehicle changed between the
/// two is read again; after a few tries it is false, and the caller deletes
/// it in a transaction that locks it.
fn delete_as_read(
    conn: &mut PgConnection,
    id: VehicleId,
    expected: Option<Version>,
    origin: &Origin,
) -> Result<bool, StoreError> {
    for _ in 0..3 {
        let row = vehicles::table
            .find(id.get())
            .first::<VehicleRow>(conn)
            .optional()?;
        let vehicle = match row {
            Some(row) => into_vehicle(row)?,
            None => return Err(Error::VehicleNotFound(id).into()),
        };
        if expected.is_some_and(|v| v != vehicle.version) {
            return Err(Error::Stale.into());
        }
        if at_once::delete(conn, &vehicle, origin)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Takes `count` vehicles out of garage `from` (one when a vehicle
/// leaves it, every one of them when they all move).
fn leave(conn: &mut DbConnection, from: GarageId, count: i32) -> Result<(), StoreError> {
    let left = diesel::update(garages::table.find(from.get()))
        .set((
            garages::vehicle_count.eq(garages::vehicle_count - count),
            garages::version.eq(garages::version + 1),
        ))
        .execute(conn)?;
    if left == 1 {
        Ok(())
    } else {
        Err(Error::GarageNotFound(from).into())
    }
}

/// Brings `count` vehicles into garage `to`, if it has room for them all.
fn arrive(conn: &mut DbConnection, to: GarageId, count: i32) -> Result<(), StoreError> {
    let arrived = diesel::update(
        garages::table.find(to.get()).filter(
            garages::capacity
                .is_null()
                .or((garages::vehicle_count + count)
                    .nullable()
                    .le(garages::capacity)),
        ),
    )
    .set((
        garages::vehicle_count.eq(garages::vehicle_count + count),
        garages::version.eq(garages::version + 1),
    ))
    .execute(conn)?;
    if arrived == 1 {
        return Ok(());
    }
    let room: Option<(Option<i32>, i32)> = garages::table
        .find(to.get())
        .select((garages::capacity, garages::vehicle_count))
        .first(conn)
        .optional()?;
    Err(match room {
        None => Error::UnknownGarage(to),
        Some((capacity, held)) => Error::NotEnoughRoom {
            garage: to,
            free: capacity
                .unwrap_or(0)
                .saturating_sub(held)
                .max(0)
                .unsigned_abs(),
            moving: count.unsigned_abs(),
        },
    }
    .into())
}

/// The vehicle column a unique violation is about, read from the
/// constraint (PostgreSQL) or the message (SQLite).
fn unique_column(err: &StoreError) -> Option<&'static str> {
    match err {
        StoreError::Db(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
            let about = |name: &str| {
                info.constraint_name() == Some(&format!("vehicles_{name}_key"))
                    || info.message().ends_with(&format!("vehicles.{name}"))
            };
            ["license_plate", "vin"]
                .into_iter()
                .find(|name| about(name))
        }
        _ => None,
    }
}

/// Names the constraint a write broke in the domain's words.
fn constraint_error(
    err: StoreError,
    plate: Option<&LicensePlate>,
    vin: Option<&Vin>,
    garage: Option<GarageId>,
) -> StoreError {
    match (unique_column(&err), plate, vin) {
        (Some("license_plate"), Some(plate), _) => {
            return Error::DuplicatePlate(plate.clone()).into()
        }
        (Some("vin"), _, Some(vin)) => return Error::DuplicateVin(vin.clone()).into(),
        _ => {}
    }
    match (violation(&err), garage) {
        (Some(DatabaseErrorKind::ForeignKeyViolation), Some(garage)) => {
            Error::GarageNotFound(garage).into()
        }
        _ => err,
    }
}

/// Why a conditional write to vehicle `id` touched no row.
fn stale_or_missing(conn: &mut DbConnection, id: VehicleId) -> StoreError {
    match vehicles::table
        .find(id.get())
        .select(vehicles::id)
        .first::<i64>(conn)
        .optional()
    {
        Ok(Some(_)) => Error::Stale.into(),
        Ok(None) => Error::VehicleNotFound(id).into(),
        Err(err) => err.into(),
    }
}

/// The garage, when a list asks for one garage's vehicles in id order and
/// nothing else (every field named, so a new filter cannot slip past).
fn garage_only(filter: &VehicleFilter) -> Option<GarageId> {
    let VehicleFilter {
        plate,
        plate_contains,
        brand,
        garage_id,
        vin,
        year_min,
        year_max,
        within,
        sort,
        after_value,
    } = filter;
    let plain = plate.is_none()
        && plate_contains.is_none()
        && brand.is_none()
        && vin.is_none()
        && year_min.is_none()
        && year_max.is_none()
        && within.is_none()
        && after_value.is_none()
        && *sort == Sort::default();
    garage_id.filter(|_| plain)
}

fn into_vehicle(row: VehicleRow) -> Result<Vehicle, StoreError> {
    Ok(Vehicle::try_from(row).map_err(Error::from)?)
}

#[async_trait]
impl VehicleRepository for DieselVehicleRepository {
    async fn list(&self, filter: VehicleFilter, page: PageRequest) -> Result<Page<Vehicle>, Error> {
        self.reads
            .run(move |conn| {
                let limit = i64::from(page.limit.get()) + 1;
                if let Some(garage) = garage_only(&filter) {
                    // The list every garage's screen opens with, as one
                    // static statement: prepared once per connection, its
                    // SQL never written again (a boxed query writes its
                    // text anew on every call to find its prepared form).
                    // Ids start at 1, so `id > 0` is the first page.
                    let items = vehicles::table
                        .select(VehicleRow::as_select())
                        .filter(vehicles::garage_id.eq(garage.get()))
                        .filter(vehicles::id.gt(page.after.unwrap_or(0)))
                        .order(vehicles::id)
                        .limit(limit)
                        .load(conn)?
                        .into_iter()
                        .map(into_vehicle)
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok(Page::from_rows(items, page.limit, |v| v.id.get()));
                }
                let sqlite = matches!(conn, DbConnection::Sqlite(_));
                let mut query = vehicles::table
                    .select(VehicleRow::as_select())
                    .limit(limit)
                    .into_boxed();
                if let Some(garage) = filter.garage_id {
                    query = query.filter(vehicles::garage_id.eq(garage.get()));
                }
                if let Some(within) = filter.within {
                    let ids: Vec<i64> = within.iter().map(|g| g.get()).collect();
                    query = query.filter(vehicles::garage_id.eq_any(ids));
                }
                if let Some(plate) = filter.plate {
                    query = query.filter(vehicles::license_plate.eq(plate.as_str().to_owned()));
                }
                if let Some(part) = filter.plate_contains {
                    // Letters and digits only: nothing to escape.
                    let pattern = format!("%{}%", part.as_str());
                    if sqlite && part.as_str().len() >= 3 {
                        // From SQLite's trigram index of the plates (it
                        // needs three characters; PostgreSQL's pg_trgm
                        // index serves the plain LIKE below).
                        query = query.filter(
                            diesel::dsl::sql::<diesel::sql_types::Bool>(
                                "vehicles.id IN (SELECT rowid FROM vehicle_plates \
                                 WHERE license_plate LIKE ",
                            )
                            .bind::<diesel::sql_types::Text, _>(pattern)
                            .sql(")"),
                        );
                    } else {
                        query = query.filter(vehicles::license_plate.like(pattern));
                    }
                }
                if let Some(vin) = filter.vin {
                    query = query.filter(vehicles::vin.eq(vin.as_str().to_owned()));
                }
                if let Some(brand) = filter.brand {
                    query = query.filter(lower(vehicles::brand).eq(brand.to_lowercase()));
                }
                if let Some(year) = filter.year_min {
                    query = query.filter(vehicles::year.ge(i32::from(year.get())));
                }
                if let Some(year) = filter.year_max {
                    query = query.filter(vehicles::year.le(i32::from(year.get())));
                }
                let desc = filter.sort.descending;
                let after = filter.after_value;
                let query = match filter.sort.by {
                    VehicleSortKey::Id => {
                        let query = if desc {
                            query.order(vehicles::id.desc())
                        } else {
                            query.order(vehicles::id)
                        };
                        match page.after {
                            Some(id) if desc => query.filter(vehicles::id.lt(id)),
                            Some(id) => query.filter(vehicles::id.gt(id)),
                            None => query,
                        }
                    }
                    VehicleSortKey::LicensePlate => {
                        let after = keyset::text(after)?.zip(page.after);
                        sorted!(query, vehicles::license_plate, vehicles::id, desc, after)
                    }
                    VehicleSortKey::Brand => {
                        let after = keyset::text(after)?.zip(page.after);
                        sorted!(query, vehicles::brand, vehicles::id, desc, after)
                    }
                    VehicleSortKey::Model => {
                        let after = keyset::text(after)?.zip(page.after);
                        sorted!(query, vehicles::model, vehicles::id, desc, after)
                    }
                    VehicleSortKey::Year => {
                        let after = keyset::int::<i32>(after)?.zip(page.after);
                        sorted!(query, vehicles::year, vehicles::id, desc, after)
                    }
                    VehicleSortKey::Garage => {
                        let after = keyset::int::<i64>(after)?.zip(page.after);
                        sorted!(query, vehicles::garage_id, vehicles::id, desc, after)
                    }
                    VehicleSortKey::UpdatedAt => {
                        let after = keyset::time(after)?.zip(page.after);
                        sorted!(query, vehicles::updated_at, vehicles::id, desc, after)
                    }
                };
                let items = query
                    .load(conn)?
                    .into_iter()
                    .map(into_vehicle)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Page::from_rows(items, page.limit, |v| v.id.get()))
            })
            .await
    }

    async fn figures(
        &self,
        within: Option<Vec<GarageId>>,
        top: u32,
    ) -> Result<VehicleFigures, Error> {
        use diesel::dsl::count_star;

        let ids: Option<Vec<i64>> = within.map(|w| w.iter().map(|g| g.get()).collect());
        self.reads
            .run(move |conn| {
                let scoped = || {
                    let mut query = vehicles::table.into_boxed();
                    if let Some(ids) = &ids {
                        query = query.filter(vehicles::garage_id.eq_any(ids.clone()));
                    }
                    query
                };
                let count: i64 = scoped().select(count_star()).first(conn)?;
                let mut brands = vehicles::table
                    .group_by(vehicles::brand)
                    .select((vehicles::brand, count_star()))
                    .order((count_star().desc(), vehicles::brand))
                    .limit(i64::from(top))
                    .into_boxed();
                let mut years = vehicles::table
                    .group_by(vehicles::year)
                    .select((vehicles::year, count_star()))
                    .order(vehicles::year)
                    .into_boxed();
                if let Some(ids) = &ids {
                    brands = brands.filter(vehicles::garage_id.eq_any(ids.clone()));
                    years = years.filter(vehicles::garage_id.eq_any(ids.clone()));
                }
                let brands: Vec<(String, i64)> = brands.load(conn)?;
                let years: Vec<(i32, i64)> = years.load(conn)?;
                let whole = |n: i64| u64::try_from(n).unwrap_or(0);
                Ok(VehicleFigures {
                    vehicles: whole(count),
                    top_brands: brands
                        .into_iter()
                        .map(|(brand, n)| BrandCount {
                            brand,
                            vehicles: whole(n),
                        })
                        .collect(),
                    by_year: years
                        .into_iter()
                        .filter_map(|(year, n)| Some((u16::try_from(year).ok()?, whole(n))))
                        .collect(),
                })
            })
            .await
    }

    async fn get(&self, id: VehicleId) -> Result<Option<Vehicle>, Error> {
        self.reads
            .run(move |conn| {
                vehicles::table
                    .find(id.get())
                    .select(VehicleRow::as_select())
                    .first(conn)
                    .optional()?
                    .map(into_vehicle)
                    .transpose()
            })
            .await
    }

    async fn create(&self, vehicle: NewVehicle, origin: Origin) -> Result<Vehicle, Error> {
        let (vehicle, origin) = match &self.creations {
            Some(batches) => match batches.write((vehicle, origin)).await {
                Outcome::Done(row) => return Ok(into_vehicle(row)?),
                Outcome::Failed(err) => return Err(err),
                Outcome::Alone(asked) => asked,
            },
            None => (vehicle, origin),
        };
        self.db
            .write(move |conn| {
                let refused = |err: DieselError| {
                    constraint_error(
                        err.into(),
                        Some(&vehicle.license_plate),
                        vehicle.vin.as_ref(),
                        Some(vehicle.garage_id),
                    )
                };
                if let DbConnection::Pg(pg) = conn {
                    return match at_once::create(pg, &vehicle, &origin).map_err(refused)? {
                        Some(row) => into_vehicle(row),
                        None => Err(no_place(conn, vehicle.garage_id)),
                    };
                }
                conn.transaction(|conn| {
                    take_place(conn, vehicle.garage_id)?;
                    let row = diesel::insert_into(vehicles::table)
                        .values(NewVehicleRow::of(&vehicle, now()))
                        .returning(vehicles::all_columns)
                        .get_result::<VehicleRow>(conn)
                        .map_err(refused)?;
                    let vehicle = into_vehicle(row)?;
                    record_one(conn, &origin, NewEvent::vehicle_created(&vehicle))?;
                    Ok(vehicle)
                })
            })
            .await
    }

    async fn update(
        &self,
        id: VehicleId,
        changes: VehicleChanges,
        expected: Option<Version>,
        origin: Origin,
    ) -> Result<Vehicle, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    let at = now();
                    // Locks the vehicle first, so concurrent moves of it queue
                    // here and each sees where the last one left it; the
                    // version check is part of the same statement. It
                    // returns the vehicle as it was, for the event.
                    let before = match diesel::update(
                        vehicles::table
                            .find(id.get())
                            .filter(at_version(vehicles::version, expected)),
                    )
                    .set((
                        vehicles::updated_at.eq(at),
                        vehicles::version.eq(vehicles::version + 1),
                    ))
                    .returning(vehicles::all_columns)
                    .get_result::<VehicleRow>(conn)
                    .optional()?
                    {
                        Some(row) => into_vehicle(row)?,
                        None => return Err(stale_or_missing(conn, id)),
                    };
                    let current = before.garage_id.get();
                    if let Some(target) = changes.garage_id.filter(|g| g.get() != current) {
                        // Garages are locked in id order so two opposite moves
                        // cannot deadlock.
                        if target.get() < current {
                            take_place(conn, target)?;
                            leave(conn, before.garage_id, 1)?;
                        } else {
                            leave(conn, before.garage_id, 1)?;
                            take_place(conn, target)?;
                        }
                    }
                    let row = diesel::update(vehicles::table.find(id.get()))
                        .set(VehicleChangeset {
                            garage_id: changes.garage_id.map(|g| g.get()),
                            brand: changes.brand.as_ref().map(|b| b.as_str()),
                            model: changes.model.as_ref().map(|m| m.as_str()),
                            year: changes.year.map(|y| i32::from(y.get())),
                            license_plate: changes.license_plate.as_ref().map(|p| p.as_str()),
                            vin: changes.vin.as_ref().map(|v| v.as_ref().map(Vin::as_str)),
                            registered_on: changes.registered_on,
                        })
                        .returning(vehicles::all_columns)
                        .get_result::<VehicleRow>(conn)
                        .map_err(|err| {
                            constraint_error(
                                err.into(),
                                changes.license_plate.as_ref(),
                                changes.vin.as_ref().and_then(Option::as_ref),
                                changes.garage_id,
                            )
                        })?;
                    let after = into_vehicle(row)?;
                    if let Some(event) = NewEvent::vehicle_updated(&before, &after) {
                        record_one(conn, &origin, event)?;
                    }
                    Ok(after)
                })
            })
            .await
    }

    async fn move_all(&self, from: GarageId, to: GarageId, origin: Origin) -> Result<u32, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    // The vehicles first, then their garages in id order, as
                    // a single vehicle's move locks them: no deadlock between
                    // the two.
                    let moved: Vec<VehicleRow> =
                        diesel::update(vehicles::table.filter(vehicles::garage_id.eq(from.get())))
                            .set((
                                vehicles::garage_id.eq(to.get()),
                                vehicles::updated_at.eq(now()),
                                vehicles::version.eq(vehicles::version + 1),
                            ))
                            .returning(vehicles::all_columns)
                            .get_results(conn)
                            .map_err(|err| match err {
                                // Vehicles may only be in a garage that exists.
                                DieselError::DatabaseError(
                                    DatabaseErrorKind::ForeignKeyViolation,
                                    _,
                                ) => StoreError::from(Error::UnknownGarage(to)),
                                other => other.into(),
                            })?;
                    let count = i32::try_from(moved.len())
                        .map_err(|_| Error::Internal(anyhow::anyhow!("too many vehicles")))?;
                    if count == 0 {
                        // Nothing moves, nothing changes: both must exist all the same.
                        let exists = |conn: &mut DbConnection, id: GarageId| {
                            diesel::select(diesel::dsl::exists(garages::table.find(id.get())))
                                .get_result::<bool>(conn)
                        };
                        if !exists(conn, from)? {
                            return Err(Error::GarageNotFound(from).into());
                        }
                        if !exists(conn, to)? {
                            return Err(Error::UnknownGarage(to).into());
                        }
                        return Ok(0);
                    }
                    if from < to {
                        leave(conn, from, count)?;
                        arrive(conn, to, count)?;
                    } else {
                        arrive(conn, to, count)?;
                        leave(conn, from, count)?;
                    }
                    let events = moved
                        .into_iter()
                        .map(|row| {
                            let after = into_vehicle(row)?;
                            let before = Vehicle {
                                garage_id: from,
                                ..after.clone()
                            };
                            NewEvent::vehicle_updated(&before, &after).ok_or_else(|| {
                                Error::Internal(anyhow::anyhow!("a move changed nothing")).into()
                            })
                        })
                        .collect::<Result<Vec<_>, StoreError>>()?;
                    record(conn, &origin, &events)?;
                    Ok(count.unsigned_abs())
                })
            })
            .await
    }

    async fn delete(
        &self,
        id: VehicleId,
        expected: Option<Version>,
        origin: Origin,
    ) -> Result<(), Error> {
        let (id, expected, origin) = match &self.deletions {
            Some(batches) => match batches.write((id, expected, origin)).await {
                Outcome::Done(()) => return Ok(()),
                Outcome::Failed(err) => return Err(err),
                Outcome::Alone(asked) => asked,
            },
            None => (id, expected, origin),
        };
        self.db
            .write(move |conn| {
                if let DbConnection::Pg(pg) = conn {
                    if delete_as_read(pg, id, expected, &origin)? {
                        return Ok(());
                    }
                }
                conn.transaction(|conn| {
                    let row = diesel::delete(
                        vehicles::table
                            .find(id.get())
                            .filter(at_version(vehicles::version, expected)),
                    )
                    .returning(vehicles::all_columns)
                    .get_result::<VehicleRow>(conn)
                    .optional()?;
                    match row {
                        Some(row) => {
                            let vehicle = into_vehicle(row)?;
                            leave(conn, vehicle.garage_id, 1)?;
                            record_one(conn, &origin, NewEvent::vehicle_deleted(&vehicle))
                        }
                        None => Err(stale_or_missing(conn, id)),
                    }
                })
            })
            .await
    }

    async fn import(
        &self,
        rows: ImportRows,
        options: ImportOptions,
        origin: Origin,
    ) -> Result<ImportReport, Error> {
        self.db
            .patient()
            .write(move |conn| Import::run(conn, rows, options, &origin))
            .await
    }
}
