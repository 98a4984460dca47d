//! Stopping without losing a call. On SIGTERM the gateway first reports itself
//! not ready ([`Readiness::drain`]: `/readyz` 503, `grpc.health.v1`
//! NOT_SERVING), then stops accepting connections, then lets the calls in flight
//! finish within `SEN_SHUTDOWN_GRACE_SECONDS` (HTTP/2 clients are sent GOAWAY,
//! idle HTTP/1.1 connections are closed).
//!
//! A request that still reaches it on an open connection in that window is
//! refused here, before it takes a permit or does anything, as UNAVAILABLE /
//! 503 with `Retry-After`: nothing was done, so the client may send it again,
//! and another replica takes it. Probes are not refused: they report the drain.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, header};
use tonic::Status;

use crate::proxy::{is_grpc, status_response};
use crate::readiness::Readiness;

/// Passes the request on, or refuses it once the gateway is draining.
pub async fn refuse_while_draining(State(readiness): State<Readiness>, request: Request, next: Next) -> Response {
    if !readiness.is_draining() {
        return next.run(request).await;
    }
    let status = Status::unavailable("this gateway is stopping; send the call again");
    let mut response = if is_grpc(request.headers()) {
        status_response(status.code(), status.message())
    } else {
        crate::json::error_response(&status)
    };
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    if request.version() < http::Version::HTTP_2 {
        // An HTTP/1.1 client must not send its next request down this connection.
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;

    fn app(readiness: &Readiness, handled: &Arc<AtomicUsize>) -> Router {
        let handled = handled.clone();
        Router::new()
            .route(
                "/api/v1/referrals",
                post(move || async move {
                    handled.fetch_add(1, Ordering::SeqCst);
                    "done"
                }),
            )
            .layer(axum::middleware::from_fn_with_state(readiness.clone(), refuse_while_draining))
    }

    fn call(grpc: bool) -> Request {
        let builder = Request::builder().method("POST").uri("/api/v1/referrals");
        let builder = if grpc { builder.header("content-type", "application/grpc") } else { builder };
        builder.body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn once_draining_new_calls_are_refused_as_retryable_and_nothing_runs() {
        let readiness = Readiness::new(Vec::new());
        let handled = Arc::new(AtomicUsize::new(0));
        let answer = app(&readiness, &handled).oneshot(call(false)).await.unwrap();
        assert_eq!(answer.status(), http::StatusCode::OK);
        assert!(!readiness.is_draining());

        readiness.drain();
        let json = app(&readiness, &handled).oneshot(call(false)).await.unwrap();
        assert_eq!(json.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(json.headers()[header::RETRY_AFTER], "1");
        assert_eq!(json.headers()[header::CONNECTION], "close", "an HTTP/1.1 client opens a new connection");
        let grpc = app(&readiness, &handled).oneshot(call(true)).await.unwrap();
        assert_eq!(grpc.headers()["grpc-status"], "14", "UNAVAILABLE");
        assert_eq!(handled.load(Ordering::SeqCst), 1, "only the call before the drain ran");
    }

    #[tokio::test]
    async fn draining_makes_the_gateway_unready_whatever_the_services_say() {
        let readiness = Readiness::new(Vec::new());
        assert!(readiness.check().ready);
        let drained = tokio::spawn(readiness.drained());
        readiness.drain();
        drained.await.unwrap();
        let report = readiness.check();
        assert!(!report.ready && report.draining);
    }
}
