//! Care on the wire: readings, plans, work done, reminders and calendar
//! tokens, what clients send and what they receive.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use chrono::{DateTime, NaiveDate, Utc};
use garage_domain::care::{
    CalendarToken, Care, CareKind, CareRecord, CareStatus, Done, Due, EveryMonths, Km, NewReading,
    Plan, PlanInput, PlanVersion, Preset, Reading, Reminder, ReminderCursor, ReminderFilter,
    Schedule,
};
use garage_domain::{FieldErrors, GarageId, Limit, Note, PlanId, Reason, VehicleId};
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::{IntoParams, ToSchema};

use crate::problem::ApiError;
use crate::wire::{bad_query, date, optional, required, validated, InPath};

/// The plan a path names: `/vehicles/{id}/plans/{kind}`.
pub(crate) struct PlanPath {
    pub vehicle: VehicleId,
    pub kind: CareKind,
}

impl FromRequest for PlanPath {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let mut read = || {
            let InPath(vehicle) = InPath::<VehicleId>::from_request(req, payload).into_inner()?;
            let raw = req.match_info().get("kind").unwrap_or_default();
            let kind = raw.parse::<CareKind>().map_err(|err| {
                ApiError::BadRequest(format!("the path is invalid: kind {raw:?} {err}"))
            })?;
            Ok(Self { vehicle, kind })
        };
        std::future::ready(read())
    }
}

impl IntoParams for PlanPath {
    fn into_params(parameter_in: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = InPath::<VehicleId>::into_params(parameter_in);
        params.push(
            ParameterBuilder::new()
                .name("kind")
                .parameter_in(ParameterIn::Path)
                .description(Some(
                    "`service`, `inspection`, `insurance`, or a kind of your own: lower-case letters, digits, `-` and `_`",
                ))
                .required(Required::True)
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some("^[a-z0-9_-]{1,40}$")),
                ))
                .build(),
        );
        params
    }
}

fn km(raw: i64) -> Result<Km, garage_domain::ValueError> {
    Km::parse(raw)
}

/// An odometer reading to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReading {
    /// What the odometer shows, in km.
    #[schema(value_type = i64, required = true, minimum = 0, maximum = 9_999_999, example = 42_350)]
    km: Option<i64>,
    /// When it was read, `YYYY-MM-DD`, not after today; today when absent.
    #[schema(value_type = Option<String>, format = Date, example = "2026-11-30")]
    read_on: Option<String>,
    /// A reading below an earlier one, to correct a mistake: admin keys only.
    #[serde(default)]
    correction: bool,
}

impl CreateReading {
    pub fn try_into_domain(self, today: NaiveDate) -> Result<NewReading, ApiError> {
        let mut errors = FieldErrors::new();
        let km = required(&mut errors, "km", self.km, km);
        let read_on = match self.read_on {
            Some(raw) => errors.check("read_on", date(&raw)),
            None => Some(today),
        };
        let correction = self.correction;
        validated(errors, || {
            Some(NewReading {
                km: km?,
                read_on: read_on?,
                correction,
            })
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingBody {
    id: i64,
    km: u32,
    read_on: NaiveDate,
    /// Recorded by an admin below an earlier reading.
    correction: bool,
    /// Who recorded it: a key's name, `anonymous` or `cli`.
    recorded_by: String,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    recorded_at: DateTime<Utc>,
}

impl From<Reading> for ReadingBody {
    fn from(r: Reading) -> Self {
        Self {
            id: r.id.get(),
            km: r.km.get(),
            read_on: r.read_on,
            correction: r.correction,
            recorded_by: r.actor,
            recorded_at: r.recorded_at,
        }
    }
}

crate::wire::page_of! {
    /// A page of odometer readings, the latest recorded first.
    ReadingPage of ReadingBody
}

/// A care plan: when it falls due. At least one of `every_months`,
/// `every_km`, `due_on` or `preset`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutPlan {
    /// Due this many months after it was last done (1 to 240).
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 240, example = 12)]
    every_months: Option<i64>,
    /// Due this many km after it was last done.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 9_999_999, example = 15_000)]
    every_km: Option<i64>,
    /// The next due date, `YYYY-MM-DD` (an insurance's expiry); it comes
    /// before `every_months` until the plan is done.
    #[schema(value_type = Option<String>, format = Date, example = "2027-03-01")]
    due_on: Option<String>,
    /// `controle_technique`: due four years after `registered_on`, then every two years.
    #[schema(value_type = Option<String>, example = "controle_technique")]
    preset: Option<String>,
    /// When it was last done, if known: the plan counts from then (else from today).
    #[schema(value_type = Option<String>, format = Date)]
    last_done_on: Option<String>,
    /// The odometer when it was last done.
    #[schema(value_type = Option<i64>, minimum = 0)]
    last_done_km: Option<i64>,
}

impl PutPlan {
    pub fn try_into_domain(self) -> Result<PlanInput, ApiError> {
        let mut errors = FieldErrors::new();
        let every_months = self
            .every_months
            .map(|m| errors.check("every_months", EveryMonths::parse(m)));
        let every_km = self
            .every_km
            .map(|k| errors.check("every_km", Km::parse_interval(k)));
        let due_on = self.due_on.map(|d| errors.check("due_on", date(&d)));
        let preset = self
            .preset
            .map(|p| errors.check("preset", p.parse::<Preset>()));
        let last_done_on = self
            .last_done_on
            .map(|d| errors.check("last_done_on", date(&d)));
        let last_done_km = self
            .last_done_km
            .map(|k| errors.check("last_done_km", km(k)));
        validated(errors, || {
            Some(PlanInput {
                schedule: Schedule {
                    every_months: optional(every_months)?,
                    every_km: optional(every_km)?,
                    due_on: optional(due_on)?,
                },
                preset: optional(preset)?,
                last_done_on: optional(last_done_on)?,
                last_done_km: optional(last_done_km)?,
            })
        })
    }
}

/// How urgent a plan is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusBody {
    Ok,
    DueSoon,
    Overdue,
}

impl From<CareStatus> for StatusBody {
    fn from(status: CareStatus) -> Self {
        match status {
            CareStatus::Ok => Self::Ok,
            CareStatus::DueSoon => Self::DueSoon,
            CareStatus::Overdue => Self::Overdue,
        }
    }
}

/// A plan's entity tag: the plan, its cycle, and its status (which the
/// date and the readings move too). A write checks the plan and cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlanTag {
    pub version: PlanVersion,
    pub status: i16,
}

impl crate::conditional::Tag for PlanTag {
    fn text(self) -> String {
        format!("{}.{}.{}", self.version.id, self.version.cycle, self.status)
    }

    /// The plan and its cycle: what a write checks, whatever the status.
    fn admits(self, current: Self) -> bool {
        self.version == current.version
    }

    fn read(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let (Some(id), Some(cycle), Some(status), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(Self {
            version: PlanVersion {
                id: PlanId::parse(id.parse().ok()?).ok()?,
                cycle: cycle.parse().ok()?,
            },
            status: status.parse().ok()?,
        })
    }
}

/// A plan, with when it is next due and how urgent it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanBody {
    #[serde(skip)]
    tag: PlanTag,
    vehicle_id: i64,
    kind: String,
    every_months: Option<u16>,
    every_km: Option<u32>,
    /// The fixed next due date, if one was given.
    due_on: Option<NaiveDate>,
    /// When it was last done; `null` if never since the plan was set up.
    last_done_on: Option<NaiveDate>,
    last_done_km: Option<u32>,
    /// When it is next due: by date, by distance, whichever comes first.
    next_due_on: Option<NaiveDate>,
    next_due_km: Option<u32>,
    status: StatusBody,
    /// Moves on with each new due point; reminders are sent once per cycle.
    cycle: i64,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    updated_at: DateTime<Utc>,
}

impl PlanBody {
    /// Its `ETag`.
    pub(crate) fn tag(&self) -> PlanTag {
        self.tag
    }

    pub fn of(plan: Plan, due: Due, status: CareStatus) -> Self {
        let done = plan.since.done;
        Self {
            tag: PlanTag {
                version: plan.version(),
                status: status.level(),
            },
            vehicle_id: plan.vehicle_id.get(),
            kind: plan.kind.to_string(),
            every_months: plan.schedule.every_months.map(EveryMonths::get),
            every_km: plan.schedule.every_km.map(Km::get),
            due_on: plan.schedule.due_on,
            last_done_on: done.then_some(plan.since.on),
            last_done_km: if done {
                plan.since.km.map(Km::get)
            } else {
                None
            },
            next_due_on: due.on,
            next_due_km: due.km.map(Km::get),
            status: status.into(),
            cycle: plan.cycle,
            updated_at: plan.updated_at,
        }
    }
}

/// Work done on a plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkDone {
    /// When, `YYYY-MM-DD`, not after today; today when absent.
    #[schema(value_type = Option<String>, format = Date, example = "2026-11-30")]
    done_on: Option<String>,
    /// The odometer then; the latest reading when absent.
    #[schema(value_type = Option<i64>, minimum = 0, example = 42_350)]
    km: Option<i64>,
    /// What was done, up to 500 characters.
    #[schema(value_type = Option<String>, max_length = 500, example = "Oil and filters")]
    note: Option<String>,
    /// The next fixed due date (an insurance renewed until then); else
    /// the plan's interval counts from `done_on`.
    #[schema(value_type = Option<String>, format = Date)]
    next_due_on: Option<String>,
}

impl MarkDone {
    pub fn try_into_domain(self, today: NaiveDate) -> Result<Done, ApiError> {
        let mut errors = FieldErrors::new();
        let done_on = match self.done_on {
            Some(raw) => errors.check("done_on", date(&raw)),
            None => Some(today),
        };
        let km = self.km.map(|k| errors.check("km", km(k)));
        let note = self
            .note
            .filter(|n| !n.trim().is_empty())
            .map(|n| errors.check("note", Note::parse(&n)));
        let next_due_on = self
            .next_due_on
            .map(|d| errors.check("next_due_on", date(&d)));
        validated(errors, || {
            Some(Done {
                done_on: done_on?,
                km: optional(km)?,
                note: optional(note)?,
                next_due_on: optional(next_due_on)?,
            })
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordBody {
    id: i64,
    kind: String,
    done_on: NaiveDate,
    km: Option<u32>,
    note: Option<String>,
    recorded_by: String,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    recorded_at: DateTime<Utc>,
}

impl From<CareRecord> for RecordBody {
    fn from(r: CareRecord) -> Self {
        Self {
            id: r.id.get(),
            kind: r.kind.to_string(),
            done_on: r.done_on,
            km: r.km.map(Km::get),
            note: r.note.map(Note::into_inner),
            recorded_by: r.actor,
            recorded_at: r.recorded_at,
        }
    }
}

/// The work recorded and the plan it advanced.
#[derive(Debug, Serialize, ToSchema)]
pub struct DoneBody {
    pub plan: PlanBody,
    pub record: RecordBody,
}

/// A vehicle's care: its odometer, its plans, the latest work done.
#[derive(Debug, Serialize, ToSchema)]
pub struct CareBody {
    vehicle_id: i64,
    odometer_km: Option<u32>,
    plans: Vec<PlanBody>,
    /// Newest first, up to 200 (`…/records` pages through them all).
    records: Vec<RecordBody>,
}

impl CareBody {
    pub fn of(vehicle: VehicleId, care: Care) -> Self {
        Self {
            vehicle_id: vehicle.get(),
            odometer_km: care.odometer.map(Km::get),
            plans: care
                .plans
                .into_iter()
                .map(|(plan, due, status)| PlanBody::of(plan, due, status))
                .collect(),
            records: care.records.into_iter().map(RecordBody::from).collect(),
        }
    }
}

crate::wire::page_of! {
    /// A page of work done, the latest recorded first.
    RecordPage of RecordBody
}

/// Which reminders to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReminderQuery {
    /// `due_soon`, `overdue`, or both comma-separated; both when absent.
    #[param(example = "due_soon,overdue")]
    status: Option<String>,
    /// Only this garage's vehicles.
    #[param(minimum = 1)]
    garage_id: Option<i64>,
    /// Only plans of this kind.
    kind: Option<String>,
    /// Items per page, 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl ReminderQuery {
    pub fn try_into_domain(
        self,
    ) -> Result<(ReminderFilter, Option<ReminderCursor>, Limit), ApiError> {
        let mut errors = FieldErrors::new();
        let mut statuses = Vec::new();
        for raw in self.status.iter().flat_map(|s| s.split(',')) {
            match raw.trim().parse::<CareStatus>() {
                Ok(CareStatus::Ok) | Err(_) => errors.push(
                    "status",
                    Reason::InvalidChoice,
                    "must be due_soon, overdue, or both comma-separated",
                ),
                Ok(status) => statuses.push(status),
            }
        }
        let garage_id = self
            .garage_id
            .and_then(|g| errors.check("garage_id", GarageId::parse(g)));
        let kind = self
            .kind
            .and_then(|k| errors.check("kind", k.parse::<CareKind>()));
        let limit = self
            .limit
            .and_then(|l| errors.check("limit", Limit::parse(l)))
            .unwrap_or_default();
        let after = self
            .cursor
            .and_then(|c| errors.check("cursor", c.parse::<ReminderCursor>()));
        bad_query(errors)?;
        Ok((
            ReminderFilter {
                statuses,
                garage_id,
                kind,
                within: None,
            },
            after,
            limit,
        ))
    }
}

/// A plan due soon or overdue, with its vehicle.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderBody {
    vehicle_id: i64,
    garage_id: i64,
    garage_name: String,
    license_plate: String,
    odometer_km: Option<u32>,
    kind: String,
    status: StatusBody,
    due_on: Option<NaiveDate>,
    due_km: Option<u32>,
    cycle: i64,
}

impl From<Reminder> for ReminderBody {
    fn from(r: Reminder) -> Self {
        Self {
            vehicle_id: r.vehicle.id.get(),
            garage_id: r.vehicle.garage_id.get(),
            garage_name: r.vehicle.garage_name.as_str().to_owned(),
            license_plate: r.vehicle.license_plate.as_str().to_owned(),
            odometer_km: r.vehicle.odometer.map(Km::get),
            kind: r.plan.kind.to_string(),
            status: r.status.into(),
            due_on: r.due.on,
            due_km: r.due.km.map(Km::get),
            cycle: r.plan.cycle,
        }
    }
}

/// A page of reminders: overdue first, then by due date.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderPageBody {
    pub items: Vec<ReminderBody>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The calendar feed's query: its token.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// A calendar token (`cal_…`), never an API key.
    pub token: Option<String>,
}

/// A calendar token to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCalendar {
    /// What it is for, such as "Workshop calendar".
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100)]
    name: Option<String>,
}

impl CreateCalendar {
    pub fn try_into_domain(self) -> Result<garage_domain::access::KeyName, ApiError> {
        let mut errors = FieldErrors::new();
        let name = required(&mut errors, "name", self.name, |n| {
            garage_domain::access::KeyName::parse(&n)
        });
        validated(errors, || name)
    }
}

/// A calendar token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarBody {
    id: i64,
    name: String,
    /// The token's first characters.
    prefix: String,
    /// The garages whose reminders it shows; `null` for all.
    garage_ids: Option<Vec<i64>>,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    created_at: DateTime<Utc>,
}

impl From<CalendarToken> for CalendarBody {
    fn from(t: CalendarToken) -> Self {
        Self {
            id: t.id.get(),
            name: t.name.as_str().to_owned(),
            prefix: t.prefix,
            garage_ids: t.garages.map(|ids| ids.iter().map(|g| g.get()).collect()),
            created_at: t.created_at,
        }
    }
}

/// A new calendar token: its secret and the feed's address, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarWithToken {
    #[serde(flatten)]
    pub calendar: CalendarBody,
    /// The secret: keep it; only its hash is stored.
    pub token: String,
    /// The feed's path with the token, for a calendar application to subscribe to.
    pub feed: String,
}

/// The calendar tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarList {
    pub items: Vec<CalendarBody>,
}
