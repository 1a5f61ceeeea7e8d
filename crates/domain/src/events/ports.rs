//! Where events are kept. They are written by the stores of the other
//! areas, in the transaction of the write they record; this port reads.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::models::{Event, EventFilter, FeedPosition, HistoryOf};
use crate::error::Error;
use crate::paging::{Page, PageRequest};
use crate::values::{GarageId, Limit};

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventRepository: Send + Sync + 'static {
    /// Up to `limit` events matching `filter` after `after`, in feed order.
    ///
    /// MUST never return an event while a write that will come before it
    /// in the feed may still commit: a reader that resumes from the last
    /// position it read never misses one, whatever the order in which
    /// concurrent writes commit.
    async fn feed(
        &self,
        filter: EventFilter,
        after: FeedPosition,
        limit: Limit,
    ) -> Result<Vec<Event>, Error>;

    /// Events matching `filter`, newest first, those with an id below
    /// `page.after` when set: for people looking back, not for readers that
    /// must miss nothing (the feed is for them).
    async fn recent(&self, filter: EventFilter, page: PageRequest) -> Result<Page<Event>, Error>;

    /// Deletes the events that occurred before `before`, and their webhook
    /// deliveries; how many events it deleted.
    async fn purge(&self, before: DateTime<Utc>) -> Result<u64, Error>;

    /// The events of `of`, newest first, those with an id below
    /// `page.after` when set; only those of garages `within` when set (a
    /// move counts for both ends).
    async fn history(
        &self,
        of: HistoryOf,
        within: Option<Vec<GarageId>>,
        page: PageRequest,
    ) -> Result<Page<Event>, Error>;
}
