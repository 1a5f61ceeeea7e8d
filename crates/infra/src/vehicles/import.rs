//! Bulk import of vehicles: one transaction, every row checked, all written
//! or none.
//!
//! Rows stream through in batches, so memory holds one batch, the plates and
//! VINs already seen (to find repeats within the file) and the errors. Each
//! garage a row names is locked when first met, so the capacity counted here
//! is the one the commit lands on.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use diesel::prelude::*;
use diesel::result::Error as DieselError;
use garage_domain::care::{Km, NewReading};
use garage_domain::events::{NewEvent, Origin};
use garage_domain::{
    Error, GarageId, ImportMode, ImportOptions, ImportReport, ImportRows, LicensePlate, NewVehicle,
    Reason, RowError, Vehicle, VehicleId,
};

use crate::db::{DbConnection, StoreError};
use crate::events::record;
use crate::rows::{now, NewVehicleRow, VehicleRow};
use crate::schema::{garages, odometer_readings, vehicles};

/// Rows checked and inserted per round trip: SQLite's multi-row INSERT of
/// 500 rows of 10 columns stays far below its limit on bound parameters
/// (PostgreSQL binds a batch as 10 arrays).
const BATCH: usize = 500;

/// A batch's registered vehicles on PostgreSQL, each plate looked up on its
/// own (`LIMIT 1` keeps the lookups apart): a probe of the plate's unique
/// index each. `license_plate = ANY($1)` was answered from the trigram
/// index instead, since pg_trgm answers `=` too and the planner rated it
/// cheaper for many plates: 97 ms for a batch of 500 registered plates,
/// against 1.4 ms this way (5 ms with the locks).
const REGISTERED: &str = "SELECT v.* FROM unnest($1::text[]) AS p(plate) \
     CROSS JOIN LATERAL (SELECT * FROM vehicles WHERE license_plate = p.plate LIMIT 1) v";
/// The same, each vehicle locked at once or the import refused.
const REGISTERED_LOCKED: &str = "SELECT v.* FROM unnest($1::text[]) AS p(plate) \
     CROSS JOIN LATERAL (SELECT * FROM vehicles WHERE license_plate = p.plate \
     LIMIT 1 FOR UPDATE NOWAIT) v";

/// A reading an import records: the vehicle, its garage and plate (for the
/// event), what the odometer shows.
type Read<'a> = (VehicleId, GarageId, &'a LicensePlate, Km);

/// A garage the import puts vehicles in.
struct Room {
    capacity: Option<i64>,
    held: i64,
    added: i64,
}

/// A canonical plate or VIN (at most 17 upper-case letters and digits) as a
/// number, one to one: the import remembers every one it has seen, and a
/// number takes a fraction of the memory of a `String` in a map.
fn packed(text: &str) -> u128 {
    // Base 37 with digits 1..=36, so "0" and "00" differ; 37^17 < 2^128.
    text.bytes().fold(0, |n, b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0' + 1,
            _ => b.to_ascii_uppercase().saturating_sub(b'A') + 11,
        };
        n * 37 + u128::from(digit)
    })
}

/// The line `text` was first seen on, or `None` after noting this one.
fn first_line(seen: &mut HashMap<u128, u64>, text: &str, line: u64) -> Option<u64> {
    match seen.entry(packed(text)) {
        Entry::Occupied(first) => Some(*first.get()),
        Entry::Vacant(slot) => {
            slot.insert(line);
            None
        }
    }
}

/// Locks garage `id` until the transaction ends and reads its room, or
/// `None` when it does not exist. Its version moves with the count to come
/// (rolled back with everything else if need be).
fn lock_garage(conn: &mut DbConnection, id: i64) -> Result<Option<Room>, StoreError> {
    Ok(diesel::update(garages::table.find(id))
        .set(garages::version.eq(garages::version + 1))
        .returning((garages::capacity, garages::vehicle_count))
        .get_result::<(Option<i32>, i32)>(conn)
        .optional()?
        .map(|(capacity, held)| Room {
            capacity: capacity.map(i64::from),
            held: held.into(),
            added: 0,
        }))
}

pub(crate) struct Import<'o> {
    /// Who imports, for the events (one per vehicle).
    origin: &'o Origin,
    mode: ImportMode,
    /// Checks only: new vehicles are counted, not inserted (see `flush`).
    dry_run: bool,
    /// The garages the caller may reach, when limited.
    within: Option<Vec<GarageId>>,
    /// The fleet's today, the day of the odometers read.
    today: chrono::NaiveDate,
    report: ImportReport,
    /// Plates and VINs of the file so far (packed), with their line.
    plates: HashMap<u128, u64>,
    vins: HashMap<u128, u64>,
    /// `None`: the garage does not exist.
    garages: HashMap<i64, Option<Room>>,
    batch: Vec<(u64, NewVehicle)>,
    /// The odometer each plate of the batch gives, when its line says.
    odometers: HashMap<String, Km>,
}

impl<'o> Import<'o> {
    /// Runs an import in one transaction and reports on it; rolls back on a
    /// dry run or when any row is bad.
    pub(crate) fn run(
        conn: &mut DbConnection,
        rows: ImportRows,
        options: ImportOptions,
        origin: &'o Origin,
    ) -> Result<ImportReport, StoreError> {
        let ImportOptions {
            dry_run,
            mode,
            within,
            today,
        } = options;
        let mut import = Import {
            origin,
            mode,
            dry_run,
            within,
            today,
            report: ImportReport::default(),
            plates: HashMap::new(),
            vins: HashMap::new(),
            garages: HashMap::new(),
            batch: Vec::with_capacity(BATCH),
            odometers: HashMap::new(),
        };
        let outcome = conn.transaction(|conn| {
            for row in rows {
                let row = row.map_err(Error::Internal)?;
                import.report.rows += 1;
                match row.vehicle {
                    Ok(vehicle) => import.accept(conn, row.line, vehicle, row.odometer)?,
                    Err(errors) => {
                        for error in errors {
                            import.fail(
                                row.line,
                                error.column.as_deref(),
                                error.reason,
                                error.message,
                            );
                        }
                    }
                }
            }
            import.flush(conn)?;
            if !import.report.errors.is_empty() {
                // Nothing stays written: say so.
                import.report.imported = 0;
                import.report.updated = 0;
                import.report.unchanged = 0;
                return Err(StoreError::Db(DieselError::RollbackTransaction));
            }
            if dry_run {
                // Undone, and reported as what the import would do.
                return Err(StoreError::Db(DieselError::RollbackTransaction));
            }
            import.commit_counts(conn)?;
            Ok(())
        });
        match outcome {
            Ok(()) | Err(StoreError::Db(DieselError::RollbackTransaction)) => {
                // Rows failing the database's checks are found a batch after
                // the field errors of later rows: report in file order.
                import.report.errors.sort_by_key(|e| e.line);
                Ok(import.report)
            }
            Err(err) => Err(err),
        }
    }

    fn fail(&mut self, line: u64, field: Option<&str>, reason: Reason, message: String) {
        self.report.errors.push(RowError {
            line,
            field: field.map(str::to_owned),
            reason,
            message,
        });
    }

    /// Checks a row against the rows before it, and queues it.
    fn accept(
        &mut self,
        conn: &mut DbConnection,
        line: u64,
        vehicle: NewVehicle,
        odometer: Option<Km>,
    ) -> Result<(), StoreError> {
        let mut repeated = false;
        let plate = vehicle.license_plate.as_str();
        if let Some(first) = first_line(&mut self.plates, plate, line) {
            self.fail(
                line,
                Some("license_plate"),
                Reason::Duplicate,
                format!("license plate {plate} is already on line {first}"),
            );
            repeated = true;
        }
        if let Some(vin) = &vehicle.vin {
            if let Some(first) = first_line(&mut self.vins, vin.as_str(), line) {
                self.fail(
                    line,
                    Some("vin"),
                    Reason::Duplicate,
                    format!("VIN {vin} is already on line {first}"),
                );
                repeated = true;
            }
        }
        if !repeated {
            // Plates are unique among the rows kept: one odometer each.
            if let Some(km) = odometer {
                self.odometers.insert(plate.to_owned(), km);
            }
            self.batch.push((line, vehicle));
            if self.batch.len() == BATCH {
                self.flush(conn)?;
            }
        }
        Ok(())
    }

    /// Checks the queued rows against the database, and writes them while
    /// no row has failed (once one has, the import will roll back: checking
    /// goes on, writing need not). A row whose plate is registered updates
    /// that vehicle in `Upsert` mode, and is refused otherwise.
    fn flush(&mut self, conn: &mut DbConnection) -> Result<(), StoreError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let plates: Vec<&str> = batch
            .iter()
            .map(|(_, v)| v.license_plate.as_str())
            .collect();
        let registered: Vec<VehicleRow> = match &mut *conn {
            // Locked until the import ends, so none changes or goes under
            // it; never waited for, so an import holding garages never
            // waits on a vehicle a single write holds (that write waits on
            // the garages: a deadlock). A vehicle being written is a
            // retry, not a wait.
            DbConnection::Pg(pg) => {
                let sql = match self.mode {
                    ImportMode::Upsert => REGISTERED_LOCKED,
                    ImportMode::Create => REGISTERED,
                };
                diesel::sql_query(sql)
                    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&plates)
                    .load(pg)
                    .map_err(|err| match err {
                        DieselError::DatabaseError(_, ref info)
                            if info.message().contains("could not obtain lock") =>
                        {
                            StoreError::from(Error::Unavailable(anyhow::anyhow!(
                                "vehicles the import updates are being written: retry"
                            )))
                        }
                        other => other.into(),
                    })?
            }
            // SQLite: the import's transaction holds the only write lock,
            // and the plate's unique index answers `IN`.
            DbConnection::Sqlite(sqlite) => vehicles::table
                .filter(vehicles::license_plate.eq_any(&plates))
                .select(VehicleRow::as_select())
                .load(sqlite)?,
        };
        let registered: HashMap<String, Vehicle> = registered
            .into_iter()
            .map(|row| {
                let vehicle = Vehicle::try_from(row).map_err(Error::from)?;
                Ok((vehicle.license_plate.as_str().to_owned(), vehicle))
            })
            .collect::<Result<_, StoreError>>()?;
        let vins: Vec<&str> = batch
            .iter()
            .filter_map(|(_, v)| v.vin.as_ref().map(|v| v.as_str()))
            .collect();
        // Each VIN registered, with the plate of the vehicle that has it.
        let taken_vins: HashMap<String, String> = if vins.is_empty() {
            HashMap::new()
        } else {
            vehicles::table
                .filter(vehicles::vin.eq_any(&vins))
                .select((vehicles::vin.assume_not_null(), vehicles::license_plate))
                .load(conn)?
                .into_iter()
                .collect()
        };
        let upsert = self.mode == ImportMode::Upsert;
        let mut good = Vec::with_capacity(batch.len());
        let mut changes = Vec::new();
        for (line, vehicle) in &batch {
            let plate = vehicle.license_plate.as_str();
            let existing = registered.get(plate);
            // A vehicle out of the caller's reach is, to it, a plate taken.
            let reachable = existing.is_some_and(|v| {
                self.within
                    .as_ref()
                    .is_none_or(|within| within.contains(&v.garage_id))
            });
            let mut ok = true;
            if existing.is_some() && !(upsert && reachable) {
                self.fail(
                    *line,
                    Some("license_plate"),
                    Reason::Duplicate,
                    format!("license plate {plate} is already registered"),
                );
                ok = false;
            }
            if let Some(vin) = vehicle.vin.as_ref() {
                // A vehicle keeps its own VIN; another's is taken.
                if taken_vins
                    .get(vin.as_str())
                    .is_some_and(|owner| !(upsert && owner == plate))
                {
                    self.fail(
                        *line,
                        Some("vin"),
                        Reason::Duplicate,
                        format!("VIN {vin} is already registered"),
                    );
                    ok = false;
                }
            }
            if !ok {
                continue;
            }
            match existing {
                None => {
                    if self.take_place(conn, *line, vehicle.garage_id.get())? {
                        good.push(vehicle);
                    }
                }
                Some(before) => {
                    // A reading only when the odometer moved forwards: an
                    // export taken before the latest reading imports back
                    // as is, and a file never takes an odometer backwards.
                    let odometer = self
                        .odometers
                        .get(plate)
                        .copied()
                        .filter(|km| before.odometer.is_none_or(|latest| *km > latest));
                    let after = Vehicle {
                        odometer: odometer.or(before.odometer),
                        garage_id: vehicle.garage_id,
                        brand: vehicle.brand.clone(),
                        model: vehicle.model.clone(),
                        year: vehicle.year,
                        // An empty VIN cell (or none) keeps the VIN: an
                        // upsert never removes one (a PATCH does).
                        vin: vehicle.vin.clone().or_else(|| before.vin.clone()),
                        registered_on: vehicle.registered_on.or(before.registered_on),
                        ..before.clone()
                    };
                    if after == *before {
                        self.report.unchanged += 1;
                        continue;
                    }
                    if after.garage_id != before.garage_id {
                        if !self.take_place(conn, *line, after.garage_id.get())? {
                            continue;
                        }
                        self.leave_place(conn, before.garage_id)?;
                    }
                    changes.push((before.clone(), after));
                }
            }
        }
        if self.report.errors.is_empty() {
            // A dry run counts its new vehicles without inserting them: no
            // later check reads them back (a plate or VIN repeated in the
            // file is found in `plates` and `vins`, the room they take in
            // `garages`) and the database refuses nothing the checks above
            // let through (a constraint added to `vehicles` needs its check
            // here, or dry runs will miss it), so the report is the same,
            // and the database is spared the rows, their index entries and
            // events, and the dead rows the rollback would leave for the
            // import that follows to step over. Like any check, it holds for the database as read:
            // a plate another client registers meanwhile fails the import,
            // not the dry run before it. Updates are still written (and
            // rolled back): a vehicle's VIN changed by one batch frees it
            // for the next.
            if self.dry_run {
                self.report.imported += good.len() as u64;
            } else {
                self.insert(conn, &good)?;
            }
            self.update(conn, changes)?;
        }
        self.odometers.clear();
        Ok(())
    }

    /// Creates `good`, with their events.
    fn insert(&mut self, conn: &mut DbConnection, good: &[&NewVehicle]) -> Result<(), StoreError> {
        if good.is_empty() {
            return Ok(());
        }
        let at = now();
        let rows: Vec<NewVehicleRow> = good
            .iter()
            .map(|v| NewVehicleRow {
                odometer_km: self
                    .odometers
                    .get(v.license_plate.as_str())
                    .map(|km| km.get() as i32),
                ..NewVehicleRow::of(v, at)
            })
            .collect();
        // Multi-row INSERT is backend-specific SQL that `MultiConnection`
        // cannot express: each backend runs its own on its own connection.
        let created: Vec<(i64, String)> = match conn {
            DbConnection::Pg(conn) => super::at_once::insert_rows(conn, &rows)?,
            DbConnection::Sqlite(conn) => diesel::insert_into(vehicles::table)
                .values(&rows)
                .returning((vehicles::id, vehicles::license_plate))
                .get_results(conn)?,
        };
        // Each id goes with its row by the plate, which is unique:
        // RETURNING's order is not promised.
        let ids: HashMap<String, i64> =
            created.into_iter().map(|(id, plate)| (plate, id)).collect();
        let events = good
            .iter()
            .map(|vehicle| {
                let id = ids
                    .get(vehicle.license_plate.as_str())
                    .copied()
                    .and_then(|id| VehicleId::parse(id).ok())
                    .ok_or_else(|| Error::Internal(anyhow::anyhow!("an imported row has no id")))?;
                Ok(NewEvent::vehicle_imported(id, vehicle))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        record(conn, self.origin, &events)?;
        let readings: Vec<Read<'_>> = good
            .iter()
            .filter_map(|v| {
                let plate = v.license_plate.as_str();
                Some((
                    VehicleId::parse(*ids.get(plate)?).ok()?,
                    v.garage_id,
                    &v.license_plate,
                    *self.odometers.get(plate)?,
                ))
            })
            .collect();
        self.read(conn, &readings)?;
        self.report.imported += good.len() as u64;
        Ok(())
    }

    /// Records what the file says each vehicle's odometer shows today, with
    /// an event each.
    fn read(&self, conn: &mut DbConnection, readings: &[Read<'_>]) -> Result<(), StoreError> {
        if readings.is_empty() {
            return Ok(());
        }
        let (at, today) = (now(), self.today);
        let events: Vec<NewEvent> = readings
            .iter()
            .map(|(vehicle, garage, plate, km)| {
                NewEvent::odometer_read(
                    *vehicle,
                    *garage,
                    plate,
                    &NewReading {
                        km: *km,
                        read_on: today,
                        correction: false,
                    },
                )
            })
            .collect();
        let rows: Vec<_> = readings
            .iter()
            .map(|(vehicle, _, _, km)| {
                (
                    odometer_readings::vehicle_id.eq(vehicle.get()),
                    odometer_readings::km.eq(km.get() as i32),
                    odometer_readings::read_on.eq(today),
                    odometer_readings::correction.eq(false),
                    odometer_readings::recorded_at.eq(at),
                    odometer_readings::actor.eq(self.origin.actor.name.as_str()),
                )
            })
            .collect();
        let insert = diesel::insert_into(odometer_readings::table).values(&rows);
        // Multi-row INSERT, each backend on its own connection.
        match conn {
            DbConnection::Pg(conn) => insert.execute(conn)?,
            DbConnection::Sqlite(conn) => insert.execute(conn)?,
        };
        record(conn, self.origin, &events)
    }

    /// Writes each vehicle's new fields, with its event.
    fn update(
        &mut self,
        conn: &mut DbConnection,
        changes: Vec<(Vehicle, Vehicle)>,
    ) -> Result<(), StoreError> {
        let mut events = Vec::with_capacity(changes.len());
        let readings: Vec<Read<'_>> = changes
            .iter()
            .filter(|(before, after)| after.odometer != before.odometer)
            .filter_map(|(before, after)| {
                Some((
                    before.id,
                    after.garage_id,
                    &after.license_plate,
                    after.odometer?,
                ))
            })
            .collect();
        self.read(conn, &readings)?;
        let read: Vec<i64> = readings.iter().map(|(id, ..)| id.get()).collect();
        for (before, after) in changes {
            let row = diesel::update(vehicles::table.find(before.id.get()))
                .set((
                    vehicles::garage_id.eq(after.garage_id.get()),
                    vehicles::brand.eq(after.brand.as_str()),
                    vehicles::model.eq(after.model.as_str()),
                    vehicles::year.eq(i32::from(after.year.get())),
                    vehicles::vin.eq(after.vin.as_ref().map(|v| v.as_str())),
                    vehicles::registered_on.eq(after.registered_on),
                    vehicles::odometer_km.eq(after.odometer.map(|km| km.get() as i32)),
                    vehicles::updated_at.eq(now()),
                    vehicles::version.eq(vehicles::version + 1),
                ))
                .returning(vehicles::all_columns)
                .get_result::<VehicleRow>(conn)?;
            let after = Vehicle::try_from(row).map_err(Error::from)?;
            events.extend(NewEvent::vehicle_updated(&before, &after));
            self.report.updated += 1;
        }
        // Their plans' distance left follows their new odometer.
        crate::care::refresh_km_left(conn, &read)?;
        record(conn, self.origin, &events)
    }

    /// Counts a vehicle out of garage `garage` (it moves elsewhere): a
    /// place later rows may take.
    fn leave_place(&mut self, conn: &mut DbConnection, garage: GarageId) -> Result<(), StoreError> {
        let room = match self.garages.entry(garage.get()) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => new.insert(lock_garage(conn, garage.get())?),
        };
        if let Some(room) = room {
            room.added -= 1;
        }
        Ok(())
    }

    /// Counts a vehicle into its garage, or reports why it cannot go there.
    fn take_place(
        &mut self,
        conn: &mut DbConnection,
        line: u64,
        garage: i64,
    ) -> Result<bool, StoreError> {
        let room = match self.garages.entry(garage) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => new.insert(lock_garage(conn, garage)?),
        };
        let (reason, message) = match room {
            Some(room) => match room.capacity {
                Some(capacity) if room.held + room.added >= capacity => (
                    Reason::GarageFull,
                    format!(
                        "garage {garage} would hold more than its capacity of {capacity} vehicles"
                    ),
                ),
                _ => {
                    room.added += 1;
                    return Ok(true);
                }
            },
            None => (
                Reason::UnknownGarage,
                format!("garage {garage} does not exist"),
            ),
        };
        self.fail(line, Some("garage_id"), reason, message);
        Ok(false)
    }

    fn commit_counts(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        for (id, room) in &self.garages {
            if let Some(room) = room.as_ref().filter(|r| r.added != 0) {
                // Within ± the rows of one import, 32 MiB of them: fits an i32.
                let added = i32::try_from(room.added)
                    .map_err(|_| Error::Internal(anyhow::anyhow!("a count out of range")))?;
                diesel::update(garages::table.find(id))
                    .set(garages::vehicle_count.eq(garages::vehicle_count + added))
                    .execute(conn)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::packed;

    #[test]
    fn packing_keeps_distinct_plates_and_vins_distinct() {
        let texts = [
            "0",
            "00",
            "000",
            "A",
            "AA",
            "0A",
            "A0",
            "Z",
            "9",
            "AB123CD",
            "AB123CE",
            "ZZZZZZZZZZZZ",
            "999999999999",
            "VF1RFB00X12345678",
            "ZZZZZZZZZZZZZZZZZ",
        ];
        let numbers: HashSet<u128> = texts.iter().map(|t| packed(t)).collect();
        assert_eq!(numbers.len(), texts.len());
        // The largest VIN fits without overflow.
        assert!(packed("ZZZZZZZZZZZZZZZZZ") < u128::MAX / 37);
    }
}
