//! Hostile input for every value parser: whatever the text or number, a
//! parser answers `Ok` or `Err` (never panics), and what it accepts holds
//! the type's promise.

use garage_domain::*;
use proptest::prelude::*;

/// Text that is nearly a plate: letters, digits and separators, now and
/// then a character a plate may not hold, at lengths around the bounds.
fn near_plate() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => "[A-Za-z0-9]",
        2 => prop::sample::select(vec![" ", "-", "."]).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["_", "/", "é", "Ö", "\u{0}", "\t", "\u{2011}"]).prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 0..18).prop_map(|parts| parts.concat())
}

/// Text that is nearly a VIN: 15 to 19 letters and digits, I, O and Q
/// included, now and then a space around it or a stray character.
fn near_vin() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        20 => "[A-Za-z0-9]",
        1 => prop::sample::select(vec!["-", " ", "é"]).prop_map(str::to_owned),
    ];
    (prop::collection::vec(piece, 15..20), any::<bool>()).prop_map(|(parts, padded)| {
        let text = parts.concat();
        if padded {
            format!(" {text} ")
        } else {
            text
        }
    })
}

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
    fn a_near_plate_is_accepted_exactly_when_the_rule_says(raw in near_plate()) {
        let allowed = raw.chars().all(|c| c.is_ascii_alphanumeric() || " -.".contains(c));
        let letters = raw.chars().filter(char::is_ascii_alphanumeric).count();
        let plate = LicensePlate::parse(&raw);
        prop_assert_eq!(plate.is_ok(), allowed && (2..=12).contains(&letters), "{:?}", raw);
        if let Ok(plate) = plate {
            let expected: String = raw
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .collect();
            prop_assert_eq!(plate.as_str(), expected.as_str());
        }
    }

    #[test]
    fn a_near_vin_is_accepted_exactly_when_the_rule_says(raw in near_vin()) {
        let text = raw.trim();
        let rule = text.len() == 17
            && text.chars().all(|c| c.is_ascii_alphanumeric())
            && !text.to_ascii_uppercase().contains(['I', 'O', 'Q']);
        let vin = Vin::parse(&raw);
        prop_assert_eq!(vin.is_ok(), rule, "{:?}", raw);
        if let Ok(vin) = vin {
            prop_assert_eq!(vin.as_str(), text.to_ascii_uppercase());
        }
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
