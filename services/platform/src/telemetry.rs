//! Logs and traces, set up once per process.
//!
//! `tracing` is the one instrumentation API. Logs go to stderr, human-readable by
//! default and JSON when configured. When `OTEL_EXPORTER_OTLP_ENDPOINT` is set,
//! spans are also exported over OTLP/gRPC. W3C trace context (`traceparent`,
//! `tracestate`) is read from incoming gRPC metadata into each request's span and
//! written into outgoing calls, so one trace follows a request through the gateway
//! and every service it touches.
//!
//! The trace is the platform's own. A caller outside it may send any
//! `traceparent` it likes, and the trace id ends up in audit entries, so the
//! gateway never continues a caller's trace: each external request starts a new
//! root trace ([`external_request_span_links`]), linked to the caller's for
//! correlation, and the services continue the gateway's (they are reached only
//! through it, over mutual TLS in a cluster).

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;

/// Keeps the trace exporter alive; flushes pending spans when dropped.
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("trace export did not shut down cleanly: {e}");
        }
    }
}

/// What to set up.
#[derive(Clone, Debug)]
pub struct TelemetrySettings {
    /// `service.name` of exported spans.
    pub service_name: String,
    /// Line format.
    pub format: LogFormat,
    /// EnvFilter directives, e.g. `info,sen_schools=debug`.
    pub filter: String,
    /// OTLP/gRPC endpoint, if traces are exported.
    pub otlp_endpoint: Option<String>,
}

/// Installs the global subscriber and propagator. Call once, at start.
pub fn init(settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_new(&settings.filter)
        .map_err(|e| anyhow::anyhow!("SEN_LOG: '{}' is not a log filter: {e}", settings.filter))?;
    let fmt = match settings.format {
        LogFormat::Human => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    // Spans always get OpenTelemetry ids, so audit entries can name the trace and
    // trace context flows on to other services even when nothing is exported.
    let provider = match &settings.otlp_endpoint {
        None => SdkTracerProvider::builder().build(),
        Some(endpoint) => otlp_provider(&settings.service_name, endpoint)?,
    };
    let otel = trace_ids_layer(&provider, &settings.service_name);
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()
        .map_err(|e| anyhow::anyhow!("telemetry was already set up: {e}"))?;
    Ok(TelemetryGuard { provider: Some(provider) })
}

/// The layer that gives every span an OpenTelemetry trace and span id from
/// `provider` (exporting or not), so audit entries can name the trace: for
/// [`init`], and for tests that read the trace ids the platform records.
pub fn trace_ids_layer<S>(provider: &SdkTracerProvider, service_name: &str) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    tracing_opentelemetry::layer().with_tracer(provider.tracer(service_name.to_owned()))
}

/// A tracer provider exporting over OTLP/gRPC to `endpoint`.
pub fn otlp_provider(service_name: &str, endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| anyhow::anyhow!("OTEL_EXPORTER_OTLP_ENDPOINT: cannot export to {endpoint}: {e}"))?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service_name.to_owned()).build();
    Ok(SdkTracerProvider::builder().with_batch_exporter(LoggedExport::new(exporter)).with_resource(resource).build())
}

/// The least time between two log lines about failed trace exports.
const EXPORT_FAILURE_LOG_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Hands spans to `inner` and logs a warning when an export fails, at most once
/// a minute (with the count of failures since the last line). Without it a
/// collector that is down or unreachable (a wrong `OTEL_EXPORTER_OTLP_ENDPOINT`,
/// a NetworkPolicy in the way) loses every trace in silence; with a line per
/// failure, it would flood the logs every few seconds.
#[derive(Debug)]
struct LoggedExport<E> {
    inner: E,
    failures: std::sync::Mutex<ExportFailures>,
}

impl<E> LoggedExport<E> {
    fn new(inner: E) -> Self {
        Self { inner, failures: std::sync::Mutex::new(ExportFailures::default()) }
    }
}

impl<E: opentelemetry_sdk::trace::SpanExporter> opentelemetry_sdk::trace::SpanExporter for LoggedExport<E> {
    async fn export(&self, batch: Vec<opentelemetry_sdk::trace::SpanData>) -> opentelemetry_sdk::error::OTelSdkResult {
        let spans = batch.len();
        let result = self.inner.export(batch).await;
        if let Err(error) = &result {
            let due = self
                .failures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .failed(std::time::Instant::now());
            if let Some(failures) = due {
                tracing::warn!(%error, spans, failures, "trace export to the OpenTelemetry collector failed; the spans are lost (logged at most once a minute)");
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

/// Failed exports since the last log line, and when that line was written.
#[derive(Debug, Default)]
struct ExportFailures {
    last_logged: Option<std::time::Instant>,
    unlogged: u64,
}

impl ExportFailures {
    /// Records a failure at `now`; the number of failures to report when a log line is due.
    fn failed(&mut self, now: std::time::Instant) -> Option<u64> {
        self.unlogged += 1;
        let due = self.last_logged.is_none_or(|last| now.duration_since(last) >= EXPORT_FAILURE_LOG_INTERVAL);
        if !due {
            return None;
        }
        self.last_logged = Some(now);
        Some(std::mem::take(&mut self.unlogged))
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// The trace id of the current span, when it has one (for audit entries and logs).
pub fn current_trace_id() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    let context = Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    span_context.is_valid().then(|| span_context.trace_id().to_string())
}

/// The span for one incoming gRPC call, parented on the caller's trace context.
/// Used as tonic's `trace_fn`.
pub fn server_span(request: &http::Request<()>) -> Span {
    let span = tracing::info_span!(
        "grpc",
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.method = %request.uri().path(),
    );
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(request.headers()));
    // An absent or malformed traceparent leaves the span as a new root.
    let _ = span.set_parent(parent);
    span
}

/// Links `span`, the root span of a request from outside the platform, to the
/// caller's trace context in `headers` (W3C `traceparent`), if any, without
/// joining it: the span stays the root of a trace of the platform's own, and
/// the caller's trace id is kept as the link and the `caller.trace_id`
/// attribute, to find one from the other.
pub fn external_request_span_links(span: &Span, headers: &http::HeaderMap) {
    use opentelemetry::trace::TraceContextExt;
    let callers = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    let remote = callers.span().span_context().clone();
    if remote.is_valid() {
        span.set_attribute("caller.trace_id", remote.trace_id().to_string());
        span.add_link(remote);
    }
}

/// Writes the current span's trace context into outgoing gRPC metadata.
pub fn inject_trace_context(metadata: &mut tonic::metadata::MetadataMap) {
    let context = Span::current().context();
    TraceContextPropagator::new().inject_context(&context, &mut MetadataInjector(metadata));
}

/// A client interceptor that propagates the current trace to the called service.
pub fn propagate_trace(mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    inject_trace_context(request.metadata_mut());
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TraceContextExt;

    const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn failed_trace_exports_are_logged_at_most_once_a_minute_with_their_count() {
        let start = std::time::Instant::now();
        let second = std::time::Duration::from_secs(1);
        let mut failures = ExportFailures::default();
        assert_eq!(failures.failed(start), Some(1), "the first failure is logged at once");
        assert_eq!(failures.failed(start + 5 * second), None);
        assert_eq!(failures.failed(start + 59 * second), None);
        assert_eq!(failures.failed(start + 60 * second), Some(3), "a minute on: one line for the three since");
        assert_eq!(failures.failed(start + 61 * second), None);
    }

    #[test]
    fn incoming_trace_context_parents_the_request_span_and_flows_onward() {
        let provider = SdkTracerProvider::builder().build();
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let request = http::Request::builder()
                .uri("/sen.v1.SchoolsService/GetSchool")
                .header("traceparent", TRACEPARENT)
                .body(())
                .unwrap();
            let span = server_span(&request);
            let _entered = span.enter();
            let mut outgoing = tonic::metadata::MetadataMap::new();
            inject_trace_context(&mut outgoing);
            let sent = outgoing.get("traceparent").unwrap().to_str().unwrap();
            assert!(sent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "the same trace continues: {sent}");
            assert!(!sent.contains("00f067aa0ba902b7"), "with this service's own span as parent");
            assert_eq!(span.context().span().span_context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        });
    }

    #[test]
    fn an_outside_callers_trace_is_linked_but_never_continued() {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry().with(trace_ids_layer(&provider, "test"));
        tracing::subscriber::with_default(subscriber, || {
            let mut headers = http::HeaderMap::new();
            headers.insert("traceparent", http::HeaderValue::from_static(TRACEPARENT));
            let span = tracing::info_span!("gateway");
            external_request_span_links(&span, &headers);
            let _entered = span.enter();
            let own = current_trace_id().unwrap();
            assert_ne!(own, "4bf92f3577b34da6a3ce929d0e0e4736", "a trace of the platform's own");
            let mut outgoing = tonic::metadata::MetadataMap::new();
            inject_trace_context(&mut outgoing);
            let sent = outgoing.get("traceparent").unwrap().to_str().unwrap();
            assert!(sent.contains(&own) && !sent.contains("4bf92f3577b34da6a3ce929d0e0e4736"), "{sent}");
        });
    }
}
