//! Refusing work when the gateway is full, in the caller's own protocol.
//!
//! tower's `GlobalConcurrencyLimit` holds one permit a request (shared by every
//! route) until its response starts, and `LoadShed` turns "no permit free" into
//! an immediate `Overloaded` error instead of a queue: a busy gateway answers at
//! once and a client retries elsewhere, rather than piling up latency. This layer
//! sits above them and turns that error into the answer a caller expects: gRPC
//! UNAVAILABLE for a gRPC call, a 503 JSON error otherwise. Each refusal is
//! counted (`sen_gateway_requests_shed_total`) and logged.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use futures::future::BoxFuture;
use tonic::Status;
use tower::load_shed::error::Overloaded;
use tower::{BoxError, Layer, Service};

use crate::layers::metrics::Metrics;
use crate::proxy::{is_grpc, status_response};

/// Answers an `Overloaded` refusal from below as UNAVAILABLE / 503.
#[derive(Clone, Debug)]
pub struct BusyLayer {
    metrics: Arc<Metrics>,
}

impl BusyLayer {
    /// Counting refusals in `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for BusyLayer {
    type Service = Busy<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Busy { inner, metrics: self.metrics.clone() }
    }
}

/// The service [`BusyLayer`] makes.
#[derive(Clone, Debug)]
pub struct Busy<S> {
    inner: S,
    metrics: Arc<Metrics>,
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
        let grpc = is_grpc(request.headers());
        let metrics = self.metrics.clone();
        let answer = self.inner.call(request);
        Box::pin(async move {
            Ok(match answer.await {
                Ok(response) => response,
                Err(error) => refusal(&metrics, grpc, &error),
            })
        })
    }
}

fn refusal(metrics: &Metrics, grpc: bool, error: &BoxError) -> Response {
    let status = if error.is::<Overloaded>() {
        metrics.shed();
        tracing::warn!("shedding a request: the concurrency limit is reached");
        Status::unavailable("the platform is busy; try again shortly")
    } else {
        // The routes below answer every request; nothing else fails here.
        tracing::error!(error = %error, "a request failed below the concurrency limit");
        Status::internal("the gateway failed to handle this request")
    };
    if grpc { status_response(status.code(), status.message()) } else { crate::json::error_response(&status) }
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
        semaphore: Arc<tokio::sync::Semaphore>,
    ) -> impl Service<Request, Response = Response, Error = Infallible> + Clone {
        tower::ServiceBuilder::new()
            .layer(BusyLayer::new(metrics.clone()))
            .layer(LoadShedLayer::new())
            .layer(GlobalConcurrencyLimitLayer::with_semaphore(semaphore))
            .service_fn(|_: Request| async { Ok::<_, Infallible>(Response::new(Body::from("done"))) })
    }

    #[tokio::test]
    async fn a_full_gateway_refuses_at_once_in_the_callers_protocol() {
        let metrics = Arc::new(Metrics::default());
        let semaphore = Arc::new(tokio::sync::Semaphore::new(1));
        let held = semaphore.clone().try_acquire_owned().unwrap();
        let grpc = Request::builder().header("content-type", "application/grpc").body(Body::empty()).unwrap();
        let answer = limited(&metrics, semaphore.clone()).oneshot(grpc).await.unwrap();
        assert_eq!(answer.headers()["grpc-status"], "14", "UNAVAILABLE");
        let json = Request::builder().uri("/api/v1/overview").body(Body::empty()).unwrap();
        let answer = limited(&metrics, semaphore.clone()).oneshot(json).await.unwrap();
        assert_eq!(answer.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert!(metrics.encode().contains("sen_gateway_requests_shed_total 2"));
        drop(held);
        let answer = limited(&metrics, semaphore).oneshot(Request::new(Body::empty())).await.unwrap();
        assert_eq!(answer.status(), http::StatusCode::OK, "room again once the permit is back");
    }
}
