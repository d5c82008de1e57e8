//! Logs and traces for every Kutse process.
//!
//! [`init`] installs a `tracing` subscriber with two layers:
//! - structured logs on stderr (JSON by default, `LOG_FORMAT=text` for people), filtered by
//!   `RUST_LOG` (default `info`). The filter sits on the log layer alone, so it never hides spans
//!   from the exporter;
//! - OpenTelemetry: spans get W3C trace and span ids always (so logs and messages carry a trace
//!   context even on a laptop), and are exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT`
//!   is set (the exporter reads the standard `OTEL_*` variables itself).
//!
//! [`trace_headers`] and [`set_parent_from`] move the trace context across process boundaries:
//! HTTP headers and AMQP message headers both carry `traceparent`/`tracestate`.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How a process reports itself. Built by the caller from its configuration.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// `service.name` on every span, e.g. `kutse-intake`.
    pub service_name: String,
    /// The `RUST_LOG`-style filter for logs.
    pub log_filter: String,
    /// JSON lines (true) or human-readable text (false).
    pub json_logs: bool,
    /// Export spans over OTLP/HTTP (set when `OTEL_EXPORTER_OTLP_ENDPOINT` is set).
    pub otlp_export: bool,
}

/// Keeps the tracer provider alive; flushes pending spans when dropped at shutdown.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("telemetry shutdown: {e}");
        }
    }
}

/// Installs the global subscriber, tracer provider and propagator. Call once, first thing in `main`.
pub fn init(config: &TelemetryConfig) -> anyhow::Result<TelemetryGuard> {
    install(config, provider(config)?)
}

/// For tests that look at spans: like [`init`], with every span handed to `exporter` as it ends
/// (e.g. the SDK's in-memory exporter). Fails if a subscriber is already installed.
pub fn init_exporting_to<E>(config: &TelemetryConfig, exporter: E) -> anyhow::Result<TelemetryGuard>
where
    E: opentelemetry_sdk::trace::SpanExporter + 'static,
{
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(config.service_name.clone())
        .build();
    let provider = SdkTracerProvider::builder()
        .with_resource(resource)
        .with_simple_exporter(exporter)
        .build();
    install(config, provider)
}

fn install(
    config: &TelemetryConfig,
    provider: SdkTracerProvider,
) -> anyhow::Result<TelemetryGuard> {
    let tracer = provider.tracer(config.service_name.clone());
    opentelemetry::global::set_tracer_provider(provider.clone());
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let filter = EnvFilter::try_new(&config.log_filter)
        .map_err(|e| anyhow::anyhow!("RUST_LOG {:?}: {e}", config.log_filter))?;
    let logs = if config.json_logs {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed()
    };
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(logs)
        .with(otel)
        .try_init()
        .map_err(|e| anyhow::anyhow!("a tracing subscriber is already installed: {e}"))?;
    Ok(TelemetryGuard { provider })
}

/// For tests: installs a subscriber with trace ids and no exporter, once per process; later calls
/// do nothing.
#[expect(
    clippy::disallowed_methods,
    reason = "tests take their log filter from RUST_LOG, as cargo users expect"
)]
pub fn init_for_tests() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let config = TelemetryConfig {
            service_name: "kutse-test".to_owned(),
            log_filter: std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned()),
            json_logs: false,
            otlp_export: false,
        };
        if let Ok(guard) = init(&config) {
            // Tests end by exiting the process; nothing needs flushing.
            std::mem::forget(guard);
        }
    });
}

fn provider(config: &TelemetryConfig) -> anyhow::Result<SdkTracerProvider> {
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(config.service_name.clone())
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let builder = if config.otlp_export {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|e| anyhow::anyhow!("OTLP exporter: {e}"))?;
        builder.with_batch_exporter(exporter)
    } else {
        builder
    };
    Ok(builder.build())
}

/// The current span's trace context as W3C headers (`traceparent`, and `tracestate` if any).
/// Empty when there is no current trace.
pub fn trace_headers() -> HashMap<String, String> {
    let context = tracing::Span::current().context();
    let mut headers = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut headers);
    headers
}

/// Makes `span` a child of the trace context found in `headers` (W3C `traceparent`), if any.
pub fn set_parent_from(span: &tracing::Span, headers: impl IntoIterator<Item = (String, String)>) {
    let carrier: HashMap<String, String> = headers
        .into_iter()
        .filter(|(k, _)| {
            k.eq_ignore_ascii_case("traceparent") || k.eq_ignore_ascii_case("tracestate")
        })
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    if carrier.is_empty() {
        return;
    }
    let context = TraceContextPropagator::new().extract(&carrier);
    // A span that was already entered cannot be re-parented; that is a programming error we
    // tolerate by keeping its own trace.
    let _ = span.set_parent(context);
}

/// The trace id of the current span, for log lines and problem documents.
pub fn current_trace_id() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    let context = tracing::Span::current().context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}
