//! Prometheus metrics at `/metrics`: requests by route and status, their
//! latency, requests in flight, and the database pools.

use std::sync::atomic::AtomicI64;

use actix_web::{web, HttpResponse};
use garage_infra::{Database, PoolStats};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

type LatencyFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    result: &'static str,
}

/// The service's metrics; cheap to clone, shared by every worker.
#[derive(Clone)]
pub struct Metrics {
    registry: std::sync::Arc<Registry>,
    deliveries: Family<DeliveryLabels, Counter>,
    outbox_pending: Gauge<i64, AtomicI64>,
    outbox_oldest: Gauge<i64, AtomicI64>,
    dispatch_lag: Gauge<i64, AtomicI64>,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    in_flight: Gauge<i64, AtomicI64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn latency_buckets() -> Histogram {
    // 0.5 ms to about 8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

impl Metrics {
    /// `pools` are named by role: `primary`, and `replica` when there is one.
    pub fn new(
        pools: Vec<(&'static str, Database)>,
        budgets: std::sync::Arc<dyn garage_domain::access::Budgets>,
        reads: garage_infra::Reads,
    ) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = LatencyFamily::new_with_constructor(latency_buckets);
        let in_flight = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status",
            latency.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being answered now",
            in_flight.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        let outbox_pending = Gauge::<i64, AtomicI64>::default();
        let outbox_oldest = Gauge::<i64, AtomicI64>::default();
        let dispatch_lag = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "webhook_dispatch_lag_seconds",
            "How long the oldest event not yet queued for webhooks has waited (a transaction left open holds the feed back)",
            dispatch_lag.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by result: delivered, retrying (failed, to be tried again) or failed (given up)",
            deliveries.clone(),
        );
        registry.register(
            "webhook_outbox_pending",
            "Webhook deliveries waiting to be sent, to enabled endpoints",
            outbox_pending.clone(),
        );
        registry.register(
            "webhook_outbox_oldest_seconds",
            "How long the oldest waiting webhook delivery has waited",
            outbox_oldest.clone(),
        );
        registry.register_collector(Box::new(PoolCollector { pools }));
        registry.register_collector(Box::new(LimitsCollector { budgets }));
        registry.register_collector(Box::new(ReadsCollector { reads }));
        Self {
            registry: std::sync::Arc::new(registry),
            deliveries,
            outbox_pending,
            outbox_oldest,
            dispatch_lag,
            requests,
            latency,
            in_flight,
        }
    }

    /// Counts a webhook delivery attempt by its result.
    pub fn delivery(&self, result: &'static str) {
        self.deliveries
            .get_or_create(&DeliveryLabels { result })
            .inc();
    }

    /// The outbox as last read.
    pub fn outbox(&self, backlog: garage_domain::webhooks::Backlog) {
        self.outbox_pending
            .set(i64::try_from(backlog.pending).unwrap_or(i64::MAX));
        let age = |since: Option<chrono::DateTime<chrono::Utc>>| {
            since.map_or(0, |since| (chrono::Utc::now() - since).num_seconds().max(0))
        };
        self.outbox_oldest.set(age(backlog.oldest));
        self.dispatch_lag.set(age(backlog.undispatched));
    }

    pub fn started(&self) {
        self.in_flight.inc();
    }

    pub fn finished(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.in_flight.dec();
        let labels = RequestLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status: status.to_string(),
        };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Whether rate limits are shared, read at scrape time.
struct LimitsCollector {
    budgets: std::sync::Arc<dyn garage_domain::access::Budgets>,
}

impl std::fmt::Debug for LimitsCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LimitsCollector").finish_non_exhaustive()
    }
}

impl Collector for LimitsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let degraded = ConstGauge::new(i64::from(self.budgets.degraded()));
        let family = encoder.encode_descriptor(
            "rate_limit_degraded",
            "1 while the shared store (Redis) does not answer and this instance counts rate limits alone",
            None,
            degraded.metric_type(),
        )?;
        degraded.encode(family)
    }
}

/// Whether reads meant for the replica are on the primary, read at scrape time.
#[derive(Debug)]
struct ReadsCollector {
    reads: garage_infra::Reads,
}

impl Collector for ReadsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let degraded = ConstGauge::new(i64::from(self.reads.degraded()));
        let family = encoder.encode_descriptor(
            "db_replica_degraded",
            "1 while the read replica fails and the primary serves its reads",
            None,
            degraded.metric_type(),
        )?;
        degraded.encode(family)
    }
}

/// Reads the pools' state at scrape time.
#[derive(Debug)]
struct PoolCollector {
    pools: Vec<(&'static str, Database)>,
}

impl Collector for PoolCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats: Vec<_> = self
            .pools
            .iter()
            .map(|(role, db)| ([("pool", *role)], db.stats()))
            .collect();
        type Gauge = (&'static str, &'static str, fn(&PoolStats) -> i64);
        const GAUGES: [Gauge; 4] = [
            (
                "db_pool_max_connections",
                "Connections the pool may open",
                |s| s.max_size.into(),
            ),
            (
                "db_pool_connections",
                "Connections open, busy or idle",
                |s| s.connections.into(),
            ),
            (
                "db_pool_idle_connections",
                "Connections open and idle",
                |s| s.idle.into(),
            ),
            (
                "db_writes_queued",
                "Vehicle creations and deletions waiting for a statement to carry them (a batch being written, or their garage in one)",
                |s| s.queued_writes as i64,
            ),
        ];
        for (name, help, value) in GAUGES {
            let mut family =
                encoder.encode_descriptor(name, help, None, ConstGauge::new(0i64).metric_type())?;
            for (labels, s) in &stats {
                ConstGauge::new(value(s)).encode(family.encode_family(labels)?)?;
            }
        }
        type Count = (&'static str, &'static str, fn(&PoolStats) -> f64);
        const COUNTERS: [Count; 8] = [
            (
                "db_pool_checkouts",
                "Connections taken from the pool",
                |s| s.checkouts as f64,
            ),
            (
                "db_pool_wait_seconds",
                "Time spent waiting for a connection",
                |s| s.wait_seconds,
            ),
            (
                "db_pool_timeouts",
                "Waits for a connection that timed out (answered 503)",
                |s| s.timeouts as f64,
            ),
            (
                "db_deadline_exceeded",
                "Database work not answered within database.timeout_ms (answered 503)",
                |s| s.abandoned as f64,
            ),
            (
                "db_errors_unavailable",
                "Database calls that failed because it was unreachable",
                |s| s.unavailable_errors as f64,
            ),
            (
                "db_errors_internal",
                "Database calls that failed unexpectedly",
                |s| s.internal_errors as f64,
            ),
            (
                "db_write_batches",
                "Statements that wrote vehicle creations or deletions gathered from concurrent requests",
                |s| s.write_batches as f64,
            ),
            (
                "db_batched_writes",
                "Creations and deletions written by those statements (over db_write_batches: writes per statement)",
                |s| s.batched_writes as f64,
            ),
        ];
        for (name, help, value) in COUNTERS {
            let mut family = encoder.encode_descriptor(
                name,
                help,
                None,
                ConstCounter::new(0.0).metric_type(),
            )?;
            for (labels, s) in &stats {
                ConstCounter::new(value(s)).encode(family.encode_family(labels)?)?;
            }
        }
        Ok(())
    }
}

pub async fn scrape(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render())
}
