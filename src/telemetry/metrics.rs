//! Prometheus metrics. The `metrics` recorder is process-wide, so it is
//! installed once (several applications may run in one process, as in the
//! tests) and every instance renders the same registry at `GET /metrics`.
//!
//! Other modules record through the functions here, never through metric
//! names, so the names and labels stay in one place.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "switchboard_http_requests_total";
pub const HTTP_DURATION: &str = "switchboard_http_request_duration_seconds";
pub const ROUTING_DECISIONS: &str = "switchboard_routing_decisions_total";
pub const OPEN_ASSIGNMENTS: &str = "switchboard_open_assignments";
pub const MONGODB_ERRORS: &str = "switchboard_mongodb_errors_total";
pub const MONGODB_COMMANDS: &str = "switchboard_mongodb_commands_total";
pub const DECISION_COMMANDS: &str = "switchboard_routing_decision_commands";
pub const REPAIRS: &str = "switchboard_routing_repairs_total";
pub const OFFERS: &str = "switchboard_offers_total";
pub const MANUAL_TAKES: &str = "switchboard_manual_takes_total";

/// Latency buckets in seconds: most answers take a few milliseconds; the
/// top buckets show requests waiting on a slow database.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the recorder on first use and returns its handle.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed by an embedding
        // program; then Switchboard's metrics stay empty rather than fail.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
        }
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by route pattern, method and status"
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "HTTP request latency by route pattern, method and status"
    );
    metrics::describe_counter!(
        ROUTING_DECISIONS,
        "Routing decisions by routing method and outcome (open, queued, no_agent; dequeued when a waiting chat gets an agent)"
    );
    metrics::describe_gauge!(OPEN_ASSIGNMENTS, "Open chat assignments");
    metrics::describe_counter!(MONGODB_ERRORS, "MongoDB driver errors by kind");
    metrics::describe_counter!(MONGODB_COMMANDS, "Database commands sent, by command name");
    metrics::describe_histogram!(
        DECISION_COMMANDS,
        "Database commands sent within each routing decision"
    );
    metrics::describe_counter!(
        REPAIRS,
        "Slots and counters the repair put right, by kind (abandoned, closed, drifted)"
    );
    metrics::describe_counter!(
        OFFERS,
        "Chats offered to agents that do not accept automatically, by outcome (offered, accepted, declined, timed_out)"
    );
    metrics::describe_counter!(
        MANUAL_TAKES,
        "Waiting chats taken by an agent's own hand (inquiries.take)"
    );
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    let handle = handle();
    // Histograms are drained into their buckets here, at scrape time,
    // instead of by a background task per process.
    handle.run_upkeep();
    handle.render()
}

/// One answered HTTP request. `route` is the matched pattern
/// (`/api/v1/livechat/users/{type}`), never the raw path, so ids and
/// tokens neither leak into metrics nor explode their cardinality.
pub fn record_http_request(route: &str, method: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("route", route.to_string()),
        ("method", method.to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
}

/// One routing decision. `method` is the department's routing method
/// (e.g. `Auto_Selection`), `outcome` one of `open`, `queued`, `no_agent`, or `dequeued` when a
/// waiting chat gets an agent.
pub fn record_routing_decision(method: &str, outcome: &str) {
    metrics::counter!(
        ROUTING_DECISIONS,
        "method" => method.to_string(),
        "outcome" => outcome.to_string()
    )
    .increment(1);
}

/// One offer's fate: `offered`, `accepted`, `declined` or `timed_out`.
pub fn record_offer(outcome: &str) {
    metrics::counter!(OFFERS, "outcome" => outcome.to_string()).increment(1);
}

/// One waiting chat taken by an agent's own hand.
pub fn record_manual_take() {
    metrics::counter!(MANUAL_TAKES).increment(1);
}

/// Sets the number of open assignments; the routing engine calls this
/// whenever it has counted them (for instance after each decision).
pub fn set_open_assignments(n: u64) {
    metrics::gauge!(OPEN_ASSIGNMENTS).set(n as f64);
}

/// One MongoDB driver error; `kind` is `unavailable` or `unexpected`.
pub fn record_mongodb_error(kind: &'static str) {
    metrics::counter!(MONGODB_ERRORS, "kind" => kind).increment(1);
}

/// One command sent to the database.
pub fn record_mongodb_command(name: &str) {
    metrics::counter!(MONGODB_COMMANDS, "command" => name.to_string()).increment(1);
}

/// The database commands one routing decision sent.
pub fn record_decision_commands(n: u32) {
    metrics::histogram!(DECISION_COMMANDS).record(f64::from(n));
}

/// What one repair pass put right.
pub fn record_repairs(abandoned: u64, closed: u64, drifted: u64) {
    for (kind, n) in [
        ("abandoned", abandoned),
        ("closed", closed),
        ("drifted", drifted),
    ] {
        if n > 0 {
            metrics::counter!(REPAIRS, "kind" => kind).increment(n);
        }
    }
}
