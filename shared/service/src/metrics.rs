//! `/metrics`: what a service has done and what waits, in the Prometheus text format.
//!
//! Every service has its own [`Metrics`] (a registry of its own, so that six services in one test
//! process do not mix their figures). Counted as it happens:
//! - `kutse_http_requests_total{route,method,status}` and
//!   `kutse_http_request_duration_seconds{route,method}`: the route is the router's template
//!   (`/applications/{id}`), never the path a caller typed, so the series stay few;
//! - `kutse_messages_consumed_total{outcome}`: `handled`, `duplicate`, `failed` (will be retried)
//!   and `parked`;
//! - what a service adds of its own through [`Metrics::counter`] and [`Metrics::histogram`]
//!   (certificates: `kutse_issuance_latency_seconds`; notifications: `kutse_emails_total`).
//!
//! Read when scraped, so they are never stale:
//! - `kutse_outbox_pending` and `kutse_outbox_oldest_pending_age_seconds`: events committed but not
//!   yet confirmed by the broker;
//! - `kutse_queue_depth{queue}` and `kutse_parked_queue_depth{queue}`: messages waiting in the
//!   service's queue and in its parking queue (absent while the broker is unreachable);
//! - `kutse_broker_connected`.
//!
//! The figures are aggregate counts only, with no personal data; still, `/metrics` is meant for
//! the cluster's scraper, not the internet (the Helm chart's ingress does not route it).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use prometheus::{Encoder, GaugeVec, HistogramOpts, IntGaugeVec, Opts, Registry, TextEncoder};
use sqlx::PgPool;

pub use prometheus::{HistogramVec, IntCounterVec};

/// Seconds: from a millisecond to a minute, for requests and for message latencies.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// A service's metrics. Cheap to clone; every clone counts into the same registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    consumed: IntCounterVec,
    outbox_pending: IntGaugeVec,
    outbox_oldest: GaugeVec,
    queue_depth: IntGaugeVec,
    parked_depth: IntGaugeVec,
    broker_connected: IntGaugeVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The standard metrics of `service`, which labels every series.
    pub fn new(service: &str) -> Self {
        let labels = std::iter::once(("service".to_owned(), service.to_owned())).collect();
        let registry = Registry::new_custom(Some("kutse".to_owned()), Some(labels))
            .expect("a constant label named `service` is valid");
        let metrics = Self {
            http_requests: IntCounterVec::new(
                Opts::new("http_requests_total", "HTTP requests answered, by route template, method and status."),
                &["route", "method", "status"],
            )
            .expect("valid metric"),
            http_duration: HistogramVec::new(
                HistogramOpts::new(
                    "http_request_duration_seconds",
                    "Time to answer an HTTP request, by route template and method.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["route", "method"],
            )
            .expect("valid metric"),
            consumed: IntCounterVec::new(
                Opts::new(
                    "messages_consumed_total",
                    "Messages taken from the service's queue, by outcome: handled, duplicate (already handled), failed (will be retried) or parked.",
                ),
                &["outcome"],
            )
            .expect("valid metric"),
            outbox_pending: IntGaugeVec::new(
                Opts::new("outbox_pending", "Events committed to the outbox and not yet confirmed by the broker."),
                &[],
            )
            .expect("valid metric"),
            outbox_oldest: GaugeVec::new(
                Opts::new(
                    "outbox_oldest_pending_age_seconds",
                    "Age of the oldest event still waiting in the outbox (0 when none waits).",
                ),
                &[],
            )
            .expect("valid metric"),
            queue_depth: IntGaugeVec::new(
                Opts::new("queue_depth", "Messages ready in the service's queue."),
                &["queue"],
            )
            .expect("valid metric"),
            parked_depth: IntGaugeVec::new(
                Opts::new(
                    "parked_queue_depth",
                    "Messages in the service's parking queue, waiting for an operator (kutse-ops).",
                ),
                &["queue"],
            )
            .expect("valid metric"),
            broker_connected: IntGaugeVec::new(
                Opts::new("broker_connected", "1 while the service is connected to the broker."),
                &[],
            )
            .expect("valid metric"),
            registry,
        };
        for collector in [
            Box::new(metrics.http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(metrics.http_duration.clone()),
            Box::new(metrics.consumed.clone()),
            Box::new(metrics.outbox_pending.clone()),
            Box::new(metrics.outbox_oldest.clone()),
            Box::new(metrics.queue_depth.clone()),
            Box::new(metrics.parked_depth.clone()),
            Box::new(metrics.broker_connected.clone()),
        ] {
            metrics
                .registry
                .register(collector)
                .expect("each standard metric is registered once");
        }
        metrics
    }

    /// Registers a counter of the service's own (`kutse_<name>`).
    pub fn counter(&self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        let counter = IntCounterVec::new(Opts::new(name, help), labels)
            .unwrap_or_else(|e| panic!("metric {name}: {e}"));
        self.registry
            .register(Box::new(counter.clone()))
            .unwrap_or_else(|e| panic!("metric {name} registered twice: {e}"));
        counter
    }

    /// Registers a histogram of seconds of the service's own (`kutse_<name>`).
    pub fn histogram(&self, name: &str, help: &str, labels: &[&str]) -> HistogramVec {
        let histogram = HistogramVec::new(
            HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()),
            labels,
        )
        .unwrap_or_else(|e| panic!("metric {name}: {e}"));
        self.registry
            .register(Box::new(histogram.clone()))
            .unwrap_or_else(|e| panic!("metric {name} registered twice: {e}"));
        histogram
    }

    /// Counts what the consumer did with one batch.
    pub fn consumed(&self, report: &kutse_messaging::BatchReport) {
        for (outcome, n) in [
            ("handled", report.handled),
            ("duplicate", report.duplicates),
            ("failed", report.retried),
            ("parked", report.parked),
        ] {
            self.consumed.with_label_values(&[outcome]).inc_by(n as u64);
        }
    }

    fn request(&self, route: &str, method: &str, status: StatusCode, seconds: f64) {
        self.http_requests
            .with_label_values(&[route, method, status.as_str()])
            .inc();
        self.http_duration
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    /// The text exposition of every metric, after reading the outbox and the queues.
    pub(crate) async fn render(&self, sources: &Sources) -> String {
        self.read_outbox(&sources.pool).await;
        self.read_queues(sources).await;
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "encoding metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }

    async fn read_outbox(&self, pool: &PgPool) {
        let row: Result<(i64, Option<f64>), _> = sqlx::query_as(
            "SELECT count(*), extract(epoch FROM now() - min(created_at))::float8
             FROM messaging.outbox WHERE published_at IS NULL",
        )
        .fetch_one(pool)
        .await;
        match row {
            Ok((pending, oldest)) => {
                self.outbox_pending
                    .with_label_values(&[] as &[&str])
                    .set(pending);
                self.outbox_oldest
                    .with_label_values(&[] as &[&str])
                    .set(oldest.unwrap_or(0.0).max(0.0));
            }
            Err(e) => {
                // Absent rather than stale: an alert on "absent" sees the database is away.
                self.outbox_pending.reset();
                self.outbox_oldest.reset();
                tracing::warn!(error = %e, "metrics: cannot read the outbox");
            }
        }
    }

    async fn read_queues(&self, sources: &Sources) {
        self.queue_depth.reset();
        self.parked_depth.reset();
        let connection = (sources.broker)();
        let connected = connection.as_ref().is_some_and(|c| c.status().connected());
        self.broker_connected
            .with_label_values(&[] as &[&str])
            .set(i64::from(connected));
        let (Some(connection), true) = (connection, connected) else {
            return;
        };
        let depths = async {
            let channel = connection.create_channel().await?;
            let mut depths = Vec::new();
            for queue in &sources.queues {
                let declared = channel
                    .queue_declare(
                        queue.as_str().into(),
                        QueueDeclareOptions {
                            passive: true,
                            ..QueueDeclareOptions::default()
                        },
                        FieldTable::default(),
                    )
                    .await?;
                depths.push(i64::from(declared.message_count()));
            }
            let _ = channel.close(200, "metrics read".into()).await;
            anyhow::Ok(depths)
        };
        match tokio::time::timeout(std::time::Duration::from_secs(2), depths).await {
            Ok(Ok(depths)) => {
                for (queue, depth) in sources.queues.iter().zip(depths) {
                    let gauge = if queue.ends_with(".parked") {
                        &self.parked_depth
                    } else {
                        &self.queue_depth
                    };
                    gauge.with_label_values(&[queue.as_str()]).set(depth);
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "metrics: cannot read the queues"),
            Err(_) => tracing::warn!("metrics: the broker did not answer within 2 s"),
        }
    }
}

/// Where the scrape-time figures come from.
#[derive(Clone)]
pub(crate) struct Sources {
    pub pool: PgPool,
    /// The current broker connection, if any.
    pub broker: Arc<dyn Fn() -> Option<Arc<lapin::Connection>> + Send + Sync>,
    /// The service's queue and its parking queue (none for a service that consumes nothing).
    pub queues: Vec<String>,
}

/// `GET /metrics`.
pub(crate) async fn scrape(State((metrics, sources)): State<(Metrics, Sources)>) -> Response {
    let body = metrics.render(&sources).await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Middleware counting every API request by its route template.
pub(crate) async fn track(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.request(
        &route,
        method,
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}
