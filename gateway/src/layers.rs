//! What every request passes through before it reaches a handler: a request id,
//! a span parented on the caller's trace, Prometheus metrics, load shedding at
//! the concurrency limit, and (once the caller is known) the per-tenant rate limit.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, Request};
use http_body::{Frame, SizeHint};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::sync::Semaphore;

use crate::policy::RULES;

/// Header carrying the request id, taken from the caller or made here.
pub const REQUEST_ID: &str = "x-request-id";

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
struct TenantLabels {
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: String,
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
    rate_limited: Family<TenantLabels, Counter>,
    upstream_up: Family<ServiceLabels, Gauge>,
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
        let rate_limited = Family::<TenantLabels, Counter>::default();
        let upstream_up = Family::<ServiceLabels, Gauge>::default();
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
            "sen_gateway_rate_limited",
            "Requests refused by a tenant's rate limit",
            rate_limited.clone(),
        );
        registry.register(
            "sen_gateway_upstream_up",
            "Whether each service answered its last health check (1) or not (0)",
            upstream_up.clone(),
        );
        Self { registry, requests, duration, shed, rate_limited, upstream_up }
    }
}

impl Metrics {
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

    /// Records one request refused by `tenant`'s rate limit.
    pub fn rate_limited(&self, tenant: &str) {
        self.rate_limited.get_or_create(&TenantLabels { tenant: tenant.to_owned() }).inc();
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

/// The route a request is counted under: the gRPC method, the JSON route's
/// template, or one of a few fixed paths, so that ids never become labels.
pub fn route_label(path: &str, grpc: bool) -> String {
    if grpc {
        if path.starts_with("/sen.v1.") || path.starts_with("/grpc.") {
            return path.to_owned();
        }
        return "other".into();
    }
    // Literal segments win over placeholders: `/referrals/watch` is not `/referrals/{id}`.
    let best = RULES
        .iter()
        .filter_map(|r| r.http)
        .map(|(_, t)| t)
        .filter(|t| template_matches(t, path))
        .min_by_key(|t| t.matches('{').count());
    if let Some(template) = best {
        return template.to_owned();
    }
    match path {
        "/healthz" | "/readyz" | "/metrics" | "/api/v1/openapi.json" => path.to_owned(),
        _ if path.starts_with("/api/") => "/api/other".into(),
        _ => "other".into(),
    }
}

fn template_matches(template: &str, path: &str) -> bool {
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') || ts == ps => {}
            _ => return false,
        }
    }
}

/// Request ids: a per-process random prefix and a counter.
#[derive(Debug)]
pub struct RequestIds {
    prefix: String,
    next: AtomicU64,
}

impl Default for RequestIds {
    fn default() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or(0);
        Self { prefix: format!("{:08x}{:04x}", nanos, std::process::id() & 0xffff), next: AtomicU64::new(1) }
    }
}

impl RequestIds {
    /// The caller's id when it is a sane one, else a new one.
    pub fn for_request(&self, given: Option<&HeaderValue>) -> HeaderValue {
        if let Some(value) = given
            && value.len() <= 128
            && value.to_str().is_ok_and(|v| v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)))
        {
            return value.clone();
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n}", self.prefix)).unwrap_or(HeaderValue::from_static("unknown"))
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

/// The concurrency limit: a request that finds no room is refused at once,
/// never queued.
#[derive(Clone, Debug)]
pub struct ConcurrencyLimit {
    permits: Arc<Semaphore>,
}

impl ConcurrencyLimit {
    /// Room for `max` requests at once.
    pub fn new(max: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(max)) }
    }

    /// A place for one request, or `None` when full.
    pub fn try_enter(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }
}

/// Per-tenant token buckets: each tenant may make `rate` requests a second on
/// average, with bursts up to `burst`.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `rate` requests a second per tenant, bursts of `burst`.
    pub fn new(rate: u32, burst: u32) -> Self {
        Self { rate: f64::from(rate), burst: f64::from(burst.max(1)), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from `tenant`'s bucket; false when it is empty.
    pub fn allow(&self, tenant: &str) -> bool {
        self.allow_at(tenant, Instant::now())
    }

    fn allow_at(&self, tenant: &str, now: Instant) -> bool {
        let mut buckets = match self.buckets.lock() {
            Ok(buckets) => buckets,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (tokens, last) = buckets.entry(tenant.to_owned()).or_insert((self.burst, now));
        let refill = now.saturating_duration_since(*last).as_secs_f64() * self.rate;
        *tokens = (*tokens + refill).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Adds the request id to a request and its response.
pub fn with_request_id(request: &mut Request<Body>, ids: &RequestIds) -> HeaderValue {
    let id = ids.for_request(request.headers().get(REQUEST_ID));
    request.headers_mut().insert(REQUEST_ID, id.clone());
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_tenant_past_its_burst_is_refused_until_its_bucket_refills() {
        let limiter = RateLimiter::new(10, 3);
        let start = Instant::now();
        assert!((0..3).all(|_| limiter.allow_at("990", start)));
        assert!(!limiter.allow_at("990", start), "the fourth request within the burst is refused");
        assert!(limiter.allow_at("991", start), "another tenant has its own bucket");
        assert!(limiter.allow_at("990", start + Duration::from_millis(100)), "one token back after 1/rate s");
        assert!(!limiter.allow_at("990", start + Duration::from_millis(100)));
    }

    #[test]
    fn ids_never_become_metric_labels() {
        assert_eq!(route_label("/api/v1/pupils/123", false), "/api/v1/pupils/{id}");
        assert_eq!(route_label("/api/v1/pupils/123/history", false), "/api/v1/pupils/{pupil_id}/history");
        assert_eq!(route_label("/api/v1/referrals/watch", false), "/api/v1/referrals/watch");
        assert_eq!(route_label("/api/v1/nothing/here/at/all", false), "/api/other");
        assert_eq!(route_label("/wp-admin", false), "other");
        assert_eq!(route_label("/sen.v1.PupilsService/GetPupil", true), "/sen.v1.PupilsService/GetPupil");
        assert_eq!(route_label("/evil/path", true), "other");
    }

    #[test]
    fn a_sane_request_id_is_kept_and_anything_else_replaced() {
        let ids = RequestIds::default();
        let given = HeaderValue::from_static("abc-123");
        assert_eq!(ids.for_request(Some(&given)), given);
        let odd = HeaderValue::from_static("has spaces; and=more");
        assert_ne!(ids.for_request(Some(&odd)), odd);
        assert_ne!(ids.for_request(None), ids.for_request(None));
    }

    #[test]
    fn the_concurrency_limit_refuses_rather_than_queues() {
        let limit = ConcurrencyLimit::new(1);
        let held = limit.try_enter();
        assert!(held.is_some());
        assert!(limit.try_enter().is_none());
        drop(held);
        assert!(limit.try_enter().is_some());
    }

    #[test]
    fn metrics_are_exposed_under_their_documented_names() {
        let metrics = Arc::new(Metrics::default());
        metrics.record("/sen.v1.PupilsService/GetPupil", "grpc", "Ok", 0.01);
        metrics.shed();
        metrics.rate_limited("990");
        metrics.upstream("pupils", true);
        let text = metrics.encode();
        for name in [
            "sen_gateway_requests_total{route=\"/sen.v1.PupilsService/GetPupil\",status=\"Ok\",protocol=\"grpc\"} 1",
            "sen_gateway_request_duration_seconds_bucket",
            "sen_gateway_requests_shed_total 1",
            "sen_gateway_rate_limited_total{tenant=\"990\"} 1",
            "sen_gateway_upstream_up{service=\"pupils\"} 1",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }
}
