//! Prometheus metrics: the counters, histogram and gauge the server keeps, and their
//! rendering as OpenMetrics text for `GET /metrics`.

use std::sync::Mutex;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// A metric's labels: `(name, value)` pairs.
type Labels = Vec<(String, String)>;

/// Every metric the server exports, registered under the `evident` prefix.
pub(crate) struct Metrics {
    registry: Mutex<Registry>,
    /// `evident_http_requests_total{route,status}`
    pub(crate) requests: Family<Labels, Counter>,
    /// `evident_events_appended_total`
    pub(crate) events_appended: Counter,
    /// `evident_append_seconds`: receipt of an append to its signed acknowledgement
    pub(crate) append_seconds: Histogram,
    /// `evident_log_size`, set from the engine when rendered
    pub(crate) log_size: Gauge,
    /// `evident_access_decisions_total`
    pub(crate) decisions: Counter,
    /// `evident_login_failures_total`
    pub(crate) login_failures: Counter,
    /// `evident_login_lockouts_total`: locks begun
    pub(crate) login_lockouts: Counter,
    /// `evident_login_lockout_tracked`: credentials and addresses the lockout table holds
    pub(crate) lockout_tracked: Gauge,
}

impl Metrics {
    /// Fresh metrics, all zero.
    pub(crate) fn new() -> Self {
        let requests = Family::<Labels, Counter>::default();
        let events_appended = Counter::default();
        let append_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let log_size = Gauge::default();
        let decisions = Counter::default();
        let login_failures = Counter::default();
        let login_lockouts = Counter::default();
        let lockout_tracked = Gauge::default();
        let mut registry = Registry::with_prefix("evident");
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "events_appended",
            "Events made durable",
            events_appended.clone(),
        );
        registry.register(
            "append_seconds",
            "Time from receiving an append to its durable, signed acknowledgement",
            append_seconds.clone(),
        );
        registry.register(
            "log_size",
            "Entries covered by the latest signed checkpoint",
            log_size.clone(),
        );
        registry.register(
            "access_decisions",
            "Access decisions made (each one logged)",
            decisions.clone(),
        );
        registry.register(
            "login_failures",
            "Refused API keys and OIDC tokens",
            login_failures.clone(),
        );
        registry.register(
            "login_lockouts",
            "Login lockouts begun (each one logged)",
            login_lockouts.clone(),
        );
        registry.register(
            "login_lockout_tracked",
            "Credentials and client addresses the login lockout table holds",
            lockout_tracked.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            decisions,
            login_failures,
            login_lockouts,
            lockout_tracked,
            requests,
            events_appended,
            append_seconds,
            log_size,
        }
    }

    /// The OpenMetrics text, with the log size gauge set to `size` first.
    pub(crate) fn render(&self, size: u64) -> String {
        self.log_size.set(i64::try_from(size).unwrap_or(i64::MAX));
        let mut out = String::new();
        if let Ok(registry) = self.registry.lock() {
            let _ = encode(&mut out, &registry);
        }
        out
    }
}
