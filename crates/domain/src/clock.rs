//! The time, as a port: rules that depend on it are tested with a clock
//! the test moves.

use chrono::{DateTime, NaiveDate, Utc};

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Where the fleet's days begin and end, an IANA time zone
/// (`Europe/Paris`): what "today" is for a reading, a plan due on a date, a
/// reminder. UTC unless configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(chrono_tz::Tz);

impl Zone {
    pub const UTC: Self = Self(chrono_tz::UTC);

    /// # Errors
    /// When `name` is no IANA time zone, with what the name should look like.
    pub fn parse(name: &str) -> Result<Self, String> {
        name.trim()
            .parse()
            .map(Self)
            .map_err(|_| format!("{name:?} is not an IANA time zone (such as Europe/Paris or UTC)"))
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The day it is here at `now`.
    pub fn today(self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.0).date_naive()
    }
}

impl Default for Zone {
    fn default() -> Self {
        Self::UTC
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_day_begins_at_midnight_where_the_fleet_is() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        // Winter: UTC+1. 23:30 UTC on 28 February is 00:30 on 1 March.
        let late = Utc.with_ymd_and_hms(2027, 2, 28, 23, 30, 0).unwrap();
        assert_eq!(paris.today(late), day(2027, 3, 1));
        assert_eq!(Zone::UTC.today(late), day(2027, 2, 28));
        // Summer: UTC+2. 22:30 UTC is already tomorrow, 21:30 is not.
        let summer = Utc.with_ymd_and_hms(2027, 7, 14, 22, 30, 0).unwrap();
        assert_eq!(paris.today(summer), day(2027, 7, 15));
        let earlier = Utc.with_ymd_and_hms(2027, 7, 14, 21, 30, 0).unwrap();
        assert_eq!(paris.today(earlier), day(2027, 7, 14));
        // West of Greenwich, the day ends later.
        let guadeloupe = Zone::parse("America/Guadeloupe").unwrap();
        assert_eq!(
            guadeloupe.today(Utc.with_ymd_and_hms(2027, 3, 1, 2, 0, 0).unwrap()),
            day(2027, 2, 28)
        );
    }

    #[test]
    fn a_zone_is_an_iana_name() {
        assert_eq!(
            Zone::parse(" Europe/Paris ").unwrap().name(),
            "Europe/Paris"
        );
        assert_eq!(Zone::default(), Zone::UTC);
        for bad in ["", "Paris", "CET+1", "Europe/Lyon"] {
            let err = Zone::parse(bad).unwrap_err();
            assert!(err.contains("IANA"), "{bad}: {err}");
        }
    }
}
