//! Hostile input for every value parser: whatever the text or number, a
//! parser answers `Ok` or `Err` (never panics), and what it accepts holds
//! the type's promise.

use garage_domain::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn plates_are_canonical_and_idempotent(raw in any::<String>()) {
        if let Ok(plate) = LicensePlate::parse(&raw) {
            let text = plate.as_str();
            prop_assert!((2..=12).contains(&text.len()));
            prop_assert!(text.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
            prop_assert_eq!(LicensePlate::parse(text).unwrap(), plate.clone());
            let spelled = text.to_lowercase().chars().flat_map(|c| [c, '-']).collect::<String>();
            prop_assert_eq!(LicensePlate::parse(&spelled).unwrap(), plate);
        }
    }

    #[test]
    fn plate_like_text_is_accepted(raw in "[A-Za-z0-9][A-Za-z0-9 .-]{0,6}[A-Za-z0-9]") {
        let plate = LicensePlate::parse(&raw);
        let letters = raw.chars().filter(char::is_ascii_alphanumeric).count();
        prop_assert_eq!(plate.is_ok(), (2..=12).contains(&letters));
    }

    #[test]
    fn vins_hold_their_promise(raw in any::<String>()) {
        if let Ok(vin) = Vin::parse(&raw) {
            let text = vin.as_str();
            prop_assert_eq!(text.len(), 17);
            prop_assert!(text.bytes().all(|b| (b.is_ascii_uppercase() && !b"IOQ".contains(&b)) || b.is_ascii_digit()));
            prop_assert_eq!(Vin::parse(&text.to_lowercase()).unwrap(), vin);
        }
    }

    #[test]
    fn vin_like_text_is_accepted(raw in "[A-HJ-NPR-Za-hj-npr-z0-9]{17}") {
        prop_assert!(Vin::parse(&raw).is_ok());
    }

    #[test]
    fn texts_are_trimmed_bounded_and_clean(raw in any::<String>()) {
        for (value, max) in [
            (GarageName::parse(&raw).map(|v| v.into_inner()), 100),
            (Address::parse(&raw).map(|v| v.into_inner()), 200),
            (Brand::parse(&raw).map(|v| v.into_inner()), 50),
            (ModelName::parse(&raw).map(|v| v.into_inner()), 50),
        ] {
            if let Ok(text) = value {
                prop_assert_eq!(text.trim(), text.as_str());
                prop_assert!(!text.is_empty() && text.chars().count() <= max);
                prop_assert!(!text.chars().any(char::is_control));
            }
        }
    }

    #[test]
    fn numbers_stay_in_range(raw in any::<i64>()) {
        if let Ok(year) = ModelYear::parse_in(raw, 2026) {
            prop_assert!((1886..=2027).contains(&year.get()));
        }
        if let Ok(capacity) = Capacity::parse(raw) {
            prop_assert!((1..=Capacity::MAX).contains(&capacity.get()));
        }
        if let Ok(limit) = Limit::parse(raw) {
            prop_assert!((1..=200).contains(&limit.get()));
        }
        prop_assert_eq!(GarageId::parse(raw).is_ok(), raw >= 1);
    }
}
