//! What the HTTP test files share.

use chrono::Utc;
use garage_domain::{NewVehicle, Vehicle, VehicleId, Version};

/// The vehicle a store would return for `new`, stored under `id`.
pub fn vehicle_from(id: i64, new: NewVehicle) -> Vehicle {
    Vehicle {
        id: VehicleId(id),
        garage_id: new.garage_id,
        brand: new.brand,
        model: new.model,
        year: new.year,
        license_plate: new.license_plate,
        vin: new.vin,
        version: Version(1),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}
