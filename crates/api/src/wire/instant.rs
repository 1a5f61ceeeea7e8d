//! Instants on the wire: RFC 3339 in UTC, byte for byte as chrono writes
//! them (`2026-11-30T18:05:09.123456Z`: no fraction, or 3, 6 or 9 digits,
//! whichever is shortest and exact), without going through `core::fmt`.
//! A page of 50 vehicles holds 100 of them; through chrono's `Display` they
//! took a tenth of the server's time serving a list.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Serialize, Serializer};

/// For `#[serde(serialize_with = "crate::wire::instant::serialize")]`.
pub(crate) fn serialize<S: Serializer>(
    at: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match write(at, &mut buf) {
        // Only ASCII digits and separators were written.
        Some(len) => serializer.serialize_str(std::str::from_utf8(&buf[..len]).unwrap_or_default()),
        // Years before 0 or after 9999: chrono writes them with a sign.
        None => at.serialize(serializer),
    }
}

/// For an optional instant: `null` when absent.
pub(crate) fn serialize_option<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// Writes `at` into `buf`; its length, or `None` for a year out of 0..=9999.
fn write(at: &DateTime<Utc>, buf: &mut [u8; 30]) -> Option<usize> {
    let (date, time) = (at.date_naive(), at.time());
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    // A leap second is kept as nanoseconds past 1e9, and shown as second 60.
    let (second, nanos) = match time.nanosecond() {
        n if n >= 1_000_000_000 => (time.second() + 1, n - 1_000_000_000),
        n => (time.second(), n),
    };
    two(buf, 0, year / 100);
    two(buf, 2, year % 100);
    buf[4] = b'-';
    two(buf, 5, date.month());
    buf[7] = b'-';
    two(buf, 8, date.day());
    buf[10] = b'T';
    two(buf, 11, time.hour());
    buf[13] = b':';
    two(buf, 14, time.minute());
    buf[16] = b':';
    two(buf, 17, second);
    let mut len = 19;
    let (digits, mut fraction) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (3, n / 1_000_000),
        n if n % 1_000 == 0 => (6, n / 1_000),
        n => (9, n),
    };
    if digits > 0 {
        buf[len] = b'.';
        for i in (0..digits).rev() {
            buf[len + 1 + i] = b'0' + (fraction % 10) as u8;
            fraction /= 10;
        }
        len += 1 + digits;
    }
    buf[len] = b'Z';
    Some(len + 1)
}

fn two(buf: &mut [u8], at: usize, n: u32) {
    buf[at] = b'0' + (n / 10) as u8;
    buf[at + 1] = b'0' + (n % 10) as u8;
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use proptest::prelude::*;

    use super::*;

    #[derive(Serialize)]
    struct Ours(#[serde(serialize_with = "serialize")] DateTime<Utc>);

    fn ours(at: DateTime<Utc>) -> String {
        serde_json::to_string(&Ours(at)).unwrap()
    }

    fn chronos(at: DateTime<Utc>) -> String {
        serde_json::to_string(&at).unwrap()
    }

    #[test]
    fn each_fraction_is_written_as_chrono_writes_it() {
        let second = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        for (nanos, expected) in [
            (0, "\"2026-01-02T03:04:05Z\""),
            (120_000_000, "\"2026-01-02T03:04:05.120Z\""),
            (123_456_000, "\"2026-01-02T03:04:05.123456Z\""),
            (1_000, "\"2026-01-02T03:04:05.000001Z\""),
            (7, "\"2026-01-02T03:04:05.000000007Z\""),
        ] {
            let at = second + chrono::Duration::nanoseconds(nanos);
            assert_eq!(ours(at), expected);
            assert_eq!(ours(at), chronos(at));
        }
    }

    #[test]
    fn a_leap_second_and_years_past_four_digits_match_chrono() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_micro_opt(23, 59, 59, 1_500_000)
            .unwrap()
            .and_utc();
        assert_eq!(ours(leap), "\"2016-12-31T23:59:60.500Z\"");
        assert_eq!(ours(leap), chronos(leap));
        for year in [-1, 0, 9999, 10_000] {
            let at = Utc.with_ymd_and_hms(year, 6, 7, 8, 9, 10).unwrap();
            assert_eq!(ours(at), chronos(at), "year {year}");
        }
    }

    #[test]
    fn an_absent_instant_is_null() {
        #[derive(Serialize)]
        struct Maybe(#[serde(serialize_with = "serialize_option")] Option<DateTime<Utc>>);
        assert_eq!(serde_json::to_string(&Maybe(None)).unwrap(), "null");
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 18, 5, 9).unwrap();
        assert_eq!(
            serde_json::to_string(&Maybe(Some(at))).unwrap(),
            chronos(at)
        );
    }

    proptest! {
        #[test]
        fn any_instant_is_written_as_chrono_writes_it(
            seconds in -62_167_219_200i64..253_402_300_800,
            nanos in prop_oneof![Just(0u32), (0u32..1000).prop_map(|m| m * 1_000_000),
                (0u32..1_000_000).prop_map(|u| u * 1_000), 0u32..1_000_000_000],
        ) {
            let at = DateTime::from_timestamp(seconds, nanos).unwrap();
            prop_assert_eq!(ours(at), chronos(at));
        }
    }
}
