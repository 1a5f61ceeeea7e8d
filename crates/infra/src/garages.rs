//! `GarageRepository` on Diesel.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use garage_domain::events::{NewEvent, Origin};
use garage_domain::overview::GarageFigures;
use garage_domain::search::search_key;
use garage_domain::{
    Error, Garage, GarageChanges, GarageFilter, GarageId, GarageRepository, GarageSortKey,
    NewGarage, Page, PageRequest, Version,
};

use crate::db::{violation, Database, DbConnection, StoreError};
use crate::events::record_one;
use crate::keyset::{self, sorted};
use crate::reads::Reads;
use crate::rows::{
    at_version, capacity_column, now, GarageChangeset, GarageRow, NewGarageRow, GARAGE_COLUMNS,
};
use crate::schema::garages;

#[derive(Debug, Clone)]
pub struct DieselGarageRepository {
    /// Writes, and the reads inside them.
    db: Database,
    /// Plain reads: the primary, or a replica.
    reads: Reads,
}

impl DieselGarageRepository {
    pub fn new(db: Database) -> Self {
        Self {
            reads: Reads::primary(db.clone()),
            db,
        }
    }

    /// Sends plain reads where `reads` says (a replica that may lag behind
    /// `primary`, see [`Reads`]).
    pub fn with_reads(primary: Database, reads: Reads) -> Self {
        Self { db: primary, reads }
    }
}

/// `text` as a LIKE pattern that matches it anywhere, its wildcards escaped.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn load(conn: &mut DbConnection, id: GarageId) -> Result<Option<Garage>, StoreError> {
    let row = garages::table
        .find(id.get())
        .select(GarageRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Garage::try_from).transpose().map_err(Error::from)?)
}

/// Locks garage `id` until the transaction ends and reads it.
fn lock(conn: &mut DbConnection, id: GarageId) -> Result<Option<Garage>, StoreError> {
    let row = diesel::update(garages::table.find(id.get()))
        .set(garages::version.eq(garages::version))
        .returning(GARAGE_COLUMNS)
        .get_result::<GarageRow>(conn)
        .optional()?;
    Ok(row.map(Garage::try_from).transpose().map_err(Error::from)?)
}

/// Why a conditional write to garage `id` touched no row: it is gone, it is
/// at another version than expected, or (`Ok`) it holds this many vehicles.
fn count_if_current(
    conn: &mut DbConnection,
    id: GarageId,
    expected: Option<Version>,
) -> Result<u32, StoreError> {
    let (count, version): (i32, i64) = garages::table
        .find(id.get())
        .select((garages::vehicle_count, garages::version))
        .first(conn)
        .optional()?
        .ok_or(Error::GarageNotFound(id))?;
    if expected.is_some_and(|v| v.get() != version) {
        return Err(Error::Stale.into());
    }
    Ok(count.max(0) as u32)
}

#[async_trait]
impl GarageRepository for DieselGarageRepository {
    async fn list(&self, filter: GarageFilter, page: PageRequest) -> Result<Page<Garage>, Error> {
        self.reads
            .run(move |conn| {
                let mut query = garages::table
                    .select(GarageRow::as_select())
                    .limit(i64::from(page.limit.get()) + 1)
                    .into_boxed();
                if let Some(within) = filter.within {
                    let ids: Vec<i64> = within.iter().map(|g| g.get()).collect();
                    query = query.filter(garages::id.eq_any(ids));
                }
                if let Some(text) = filter.name_contains {
                    let pattern = contains_pattern(&search_key(&text));
                    query = query.filter(garages::name_key.like(pattern).escape('\\'));
                }
                let desc = filter.sort.descending;
                let query = match filter.sort.by {
                    GarageSortKey::Id => {
                        let query = if desc {
                            query.order(garages::id.desc())
                        } else {
                            query.order(garages::id)
                        };
                        match page.after {
                            Some(after) if desc => query.filter(garages::id.lt(after)),
                            Some(after) => query.filter(garages::id.gt(after)),
                            None => query,
                        }
                    }
                    GarageSortKey::Name => {
                        let after = keyset::text(filter.after_value)?.zip(page.after);
                        sorted!(query, garages::name_key, garages::id, desc, after)
                    }
                    GarageSortKey::VehicleCount => {
                        let after = keyset::int::<i32>(filter.after_value)?.zip(page.after);
                        sorted!(query, garages::vehicle_count, garages::id, desc, after)
                    }
                };
                let rows = query.load(conn)?;
                let items = rows
                    .into_iter()
                    .map(Garage::try_from)
                    .collect::<anyhow::Result<Vec<_>>>()
                    .map_err(Error::from)?;
                Ok(Page::from_rows(items, page.limit, |g| g.id.get()))
            })
            .await
    }

    async fn figures(
        &self,
        within: Option<Vec<GarageId>>,
        top: u32,
    ) -> Result<GarageFigures, Error> {
        use diesel::dsl::{count_star, sql, sum};
        use diesel::sql_types::Double;

        let ids: Option<Vec<i64>> = within.map(|w| w.iter().map(|g| g.get()).collect());
        self.reads
            .run(move |conn| {
                let scoped = || {
                    let mut query = garages::table.into_boxed();
                    if let Some(ids) = &ids {
                        query = query.filter(garages::id.eq_any(ids.clone()));
                    }
                    query
                };
                let (count, vehicles): (i64, Option<i64>) = scoped()
                    .select((count_star(), sum(garages::vehicle_count)))
                    .first(conn)?;
                let (limited, capacity, held): (i64, Option<i64>, Option<i64>) = scoped()
                    .filter(garages::capacity.is_not_null())
                    .select((
                        count_star(),
                        sum(garages::capacity),
                        sum(garages::vehicle_count),
                    ))
                    .first(conn)?;
                let garages = |rows: Vec<GarageRow>| {
                    rows.into_iter()
                        .map(Garage::try_from)
                        .collect::<anyhow::Result<Vec<_>>>()
                        .map_err(Error::from)
                };
                let busiest = garages(
                    scoped()
                        .select(GarageRow::as_select())
                        .order((garages::vehicle_count.desc(), garages::id))
                        .limit(i64::from(top))
                        .load(conn)?,
                )?;
                let fullest = garages(
                    scoped()
                        .select(GarageRow::as_select())
                        .filter(garages::capacity.is_not_null())
                        .order((
                            sql::<Double>("CAST(vehicle_count AS DOUBLE PRECISION) / capacity")
                                .desc(),
                            garages::vehicle_count.desc(),
                            garages::id,
                        ))
                        .limit(i64::from(top))
                        .load(conn)?,
                )?;
                let whole = |n: Option<i64>| u64::try_from(n.unwrap_or(0)).unwrap_or(0);
                Ok(GarageFigures {
                    garages: whole(Some(count)),
                    unlimited: whole(Some(count - limited)),
                    capacity: whole(capacity),
                    held_in_limited: whole(held),
                    vehicles: whole(vehicles),
                    busiest,
                    fullest,
                })
            })
            .await
    }

    async fn get(&self, id: GarageId) -> Result<Option<Garage>, Error> {
        self.reads.run(move |conn| load(conn, id)).await
    }

    async fn create(&self, garage: NewGarage, origin: Origin) -> Result<Garage, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    let at = now();
                    let row = diesel::insert_into(garages::table)
                        .values(NewGarageRow {
                            name: garage.name.as_str(),
                            name_key: search_key(garage.name.as_str()),
                            address: garage.address.as_str(),
                            capacity: capacity_column(garage.capacity),
                            vehicle_count: 0,
                            created_at: at,
                            updated_at: at,
                        })
                        .returning(GARAGE_COLUMNS)
                        .get_result::<GarageRow>(conn)?;
                    let garage = Garage::try_from(row).map_err(Error::from)?;
                    record_one(conn, &origin, NewEvent::garage_created(&garage))?;
                    Ok(garage)
                })
            })
            .await
    }

    async fn update(
        &self,
        id: GarageId,
        changes: GarageChanges,
        expected: Option<Version>,
        origin: Origin,
    ) -> Result<Garage, Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    // Locks the garage and reads it as it was, for the event.
                    let before = match lock(conn, id)? {
                        Some(before) => before,
                        None => return Err(Error::GarageNotFound(id).into()),
                    };
                    let capacity = changes.capacity.map(capacity_column);
                    // The count check and the write are one statement: the
                    // row lock it takes orders it with vehicle writes.
                    let bound = capacity.flatten().unwrap_or(i32::MAX);
                    // So is the version check.
                    let row = diesel::update(
                        garages::table
                            .find(id.get())
                            .filter(garages::vehicle_count.le(bound))
                            .filter(at_version(garages::version, expected)),
                    )
                    .set((
                        GarageChangeset {
                            name: changes.name.as_ref().map(|n| n.as_str()),
                            name_key: changes.name.as_ref().map(|n| search_key(n.as_str())),
                            address: changes.address.as_ref().map(|a| a.as_str()),
                            capacity,
                        },
                        garages::updated_at.eq(now()),
                        garages::version.eq(garages::version + 1),
                    ))
                    .returning(GARAGE_COLUMNS)
                    .get_result::<GarageRow>(conn)
                    .optional()?;
                    match row {
                        Some(row) => {
                            let after = Garage::try_from(row).map_err(Error::from)?;
                            if let Some(event) = NewEvent::garage_updated(&before, &after) {
                                record_one(conn, &origin, event)?;
                            }
                            Ok(after)
                        }
                        None => Err(Error::CapacityBelowCount {
                            garage: id,
                            capacity: bound as u32,
                            count: count_if_current(conn, id, expected)?,
                        }
                        .into()),
                    }
                })
            })
            .await
    }

    async fn delete(
        &self,
        id: GarageId,
        expected: Option<Version>,
        origin: Origin,
    ) -> Result<(), Error> {
        self.db
            .write(move |conn| {
                conn.transaction(|conn| {
                    let deleted = diesel::delete(
                        garages::table
                            .find(id.get())
                            .filter(garages::vehicle_count.eq(0))
                            .filter(at_version(garages::version, expected)),
                    )
                    .returning(GARAGE_COLUMNS)
                    .get_result::<GarageRow>(conn)
                    .optional()
                    .map_err(StoreError::from);
                    match deleted {
                        Ok(Some(row)) => {
                            let garage = Garage::try_from(row).map_err(Error::from)?;
                            record_one(conn, &origin, NewEvent::garage_deleted(&garage))
                        }
                        Ok(None) => Err(Error::GarageNotEmpty {
                            garage: id,
                            count: count_if_current(conn, id, expected)?,
                        }
                        .into()),
                        // The foreign key is the last guard if a count ever drifts.
                        Err(err)
                            if violation(&err) == Some(DatabaseErrorKind::ForeignKeyViolation) =>
                        {
                            Err(Error::GarageNotEmpty {
                                garage: id,
                                count: 1,
                            }
                            .into())
                        }
                        Err(err) => Err(err),
                    }
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn like_wildcards_in_a_search_are_literal() {
        assert_eq!(contains_pattern("nord"), "%nord%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
