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

    /// Recent events, newest first, as far as the caller may see (as the
    /// feed filters them).
    ///
    /// # Errors
    /// The store's errors.
    pub async fn recent(
        &self,
        mut filter: EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>, Error> {
        filter.within = self.reach.garages();
        filter.with_keys &= filter.within.is_none();
        self.events.recent(filter, page).await
    }

    /// Deletes the events older than `days` days (and their webhook
    /// deliveries); how many.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn purge_older_than(
        &self,
        days: u32,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, Error> {
        self.events
            .purge(now - chrono::TimeDelta::days(i64::from(days)))
            .await
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;
    use mockall::predicate::{always, eq};

    use super::*;
    use crate::events::{Actor, EventKind, MockEventRepository};
    use crate::values::{GarageId, VehicleId};

    fn event(id: i64, tx: i64) -> Event {
        Event {
            id,
            position: FeedPosition { tx, id },
            kind: EventKind::VehicleCreated,
            occurred_at: Utc::now(),
            actor: Actor::anonymous(),
            request_id: None,
            garage_id: Some(GarageId(1)),
            from_garage_id: None,
            vehicle_id: Some(VehicleId(id)),
            key_id: None,
            changes: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_limited_caller_reads_its_garages_and_never_the_key_events() {
        let mut repo = MockEventRepository::new();
        repo.expect_feed()
            .withf(|filter, _, _| filter.within == Some(vec![GarageId(3)]) && !filter.with_keys)
            .times(1)
            .returning(|_, _, _| Ok(vec![]));
        let wanted = EventFilter {
            with_keys: true,
            ..EventFilter::default()
        };
        let after = FeedPosition { tx: 5, id: 9 };
        let (events, next) = EventService::new(Arc::new(repo))
            .within(Reach::Garages(vec![GarageId(3)]))
            .feed(wanted, after, Limit::default())
            .await
            .unwrap();
        assert!(events.is_empty());
        assert_eq!(next, after, "an empty read resumes where it started");
    }

    #[tokio::test]
    async fn the_next_read_starts_after_the_last_event_returned() {
        let mut repo = MockEventRepository::new();
        repo.expect_feed()
            .withf(|filter, _, _| filter.within.is_none() && filter.with_keys)
            .returning(|_, _, _| Ok(vec![event(12, 700), event(11, 701)]));
        let wanted = EventFilter {
            with_keys: true,
            ..EventFilter::default()
        };
        let (_, next) = EventService::new(Arc::new(repo))
            .feed(wanted, FeedPosition::default(), Limit::default())
            .await
            .unwrap();
        assert_eq!(next, FeedPosition { tx: 701, id: 11 });
    }

    #[tokio::test]
    async fn a_history_with_nothing_to_show_is_not_found() {
        let mut repo = MockEventRepository::new();
        repo.expect_history()
            .with(eq(HistoryOf::Vehicle(VehicleId(4))), always(), always())
            .returning(|_, _, _| {
                Ok(Page {
                    items: vec![],
                    next_after: None,
                })
            });
        let service = EventService::new(Arc::new(repo));
        let first = service
            .history(HistoryOf::Vehicle(VehicleId(4)), PageRequest::default())
            .await;
        assert!(matches!(first, Err(Error::VehicleNotFound(id)) if id == VehicleId(4)));
        // Past the last page, an empty page is just that.
        let later = PageRequest {
            after: Some(2),
            ..PageRequest::default()
        };
        let past = service
            .history(HistoryOf::Vehicle(VehicleId(4)), later)
            .await
            .unwrap();
        assert!(past.items.is_empty());
    }

    #[tokio::test]
    async fn a_garage_out_of_reach_has_no_history_and_the_store_is_not_asked() {
        let service = EventService::new(Arc::new(MockEventRepository::new()))
            .within(Reach::Garages(vec![GarageId(1)]));
        let other = service
            .history(HistoryOf::Garage(GarageId(2)), PageRequest::default())
            .await;
        assert!(matches!(other, Err(Error::GarageNotFound(id)) if id == GarageId(2)));
    }
}
