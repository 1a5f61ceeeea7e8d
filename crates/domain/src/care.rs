//! Fleet care: odometer readings that never go backwards, care plans
//! (service, inspection, insurance, or the fleet's own kinds) due by date
//! and/or distance, whichever comes first, the work done on them, and
//! reminders: listed, in a calendar feed, and recorded once as events.

mod models;
mod ports;
mod service;

pub use models::{
    undated, CalendarSecret, CalendarToken, Care, CareKind, CareRecord, CareStatus, Done, Due,
    DueVehicle, EveryMonths, Horizon, Km, NewReading, Plan, PlanState, PlanVersion, Preset,
    Reading, Reminder, ReminderCursor, ReminderFilter, ReminderPage, Schedule, Since, Thresholds,
    TokenKey, INSPECTION_EVERY_MONTHS, INSPECTION_FIRST_MONTHS,
};
pub use ports::CareRepository;
pub use service::{CareService, PlanInput};

#[cfg(any(test, feature = "mocks"))]
pub use ports::MockCareRepository;
