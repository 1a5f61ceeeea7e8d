//! Odometer readings, care plans, the work done on them, and what falls due.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, Months, NaiveDate, Utc};

use crate::values::{
    GarageId, GarageName, LicensePlate, Note, PlanId, ReadingId, Reason, RecordId, ValueError,
    VehicleId,
};

/// A distance in kilometres, as an odometer shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Km(u32);

impl Km {
    pub const MAX: u32 = 9_999_999;

    /// # Errors
    /// When `raw` is not within 0..=`MAX`.
    pub fn parse(raw: i64) -> Result<Self, ValueError> {
        match u32::try_from(raw) {
            Ok(km) if km <= Self::MAX => Ok(Self(km)),
            _ => Err(ValueError::new(
                Reason::OutOfRange {
                    min: 0,
                    max: i64::from(Self::MAX),
                },
                format!("must be between 0 and {} km", Self::MAX),
            )),
        }
    }

    /// An interval in kilometres: at least 1.
    ///
    /// # Errors
    /// When `raw` is not within 1..=`MAX`.
    pub fn parse_interval(raw: i64) -> Result<Self, ValueError> {
        match Self::parse(raw) {
            Ok(km) if km.0 >= 1 => Ok(km),
            _ => Err(ValueError::new(
                Reason::OutOfRange {
                    min: 1,
                    max: i64::from(Self::MAX),
                },
                format!("must be between 1 and {} km", Self::MAX),
            )),
        }
    }

    pub const fn get(self) -> u32 {
        self.0
    }

    /// `self + other`, never past what an odometer shows.
    #[must_use]
    pub fn plus(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0).min(Self::MAX))
    }
}

impl fmt::Display for Km {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} km", self.0)
    }
}

/// What a plan is about: one of the usual three, or a kind the fleet names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CareKind {
    Service,
    /// A roadworthiness test (in France, the contrôle technique).
    Inspection,
    Insurance,
    /// A kind of the fleet's own: lower-case letters, digits, `-` and `_`.
    Custom(String),
}

impl CareKind {
    pub const MAX_CHARS: usize = 40;

    pub fn as_str(&self) -> &str {
        match self {
            Self::Service => "service",
            Self::Inspection => "inspection",
            Self::Insurance => "insurance",
            Self::Custom(name) => name,
        }
    }
}

impl FromStr for CareKind {
    type Err = ValueError;

    /// # Errors
    /// When `raw` is empty, longer than 40 characters, or holds anything but
    /// lower-case ASCII letters, digits, `-` and `_`.
    fn from_str(raw: &str) -> Result<Self, ValueError> {
        Ok(match raw {
            "service" => Self::Service,
            "inspection" => Self::Inspection,
            "insurance" => Self::Insurance,
            "" => return Err(ValueError::new(Reason::Required, "must not be empty")),
            name if name.chars().count() > Self::MAX_CHARS => {
                return Err(ValueError::new(
                    Reason::TooLong {
                        max: Self::MAX_CHARS as i64,
                    },
                    format!("must be at most {} characters", Self::MAX_CHARS),
                ))
            }
            name if name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') =>
            {
                Self::Custom(name.to_owned())
            }
            _ => {
                return Err(ValueError::new(
                    Reason::InvalidFormat,
                    "must be service, inspection, insurance, or a name of lower-case letters, digits, - and _",
                ))
            }
        })
    }
}

impl fmt::Display for CareKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where reminders due by distance only sort: after every date.
pub fn undated() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// How many months apart a plan falls due: 1 to 240.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EveryMonths(u16);

impl EveryMonths {
    pub const MAX: u16 = 240;

    /// # Errors
    /// When `raw` is not within 1..=`MAX`.
    pub fn parse(raw: i64) -> Result<Self, ValueError> {
        match u16::try_from(raw) {
            Ok(months) if (1..=Self::MAX).contains(&months) => Ok(Self(months)),
            _ => Err(ValueError::new(
                Reason::OutOfRange {
                    min: 1,
                    max: i64::from(Self::MAX),
                },
                format!("must be between 1 and {} months", Self::MAX),
            )),
        }
    }

    pub const fn get(self) -> u16 {
        self.0
    }

    /// `date` this many months later, on the same day of the month or the
    /// month's last day when it has no such day (31 January + 1 month is
    /// the last day of February); `None` past the year 9999.
    pub fn after(self, date: NaiveDate) -> Option<NaiveDate> {
        date.checked_add_months(Months::new(u32::from(self.0)))
            .filter(|d| *d <= undated())
    }
}

/// The French contrôle technique: first within four years of the first
/// registration, then every two years.
pub const INSPECTION_FIRST_MONTHS: EveryMonths = EveryMonths(48);
pub const INSPECTION_EVERY_MONTHS: EveryMonths = EveryMonths(24);

/// A schedule of common practice, filled in from the vehicle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// The French contrôle technique (see [`INSPECTION_FIRST_MONTHS`]).
    ControleTechnique,
}

impl FromStr for Preset {
    type Err = ValueError;

    fn from_str(raw: &str) -> Result<Self, ValueError> {
        match raw {
            "controle_technique" => Ok(Self::ControleTechnique),
            _ => Err(ValueError::new(
                Reason::InvalidChoice,
                "must be controle_technique",
            )),
        }
    }
}

/// When a plan falls due: every so many months and/or kilometres from when
/// it was last done, or on a date (an insurance's expiry), or both (a date
/// first, the interval after it is done).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Schedule {
    pub every_months: Option<EveryMonths>,
    pub every_km: Option<Km>,
    /// The next due date, as given: it wins over `every_months` until the
    /// plan is done.
    pub due_on: Option<NaiveDate>,
}

impl Schedule {
    pub fn is_empty(&self) -> bool {
        self.every_months.is_none() && self.every_km.is_none() && self.due_on.is_none()
    }
}

/// Where a plan counts from: when it was last done, or, never done yet,
/// when it was set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since {
    pub on: NaiveDate,
    /// The odometer then, when known.
    pub km: Option<Km>,
    /// Whether it was done then (else the plan began then).
    pub done: bool,
}

/// When a plan is next due, by date and by distance; whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Due {
    pub on: Option<NaiveDate>,
    pub km: Option<Km>,
}

impl Due {
    /// Whether the plan is due, as the vehicle stands on `today` with
    /// `odometer` on the clock: `Overdue` once `today` is past its date or
    /// the odometer past its distance, `DueSoon` when either is within the
    /// thresholds, the more urgent of the two.
    pub fn status(&self, today: NaiveDate, odometer: Option<Km>, within: Thresholds) -> CareStatus {
        let by_date = self.on.map_or(CareStatus::Ok, |due| {
            if today > due {
                CareStatus::Overdue
            } else if within.soon_until(today) >= due {
                CareStatus::DueSoon
            } else {
                CareStatus::Ok
            }
        });
        let by_km = match (self.km, odometer) {
            (Some(due), Some(now)) if now > due => CareStatus::Overdue,
            (Some(due), Some(now)) if now.plus(within.km) >= due => CareStatus::DueSoon,
            _ => CareStatus::Ok,
        };
        by_date.max(by_km)
    }
}

/// How near a due date or distance makes a plan due soon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub days: u32,
    pub km: Km,
}

impl Default for Thresholds {
    /// 30 days or 1,000 km.
    fn default() -> Self {
        Self {
            days: 30,
            km: Km(1_000),
        }
    }
}

impl Thresholds {
    /// The last date a due date makes a plan due soon on `today`.
    pub fn soon_until(self, today: NaiveDate) -> NaiveDate {
        today
            .checked_add_days(Days::new(u64::from(self.days)))
            .map_or_else(undated, |d| d.min(undated()))
    }
}

/// How urgent a plan is; ordered from calm to late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum CareStatus {
    #[default]
    Ok,
    DueSoon,
    Overdue,
}

impl CareStatus {
    pub const ALL: [Self; 3] = [Self::Ok, Self::DueSoon, Self::Overdue];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::DueSoon => "due_soon",
            Self::Overdue => "overdue",
        }
    }

    /// As stored: 0, 1, 2.
    pub const fn level(self) -> i16 {
        match self {
            Self::Ok => 0,
            Self::DueSoon => 1,
            Self::Overdue => 2,
        }
    }

    pub fn from_level(level: i16) -> Self {
        match level {
            2 => Self::Overdue,
            1 => Self::DueSoon,
            _ => Self::Ok,
        }
    }
}

impl FromStr for CareStatus {
    type Err = ValueError;

    fn from_str(raw: &str) -> Result<Self, ValueError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                ValueError::new(Reason::InvalidChoice, "must be ok, due_soon or overdue")
            })
    }
}

/// A vehicle's care plan of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: PlanId,
    pub vehicle_id: VehicleId,
    pub kind: CareKind,
    pub schedule: Schedule,
    pub since: Since,
    /// Counts the plan's due points: each change of when it is due starts a
    /// new cycle, and its reminders are sent once per cycle.
    pub cycle: i64,
    /// The most urgent status a reminder was sent for in this cycle.
    pub notified: CareStatus,
    pub updated_at: DateTime<Utc>,
}

/// The state of a plan a write expects: that plan (one made again after a
/// deletion is another), at that cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanVersion {
    pub id: PlanId,
    pub cycle: i64,
}

/// A plan as it is to be stored: what the service decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanState {
    pub schedule: Schedule,
    pub since: Since,
    /// Written beside the plan so the stores can find what is due.
    pub due: Due,
}

impl PlanState {
    /// A plan set up on `today` (the odometer then at `odometer`), or last
    /// done when `last_done` says.
    pub fn new(schedule: Schedule, since: Since) -> Self {
        Self {
            due: due_of(&schedule, &since),
            schedule,
            since,
        }
    }

    /// The plan once done on `on` at `km`; `next_due_on` is the next fixed
    /// date (an insurance renewed until then), else the interval counts.
    #[must_use]
    pub fn done(&self, on: NaiveDate, km: Option<Km>, next_due_on: Option<NaiveDate>) -> Self {
        let schedule = Schedule {
            due_on: next_due_on,
            ..self.schedule
        };
        Self::new(schedule, Since { on, km, done: true })
    }
}

/// When `schedule` is next due, counting from `since`.
fn due_of(schedule: &Schedule, since: &Since) -> Due {
    Due {
        on: schedule
            .due_on
            .or_else(|| schedule.every_months.and_then(|m| m.after(since.on))),
        km: schedule
            .every_km
            .map(|every| since.km.map_or(every, |km| km.plus(every))),
    }
}

impl Plan {
    pub fn due(&self) -> Due {
        due_of(&self.schedule, &self.since)
    }

    pub fn version(&self) -> PlanVersion {
        PlanVersion {
            id: self.id,
            cycle: self.cycle,
        }
    }
}

/// An odometer reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub id: ReadingId,
    pub vehicle_id: VehicleId,
    pub km: Km,
    pub read_on: NaiveDate,
    /// Recorded below an earlier reading by an admin, to correct a mistake.
    pub correction: bool,
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub actor: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewReading {
    pub km: Km,
    pub read_on: NaiveDate,
    pub correction: bool,
}

/// Work done on a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareRecord {
    pub id: RecordId,
    pub vehicle_id: VehicleId,
    pub kind: CareKind,
    pub done_on: NaiveDate,
    pub km: Option<Km>,
    pub note: Option<Note>,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
}

/// Work done, as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub done_on: NaiveDate,
    /// The odometer then; the vehicle's latest reading when not given.
    pub km: Option<Km>,
    pub note: Option<Note>,
    /// The next fixed due date (an insurance renewed until then).
    pub next_due_on: Option<NaiveDate>,
}

/// A vehicle's care: its plans, each with when it is due and how urgent,
/// and the work recorded, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Care {
    pub odometer: Option<Km>,
    pub plans: Vec<(Plan, Due, CareStatus)>,
    pub records: Vec<CareRecord>,
}

/// What a reminder is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueVehicle {
    pub id: VehicleId,
    pub garage_id: GarageId,
    pub garage_name: GarageName,
    pub license_plate: LicensePlate,
    pub odometer: Option<Km>,
}

/// A plan that is due soon or overdue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub plan: Plan,
    pub vehicle: DueVehicle,
    pub due: Due,
    pub status: CareStatus,
}

/// Which reminders to list; every filter set must match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReminderFilter {
    /// `DueSoon`, `Overdue` or both; empty for both.
    pub statuses: Vec<CareStatus>,
    pub garage_id: Option<GarageId>,
    pub kind: Option<CareKind>,
    /// Only vehicles in these garages; set by the service from the reach.
    pub within: Option<Vec<GarageId>>,
}

/// The moment reminders are computed for, and how near is soon: the stores
/// apply [`Due::status`] with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    pub today: NaiveDate,
    pub thresholds: Thresholds,
}

impl Horizon {
    pub fn soon_until(&self) -> NaiveDate {
        self.thresholds.soon_until(self.today)
    }
}

/// Where a page of reminders starts: after this one, in reminder order
/// (overdue first, then by due date, those due by distance only last, then
/// by plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReminderCursor {
    /// 0 for overdue, 1 for due soon.
    pub rank: u8,
    /// The due date; [`undated`] for those due by distance only.
    pub due_on: NaiveDate,
    pub plan: i64,
}

impl ReminderCursor {
    pub fn of(reminder: &Reminder) -> Self {
        Self {
            rank: u8::from(reminder.status != CareStatus::Overdue),
            due_on: reminder.due.on.unwrap_or_else(undated),
            plan: reminder.plan.id.get(),
        }
    }
}

impl fmt::Display for ReminderCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}",
            self.rank,
            self.due_on.format("%Y%m%d"),
            self.plan
        )
    }
}

impl FromStr for ReminderCursor {
    type Err = ValueError;

    /// The text `Display` writes; anything else is refused.
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let bad = || ValueError::new(Reason::InvalidFormat, "must be a cursor this API returned");
        let mut parts = s.split('.');
        let (Some(rank), Some(date), Some(plan), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(rank) || !digits(date) || !digits(plan) || date.len() != 8 {
            return Err(bad());
        }
        let rank = match rank {
            "0" => 0,
            "1" => 1,
            _ => return Err(bad()),
        };
        Ok(Self {
            rank,
            due_on: NaiveDate::parse_from_str(date, "%Y%m%d").map_err(|_| bad())?,
            plan: plan.parse().map_err(|_| bad())?,
        })
    }
}

/// One page of reminders and, when more follow, where the next starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderPage {
    pub items: Vec<Reminder>,
    pub next: Option<ReminderCursor>,
}

/// A calendar subscription: a read-only token for the reminders feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarToken {
    pub id: crate::values::CalendarId,
    pub name: crate::access::KeyName,
    /// The token's first characters, to recognise it.
    pub prefix: String,
    /// The garages whose reminders it shows; `None` for all.
    pub garages: Option<Vec<GarageId>>,
    /// The key that made it: the token reads only while that key is valid,
    /// and only within its garages as they are now.
    pub key: TokenKey,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The key a calendar token was made with, as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKey {
    pub id: crate::access::KeyId,
    /// `false` once revoked (or deleted).
    pub valid: bool,
    /// Its garages now; `None` for all.
    pub garages: Option<Vec<GarageId>>,
}

impl CalendarToken {
    /// What the token may read: its garages, within its key's as they are
    /// now; `None` when it may read nothing (revoked, its key revoked).
    pub fn reach(&self) -> Option<crate::access::Reach> {
        use crate::access::Reach;
        if self.revoked_at.is_some() || !self.key.valid {
            return None;
        }
        Some(match (&self.garages, &self.key.garages) {
            (None, None) => Reach::Everything,
            (Some(ids), None) | (None, Some(ids)) => Reach::Garages(ids.clone()),
            (Some(own), Some(key)) => {
                Reach::Garages(own.iter().copied().filter(|g| key.contains(g)).collect())
            }
        })
    }
}

/// The secret of a calendar token, shown once; only its hash is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct CalendarSecret(String);

impl fmt::Debug for CalendarSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CalendarSecret(…)")
    }
}

impl CalendarSecret {
    pub const PREFIX: &'static str = "cal_";

    pub fn generate() -> Self {
        Self(crate::access::random_secret(Self::PREFIX))
    }

    /// A secret as given in a URL: it must look like one before it is looked up.
    pub fn given(raw: &str) -> Option<Self> {
        crate::access::is_secret(Self::PREFIX, raw).then(|| Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> crate::access::KeyHash {
        crate::access::KeyHash::of(&self.0)
    }

    pub fn prefix(&self) -> String {
        self.0.chars().take(Self::PREFIX.len() + 4).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn km(n: u32) -> Km {
        Km::parse(i64::from(n)).unwrap()
    }

    fn months(n: i64) -> EveryMonths {
        EveryMonths::parse(n).unwrap()
    }

    const DEFAULT: Thresholds = Thresholds {
        days: 30,
        km: Km(1_000),
    };

    #[test]
    fn months_are_added_on_the_calendar_keeping_to_the_months_last_day() {
        assert_eq!(months(1).after(day("2027-01-31")), Some(day("2027-02-28")));
        assert_eq!(months(1).after(day("2028-01-31")), Some(day("2028-02-29")));
        assert_eq!(months(12).after(day("2028-02-29")), Some(day("2029-02-28")));
        assert_eq!(months(3).after(day("2026-11-30")), Some(day("2027-02-28")));
        assert_eq!(months(24).after(day("2026-05-15")), Some(day("2028-05-15")));
    }

    #[test]
    fn a_plan_is_due_by_date_or_distance_whichever_comes_first() {
        let due = Due {
            on: Some(day("2027-06-01")),
            km: Some(km(60_000)),
        };
        let today = day("2027-01-10");
        // Far from both.
        assert_eq!(due.status(today, Some(km(40_000)), DEFAULT), CareStatus::Ok);
        // Near the distance first, far from the date.
        assert_eq!(
            due.status(today, Some(km(59_000)), DEFAULT),
            CareStatus::DueSoon
        );
        // Past the distance, far from the date.
        assert_eq!(
            due.status(today, Some(km(60_001)), DEFAULT),
            CareStatus::Overdue
        );
        // Past the date, far from the distance.
        assert_eq!(
            due.status(day("2027-06-02"), Some(km(10)), DEFAULT),
            CareStatus::Overdue
        );
        // No reading yet: only the date counts.
        assert_eq!(due.status(today, None, DEFAULT), CareStatus::Ok);
    }

    #[test]
    fn status_thresholds_hold_at_their_edges() {
        let due = Due {
            on: Some(day("2027-03-31")),
            km: Some(km(20_000)),
        };
        let far = Some(km(0));
        assert_eq!(due.status(day("2027-02-28"), far, DEFAULT), CareStatus::Ok);
        assert_eq!(
            due.status(day("2027-03-01"), far, DEFAULT),
            CareStatus::DueSoon
        );
        assert_eq!(
            due.status(day("2027-03-31"), far, DEFAULT),
            CareStatus::DueSoon
        );
        assert_eq!(
            due.status(day("2027-04-01"), far, DEFAULT),
            CareStatus::Overdue
        );
        let early = day("2027-01-01");
        assert_eq!(due.status(early, Some(km(18_999)), DEFAULT), CareStatus::Ok);
        assert_eq!(
            due.status(early, Some(km(19_000)), DEFAULT),
            CareStatus::DueSoon
        );
        assert_eq!(
            due.status(early, Some(km(20_000)), DEFAULT),
            CareStatus::DueSoon
        );
        assert_eq!(
            due.status(early, Some(km(20_001)), DEFAULT),
            CareStatus::Overdue
        );
        // Other thresholds, as configured.
        let near = Thresholds {
            days: 7,
            km: km(100),
        };
        assert_eq!(due.status(day("2027-03-23"), far, near), CareStatus::Ok);
        assert_eq!(
            due.status(day("2027-03-24"), far, near),
            CareStatus::DueSoon
        );
        assert_eq!(due.status(early, Some(km(19_899)), near), CareStatus::Ok);
    }

    #[test]
    fn a_fixed_date_holds_until_done_then_the_interval_counts() {
        // An insurance that expires on a date, renewed yearly.
        let schedule = Schedule {
            every_months: Some(months(12)),
            every_km: None,
            due_on: Some(day("2027-03-01")),
        };
        let started = Since {
            on: day("2026-11-30"),
            km: None,
            done: false,
        };
        let plan = PlanState::new(schedule, started);
        assert_eq!(plan.due.on, Some(day("2027-03-01")));
        let renewed = plan.done(day("2027-02-20"), None, None);
        assert_eq!(renewed.due.on, Some(day("2028-02-20")));
        assert_eq!(renewed.schedule.due_on, None);
        // Renewed until a date given: that date is next.
        let until = plan.done(day("2027-02-20"), None, Some(day("2028-03-01")));
        assert_eq!(until.due.on, Some(day("2028-03-01")));
        // A fixed date alone: once done without a new date, nothing is due.
        let once = PlanState::new(
            Schedule {
                due_on: Some(day("2027-03-01")),
                ..Schedule::default()
            },
            started,
        );
        assert_eq!(once.done(day("2027-03-01"), None, None).due, Due::default());
    }

    #[test]
    fn a_service_counts_distance_from_when_it_was_done() {
        let schedule = Schedule {
            every_months: Some(months(12)),
            every_km: Some(km(15_000)),
            due_on: None,
        };
        let plan = PlanState::new(
            schedule,
            Since {
                on: day("2026-01-31"),
                km: Some(km(42_000)),
                done: true,
            },
        );
        assert_eq!(
            plan.due,
            Due {
                on: Some(day("2027-01-31")),
                km: Some(km(57_000))
            }
        );
        let next = plan.done(day("2026-10-05"), Some(km(55_500)), None);
        assert_eq!(
            next.due,
            Due {
                on: Some(day("2027-10-05")),
                km: Some(km(70_500))
            }
        );
        // Never read: the distance counts from zero.
        let new_car = PlanState::new(
            schedule,
            Since {
                on: day("2026-01-31"),
                km: None,
                done: false,
            },
        );
        assert_eq!(new_car.due.km, Some(km(15_000)));
    }

    #[test]
    fn values_refuse_what_is_out_of_range_or_malformed() {
        assert!(Km::parse(-1).is_err());
        assert!(Km::parse(10_000_000).is_err());
        assert!(Km::parse_interval(0).is_err());
        assert!(EveryMonths::parse(0).is_err());
        assert!(EveryMonths::parse(241).is_err());
        assert_eq!("service".parse::<CareKind>(), Ok(CareKind::Service));
        assert_eq!(
            "tyres-winter".parse::<CareKind>(),
            Ok(CareKind::Custom("tyres-winter".into()))
        );
        for bad in ["", "Tyres", "pneus hiver", "a/b", &"x".repeat(41)] {
            assert!(bad.parse::<CareKind>().is_err(), "{bad:?}");
        }
        assert!("due_soon".parse::<CareStatus>().is_ok());
        assert!("late".parse::<CareStatus>().is_err());
    }

    #[test]
    fn a_reminder_cursor_is_read_back_exactly_and_nothing_else_is() {
        let cursor = ReminderCursor {
            rank: 1,
            due_on: day("2027-03-01"),
            plan: 42,
        };
        assert_eq!(cursor.to_string().parse::<ReminderCursor>(), Ok(cursor));
        let last = ReminderCursor {
            due_on: undated(),
            ..cursor
        };
        assert_eq!(last.to_string().parse::<ReminderCursor>(), Ok(last));
        for bad in [
            "",
            "1.20270301",
            "2.20270301.4",
            "1.2027031.4",
            "1.20271301.4",
            "1.20270301.-4",
            "1.20270301.4.5",
        ] {
            assert!(bad.parse::<ReminderCursor>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_calendar_secret_is_only_looked_up_when_it_has_the_shape_of_one() {
        let secret = CalendarSecret::generate();
        assert!(secret.expose().starts_with("cal_"));
        assert_eq!(
            CalendarSecret::given(secret.expose()).map(|s| s.hash().to_hex()),
            Some(secret.hash().to_hex())
        );
        assert!(CalendarSecret::given("gar_abc").is_none());
        assert!(CalendarSecret::given("cal_short").is_none());
        let key = crate::access::KeySecret::generate();
        assert!(CalendarSecret::given(key.expose()).is_none());
    }
}
