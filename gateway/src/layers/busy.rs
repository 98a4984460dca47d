//! Refusing work when the gateway is full, in the caller's own protocol.
//!
//! The gateway has [`Slots`]: working places, at most
//! `SEN_MAX_CONCURRENT_REQUESTS` requests at work at once, across every route.
//! A request takes one only once it is ready to be worked on (its body read, see
//! [`super::body`]), and holds it until its response starts. tower's
//! `GlobalConcurrencyLimit` takes the place and `LoadShed` turns "no place free"
//! into an immediate `Overloaded` error instead of a queue: a busy gateway answers
//! at once and a client retries elsewhere, rather than piling up latency. This
//! layer sits above them and turns that error into the answer a caller expects:
//! gRPC UNAVAILABLE for a gRPC call, a 503 otherwise, with `Retry-After`. Each
//! refusal is counted (`sen_gateway_requests_shed_total`), logged, and remembered
//! for a moment, so that readiness reports a gateway that is turning work away.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::response::Response;
use futures::future::BoxFuture;
use tokio::sync::Semaphore;
use tower::load_shed::error::Overloaded;
use tower::{BoxError, Layer, Service};

use crate::layers::metrics::Metrics;
use crate::layers::refusal::{Face, Refusal, grpc_answer};

/// How long a refusal for want of a place keeps the gateway reported saturated:
/// long enough that a readiness probe between two refusals still sees it.
const SATURATION_MEMORY: Duration = Duration::from_secs(2);

/// The gateway's working places, and when one was last refused for want of one.
#[derive(Clone, Debug)]
pub struct Slots {
    semaphore: Arc<Semaphore>,
    /// Milliseconds after `epoch` of the last refusal, plus one; 0: never.
    last_refusal: Arc<AtomicU64>,
    epoch: Instant,
}

impl Slots {
    /// `max` working places.
    pub fn new(max: usize) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(max.max(1))),
            last_refusal: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
        }
    }

    /// The places, for tower's `GlobalConcurrencyLimit`.
    pub fn semaphore(&self) -> Arc<Semaphore> {
        self.semaphore.clone()
    }

    fn refused(&self) {
        let at = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.last_refusal.store(at + 1, Ordering::Relaxed);
    }

    /// Whether the gateway is turning work away: no place is free now, or a
    /// request was refused for want of one in the last moments.
    pub fn saturated(&self) -> bool {
        if self.semaphore.available_permits() == 0 {
            return true;
        }
        match self.last_refusal.load(Ordering::Relaxed) {
            0 => false,
            at => {
                let refused = self.epoch + Duration::from_millis(at - 1);
                refused.elapsed() < SATURATION_MEMORY
            }
        }
    }
}

/// Answers an `Overloaded` refusal from below as UNAVAILABLE / 503.
#[derive(Clone, Debug)]
pub struct BusyLayer {
    metrics: Arc<Metrics>,
    slots: Slots,
}

impl BusyLayer {
    /// Counting refusals in `metrics` and remembering them in `slots`.
    pub fn new(metrics: Arc<Metrics>, slots: Slots) -> Self {
        Self { metrics, slots }
    }
}

impl<S> Layer<S> for BusyLayer {
    type Service = Busy<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Busy { inner, metrics: self.metrics.clone(), slots: self.slots.clone() }
    }
}

/// The service [`BusyLayer`] makes.
#[derive(Clone, Debug)]
pub struct Busy<S> {
    inner: S,
    metrics: Arc<Metrics>,
    slots: Slots,
}

impl<S> Service<Request> for Busy<S>
where
    S: Service<Request, Response = Response, Error = BoxError> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // `LoadShed` is always ready; it refuses in `call` instead.
        match self.inner.poll_ready(cx) {
            Poll::Ready(_) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let face = Face::of(&request);
        let version = request.version();
        let metrics = self.metrics.clone();
        let slots = self.slots.clone();
        let answer = self.inner.call(request);
        Box::pin(async move {
            Ok(match answer.await {
                Ok(response) => response,
                Err(error) => refusal(&metrics, &slots, face, version, &error),
            })
        })
    }
}

fn refusal(metrics: &Metrics, slots: &Slots, face: Face, version: http::Version, error: &BoxError) -> Response {
    if error.is::<Overloaded>() {
        metrics.shed();
        slots.refused();
        tracing::warn!("shedding a request: the concurrency limit is reached");
        return Refusal::Busy { message: "the platform is busy; try again shortly" }.answer(face, version);
    }
    // The routes below answer every request; nothing else fails here.
    tracing::error!(error = %error, "a request failed below the concurrency limit");
    let status = tonic::Status::internal("the gateway failed to handle this request");
    match face {
        Face::Grpc => grpc_answer(status.code(), status.message(), None),
        Face::Api | Face::Page => crate::json::error_response(&status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;
    use tower::limit::GlobalConcurrencyLimitLayer;
    use tower::load_shed::LoadShedLayer;

    fn limited(
        metrics: &Arc<Metrics>,
        slots: &Slots,
    ) -> impl Service<Request, Response = Response, Error = Infallible> + Clone {
        tower::ServiceBuilder::new()
            .layer(BusyLayer::new(metrics.clone(), slots.clone()))
            .layer(LoadShedLayer::new())
            .layer(GlobalConcurrencyLimitLayer::with_semaphore(slots.semaphore()))
            .service_fn(|_: Request| async { Ok::<_, Infallible>(Response::new(Body::from("done"))) })
    }

    #[tokio::test]
    async fn a_full_gateway_refuses_at_once_in_the_callers_protocol() {
        let metrics = Arc::new(Metrics::default());
        let slots = Slots::new(1);
        assert!(!slots.saturated());
        let held = slots.semaphore().try_acquire_owned().unwrap();
        assert!(slots.saturated(), "no place free");
        let grpc = Request::builder().header("content-type", "application/grpc").body(Body::empty()).unwrap();
        let answer = limited(&metrics, &slots).oneshot(grpc).await.unwrap();
        assert_eq!(answer.headers()["grpc-status"], "14", "UNAVAILABLE");
        let json = Request::builder().uri("/api/v1/overview").body(Body::empty()).unwrap();
        let answer = limited(&metrics, &slots).oneshot(json).await.unwrap();
        assert_eq!(answer.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.headers()[http::header::RETRY_AFTER], "1");
        assert!(metrics.encode().contains("sen_gateway_requests_shed_total 2"));
        drop(held);
        assert!(slots.saturated(), "a refusal a moment ago still counts");
        let answer = limited(&metrics, &slots).oneshot(Request::new(Body::empty())).await.unwrap();
        assert_eq!(answer.status(), http::StatusCode::OK, "room again once the permit is back");
    }
}
