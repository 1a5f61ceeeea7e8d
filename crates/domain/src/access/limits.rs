//! Request budgets: how many requests a client may make, shared by every
//! instance when the store behind them is.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::Error;

/// Which budget a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    /// Every API request, per key or, without one, per client address.
    Requests,
    /// Failed authentications, per client address: guessing keys is slow.
    FailedSignIns,
}

impl Budget {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::FailedSignIns => "failed-sign-ins",
        }
    }
}

/// `burst` requests at once, regained at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    pub per_second: f64,
    pub burst: u32,
}

impl Quota {
    /// No limit: every request is allowed.
    pub fn is_off(self) -> bool {
        !(self.per_second > 0.0 && self.per_second.is_finite()) || self.burst == 0
    }

    /// The time between two regained requests (a second when off).
    pub fn interval(self) -> Duration {
        if self.is_off() {
            return Duration::from_secs(1);
        }
        Duration::from_secs_f64(1.0 / self.per_second)
    }

    /// The time an empty budget takes to fill.
    pub fn window(self) -> Duration {
        self.interval() * self.burst
    }
}

/// What spending one request of a budget answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spent {
    /// Go ahead: `remaining` more now, full again after `full_in`.
    Allowed { remaining: u32, full_in: Duration },
    /// Refused: the next request is allowed after `retry_in`.
    Limited { retry_in: Duration },
}

/// Keeps the budgets of every client (GCRA: one timestamp per client).
/// Memory MUST stay bounded whatever the number of clients.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Budgets: Send + Sync + 'static {
    /// The quota of `budget`.
    fn quota(&self, budget: Budget) -> Quota;

    /// Spends one request of `client`'s `budget`. MUST NOT fail the
    /// request when a shared store is unreachable: an adapter falls back to
    /// counting alone and says so.
    async fn spend(&self, budget: Budget, client: &str) -> Result<Spent, Error>;

    /// Counting alone because the shared store does not answer.
    fn degraded(&self) -> bool {
        false
    }
}
