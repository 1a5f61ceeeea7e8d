//! What the HTTP test files share.

use chrono::Utc;
use garage_domain::{NewVehicle, Vehicle, VehicleId, Version};

/// The vehicle a store would return for `new`, stored under `id`.
#[allow(dead_code)]
pub fn vehicle_from(id: i64, new: NewVehicle) -> Vehicle {
    Vehicle {
        id: VehicleId::parse(id).unwrap(),
        garage_id: new.garage_id,
        brand: new.brand,
        model: new.model,
        year: new.year,
        license_plate: new.license_plate,
        vin: new.vin,
        registered_on: new.registered_on,
        odometer: None,
        version: Version::new(1),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

/// An edge as on a server where no key exists yet: anyone may write, and
/// no budget runs out. The edge's own rules are tested through the server.
#[allow(dead_code)]
pub fn open_edge() -> garage_api::Edge {
    use std::sync::Arc;

    use garage_domain::access::{AccessService, MockBudgets, MockKeyRepository, Quota, Spent};

    let mut keys = MockKeyRepository::new();
    keys.expect_any_created().returning(|| Ok(false));
    let mut budgets = MockBudgets::new();
    budgets.expect_quota().returning(|_| Quota {
        per_second: 0.0,
        burst: 0,
    });
    budgets.expect_spend().returning(|_, _| {
        Ok(Spent::Allowed {
            remaining: 0,
            full_in: std::time::Duration::ZERO,
        })
    });
    budgets.expect_degraded().returning(|| false);
    garage_api::Edge::new(
        AccessService::new(
            Arc::new(keys),
            Arc::new(garage_domain::MockGarageRepository::new()),
            Arc::new(garage_domain::SystemClock),
            &[],
        ),
        Arc::new(budgets),
        garage_api::edge::TrustedProxies::none(),
        false,
    )
}

/// The events, on a store no test here reads (a read would panic).
#[allow(dead_code)]
pub fn no_events() -> garage_domain::events::EventService {
    garage_domain::events::EventService::new(std::sync::Arc::new(
        garage_domain::events::MockEventRepository::new(),
    ))
}

/// The webhooks, on stores no test here reaches (a call would panic).
#[allow(dead_code)]
pub fn no_webhooks() -> garage_domain::webhooks::WebhookService {
    use std::sync::Arc;

    use garage_domain::webhooks::{MockSender, MockWebhookRepository, WebhookService};
    WebhookService::new(
        Arc::new(MockWebhookRepository::new()),
        Arc::new(MockSender::new()),
        Arc::new(garage_domain::SystemClock),
    )
}

/// The care, on stores no test here reaches (a call would panic).
#[allow(dead_code)]
pub fn no_care() -> garage_domain::care::CareService {
    use std::sync::Arc;

    garage_domain::care::CareService::new(
        Arc::new(garage_domain::care::MockCareRepository::new()),
        Arc::new(garage_domain::MockVehicleRepository::new()),
        Arc::new(garage_domain::SystemClock),
        garage_domain::care::Thresholds::default(),
    )
}
