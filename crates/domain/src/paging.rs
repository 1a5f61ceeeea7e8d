//! Keyset pagination, shared by every list, in id order or under a sort.

use chrono::{DateTime, Utc};

use crate::values::Limit;

/// The order of a list: by a key of its items (`K`), ties broken by id in
/// the same direction, so every item has one place and keyset pages hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sort<K> {
    pub by: K,
    pub descending: bool,
}

/// The sort value of the last item of the previous page, beside its id
/// (`PageRequest::after`), when a list is sorted by anything but its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Int(i64),
    Text(String),
    Time(DateTime<Utc>),
}

/// The keys a list may be sorted by.
pub trait SortKey: Copy + Eq + Default + Sized + 'static {
    /// Every key, the default (by id) first.
    const ALL: &'static [Self];

    /// Its name in a query (`sort=year`, `sort=-year`).
    fn name(self) -> &'static str;

    /// Whether `value` is a value of this key (`None`: by id, no value).
    fn fits(self, value: Option<&SortValue>) -> bool;

    /// Finds a key by name.
    fn named(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }
}

/// Keyset pagination: items ordered by id, those after `after`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Limit,
    /// The id of the last item of the previous page.
    pub after: Option<i64>,
}

/// One page of items and, when more follow, where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in id order: the
    /// extra row only says that another page follows.
    pub fn from_rows(mut rows: Vec<T>, limit: Limit, id: impl Fn(&T) -> i64) -> Self {
        let limit = usize::from(limit.get());
        let next_after = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&id)
        } else {
            None
        };
        Self {
            items: rows,
            next_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_from_rows_cuts_the_lookahead_row_and_points_past_the_last_item() {
        let limit = Limit::parse(3).unwrap();
        let full = Page::from_rows(vec![10, 11, 12, 13], limit, |x| *x);
        assert_eq!(full.items, [10, 11, 12]);
        assert_eq!(full.next_after, Some(12));
        let last = Page::from_rows(vec![20, 21, 22], limit, |x| *x);
        assert_eq!(last.items, [20, 21, 22]);
        assert_eq!(last.next_after, None);
        let empty = Page::from_rows(Vec::<i64>::new(), limit, |x| *x);
        assert!(empty.items.is_empty() && empty.next_after.is_none());
    }
}
