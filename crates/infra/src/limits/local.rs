//! Budgets kept in this process: one GCRA state per client, on `governor`.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use garage_domain::access::{Budget, Budgets, Quota, Spent};
use garage_domain::Error;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;

type Keyed = governor::RateLimiter<
    String,
    DefaultKeyedStateStore<String>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// Past this many clients, those whose budget is full again are forgotten
/// (at most once a second: the sweep reads every client); if that is not
/// enough, new clients share one budget until it is.
pub const MAX_CLIENTS: usize = 100_000;
const SWEEP_EVERY: Duration = Duration::from_secs(1);
const OVERFLOW: &str = "(too many clients)";

struct Limiter {
    quota: Quota,
    keyed: Keyed,
    max_clients: usize,
    swept: Mutex<Option<Instant>>,
}

impl Limiter {
    fn new(quota: Quota, max_clients: usize) -> Self {
        let gq = governor::Quota::with_period(quota.interval().max(Duration::from_nanos(1)))
            .expect("a positive interval")
            .allow_burst(NonZeroU32::new(quota.burst).unwrap_or(NonZeroU32::MIN));
        Self {
            quota,
            keyed: governor::RateLimiter::keyed(gq).with_middleware::<StateInformationMiddleware>(),
            max_clients,
            swept: Mutex::new(None),
        }
    }

    /// Forgets full budgets, unless that was done within the last second.
    fn sweep(&self) {
        let now = Instant::now();
        {
            let mut swept = self.swept.lock().unwrap_or_else(|e| e.into_inner());
            if swept.is_some_and(|at| now.duration_since(at) < SWEEP_EVERY) {
                return;
            }
            *swept = Some(now);
        }
        self.keyed.retain_recent();
        self.keyed.shrink_to_fit();
    }

    fn spend(&self, client: &str) -> Spent {
        if self.quota.is_off() {
            return Spent::Allowed {
                remaining: self.quota.burst,
                full_in: Duration::ZERO,
            };
        }
        let mut key = client.to_owned();
        if self.keyed.len() >= self.max_clients {
            self.sweep();
            if self.keyed.len() >= self.max_clients {
                key = OVERFLOW.to_owned();
            }
        }
        match self.keyed.check_key(&key) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Spent::Allowed {
                    remaining,
                    full_in: self.quota.interval() * self.quota.burst.saturating_sub(remaining),
                }
            }
            Err(not_until) => Spent::Limited {
                retry_in: not_until.wait_time_from(DefaultClock::default().now()),
            },
        }
    }
}

/// Budgets counted by this instance alone.
pub struct LocalBudgets {
    requests: Limiter,
    failed_sign_ins: Limiter,
}

impl std::fmt::Debug for LocalBudgets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBudgets")
            .field("requests", &self.requests.quota)
            .field("failed_sign_ins", &self.failed_sign_ins.quota)
            .finish()
    }
}

impl LocalBudgets {
    pub fn new(requests: Quota, failed_sign_ins: Quota) -> Self {
        Self::bounded(requests, failed_sign_ins, MAX_CLIENTS)
    }

    /// Tracks at most about `max_clients` clients per budget.
    pub fn bounded(requests: Quota, failed_sign_ins: Quota, max_clients: usize) -> Self {
        Self {
            requests: Limiter::new(requests, max_clients),
            failed_sign_ins: Limiter::new(failed_sign_ins, max_clients),
        }
    }

    fn limiter(&self, budget: Budget) -> &Limiter {
        match budget {
            Budget::Requests => &self.requests,
            Budget::FailedSignIns => &self.failed_sign_ins,
        }
    }

    pub(crate) fn spend_now(&self, budget: Budget, client: &str) -> Spent {
        self.limiter(budget).spend(client)
    }

    /// Clients tracked for `budget`.
    pub fn clients(&self, budget: Budget) -> usize {
        self.limiter(budget).keyed.len()
    }
}

#[async_trait]
impl Budgets for LocalBudgets {
    fn quota(&self, budget: Budget) -> Quota {
        self.limiter(budget).quota
    }

    async fn spend(&self, budget: Budget, client: &str) -> Result<Spent, Error> {
        Ok(self.spend_now(budget, client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets(per_second: f64, burst: u32) -> LocalBudgets {
        let quota = Quota { per_second, burst };
        LocalBudgets::bounded(quota, quota, 1_000)
    }

    #[test]
    fn a_client_gets_its_burst_then_waits() {
        let b = budgets(1.0, 3);
        let remaining: Vec<_> = (0..3)
            .map(|_| match b.spend_now(Budget::Requests, "a") {
                Spent::Allowed { remaining, .. } => remaining,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let Spent::Limited { retry_in } = b.spend_now(Budget::Requests, "a") else {
            panic!("the fourth request is refused");
        };
        assert!(retry_in > Duration::from_millis(500) && retry_in <= Duration::from_secs(1));
        assert!(matches!(
            b.spend_now(Budget::Requests, "b"),
            Spent::Allowed { .. }
        ));
        assert!(
            matches!(
                b.spend_now(Budget::FailedSignIns, "a"),
                Spent::Allowed { .. }
            ),
            "budgets are separate"
        );
    }

    #[test]
    fn memory_stays_bounded_whatever_the_number_of_clients() {
        let b = budgets(0.001, 1);
        for i in 0..50_000 {
            b.spend_now(Budget::Requests, &i.to_string());
        }
        assert!(b.clients(Budget::Requests) <= 1_001);
        assert!(
            matches!(
                b.spend_now(Budget::Requests, "newcomer"),
                Spent::Limited { .. }
            ),
            "past the bound, newcomers share the overflow budget"
        );
    }
}
