//! Fleet care over HTTP: odometer readings, plans, work done, reminders
//! (a list, a CSV file, an iCalendar feed) and the calendar tokens.

mod calendar;
mod export;
pub(crate) mod handlers;
mod wire;

use garage_domain::care::{CareService, Reminder, ReminderFilter};
use garage_domain::Limit;

pub use wire::{
    CalendarBody, CalendarList, CalendarWithToken, CareBody, CreateCalendar, CreateReading,
    DoneBody, MarkDone, PlanBody, PutPlan, ReadingBody, ReadingPage, RecordBody, RecordPage,
    ReminderBody, ReminderPageBody, StatusBody,
};

/// The most reminders a file or a feed holds: a calendar of more would
/// be of no use to anyone.
const MOST: usize = 10_000;

/// Every reminder matching `filter`, up to [`MOST`], page by page.
async fn all_reminders(
    care: &CareService,
    filter: ReminderFilter,
) -> Result<Vec<Reminder>, garage_domain::Error> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = care
            .reminders(filter.clone(), after, Limit::LARGEST)
            .await?;
        all.extend(page.items);
        match page.next {
            Some(next) if all.len() < MOST => after = Some(next),
            _ => break,
        }
    }
    all.truncate(MOST);
    Ok(all)
}
