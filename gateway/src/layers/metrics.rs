//! Prometheus metrics of every request, as a layer: counted by route, status and
//! protocol when the response *ends* (its body finished or dropped), so streams
//! and gRPC statuses sent in trailers are counted right.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use futures::future::BoxFuture;
use http::HeaderValue;
use http_body::{Frame, SizeHint};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tower::{Layer, Service};

use crate::layers::route::Route;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: String,
    protocol: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    protocol: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    /// Which limit: `person`, `tenant`, `address`, `person_at_once`, `address_at_once`.
    limit: &'static str,
    /// The authority of a signed-in caller (tokens are signed, so these are few); `-` otherwise.
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    stage: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PortLabels {
    port: &'static str,
}

fn latency_histogram() -> Histogram {
    // 5 ms to about 40 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// The gateway's Prometheus metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    shed: Counter,
    anonymous_shed: Counter,
    rate_limited: Family<LimitLabels, Counter>,
    slow_clients: Family<StageLabels, Counter>,
    reading_bodies: Gauge,
    upstream_up: Family<ServiceLabels, Gauge>,
    certificate_expiry: Family<PortLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let duration = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let shed = Counter::default();
        let anonymous_shed = Counter::default();
        let rate_limited = Family::<LimitLabels, Counter>::default();
        let slow_clients = Family::<StageLabels, Counter>::default();
        let reading_bodies = Gauge::default();
        let upstream_up = Family::<ServiceLabels, Gauge>::default();
        let certificate_expiry = Family::<PortLabels, Gauge>::default();
        registry.register(
            "sen_gateway_requests",
            "Requests answered, by route, status (gRPC code or HTTP status) and protocol",
            requests.clone(),
        );
        registry.register(
            "sen_gateway_request_duration_seconds",
            "Time from the request's arrival to the end of its response",
            duration.clone(),
        );
        registry.register("sen_gateway_requests_shed", "Requests refused at the concurrency limit", shed.clone());
        registry.register(
            "sen_gateway_anonymous_shed",
            "Requests without an identity refused because the places kept for them were all taken",
            anonymous_shed.clone(),
        );
        registry.register(
            "sen_gateway_rate_limited",
            "Requests refused by a rate limit or a cap on requests at once, by limit and tenant",
            rate_limited.clone(),
        );
        registry.register(
            "sen_gateway_slow_clients",
            "Connections or requests cut off because the client sent its headers or body too slowly",
            slow_clients.clone(),
        );
        registry.register(
            "sen_gateway_requests_reading_body",
            "Requests whose body is being read, before they take a working place",
            reading_bodies.clone(),
        );
        registry.register(
            "sen_gateway_upstream_up",
            "Whether each service answered its last health check (1) or not (0)",
            upstream_up.clone(),
        );
        registry.register(
            "sen_tls_certificate_expiry_timestamp_seconds",
            "When the TLS certificate served on a port ends, in seconds since the Unix epoch",
            certificate_expiry.clone(),
        );
        Self {
            registry,
            requests,
            duration,
            shed,
            anonymous_shed,
            rate_limited,
            slow_clients,
            reading_bodies,
            upstream_up,
            certificate_expiry,
        }
    }
}

impl Metrics {
    /// These metrics with the counters of the gateway's refusal `trail`
    /// (`sen_gateway_refusals_total{reason}`, `sen_gateway_refusals_suppressed_total`).
    pub fn with_refusals(mut self, trail: &sen_platform::audit::RefusalTrail) -> Self {
        trail.register_into(&mut self.registry);
        self
    }

    /// Where the end of the certificate served on `port` is kept, as its files
    /// change; a port without TLS has none.
    pub fn certificate_expiry(&self, port: &'static str) -> Gauge {
        self.certificate_expiry.get_or_create(&PortLabels { port }).clone()
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        out
    }

    /// Records one shed request.
    pub fn shed(&self) {
        self.shed.inc();
    }

    /// Records one request without an identity refused for want of a place.
    pub fn anonymous_shed(&self) {
        self.anonymous_shed.inc();
    }

    /// Records one request refused by `limit` (of [`LimitLabels`]), for a caller of `tenant` (`-`: none).
    pub fn rate_limited(&self, limit: &'static str, tenant: &str) {
        self.rate_limited.get_or_create(&LimitLabels { limit, tenant: tenant.to_owned() }).inc();
    }

    /// Records one client cut off at `stage` (`headers` or `body`) for sending too slowly.
    pub fn slow_client(&self, stage: &'static str) {
        self.slow_clients.get_or_create(&StageLabels { stage }).inc();
    }

    /// Counts a request whose body is being read, until the guard is dropped.
    pub fn reading_body(self: &Arc<Self>) -> ReadingBody {
        self.reading_bodies.inc();
        ReadingBody(self.clone())
    }

    /// Records the outcome of a health check of `service`.
    pub fn upstream(&self, service: &str, up: bool) {
        self.upstream_up.get_or_create(&ServiceLabels { service: service.to_owned() }).set(i64::from(up));
    }

    fn record(&self, route: &str, protocol: &'static str, status: &str, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { route: route.to_owned(), status: status.to_owned(), protocol })
            .inc();
        self.duration.get_or_create(&RouteLabels { route: route.to_owned(), protocol }).observe(seconds);
    }
}

/// A request counted in `sen_gateway_requests_reading_body` until dropped.
#[derive(Debug)]
pub struct ReadingBody(Arc<Metrics>);

impl Drop for ReadingBody {
    fn drop(&mut self) {
        self.0.reading_bodies.dec();
    }
}

/// Wraps a response body to record the metrics when the body ends (or is dropped,
/// when the caller goes away), so streams and gRPC trailers are counted right.
pub struct Observed {
    inner: Body,
    record: Option<Pending>,
}

struct Pending {
    metrics: Arc<Metrics>,
    route: String,
    protocol: &'static str,
    status: String,
    started: Instant,
}

impl Pending {
    fn finish(self) {
        self.metrics.record(&self.route, self.protocol, &self.status, self.started.elapsed().as_secs_f64());
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        if let Some(mut pending) = self.record.take() {
            if pending.protocol == "grpc" && pending.status == "OK?" {
                pending.status = "Cancelled".into();
            }
            pending.finish();
        }
    }
}

impl http_body::Body for Observed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref()
                    && let Some(pending) = self.record.as_mut()
                {
                    pending.status = grpc_code_name(trailers.get("grpc-status"));
                }
            }
            Poll::Ready(None) => {
                if let Some(mut pending) = self.record.take() {
                    if pending.status == "OK?" {
                        pending.status = "Unknown".into();
                    }
                    pending.finish();
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(pending) = self.record.as_mut() {
                    pending.status = if pending.protocol == "grpc" { "Unknown".into() } else { "aborted".into() };
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn grpc_code_name(value: Option<&HeaderValue>) -> String {
    let code = value.and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i32>().ok()).unwrap_or(2);
    format!("{:?}", tonic::Code::from_i32(code))
}

/// Wraps `response` so that it is counted when it ends.
pub fn observe(metrics: &Arc<Metrics>, route: String, grpc: bool, started: Instant, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let status = if grpc {
        // A trailers-only answer carries its status in the headers; otherwise it comes in the trailers.
        match parts.headers.get("grpc-status") {
            Some(value) => grpc_code_name(Some(value)),
            None => "OK?".into(),
        }
    } else {
        parts.status.as_u16().to_string()
    };
    let pending =
        Pending { metrics: metrics.clone(), route, protocol: if grpc { "grpc" } else { "http" }, status, started };
    Response::from_parts(parts, Body::new(Observed { inner: body, record: Some(pending) }))
}

/// Counts every request passing through it in [`Metrics`].
#[derive(Clone, Debug)]
pub struct MetricsLayer {
    metrics: Arc<Metrics>,
}

impl MetricsLayer {
    /// Counts into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Measured<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Measured { inner, metrics: self.metrics.clone() }
    }
}

/// The service [`MetricsLayer`] makes.
#[derive(Clone, Debug)]
pub struct Measured<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> Service<Request> for Measured<S>
where
    S: Service<Request, Response = Response> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let Route { label: route, grpc } = Route::of(&request);
        let metrics = self.metrics.clone();
        let answer = self.inner.call(request);
        Box::pin(async move { Ok(observe(&metrics, route, grpc, started, answer.await?)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_exposed_under_their_documented_names() {
        let metrics = Arc::new(Metrics::default());
        metrics.record("/sen.v1.PupilsService/GetPupil", "grpc", "Ok", 0.01);
        metrics.shed();
        metrics.rate_limited("person", "990");
        metrics.slow_client("body");
        metrics.anonymous_shed();
        metrics.upstream("pupils", true);
        let text = metrics.encode();
        for name in [
            "sen_gateway_requests_total{route=\"/sen.v1.PupilsService/GetPupil\",status=\"Ok\",protocol=\"grpc\"} 1",
            "sen_gateway_request_duration_seconds_bucket",
            "sen_gateway_requests_shed_total 1",
            "sen_gateway_rate_limited_total{limit=\"person\",tenant=\"990\"} 1",
            "sen_gateway_slow_clients_total{stage=\"body\"} 1",
            "sen_gateway_anonymous_shed_total 1",
            "sen_gateway_upstream_up{service=\"pupils\"} 1",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }
}
