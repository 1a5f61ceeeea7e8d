//! Reading what happened, as far as the caller may see.

use std::sync::Arc;

use super::models::{Event, EventFilter, FeedPosition, HistoryOf};
use super::ports::EventRepository;
use crate::access::Reach;
use crate::error::Error;
use crate::paging::{Page, PageRequest};
use crate::values::Limit;

/// The feed and the histories, seen from one caller's reach.
#[derive(Clone)]
pub struct EventService {
    events: Arc<dyn EventRepository>,
    reach: Reach,
}

impl std::fmt::Debug for EventService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventService").finish_non_exhaustive()
    }
}

impl EventService {
    pub fn new(events: Arc<dyn EventRepository>) -> Self {
        Self {
            events,
            reach: Reach::Everything,
        }
    }

    /// The events as a caller limited to `reach` sees them.
    #[must_use]
    pub fn within(&self, reach: Reach) -> Self {
        Self {
            reach,
            ..self.clone()
        }
    }

    /// Events after `after`, oldest first, and where the next read starts
    /// (where this one started when nothing new has committed). Events of
    /// garages out of reach are left out, and so are events about keys
    /// unless `with_keys` and the caller reaches everything.
    pub async fn feed(
        &self,
        mut filter: EventFilter,
        after: FeedPosition,
        limit: Limit,
    ) -> Result<(Vec<Event>, FeedPosition), Error> {
        filter.within = self.reach.garages();
        filter.with_keys &= filter.within.is_none();
        let events = self.events.feed(filter, after, limit).await?;
        let next = events.last().map_or(after, |e| e.position);
        Ok((events, next))
    }

    /// The history of a garage or a vehicle, newest first; still there
    /// once it is deleted. Not found when the caller sees none of it (or
    /// there never was such a thing): its id does not leak.
    pub async fn history(&self, of: HistoryOf, page: PageRequest) -> Result<Page<Event>, Error> {
        if let HistoryOf::Garage(id) = of {
            if !self.reach.allows(id) {
                return Err(Error::GarageNotFound(id));
            }
        }
        let found = self.events.history(of, self.reach.garages(), page).await?;
        if found.items.is_empty() && page.after.is_none() {
            return Err(match of {
                HistoryOf::Garage(id) => Error::GarageNotFound(id),
                HistoryOf::Vehicle(id) => Error::VehicleNotFound(id),
            });
        }
        Ok(found)
    }
}
