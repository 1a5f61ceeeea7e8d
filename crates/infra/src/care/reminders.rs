//! The plans that are due, and how urgent each is at a horizon, as
//! `Due::status` says (the contract tests hold the two to the same answers
//! on both backends): a page reads the due plans' four parts in turn, the
//! reminder round one query over them all. By distance it reads the
//! plan's `km_left` (its due distance less the odometer), which every
//! reading rewrites: `odometer > due` is `km_left < 0`, `odometer + margin
//! >= due` is `km_left <= margin`.

use std::fmt::Write as _;

use chrono::NaiveDate;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text};
use diesel::sqlite::Sqlite;
use garage_domain::care::{
    undated, CareStatus, DueVehicle, Horizon, Km, Plan, Reminder, ReminderCursor, ReminderFilter,
    ReminderPage,
};
use garage_domain::{Error, GarageId, GarageName, LicensePlate, Limit};

use super::PlanRow;
use crate::db::{DbConnection, StoreError};

/// A value the query binds.
enum Bind {
    Date(NaiveDate),
    Int(i64),
    Text(String),
}

/// SQL text and its binds, with each backend's placeholders.
struct Sql {
    text: String,
    binds: Vec<Bind>,
    numbered: bool,
}

impl Sql {
    fn new(conn: &DbConnection) -> Self {
        Self {
            text: String::new(),
            binds: Vec::new(),
            numbered: matches!(conn, DbConnection::Pg(_)),
        }
    }

    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        if self.numbered {
            let _ = write!(self.text, "${}", self.binds.len());
        } else {
            self.text.push('?');
        }
        self
    }

    fn load(self, conn: &mut DbConnection) -> Result<Vec<ReminderRow>, StoreError> {
        macro_rules! run {
            ($backend:ty, $conn:expr) => {{
                let mut query = diesel::sql_query(self.text).into_boxed::<$backend>();
                for value in self.binds {
                    query = match value {
                        Bind::Date(d) => query.bind::<Date, _>(d),
                        Bind::Int(n) => query.bind::<BigInt, _>(n),
                        Bind::Text(t) => query.bind::<Text, _>(t),
                    };
                }
                query.load::<ReminderRow>($conn)?
            }};
        }
        Ok(match conn {
            DbConnection::Pg(pg) => run!(Pg, pg),
            DbConnection::Sqlite(lite) => run!(Sqlite, lite),
        })
    }
}

#[derive(QueryableByName)]
struct ReminderRow {
    #[diesel(embed)]
    plan: PlanRow,
    #[diesel(sql_type = BigInt)]
    garage_id: i64,
    #[diesel(sql_type = Text)]
    garage_name: String,
    #[diesel(sql_type = Text)]
    license_plate: String,
    #[diesel(sql_type = Nullable<Integer>)]
    odometer_km: Option<i32>,
}

/// The columns every reminder query returns: the plan and its vehicle.
const REMINDER_COLUMNS: &str =
    "SELECT p.*, v.garage_id, g.name AS garage_name, v.license_plate, v.odometer_km";
const PLANS_AND_VEHICLES: &str = " FROM care_plans p JOIN vehicles v ON v.id = p.vehicle_id \
     JOIN garages g ON g.id = v.garage_id WHERE ";

/// Every due plan with its vehicle and its level (2 overdue, 1 due soon).
fn due_with_levels(sql: &mut Sql, horizon: Horizon) {
    sql.push("(")
        .push(REMINDER_COLUMNS)
        .push(", CASE WHEN p.next_due_on < ")
        .bind(Bind::Date(horizon.today))
        .push(" OR p.km_left < 0 THEN 2 ELSE 1 END AS level")
        .push(PLANS_AND_VEHICLES);
    // Only plans that are due (by an index on either column): by date
    // before the horizon's end, or by distance within its margin.
    sql.push("(p.next_due_on <= ")
        .bind(Bind::Date(horizon.soon_until()))
        .push(" OR p.km_left <= ")
        .bind(Bind::Int(i64::from(horizon.thresholds.km.get())))
        .push(")) r");
}

/// The filter's conditions on a plan `p` and its vehicle `v`.
fn filtered(sql: &mut Sql, filter: &ReminderFilter) {
    if let Some(garage) = filter.garage_id {
        sql.push(" AND v.garage_id = ")
            .bind(Bind::Int(garage.get()));
    }
    if let Some(within) = &filter.within {
        sql.push(" AND v.garage_id IN (-1");
        for garage in within {
            sql.push(", ").bind(Bind::Int(garage.get()));
        }
        sql.push(")");
    }
    if let Some(kind) = &filter.kind {
        sql.push(" AND p.kind = ")
            .bind(Bind::Text(kind.as_str().to_owned()));
    }
}

fn limit_of(limit: Limit) -> Bind {
    Bind::Int(i64::from(limit.get()))
}

fn reminder(row: ReminderRow, horizon: Horizon) -> Result<Reminder, Error> {
    let plan = Plan::try_from(row.plan)?;
    let bad = |what: &str| {
        Error::Internal(anyhow::anyhow!(
            "vehicle {} in the database is invalid: {what}",
            plan.vehicle_id
        ))
    };
    let odometer = row
        .odometer_km
        .map(|km| Km::parse(km.into()))
        .transpose()
        .map_err(|_| bad("odometer_km"))?;
    let due = plan.due();
    let status = due.status(horizon.today, odometer, horizon.thresholds);
    Ok(Reminder {
        vehicle: DueVehicle {
            id: plan.vehicle_id,
            garage_id: GarageId::parse(row.garage_id).map_err(|_| bad("garage_id"))?,
            garage_name: GarageName::parse(&row.garage_name).map_err(|_| bad("garage name"))?,
            license_plate: LicensePlate::parse(&row.license_plate)
                .map_err(|_| bad("license_plate"))?,
            odometer,
        },
        plan,
        due,
        status,
    })
}

/// The four parts of the due plans, in reminder order: each part's plans
/// sort before the next part's (overdue by date are due before today,
/// overdue by distance only on or after it; due soon by date by the
/// horizon's end, due soon by distance only after it or undated), so a
/// page is the parts read one after the other, each in (due date, id)
/// order, each by its own index range, until the page is full.
#[derive(Clone, Copy)]
enum Part {
    OverdueByDate,
    OverdueByDistance,
    SoonByDate,
    SoonByDistance,
}

impl Part {
    const ALL: [Part; 4] = [
        Part::OverdueByDate,
        Part::OverdueByDistance,
        Part::SoonByDate,
        Part::SoonByDistance,
    ];

    /// The cursor's rank of every plan of the part: 0 overdue, 1 due soon.
    fn rank(self) -> u8 {
        match self {
            Part::OverdueByDate | Part::OverdueByDistance => 0,
            Part::SoonByDate | Part::SoonByDistance => 1,
        }
    }

    fn status(self) -> CareStatus {
        match self.rank() {
            0 => CareStatus::Overdue,
            _ => CareStatus::DueSoon,
        }
    }

    /// The part's condition; exactly one part holds for each due plan.
    fn condition(self, sql: &mut Sql, horizon: Horizon) {
        let today = Bind::Date(horizon.today);
        let soon = Bind::Date(horizon.soon_until());
        let margin = Bind::Int(i64::from(horizon.thresholds.km.get()));
        match self {
            Part::OverdueByDate => {
                sql.push("p.next_due_on < ").bind(today);
            }
            Part::OverdueByDistance => {
                sql.push("p.km_left < 0 AND (p.next_due_on IS NULL OR p.next_due_on >= ")
                    .bind(today)
                    .push(")");
            }
            Part::SoonByDate => {
                sql.push("p.next_due_on >= ")
                    .bind(today)
                    .push(" AND p.next_due_on <= ")
                    .bind(soon)
                    .push(" AND (p.km_left IS NULL OR p.km_left >= 0)");
            }
            Part::SoonByDistance => {
                sql.push("p.km_left >= 0 AND p.km_left <= ")
                    .bind(margin)
                    .push(" AND (p.next_due_on IS NULL OR p.next_due_on > ")
                    .bind(soon)
                    .push(")");
            }
        }
    }

    /// The date the part's plans sort by: their due date, which the parts
    /// by date always have.
    fn due_sort(self, sql: &mut Sql) {
        match self {
            Part::OverdueByDate | Part::SoonByDate => {
                sql.push("p.next_due_on");
            }
            Part::OverdueByDistance | Part::SoonByDistance => {
                sql.push("COALESCE(p.next_due_on, ")
                    .bind(Bind::Date(undated()))
                    .push(")");
            }
        }
    }
}

/// Up to `limit` plans of `part` matching `filter`, after `after`, in
/// reminder order.
fn part_page(
    conn: &mut DbConnection,
    part: Part,
    filter: &ReminderFilter,
    horizon: Horizon,
    after: Option<ReminderCursor>,
    limit: usize,
) -> Result<Vec<ReminderRow>, StoreError> {
    let mut sql = Sql::new(conn);
    sql.push(REMINDER_COLUMNS).push(PLANS_AND_VEHICLES);
    part.condition(&mut sql, horizon);
    filtered(&mut sql, filter);
    // A cursor of the part's rank: what follows it in the part. (Parts of
    // another rank are wholly before or after it: the caller skips those
    // before.)
    if let Some(after) = after.filter(|after| after.rank == part.rank()) {
        sql.push(" AND (");
        part.due_sort(&mut sql);
        sql.push(" > ").bind(Bind::Date(after.due_on)).push(" OR (");
        part.due_sort(&mut sql);
        sql.push(" = ")
            .bind(Bind::Date(after.due_on))
            .push(" AND p.id > ")
            .bind(Bind::Int(after.plan))
            .push("))");
    }
    sql.push(" ORDER BY ");
    part.due_sort(&mut sql);
    sql.push(", p.id LIMIT ")
        .bind(Bind::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
    sql.load(conn)
}

pub(super) fn page(
    conn: &mut DbConnection,
    filter: &ReminderFilter,
    horizon: Horizon,
    after: Option<ReminderCursor>,
    limit: Limit,
) -> Result<ReminderPage, StoreError> {
    // One of the two statuses narrows the list; both, or neither, do not.
    let overdue = filter.statuses.contains(&CareStatus::Overdue);
    let soon = filter.statuses.contains(&CareStatus::DueSoon);
    let wanted = usize::from(limit.get()) + 1;
    let mut rows = Vec::with_capacity(wanted);
    for part in Part::ALL {
        if rows.len() == wanted {
            break;
        }
        let listed = match part.status() {
            CareStatus::Overdue => overdue || !soon,
            _ => soon || !overdue,
        };
        if !listed {
            continue;
        }
        if after.is_some_and(|after| part.rank() < after.rank) {
            continue;
        }
        rows.extend(part_page(
            conn,
            part,
            filter,
            horizon,
            after,
            wanted - rows.len(),
        )?);
    }
    let mut items = rows
        .into_iter()
        .map(|row| reminder(row, horizon))
        .collect::<Result<Vec<_>, _>>()?;
    let next = if items.len() > usize::from(limit.get()) {
        items.truncate(usize::from(limit.get()));
        items.last().map(ReminderCursor::of)
    } else {
        None
    };
    Ok(ReminderPage { items, next })
}

pub(super) fn unnotified(
    conn: &mut DbConnection,
    horizon: Horizon,
    limit: Limit,
) -> Result<Vec<Reminder>, StoreError> {
    let mut sql = Sql::new(conn);
    sql.push("SELECT * FROM ");
    due_with_levels(&mut sql, horizon);
    sql.push(" WHERE r.level > r.notified ORDER BY r.id LIMIT ")
        .bind(limit_of(limit));
    Ok(sql
        .load(conn)?
        .into_iter()
        .map(|row| reminder(row, horizon))
        .collect::<Result<Vec<_>, _>>()?)
}
