//! The reminders as an iCalendar feed (RFC 5545), written by `icalendar`.

use chrono::NaiveDate;
use garage_domain::care::{CareStatus, Reminder};
use icalendar::{Calendar, Component, Event, EventLike};

/// One all-day event per reminder, on its due date (today when it is due
/// by distance only). Its UID names the plan and its cycle: the same due
/// point keeps its event, a new one (work done, plan changed) replaces it.
pub(super) fn feed(reminders: &[Reminder], today: NaiveDate) -> String {
    let mut calendar = Calendar::new();
    calendar.name("Garage: care reminders");
    for r in reminders {
        let status = match r.status {
            CareStatus::Overdue => "overdue",
            _ => "due soon",
        };
        let mut description = vec![format!("Garage: {}", r.vehicle.garage_name)];
        if let Some(on) = r.due.on {
            description.push(format!("Due on {on}"));
        }
        if let Some(km) = r.due.km {
            description.push(format!("Due at {km}"));
        }
        if let Some(km) = r.vehicle.odometer {
            description.push(format!("Odometer: {km}"));
        }
        let day = r.due.on.unwrap_or(today);
        let event = Event::new()
            .uid(&format!(
                "plan-{}-cycle-{}@garage",
                r.plan.id.get(),
                r.plan.cycle
            ))
            .summary(&format!(
                "{} {}: {status}",
                r.vehicle.license_plate, r.plan.kind
            ))
            .description(&description.join("\n"))
            // An all-day event ends the next day (RFC 5545 §3.6.1).
            .starts(day)
            .ends(day.succ_opt().unwrap_or(day))
            .add_property("CATEGORIES", r.plan.kind.as_str())
            .done();
        calendar.push(event);
    }
    calendar.done().to_string()
}
