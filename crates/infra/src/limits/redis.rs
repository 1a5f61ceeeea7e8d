//! Budgets shared by every instance: one GCRA timestamp per client in
//! Redis, read and moved by one atomic script per request. While Redis
//! cannot answer, each instance counts alone and says so; it tries Redis
//! again every half second and returns to it when it answers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use garage_domain::access::{Budget, Budgets, Quota, Spent};
use garage_domain::Error;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::local::LocalBudgets;

/// GCRA: the key holds the theoretical arrival time (TAT) in microseconds
/// of Redis's clock, so instances need not agree on the time.
/// KEYS[1] = bucket; ARGV = interval µs, burst.
/// Returns {allowed (0/1), remaining, wait µs}.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tolerance = interval * burst
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if now < allow_at then
  return {0, 0, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, math.floor((now - allow_at) / interval), 0}
";

/// How long a request waits for Redis before counting alone.
const ANSWER_WITHIN: Duration = Duration::from_millis(100);
/// While Redis is failing, how often it is tried again.
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// Budgets in Redis, with this instance's as the fallback.
pub struct SharedBudgets {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<ConnectionManager>>,
    script: redis::Script,
    local: LocalBudgets,
    prefix: String,
    degraded: AtomicBool,
    next_try: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for SharedBudgets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBudgets")
            .field("local", &self.local)
            .field("degraded", &self.degraded.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl SharedBudgets {
    /// Budgets under `prefix` in the Redis at `url`; it is connected to on
    /// first use, so the service starts while Redis is down.
    ///
    /// # Errors
    /// When `url` is not a Redis URL.
    pub fn new(
        url: &str,
        prefix: &str,
        requests: Quota,
        failed_sign_ins: Quota,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: tokio::sync::Mutex::new(None),
            script: redis::Script::new(GCRA),
            local: LocalBudgets::new(requests, failed_sign_ins),
            prefix: prefix.to_owned(),
            degraded: AtomicBool::new(false),
            next_try: Mutex::new(None),
        })
    }

    /// Counting alone because Redis does not answer.
    pub fn degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }

    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        let mut slot = self.connection.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(ANSWER_WITHIN))
            .set_response_timeout(Some(ANSWER_WITHIN))
            .set_number_of_retries(1)
            .set_max_delay(RETRY_EVERY);
        let conn = ConnectionManager::new_with_config(self.client.clone(), config).await?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn spend_shared(&self, budget: Budget, client: &str) -> anyhow::Result<Spent> {
        let quota = self.local.quota(budget);
        let mut conn = self.connection().await?;
        let key = format!("{}{}:{client}", self.prefix, budget.as_str());
        let interval = u64::try_from(quota.interval().as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let (allowed, remaining, wait): (i64, i64, i64) = self
            .script
            .key(key)
            .arg(interval)
            .arg(quota.burst.max(1))
            .invoke_async(&mut conn)
            .await?;
        let micros = |n: i64| Duration::from_micros(u64::try_from(n).unwrap_or(0));
        Ok(if allowed == 1 {
            let remaining = u32::try_from(remaining).unwrap_or(0);
            Spent::Allowed {
                remaining,
                full_in: quota.interval() * quota.burst.saturating_sub(remaining),
            }
        } else {
            Spent::Limited {
                retry_in: micros(wait),
            }
        })
    }

    /// Always while Redis answers; while it does not, one request each
    /// half second probes it (the others do not wait for it).
    fn may_try_redis(&self) -> bool {
        if !self.degraded() {
            return true;
        }
        let now = Instant::now();
        let mut next = self.next_try.lock().unwrap_or_else(|e| e.into_inner());
        if next.is_none_or(|at| now >= at) {
            *next = Some(now + RETRY_EVERY);
            true
        } else {
            false
        }
    }

    fn failed(&self, err: &anyhow::Error) {
        *self.next_try.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + RETRY_EVERY);
        if !self.degraded.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %err, "Redis does not answer: rate limits are counted per instance until it does");
        }
    }
}

#[async_trait]
impl Budgets for SharedBudgets {
    fn quota(&self, budget: Budget) -> Quota {
        self.local.quota(budget)
    }

    async fn spend(&self, budget: Budget, client: &str) -> Result<Spent, Error> {
        if self.may_try_redis() && !self.local.quota(budget).is_off() {
            let shared = tokio::time::timeout(ANSWER_WITHIN, self.spend_shared(budget, client))
                .await
                .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer within {ANSWER_WITHIN:?}")));
            match shared {
                Ok(spent) => {
                    if self.degraded.swap(false, Ordering::Relaxed) {
                        tracing::info!("Redis answers again: rate limits are shared again");
                    }
                    return Ok(spent);
                }
                Err(err) => self.failed(&err),
            }
        }
        Ok(self.local.spend_now(budget, client))
    }

    fn degraded(&self) -> bool {
        SharedBudgets::degraded(self)
    }
}
