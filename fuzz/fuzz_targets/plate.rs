//! Plate parsing never panics, and a canonical plate parses to itself.
#![no_main]

use garage_domain::LicensePlate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(plate) = LicensePlate::parse(text) {
        let again = LicensePlate::parse(plate.as_str()).expect("a canonical plate parses");
        assert_eq!(again, plate);
        assert!((2..=12).contains(&plate.as_str().len()));
    }
});
