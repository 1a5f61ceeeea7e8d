//! Every request body the API reads: any bytes either fail to parse or
//! convert into domain input (or field errors), never a panic.
#![no_main]

use garage_api::garages::{CreateGarage, UpdateGarage};
use garage_api::vehicles::{CreateVehicle, UpdateVehicle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<CreateGarage>(data) {
        let _ = body.try_into_domain();
    }
    if let Ok(body) = serde_json::from_slice::<UpdateGarage>(data) {
        let _ = body.try_into_domain();
    }
    if let Ok(body) = serde_json::from_slice::<CreateVehicle>(data) {
        let _ = body.try_into_domain();
    }
    if let Ok(body) = serde_json::from_slice::<UpdateVehicle>(data) {
        let _ = body.try_into_domain();
    }
});
