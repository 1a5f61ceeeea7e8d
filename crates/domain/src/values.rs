//! Validated value types. Once built, a value is valid; nothing re-checks it.

use std::fmt;

/// Why an input was refused, for a program: a stable code and its
/// parameters, which clients translate (the message is for people reading
/// English, and may change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Missing, null or blank.
    Required,
    /// Longer than `max` characters.
    TooLong { max: i64 },
    /// Shorter than `min` characters.
    TooShort { min: i64 },
    /// A number outside `min..=max`.
    OutOfRange { min: i64, max: i64 },
    /// Not of the expected shape: characters, type, encoding, layout.
    InvalidFormat,
    /// Not one of the values accepted there.
    InvalidChoice,
    /// Already taken: by a stored vehicle, or by an earlier line.
    Duplicate,
    /// Names a garage that does not exist.
    UnknownGarage,
    /// The garage holds its capacity.
    GarageFull,
    /// The garage lacks `missing` places for all that would go in at once.
    NotEnoughRoom { missing: i64 },
    /// A capacity below the vehicles the garage holds.
    CapacityBelowCount,
    /// An import's header names a column no import has (`field` is its name).
    UnknownColumn,
    /// An import's line has another number of fields than its header's `max`.
    FieldCount { max: i64 },
    /// Several garages have the name given: their id must be.
    AmbiguousGarage,
    /// A garage's name and id, both given, name different garages.
    GarageMismatch,
    /// Well-formed, and refused by a rule the message explains.
    Refused,
}

impl Reason {
    /// Every reason, one of each kind, in the order of `CODES`.
    pub const ALL: [Self; 16] = [
        Self::Required,
        Self::TooLong { max: 0 },
        Self::TooShort { min: 0 },
        Self::OutOfRange { min: 0, max: 0 },
        Self::InvalidFormat,
        Self::InvalidChoice,
        Self::Duplicate,
        Self::UnknownGarage,
        Self::GarageFull,
        Self::NotEnoughRoom { missing: 0 },
        Self::CapacityBelowCount,
        Self::UnknownColumn,
        Self::FieldCount { max: 0 },
        Self::AmbiguousGarage,
        Self::GarageMismatch,
        Self::Refused,
    ];

    /// The stable code clients match on.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::TooLong { .. } => "too_long",
            Self::TooShort { .. } => "too_short",
            Self::OutOfRange { .. } => "out_of_range",
            Self::InvalidFormat => "invalid_format",
            Self::InvalidChoice => "invalid_choice",
            Self::Duplicate => "duplicate",
            Self::UnknownGarage => "unknown_garage",
            Self::GarageFull => "garage_full",
            Self::NotEnoughRoom { .. } => "not_enough_room",
            Self::CapacityBelowCount => "capacity_below_count",
            Self::UnknownColumn => "unknown_column",
            Self::FieldCount { .. } => "field_count",
            Self::AmbiguousGarage => "ambiguous_garage",
            Self::GarageMismatch => "garage_mismatch",
            Self::Refused => "refused",
        }
    }

    /// The lower bound it names, if any.
    pub const fn min(self) -> Option<i64> {
        match self {
            Self::TooShort { min } | Self::OutOfRange { min, .. } => Some(min),
            _ => None,
        }
    }

    /// The places lacking, if it names them.
    pub const fn missing(self) -> Option<i64> {
        match self {
            Self::NotEnoughRoom { missing } => Some(missing),
            _ => None,
        }
    }

    /// The upper bound it names, if any.
    pub const fn max(self) -> Option<i64> {
        match self {
            Self::TooLong { max } | Self::OutOfRange { max, .. } | Self::FieldCount { max } => {
                Some(max)
            }
            _ => None,
        }
    }
}

/// Why one input field was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub reason: Reason,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason,
            message: message.into(),
        }
    }
}

/// Collects the errors of every field of one input, so a client hears of all
/// of them at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records its error under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, ValueError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.push(field, err.reason, err.message);
                None
            }
        }
    }

    pub fn push(&mut self, field: &str, reason: Reason, message: impl Into<String>) {
        self.0.push(FieldError::new(field, reason, message));
    }

    /// `Ok(())` when no field failed.
    ///
    /// # Errors
    /// Every recorded field error.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// Why a value was refused: its reason, and words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    pub reason: Reason,
    pub message: String,
}

impl ValueError {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

fn invalid<T>(reason: Reason, message: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError::new(reason, message))
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub(crate) i64);

        impl $name {
            pub const fn get(self) -> i64 {
                self.0
            }

            /// An id given as a reference in a body: it must be positive.
            ///
            /// # Errors
            /// When `raw` is zero or negative.
            pub fn parse(raw: i64) -> Result<Self, ValueError> {
                if raw >= 1 {
                    Ok(Self(raw))
                } else {
                    invalid(Reason::OutOfRange { min: 1, max: i64::MAX }, "must be a positive integer")
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// Identifies a garage.
    GarageId
);
id_type!(
    /// Identifies a vehicle.
    VehicleId
);
id_type!(
    /// Identifies a webhook endpoint.
    WebhookId
);
id_type!(
    /// Identifies one event's delivery to one webhook endpoint.
    DeliveryId
);
id_type!(
    /// Identifies a vehicle's care plan.
    PlanId
);
id_type!(
    /// Identifies one odometer reading.
    ReadingId
);
id_type!(
    /// Identifies one record of care work done.
    RecordId
);
id_type!(
    /// Identifies a calendar subscription token.
    CalendarId
);

macro_rules! text_type {
    ($(#[$meta:meta])* $name:ident, $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            /// Trims `raw` and checks it holds 1 to `MAX_CHARS` characters
            /// and no control characters.
            ///
            /// # Errors
            /// When the trimmed text is empty, too long or holds a control character.
            pub fn parse(raw: &str) -> Result<Self, ValueError> {
                parse_text(raw, Self::MAX_CHARS).map(|text| Self(text.to_owned()))
            }

            /// As `parse`, keeping `raw`'s buffer when it needs no trimming
            /// (as with every value read back from storage).
            ///
            /// # Errors
            /// As `parse`.
            pub fn parse_owned(raw: String) -> Result<Self, ValueError> {
                let text = parse_text(&raw, Self::MAX_CHARS)?;
                if text.len() == raw.len() {
                    Ok(Self(raw))
                } else {
                    Ok(Self(text.to_owned()))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// `raw` trimmed, once checked.
fn parse_text(raw: &str, max: usize) -> Result<&str, ValueError> {
    let text = raw.trim();
    if text.is_empty() {
        return invalid(Reason::Required, "must not be empty");
    }
    if text.chars().count() > max {
        return invalid(
            Reason::TooLong { max: max as i64 },
            format!("must be at most {max} characters"),
        );
    }
    if text.chars().any(char::is_control) {
        return invalid(Reason::InvalidFormat, "must not contain control characters");
    }
    Ok(text)
}

text_type!(
    /// A garage's name: 1 to 100 characters.
    GarageName,
    100
);
text_type!(
    /// A garage's postal address: 1 to 200 characters.
    Address,
    200
);
text_type!(
    /// A vehicle's make, such as "Renault": 1 to 50 characters.
    Brand,
    50
);
text_type!(
    /// A vehicle's model, such as "Clio": 1 to 50 characters.
    ModelName,
    50
);
text_type!(
    /// A note on work done, such as "brake pads": 1 to 500 characters.
    Note,
    500
);

/// The most vehicles a garage may hold, when it has a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Capacity(u32);

impl Capacity {
    pub const MAX: u32 = 1_000_000;

    /// # Errors
    /// When `raw` is not within 1..=`MAX`.
    pub fn parse(raw: i64) -> Result<Self, ValueError> {
        match u32::try_from(raw) {
            Ok(value) if (1..=Self::MAX).contains(&value) => Ok(Self(value)),
            _ => invalid(
                Reason::OutOfRange {
                    min: 1,
                    max: i64::from(Self::MAX),
                },
                format!("must be between 1 and {}", Self::MAX),
            ),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A model year: from 1886, the first car, to next year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelYear(u16);

impl ModelYear {
    pub const FIRST: i64 = 1886;

    /// Checks `raw` against today's calendar.
    ///
    /// # Errors
    /// When `raw` is before 1886 or after next year.
    pub fn parse(raw: i64) -> Result<Self, ValueError> {
        use chrono::Datelike;
        Self::parse_in(raw, i64::from(chrono::Utc::now().year()))
    }

    /// Checks `raw` as if this were `current_year`.
    ///
    /// # Errors
    /// When `raw` is before 1886 or after `current_year + 1`.
    pub fn parse_in(raw: i64, current_year: i64) -> Result<Self, ValueError> {
        // A year held in 16 bits: a later one is refused, never wrapped.
        let last = current_year.saturating_add(1).min(i64::from(u16::MAX));
        match u16::try_from(raw) {
            Ok(year) if (Self::FIRST..=last).contains(&raw) => Ok(Self(year)),
            _ => invalid(
                Reason::OutOfRange {
                    min: Self::FIRST,
                    max: last,
                },
                format!("must be between {} and {last}", Self::FIRST),
            ),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

/// A registration plate in canonical form: upper-case ASCII letters and
/// digits, without the spaces, hyphens and dots people write between them,
/// so `ab-123-cd`, `AB 123 CD` and `AB123CD` are one plate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LicensePlate(String);

impl LicensePlate {
    pub const MIN_CHARS: usize = 2;
    pub const MAX_CHARS: usize = 12;

    /// # Errors
    /// When `raw` holds anything but letters A–Z, digits, spaces, hyphens and
    /// dots, or its letters and digits number fewer than 2 or more than 12.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let mut canonical = String::with_capacity(Self::MAX_CHARS);
        for c in raw.chars() {
            match c {
                ' ' | '-' | '.' => {}
                c if c.is_ascii_alphanumeric() => {
                    if canonical.len() == Self::MAX_CHARS {
                        return invalid(
                            Reason::TooLong {
                                max: Self::MAX_CHARS as i64,
                            },
                            format!("must have at most {} letters and digits", Self::MAX_CHARS),
                        );
                    }
                    canonical.push(c.to_ascii_uppercase());
                }
                _ => {
                    return invalid(
                        Reason::InvalidFormat,
                        "may contain only letters A-Z, digits, spaces, hyphens and dots",
                    )
                }
            }
        }
        if canonical.len() < Self::MIN_CHARS {
            return invalid(
                Reason::TooShort {
                    min: Self::MIN_CHARS as i64,
                },
                format!("must have at least {} letters and digits", Self::MIN_CHARS),
            );
        }
        Ok(Self(canonical))
    }

    /// As `parse`, keeping `raw`'s buffer when it is canonical already (as
    /// every plate read back from storage is).
    ///
    /// # Errors
    /// As `parse`.
    pub fn parse_owned(raw: String) -> Result<Self, ValueError> {
        let canonical = (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if canonical {
            Ok(Self(raw))
        } else {
            Self::parse(&raw)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for LicensePlate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Part of a plate to search for: its letters and digits, upper-cased, the
/// spaces, hyphens and dots people write between them dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlateFragment(String);

impl PlateFragment {
    /// # Errors
    /// When `raw` holds anything but letters A–Z, digits, spaces, hyphens
    /// and dots, or no letter or digit, or more than a plate holds.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let mut fragment = String::with_capacity(LicensePlate::MAX_CHARS);
        for c in raw.chars() {
            match c {
                ' ' | '-' | '.' => {}
                c if c.is_ascii_alphanumeric() => {
                    if fragment.len() == LicensePlate::MAX_CHARS {
                        return invalid(
                            Reason::TooLong {
                                max: LicensePlate::MAX_CHARS as i64,
                            },
                            format!(
                                "must have at most {} letters and digits",
                                LicensePlate::MAX_CHARS
                            ),
                        );
                    }
                    fragment.push(c.to_ascii_uppercase());
                }
                _ => {
                    return invalid(
                        Reason::InvalidFormat,
                        "may contain only letters A-Z, digits, spaces, hyphens and dots",
                    )
                }
            }
        }
        if fragment.is_empty() {
            return invalid(Reason::Required, "must hold a letter or a digit");
        }
        Ok(Self(fragment))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A vehicle identification number (ISO 3779): 17 letters and digits, the
/// letters I, O and Q excluded (they read as 1 and 0), kept upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vin(String);

impl Vin {
    pub const CHARS: usize = 17;

    /// # Errors
    /// When `raw`, trimmed, is not 17 letters and digits, or holds I, O or Q.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let raw = raw.trim();
        if let Some(c) = raw.chars().find(|c| !c.is_ascii_alphanumeric()) {
            return invalid(
                Reason::InvalidFormat,
                format!("may contain only letters and digits, not {c:?}"),
            );
        }
        if raw.len() != Self::CHARS {
            return invalid(
                Reason::InvalidFormat,
                format!(
                    "must have exactly {} letters and digits, not {}",
                    Self::CHARS,
                    raw.len()
                ),
            );
        }
        let canonical = raw.to_ascii_uppercase();
        if let Some(c) = canonical.chars().find(|c| matches!(c, 'I' | 'O' | 'Q')) {
            return invalid(
                Reason::InvalidFormat,
                format!("must not contain the letter {c} (VINs exclude I, O and Q)"),
            );
        }
        Ok(Self(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Vin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How many times a stored garage or vehicle has changed: its entity tag.
/// Every write that changes what a client reads of it increments it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub(crate) i64);

impl Version {
    /// The version a store holds or an entity tag names: any integer.
    pub const fn new(raw: i64) -> Self {
        Self(raw)
    }

    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How many items one page holds: 1 to 200, 50 unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u16);

impl Limit {
    pub const MAX: u16 = 200;
    pub const DEFAULT: Limit = Limit(50);
    /// The largest page, for callers that read everything page by page.
    pub const LARGEST: Limit = Limit(Self::MAX);

    /// # Errors
    /// When `raw` is not within 1..=200.
    pub fn parse(raw: i64) -> Result<Self, ValueError> {
        match u16::try_from(raw) {
            Ok(value) if (1..=Self::MAX).contains(&value) => Ok(Self(value)),
            _ => invalid(
                Reason::OutOfRange {
                    min: 1,
                    max: i64::from(Self::MAX),
                },
                format!("must be between 1 and {}", Self::MAX),
            ),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plates_in_any_spelling_are_one_plate() {
        let canonical = LicensePlate::parse("AB123CD").unwrap();
        for spelling in ["ab-123-cd", "AB 123 CD", " ab.123.cd ", "Ab-123 cD"] {
            assert_eq!(
                LicensePlate::parse(spelling).unwrap(),
                canonical,
                "{spelling}"
            );
        }
        assert_eq!(canonical.as_str(), "AB123CD");
    }

    #[test]
    fn plates_refuse_other_symbols_non_ascii_and_bad_lengths() {
        for bad in [
            "",
            "   ",
            "-.-",
            "A",
            "AB_123",
            "AB/12",
            "ÉT-123",
            "AB123CD;--",
            "ABCDEFGHIJKLM",
            "١٢٣٤",
        ] {
            assert!(LicensePlate::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(
            LicensePlate::parse("ABCDEFGHIJKL").unwrap().as_str().len(),
            12
        );
        assert_eq!(
            LicensePlate::parse("A-B-C-D-E-F-G-H-I-J-K-L")
                .unwrap()
                .as_str(),
            "ABCDEFGHIJKL"
        );
    }

    #[test]
    fn vins_are_17_letters_and_digits_upper_cased_without_i_o_q() {
        let vin = Vin::parse(" vf1rfb00x12345678 ").unwrap();
        assert_eq!(vin.as_str(), "VF1RFB00X12345678");
        assert_eq!(Vin::parse(vin.as_str()).unwrap(), vin);
        for bad in [
            "",
            "VF1RFB00X1234567",
            "VF1RFB00X123456789",
            "VF1RFB00X1234567I",
            "VF1RFB00X1234567o",
            "VF1RFB00X1234567Q",
            "VF1RFB00X-2345678",
            "VF1RFB00X 2345678",
            "VF1RFB00X1234567É",
        ] {
            assert!(Vin::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn canonical_plate_parses_to_itself() {
        let plate = LicensePlate::parse("xy 99-zz").unwrap();
        assert_eq!(LicensePlate::parse(plate.as_str()).unwrap(), plate);
    }

    proptest::proptest! {
        // Values read back from storage skip a copy, never the checks.
        #[test]
        fn parsing_an_owned_value_is_parsing_it(raw in "[ a-zA-Z0-9.\\-_\t\u{0}é]{0,60}") {
            proptest::prop_assert_eq!(LicensePlate::parse_owned(raw.clone()), LicensePlate::parse(&raw));
            proptest::prop_assert_eq!(Brand::parse_owned(raw.clone()), Brand::parse(&raw));
            proptest::prop_assert_eq!(ModelName::parse_owned(raw.clone()), ModelName::parse(&raw));
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded_in_characters_not_bytes() {
        assert_eq!(
            GarageName::parse("  Garage du Nord ").unwrap().as_str(),
            "Garage du Nord"
        );
        assert!(GarageName::parse(" \t ").is_err());
        assert!(GarageName::parse(&"é".repeat(100)).is_ok());
        assert!(GarageName::parse(&"é".repeat(101)).is_err());
        assert!(Address::parse(&"a".repeat(200)).is_ok());
        assert!(Address::parse(&"a".repeat(201)).is_err());
        assert!(Brand::parse(&"b".repeat(51)).is_err());
        assert!(ModelName::parse(&"m".repeat(50)).is_ok());
        assert!(Brand::parse("Re\u{0}nault").is_err());
    }

    #[test]
    fn model_year_runs_from_1886_to_next_year() {
        assert!(ModelYear::parse_in(1885, 2026).is_err());
        assert_eq!(ModelYear::parse_in(1886, 2026).unwrap().get(), 1886);
        assert_eq!(ModelYear::parse_in(2027, 2026).unwrap().get(), 2027);
        // Read back from a store with no calendar bound: never wrapped to 4,464.
        let far = ModelYear::parse_in(70_000, i64::from(i32::MAX));
        assert!(far.is_err(), "{far:?}");
        assert!(ModelYear::parse_in(2030, i64::MAX).is_ok());
        assert!(ModelYear::parse_in(2028, 2026).is_err());
        assert!(ModelYear::parse_in(i64::MIN, 2026).is_err());
    }

    #[test]
    fn capacity_limit_and_ids_have_bounds() {
        assert!(Capacity::parse(0).is_err());
        assert!(Capacity::parse(-3).is_err());
        assert_eq!(Capacity::parse(1).unwrap().get(), 1);
        assert!(Capacity::parse(i64::from(Capacity::MAX) + 1).is_err());
        assert!(Limit::parse(0).is_err());
        assert!(Limit::parse(201).is_err());
        assert_eq!(Limit::parse(200).unwrap().get(), 200);
        assert_eq!(Limit::default().get(), 50);
        assert!(GarageId::parse(0).is_err());
        assert_eq!(VehicleId::parse(7).unwrap(), VehicleId(7));
    }

    #[test]
    fn field_errors_collects_every_failure() {
        let mut errors = FieldErrors::new();
        let name = errors.check("name", GarageName::parse("ok"));
        let year = errors.check("year", ModelYear::parse_in(1700, 2026));
        let plate = errors.check("license_plate", LicensePlate::parse("!"));
        assert!(name.is_some() && year.is_none() && plate.is_none());
        let all = errors.finish().unwrap_err();
        let fields: Vec<_> = all.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["year", "license_plate"]);
    }
}
