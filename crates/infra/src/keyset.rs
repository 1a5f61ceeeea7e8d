//! Keyset pages under a sort: ordered by a column then the id, both in the
//! sort's direction, each page starting strictly after the last item of the
//! previous one: `(column, id) > (value, id)`, spelled so every backend
//! can walk an index on `(column, id)`.

use garage_domain::{Error, SortValue};

/// Orders a boxed query by `$column` then `$id` (descending when `$desc`),
/// and keeps the rows after `($value, $after)` when both are given.
macro_rules! sorted {
    ($query:expr, $column:expr, $id:expr, $desc:expr, $after:expr) => {{
        let mut query = $query;
        if $desc {
            query = query.order(($column.desc(), $id.desc()));
        } else {
            query = query.order(($column.asc(), $id.asc()));
        }
        if let Some((value, id)) = $after {
            if $desc {
                query = query.filter(
                    $column
                        .lt(value.clone())
                        .or($column.eq(value).and($id.lt(id))),
                );
            } else {
                query = query.filter(
                    $column
                        .gt(value.clone())
                        .or($column.eq(value).and($id.gt(id))),
                );
            }
        }
        query
    }};
}
pub(crate) use sorted;

fn mismatch() -> Error {
    Error::Internal(anyhow::anyhow!("a cursor's value does not fit its sort"))
}

/// The text a page starts after.
pub(crate) fn text(value: Option<SortValue>) -> Result<Option<String>, Error> {
    match value {
        None => Ok(None),
        Some(SortValue::Text(text)) => Ok(Some(text)),
        Some(_) => Err(mismatch()),
    }
}

/// The number a page starts after, in the column's width.
pub(crate) fn int<T: TryFrom<i64>>(value: Option<SortValue>) -> Result<Option<T>, Error> {
    match value {
        None => Ok(None),
        Some(SortValue::Int(n)) => T::try_from(n).map(Some).map_err(|_| mismatch()),
        Some(_) => Err(mismatch()),
    }
}

/// The time a page starts after, as stored (UTC, no zone).
pub(crate) fn time(value: Option<SortValue>) -> Result<Option<chrono::NaiveDateTime>, Error> {
    match value {
        None => Ok(None),
        Some(SortValue::Time(at)) => Ok(Some(at.naive_utc())),
        Some(_) => Err(mismatch()),
    }
}
