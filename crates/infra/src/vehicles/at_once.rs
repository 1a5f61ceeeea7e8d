//! PostgreSQL's one-statement writes: the hot writes of a vehicle as one
//! statement each (data-modifying CTEs), so one round trip, with no BEGIN
//! or COMMIT, still all or nothing; and an import's new rows, one statement
//! a batch inside the import's transaction.
//!
//! Each is a query type of its own rather than `sql_query`, and so Diesel
//! prepares it once per connection. Diesel never caches `sql_query` text,
//! nor its UPDATE statements or inserts with defaults: the server parses
//! and plans them on every call, which for the creation cost more than half
//! of the server's work (pgbench, 64 clients: 3,900 tps unprepared, 9,200
//! prepared).

use chrono::NaiveDateTime;
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, Timestamp, Untyped};
use garage_domain::events::{EventKind, NewEvent, Origin};
use garage_domain::{NewVehicle, Vehicle, VehicleId, Version};

use super::batch::Gathered;
use crate::rows::{now, NewVehicleRow, VehicleRow};

/// The columns of an event that say who made it and when, bound in the
/// order `EVENT_COLUMNS` names them.
struct Made<'a> {
    kind: &'a str,
    at: NaiveDateTime,
    key_id: Option<i64>,
    actor: &'a str,
    request_id: Option<&'a str>,
}

const EVENT_COLUMNS: &str = "INSERT INTO events (type, occurred_at, actor_key_id, actor_name, \
     request_id, garage_id, vehicle_id, changes) SELECT ";

impl<'a> Made<'a> {
    fn new(event: &'a NewEvent, origin: &'a Origin, at: NaiveDateTime) -> Self {
        Self {
            kind: event.kind.as_str(),
            at,
            key_id: origin.actor.key_id.map(|k| k.get()),
            actor: origin.actor.name.as_str(),
            request_id: origin.request_id.as_deref(),
        }
    }

    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<Text, _>(self.kind)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&self.key_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.actor)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.request_id)?;
        Ok(())
    }
}

fn changes_of(event: &NewEvent) -> Result<String, DieselError> {
    serde_json::to_string(&event.changes)
        .map_err(|err| DieselError::SerializationError(Box::new(err)))
}

/// Who asked for each write of a batch statement, and what its event
/// says: four arrays bound beside the rows' own (`AUTHOR_COLUMNS`), with
/// the kind and time every event of the batch shares.
struct Authors<'a> {
    key_ids: Vec<Option<i64>>,
    actors: Vec<&'a str>,
    request_ids: Vec<Option<&'a str>>,
    changes: Vec<String>,
    kind: &'a str,
    at: NaiveDateTime,
}

/// The names `Authors::push_arrays` binds under, in its order.
const AUTHOR_COLUMNS: &str = "key_id, actor, request_id, changes";

impl<'a> Authors<'a> {
    fn new(kind: EventKind, at: NaiveDateTime, writes: usize) -> Self {
        Self {
            key_ids: Vec::with_capacity(writes),
            actors: Vec::with_capacity(writes),
            request_ids: Vec::with_capacity(writes),
            changes: Vec::with_capacity(writes),
            kind: kind.as_str(),
            at,
        }
    }

    /// The next write's: who asked for it, and its event.
    fn add(&mut self, origin: &'a Origin, event: &NewEvent) -> Result<(), DieselError> {
        self.key_ids.push(origin.actor.key_id.map(|k| k.get()));
        self.actors.push(origin.actor.name.as_str());
        self.request_ids.push(origin.request_id.as_deref());
        self.changes.push(changes_of(event)?);
        Ok(())
    }

    /// `, $key_ids, $actors, $request_ids, $changes`
    fn push_arrays<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        use diesel::sql_types::Array;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.key_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.actors)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.request_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.changes)
    }

    /// `$kind, $at`
    fn push_kind_at<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<Text, _>(self.kind)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.at)
    }
}

/// The columns a creation returns, named: a prepared statement keeps the
/// result columns it was prepared with, so `*` would break every pooled
/// connection's statement when a migration adds a column to `vehicles`.
const VEHICLE_COLUMNS: &str =
    "id, garage_id, brand, model, year, license_plate, created_at, updated_at, version, vin, \
     registered_on, odometer_km";

/// Makes a query type a prepared, cached statement run by `RunQueryDsl`.
macro_rules! prepared {
    ($name:ident) => {
        impl QueryId for $name<'_> {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl Query for $name<'_> {
            type SqlType = Untyped;
        }

        impl RunQueryDsl<PgConnection> for $name<'_> {}
    };
}

/// A creation: the place taken in the garage (the conditional increment
/// where the capacity rule holds), the row, and its event.
struct CreateAtOnce<'a> {
    /// The row as inserted; its garage is the place taken.
    row: NewVehicleRow<'a>,
    made: Made<'a>,
    /// The event's changes as the domain words them, without the id yet.
    changes: String,
}

prepared!(CreateAtOnce);

impl QueryFragment<Pg> for CreateAtOnce<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "WITH place AS (\
               UPDATE garages SET vehicle_count = vehicle_count + 1, version = version + 1 \
                WHERE (capacity IS NULL OR vehicle_count < capacity) AND id = ",
        );
        out.push_bind_param::<BigInt, _>(&self.row.garage_id)?;
        out.push_sql(
            " RETURNING id\
             ), created AS (\
               INSERT INTO vehicles (garage_id, brand, model, year, license_plate, vin, registered_on, created_at, updated_at) \
               SELECT id, ",
        );
        out.push_bind_param::<Text, _>(self.row.brand)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.row.model)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&self.row.year)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.row.license_plate)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.row.vin)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Date>, _>(&self.row.registered_on)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.row.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.row.updated_at)?;
        out.push_sql(" FROM place RETURNING ");
        out.push_sql(VEHICLE_COLUMNS);
        out.push_sql("), recorded AS (");
        out.push_sql(EVENT_COLUMNS);
        self.made.push(&mut out)?;
        // The row's id goes into the event here.
        out.push_sql(", garage_id, id, jsonb_set(");
        out.push_bind_param::<Text, _>(&self.changes)?;
        out.push_sql("::jsonb, '{id}', to_jsonb(id))::text FROM created) SELECT ");
        out.push_sql(VEHICLE_COLUMNS);
        out.push_sql(" FROM created");
        Ok(())
    }
}

/// Creates `vehicle` with its event; `None` when the garage had no place
/// (missing or full: the caller asks which).
pub(super) fn create(
    conn: &mut PgConnection,
    vehicle: &NewVehicle,
    origin: &Origin,
) -> Result<Option<VehicleRow>, DieselError> {
    let placeholder = VehicleId::parse(1).expect("1 is an id");
    let event = NewEvent::vehicle_imported(placeholder, vehicle);
    let at = now();
    CreateAtOnce {
        row: NewVehicleRow::of(vehicle, at),
        made: Made::new(&event, origin, at),
        changes: changes_of(&event)?,
    }
    .get_result::<VehicleRow>(conn)
    .optional()
}

/// A deletion of a vehicle at the version it was read at: the row, its
/// place in its garage, and its event. Inserts one event when it deleted
/// the row, none when the vehicle changed or went since it was read.
struct DeleteAtOnce<'a> {
    id: i64,
    version: i64,
    garage: i64,
    made: Made<'a>,
    changes: String,
}

prepared!(DeleteAtOnce);

impl QueryFragment<Pg> for DeleteAtOnce<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH gone AS (DELETE FROM vehicles WHERE id = ");
        out.push_bind_param::<BigInt, _>(&self.id)?;
        out.push_sql(" AND version = ");
        out.push_bind_param::<BigInt, _>(&self.version)?;
        out.push_sql(
            " RETURNING garage_id\
             ), freed AS (\
               UPDATE garages SET vehicle_count = vehicle_count - 1, version = version + 1 \
                WHERE id IN (SELECT garage_id FROM gone)\
             ) ",
        );
        out.push_sql(EVENT_COLUMNS);
        self.made.push(&mut out)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&self.garage)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&self.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.changes)?;
        out.push_sql(" FROM gone");
        Ok(())
    }
}

/// Deletes `vehicle`, as read, with its event: false when it changed or
/// went since it was read (nothing was written).
pub(super) fn delete(
    conn: &mut PgConnection,
    vehicle: &Vehicle,
    origin: &Origin,
) -> Result<bool, DieselError> {
    let event = NewEvent::vehicle_deleted(vehicle);
    let deleted = DeleteAtOnce {
        id: vehicle.id.get(),
        version: vehicle.version.get(),
        garage: vehicle.garage_id.get(),
        made: Made::new(&event, origin, now()),
        changes: changes_of(&event)?,
    }
    .execute(conn)?;
    Ok(deleted == 1)
}

/// A batch's new vehicles, field by field: seven arrays bound in the order
/// `FIELD_COLUMNS` names them.
struct Fields<'a> {
    garages: Vec<i64>,
    brands: Vec<&'a str>,
    models: Vec<&'a str>,
    years: Vec<i32>,
    plates: Vec<&'a str>,
    vins: Vec<Option<&'a str>>,
    registered: Vec<Option<chrono::NaiveDate>>,
}

/// The names `Fields::push_arrays` binds under, in its order.
const FIELD_COLUMNS: &str = "garage_id, brand, model, year, license_plate, vin, registered_on";

impl<'a> Fields<'a> {
    fn new(rows: usize) -> Self {
        Self {
            garages: Vec::with_capacity(rows),
            brands: Vec::with_capacity(rows),
            models: Vec::with_capacity(rows),
            years: Vec::with_capacity(rows),
            plates: Vec::with_capacity(rows),
            vins: Vec::with_capacity(rows),
            registered: Vec::with_capacity(rows),
        }
    }

    fn add(&mut self, row: &NewVehicleRow<'a>) {
        self.garages.push(row.garage_id);
        self.brands.push(row.brand);
        self.models.push(row.model);
        self.years.push(row.year);
        self.plates.push(row.license_plate);
        self.vins.push(row.vin);
        self.registered.push(row.registered_on);
    }

    /// `$garages, $brands, $models, $years, $plates, $vins, $registered`
    fn push_arrays<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        use diesel::sql_types::Array;
        out.push_bind_param::<Array<BigInt>, _>(&self.garages)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.brands)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.models)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Integer>, _>(&self.years)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.plates)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.vins)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Date>>, _>(&self.registered)
    }
}

/// An import's new vehicles, as one prepared statement over arrays: a
/// multi-row `INSERT` of 500 rows is new SQL to the server each time, parsed
/// and planned again (a tenth of an import's time in PostgreSQL). Returns
/// each row's id with its plate.
struct InsertRows<'a> {
    fields: Fields<'a>,
    odometers: Vec<Option<i32>>,
    created: Vec<NaiveDateTime>,
    updated: Vec<NaiveDateTime>,
}

prepared!(InsertRows);

impl QueryFragment<Pg> for InsertRows<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        use diesel::sql_types::Array;
        out.push_sql("INSERT INTO vehicles (");
        out.push_sql(FIELD_COLUMNS);
        out.push_sql(", odometer_km, created_at, updated_at) SELECT * FROM unnest(");
        self.fields.push_arrays(&mut out)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Integer>>, _>(&self.odometers)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.created)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.updated)?;
        out.push_sql(") RETURNING id, license_plate");
        Ok(())
    }
}

/// A row `InsertRows` inserted.
#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    license_plate: String,
}

/// Inserts an import's `rows`; returns each one's id with its plate.
pub(super) fn insert_rows(
    conn: &mut PgConnection,
    rows: &[NewVehicleRow<'_>],
) -> Result<Vec<(i64, String)>, DieselError> {
    let mut fields = Fields::new(rows.len());
    rows.iter().for_each(|row| fields.add(row));
    let inserted: Vec<Inserted> = InsertRows {
        fields,
        odometers: rows.iter().map(|r| r.odometer_km).collect(),
        created: rows.iter().map(|r| r.created_at).collect(),
        updated: rows.iter().map(|r| r.updated_at).collect(),
    }
    .load(conn)?;
    Ok(inserted
        .into_iter()
        .map(|row| (row.id, row.license_plate))
        .collect())
}

/// Creations asked for by many requests at once, as one statement: what
/// each would do alone (a place in its garage, the row, its event), for
/// every one that can be done without a doubt. A vehicle whose plate or VIN
/// is already registered, or whose garage is missing or has no room for all
/// of the batch's vehicles, is left out, for its request to try alone and
/// get the precise answer; a plate registered meanwhile by another writer
/// fails the whole statement, and so every request tries alone.
///
/// Garages are locked in id order before any row is written, as every
/// other writer of several garages does, so batches cannot deadlock.
struct CreateMany<'a> {
    fields: Fields<'a>,
    authors: Authors<'a>,
}

prepared!(CreateMany);

impl QueryFragment<Pg> for CreateMany<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH asked AS (SELECT * FROM unnest(");
        self.fields.push_arrays(&mut out)?;
        self.authors.push_arrays(&mut out)?;
        out.push_sql(") AS a(");
        out.push_sql(FIELD_COLUMNS);
        out.push_sql(", ");
        out.push_sql(AUTHOR_COLUMNS);
        out.push_sql(
            ")\
             ), fresh AS (\
               SELECT a.* FROM asked a \
                WHERE NOT EXISTS (SELECT 1 FROM vehicles v WHERE v.license_plate = a.license_plate) \
                  AND (a.vin IS NULL OR NOT EXISTS (SELECT 1 FROM vehicles v WHERE v.vin = a.vin))\
             ), wanted AS (\
               SELECT garage_id, count(*) AS n FROM fresh GROUP BY garage_id\
             ), held AS (\
               SELECT g.id, w.n FROM garages g JOIN wanted w ON w.garage_id = g.id \
                WHERE g.capacity IS NULL OR g.vehicle_count + w.n <= g.capacity \
                ORDER BY g.id FOR NO KEY UPDATE OF g\
             ), placed AS (\
               UPDATE garages g SET vehicle_count = g.vehicle_count + h.n, version = g.version + h.n \
                 FROM held h WHERE g.id = h.id\
             ), created AS (\
               INSERT INTO vehicles (garage_id, brand, model, year, license_plate, vin, registered_on, created_at, updated_at) \
               SELECT f.garage_id, f.brand, f.model, f.year, f.license_plate, f.vin, f.registered_on, ",
        );
        out.push_bind_param::<Timestamp, _>(&self.authors.at)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.authors.at)?;
        // The scalar subquery runs whole before the first row is inserted:
        // every garage is locked first.
        out.push_sql(
            " FROM fresh f WHERE f.garage_id = ANY ((SELECT array_agg(id) FROM held)::bigint[]) \
               RETURNING ",
        );
        out.push_sql(VEHICLE_COLUMNS);
        out.push_sql(
            "), recorded AS (\
               INSERT INTO events (type, occurred_at, actor_key_id, actor_name, request_id, garage_id, vehicle_id, changes) \
               SELECT ",
        );
        self.authors.push_kind_at(&mut out)?;
        out.push_sql(
            ", f.key_id, f.actor, f.request_id, c.garage_id, c.id, \
                    jsonb_set(f.changes::jsonb, '{id}', to_jsonb(c.id))::text \
               FROM created c JOIN fresh f ON f.license_plate = c.license_plate\
             ) SELECT ",
        );
        out.push_sql(VEHICLE_COLUMNS);
        out.push_sql(" FROM created");
        Ok(())
    }
}

/// Creations gathered (see `batch`): no two of a batch share a plate or a
/// VIN.
pub(super) struct Creations;

impl Gathered for Creations {
    type Asked = (NewVehicle, Origin);
    type Done = VehicleRow;

    fn keys((vehicle, _): &Self::Asked) -> Vec<String> {
        let mut keys = vec![format!("plate {}", vehicle.license_plate.as_str())];
        keys.extend(
            vehicle
                .vin
                .as_ref()
                .map(|vin| format!("vin {}", vin.as_str())),
        );
        keys
    }

    fn garage((vehicle, _): &Self::Asked) -> Option<i64> {
        Some(vehicle.garage_id.get())
    }

    fn write(
        conn: &mut PgConnection,
        batch: &[Self::Asked],
    ) -> Result<Vec<Option<VehicleRow>>, DieselError> {
        let placeholder = VehicleId::parse(1).expect("1 is an id");
        let at = now();
        let mut statement = CreateMany {
            fields: Fields::new(batch.len()),
            authors: Authors::new(EventKind::VehicleCreated, at, batch.len()),
        };
        for (vehicle, origin) in batch {
            statement.fields.add(&NewVehicleRow::of(vehicle, at));
            statement
                .authors
                .add(origin, &NewEvent::vehicle_imported(placeholder, vehicle))?;
        }
        let mut made = statement.load::<VehicleRow>(conn)?;
        // Plates are canonical and distinct within a batch.
        Ok(batch
            .iter()
            .map(|(vehicle, _)| {
                let plate = vehicle.license_plate.as_str();
                let found = made.iter().position(|row| row.license_plate == plate)?;
                Some(made.swap_remove(found))
            })
            .collect())
    }
}

/// Deletions of vehicles at the version they are read at, as one
/// statement: each row, its place in its garage, and its event. A vehicle
/// that changed or went since it was read is left out. Rows come first,
/// then their garages, locked in id order, as every other writer of several
/// rows does. The ids are bound sorted, and the plan (a nested loop over
/// them) deletes in that order, but nothing forces it: two batches deleting
/// the same vehicles could deadlock, and PostgreSQL would then refuse one,
/// whose requests go alone.
struct DeleteMany<'a> {
    ids: Vec<i64>,
    versions: Vec<i64>,
    authors: Authors<'a>,
}

prepared!(DeleteMany);

impl QueryFragment<Pg> for DeleteMany<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        use diesel::sql_types::Array;
        out.push_sql("WITH asked AS (SELECT * FROM unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.versions)?;
        self.authors.push_arrays(&mut out)?;
        out.push_sql(") AS a(id, version, ");
        out.push_sql(AUTHOR_COLUMNS);
        out.push_sql(
            ")\
             ), gone AS (\
               DELETE FROM vehicles v USING asked a WHERE v.id = a.id AND v.version = a.version \
               RETURNING v.id, v.garage_id\
             ), freed AS (\
               SELECT garage_id, count(*) AS n FROM gone GROUP BY garage_id\
             ), held AS (\
               SELECT g.id, f.n FROM garages g JOIN freed f ON f.garage_id = g.id \
                ORDER BY g.id FOR NO KEY UPDATE OF g\
             ), counted AS (\
               UPDATE garages g SET vehicle_count = g.vehicle_count - h.n, version = g.version + h.n \
                 FROM held h WHERE g.id = h.id\
             ), recorded AS (\
               INSERT INTO events (type, occurred_at, actor_key_id, actor_name, request_id, garage_id, vehicle_id, changes) \
               SELECT ",
        );
        self.authors.push_kind_at(&mut out)?;
        out.push_sql(
            ", a.key_id, a.actor, a.request_id, g.garage_id, g.id, a.changes \
               FROM gone g JOIN asked a ON a.id = g.id\
             ) SELECT id FROM gone",
        );
        Ok(())
    }
}

/// Deletions gathered (see `batch`): a vehicle, the version its request
/// expects (if any), and who asks.
pub(super) struct Deletions;

impl Gathered for Deletions {
    type Asked = (VehicleId, Option<Version>, Origin);
    type Done = ();

    fn keys((id, ..): &Self::Asked) -> Vec<String> {
        vec![id.get().to_string()]
    }

    /// Unknown until the vehicle is read, in the batch.
    fn garage(_: &Self::Asked) -> Option<i64> {
        None
    }

    fn write(
        conn: &mut PgConnection,
        batch: &[Self::Asked],
    ) -> Result<Vec<Option<()>>, DieselError> {
        use crate::schema::vehicles;

        let ids: Vec<i64> = batch.iter().map(|(id, ..)| id.get()).collect();
        let mut rows: Vec<VehicleRow> = vehicles::table
            .filter(vehicles::id.eq_any(&ids))
            .select(VehicleRow::as_select())
            .load(conn)?;
        // Each vehicle as read, where its request's version allows: a row
        // that no longer reads as a vehicle is left to its request alone.
        let mut read: Vec<(Vehicle, &Origin)> = Vec::with_capacity(batch.len());
        for (id, expected, origin) in batch {
            let Some(found) = rows.iter().position(|row| row.id == id.get()) else {
                continue;
            };
            let Ok(vehicle) = Vehicle::try_from(rows.swap_remove(found)) else {
                continue;
            };
            if expected.is_none_or(|v| v == vehicle.version) {
                read.push((vehicle, origin));
            }
        }
        if read.is_empty() {
            return Ok(vec![None; batch.len()]);
        }
        read.sort_by_key(|(vehicle, _)| vehicle.id.get());
        let mut statement = DeleteMany {
            ids: Vec::with_capacity(read.len()),
            versions: Vec::with_capacity(read.len()),
            authors: Authors::new(EventKind::VehicleDeleted, now(), read.len()),
        };
        for (vehicle, origin) in &read {
            statement.ids.push(vehicle.id.get());
            statement.versions.push(vehicle.version.get());
            statement
                .authors
                .add(origin, &NewEvent::vehicle_deleted(vehicle))?;
        }
        #[derive(QueryableByName)]
        struct Gone {
            #[diesel(sql_type = BigInt)]
            id: i64,
        }
        let gone: Vec<Gone> = statement.load(conn)?;
        Ok(ids
            .iter()
            .map(|id| gone.iter().any(|g| g.id == *id).then_some(()))
            .collect())
    }
}
