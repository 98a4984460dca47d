//! What every request passes through, as one tower stack a reader takes in top
//! to bottom, in the order a request meets it:
//!
//! | layer | from | what it does |
//! | --- | --- | --- |
//! | [`request_id::drop_unsafe_id`] | tower `MapRequest` | drops a caller's request id that could inject text into logs |
//! | [`route::label`] | tower `MapRequest` | works out the request's route once, for the span and the metrics |
//! | `SetRequestId` / `PropagateRequestId` | tower-http | keeps the caller's `x-request-id` or makes one ([`request_id`]), and echoes it on the answer |
//! | `SetSensitiveRequestHeaders` | tower-http | marks bearer tokens and session cookies so no log or span shows them |
//! | `Trace` | tower-http | the request's span ([`span`]), the root of a trace of the platform's own, linked to the caller's |
//! | [`metrics::MetricsLayer`] | here | counts the answer by route, status and protocol when it ends |
//!
//! Then, for every request but the probes (`/healthz`, `/readyz`, `/metrics`,
//! gRPC health), which must answer however busy the gateway is (and, ahead of
//! these, the drain's refusal, `crate::drain`):
//!
//! | layer | from | what it does |
//! | --- | --- | --- |
//! | [`limits::LimitsLayer`] | here | recognises the caller from the headers; holds a person to their own and their authority's rate, anyone else to their address's rate and requests at once and to the places kept for strangers; 429 / 503 with `Retry-After` |
//! | [`body::BodyLayer`] | here | reads the body within `SEN_REQUEST_BODY_TIMEOUT_SECONDS` (408 otherwise) before any working place is taken; uploads must keep sending |
//! | [`busy::BusyLayer`] | here | a refusal below becomes UNAVAILABLE / 503 with `Retry-After`, counted, and remembered for readiness |
//! | `LoadShed` | tower | refuses at once instead of queueing when no working place is free |
//! | `GlobalConcurrencyLimit` | tower | at most `SEN_MAX_CONCURRENT_REQUESTS` requests at work at once, across every route ([`busy::Slots`]) |
//! | [`audit::RefusalsLayer`] | here | an authentication or role refusal becomes an `audit` log line, limited per caller |
//!
//! Slow clients are also held to time limits on the connection itself (the
//! headers, HTTP/2 pings: `crate::server`), before any of this.

pub mod address;
pub mod audit;
pub mod body;
pub mod busy;
pub mod in_flight;
pub mod limits;
pub mod metrics;
pub mod rate_limit;
pub mod refusal;
pub mod request_id;
pub mod route;
pub mod span;

use std::sync::Arc;

use axum::extract::Request;
use http::HeaderName;
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use tower::util::MapRequestLayer;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;

pub use audit::RefusalsLayer;
pub use body::BodyLayer;
pub use busy::{BusyLayer, Slots};
pub use limits::{CallerLimits, Limits, LimitsLayer, SessionCheck};
pub use metrics::{Metrics, MetricsLayer};
pub use rate_limit::{Rate, RateLimiter};
pub use request_id::{REQUEST_ID, RequestIds};
pub use route::route_label;

/// The layers in front of the work, outermost first (see the second table above).
pub type Admission = Stack<
    GlobalConcurrencyLimitLayer,
    Stack<LoadShedLayer, Stack<BusyLayer, Stack<BodyLayer, Stack<LimitsLayer, Identity>>>>,
>;

/// The layers in front of everything, outermost first (see the table above).
pub type Front = Stack<
    MetricsLayer,
    Stack<
        TraceLayer<SharedClassifier<ServerErrorsAsFailures>, fn(&Request) -> tracing::Span, (), (), (), (), ()>,
        Stack<
            SetSensitiveRequestHeadersLayer,
            Stack<
                PropagateRequestIdLayer,
                Stack<
                    SetRequestIdLayer<request_id::MakeIds>,
                    Stack<
                        MapRequestLayer<fn(Request) -> Request>,
                        Stack<MapRequestLayer<fn(Request) -> Request>, Identity>,
                    >,
                >,
            >,
        >,
    >,
>;

/// The layers in front of every request, probes included.
pub fn front(metrics: Arc<Metrics>) -> ServiceBuilder<Front> {
    let id = HeaderName::from_static(REQUEST_ID);
    ServiceBuilder::new()
        .layer(MapRequestLayer::new(request_id::drop_unsafe_id as fn(Request) -> Request))
        .layer(MapRequestLayer::new(route::label as fn(Request) -> Request))
        .layer(SetRequestIdLayer::new(id.clone(), request_id::MakeIds::default()))
        .layer(PropagateRequestIdLayer::new(id))
        .layer(SetSensitiveRequestHeadersLayer::new([http::header::AUTHORIZATION, http::header::COOKIE]))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(span::request_span as fn(&Request) -> tracing::Span)
                .on_request(())
                .on_response(())
                .on_body_chunk(())
                .on_eos(())
                .on_failure(()),
        )
        .layer(MetricsLayer::new(metrics))
}

/// The layers in front of the work (everything but the probes): the callers'
/// `limits`, the body read within `body_timeout`, then one of the `slots`, the
/// rest refused at once.
pub fn admission(
    limits: Arc<CallerLimits>,
    body_timeout: std::time::Duration,
    metrics: Arc<Metrics>,
    slots: &Slots,
) -> ServiceBuilder<Admission> {
    ServiceBuilder::new()
        .layer(LimitsLayer::new(limits))
        .layer(BodyLayer::new(body_timeout, metrics.clone()))
        .layer(BusyLayer::new(metrics, slots.clone()))
        .layer(LoadShedLayer::new())
        .layer(GlobalConcurrencyLimitLayer::with_semaphore(slots.semaphore()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::response::Response;
    use tower::ServiceExt;

    async fn through_front(metrics: &Arc<Metrics>, request: Request) -> Response {
        front(metrics.clone())
            .service_fn(|request: Request| async move {
                // What the handler sees is what the caller is told.
                let seen = request.headers().get(REQUEST_ID).cloned();
                let mut response = Response::new(Body::empty());
                if let Some(seen) = seen {
                    response.headers_mut().insert("x-seen-id", seen);
                }
                Ok::<_, std::convert::Infallible>(response)
            })
            .oneshot(request)
            .await
            .unwrap()
            .map(Body::new)
    }

    #[tokio::test]
    async fn every_answer_carries_the_request_id_the_handler_saw() {
        let metrics = Arc::new(Metrics::default());
        let given = Request::builder().uri("/healthz").header(REQUEST_ID, "abc-123").body(Body::empty()).unwrap();
        let answer = through_front(&metrics, given).await;
        assert_eq!(answer.headers()[REQUEST_ID], "abc-123");
        assert_eq!(answer.headers()["x-seen-id"], "abc-123");

        let odd = Request::builder().uri("/healthz").header(REQUEST_ID, "a b;c").body(Body::empty()).unwrap();
        let answer = through_front(&metrics, odd).await;
        assert_ne!(answer.headers()[REQUEST_ID], "a b;c", "an unsafe id is replaced");
        assert_eq!(answer.headers()[REQUEST_ID], answer.headers()["x-seen-id"]);

        let none = Request::builder().uri("/healthz").body(Body::empty()).unwrap();
        let answer = through_front(&metrics, none).await;
        assert!(answer.headers().contains_key(REQUEST_ID), "one is made when the caller sent none");
    }

    #[tokio::test]
    async fn every_answer_is_counted_once_its_body_ends() {
        let metrics = Arc::new(Metrics::default());
        let request = Request::builder().uri("/api/v1/pupils/42").body(Body::empty()).unwrap();
        let answer = through_front(&metrics, request).await;
        assert!(!metrics.encode().contains("route=\"/api/v1/pupils/{id}\""), "not before the body ends");
        drop(answer);
        assert!(metrics.encode().contains("route=\"/api/v1/pupils/{id}\",status=\"200\",protocol=\"http\"} 1"));
    }
}
