//! A request's body is read before the request takes a working place, within a
//! time limit: a client that sends its body slowly (or never) holds a
//! connection, but no place that signed-in work needs.
//!
//! - A body is read whole within `SEN_REQUEST_BODY_TIMEOUT_SECONDS`, or the
//!   request is answered 408 (gRPC DEADLINE_EXCEEDED) and an HTTP/1.1
//!   connection closed. It may be at most [`MAX_BODY`] from a signed-in person
//!   (the largest unary gRPC message; each route keeps its own smaller limit) and
//!   [`MAX_ANONYMOUS_BODY`] from anyone else (a sign-in form is far smaller);
//!   more is answered 413 (RESOURCE_EXHAUSTED).
//! - Uploads (client-streaming gRPC calls such as the GIAS import, their JSON
//!   routes, and a signed-in person's page form carrying files, such as a
//!   referral's documents) and gRPC reflection, whose request is a stream, are
//!   not read ahead: they take their place at once and must keep sending: a
//!   pause longer than the same limit ends the stream. Each keeps the limit of
//!   its own route (a page's form its own, read as it streams).

use std::collections::HashSet;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use futures::future::BoxFuture;
use http::Method;
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::time::Sleep;
use tower::{Layer, Service, ServiceExt};

use crate::layers::limits::SignedIn;
use crate::layers::metrics::Metrics;
use crate::layers::refusal::{Face, Refusal};
use crate::layers::route::Route;
use crate::policy::{RULES, Verb};
use crate::proxy::{MAX_UNARY_BODY, shape};

/// The largest body read ahead for a signed-in person.
pub const MAX_BODY: usize = MAX_UNARY_BODY;
/// The largest body read ahead for a caller without an identity.
pub const MAX_ANONYMOUS_BODY: usize = 64 * 1024;

/// The routes whose request is a stream, by method and route label: each
/// client-streaming method's gRPC path and JSON route.
static STREAMED: LazyLock<HashSet<(Method, String)>> = LazyLock::new(|| {
    let mut streamed = HashSet::new();
    for rule in RULES {
        let path = rule.grpc_path();
        if !shape(&path).client_streaming {
            continue;
        }
        if let Some((verb, template)) = rule.http {
            let method = match verb {
                Verb::Get => Method::GET,
                Verb::Post => Method::POST,
                Verb::Patch => Method::PATCH,
            };
            streamed.insert((method, template.to_owned()));
        }
        streamed.insert((Method::POST, path));
    }
    streamed
});

fn is_stream(request: &Request) -> bool {
    if is_page_upload(request) {
        return true;
    }
    let route = Route::of(request);
    if route.grpc && request.uri().path().starts_with("/grpc.reflection.") {
        return true;
    }
    STREAMED.contains(&(request.method().clone(), route.label))
}

/// A page's form carrying files: a multipart POST to a page (not the API, not
/// gRPC) by a signed-in person. The page reads it as it streams, within its own
/// limit (`axum`'s body limit on that route; any other page refuses a multipart
/// body before reading it).
fn is_page_upload(request: &Request) -> bool {
    request.method() == Method::POST
        && request.extensions().get::<SignedIn>().is_some()
        && !request.uri().path().starts_with("/api/")
        && request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// Reads bodies ahead, within `timeout`.
#[derive(Clone, Debug)]
pub struct BodyLayer {
    timeout: Duration,
    metrics: Arc<Metrics>,
}

impl BodyLayer {
    /// Giving a body `timeout` to arrive; counting slow ones in `metrics`.
    pub fn new(timeout: Duration, metrics: Arc<Metrics>) -> Self {
        Self { timeout, metrics }
    }
}

impl<S> Layer<S> for BodyLayer {
    type Service = ReadBody<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ReadBody { inner, timeout: self.timeout, metrics: self.metrics.clone() }
    }
}

/// The service [`BodyLayer`] makes.
#[derive(Clone, Debug)]
pub struct ReadBody<S> {
    inner: S,
    timeout: Duration,
    metrics: Arc<Metrics>,
}

impl<S> Service<Request> for ReadBody<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The working place below is asked for only once the body is in.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let inner = self.inner.clone();
        let (timeout, metrics) = (self.timeout, self.metrics.clone());
        Box::pin(async move {
            match read_ahead(request, timeout, &metrics).await {
                Ok(request) => inner.oneshot(request).await,
                Err(response) => Ok(response),
            }
        })
    }
}

/// The request with its body read (or, for a stream, watched for pauses), or
/// the answer refusing it.
async fn read_ahead(request: Request, timeout: Duration, metrics: &Arc<Metrics>) -> Result<Request, Response> {
    if request.body().is_end_stream() {
        return Ok(request);
    }
    if is_stream(&request) {
        return Ok(request.map(|body| Body::new(Paced::new(body, timeout))));
    }
    let face = Face::of(&request);
    let route = Route::of(&request).label;
    let limit = if request.extensions().get::<SignedIn>().is_some() { MAX_BODY } else { MAX_ANONYMOUS_BODY };
    let (parts, body) = request.into_parts();
    let reading = metrics.reading_body();
    let read = tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await;
    drop(reading);
    let collected = match read {
        Ok(Ok(collected)) => collected,
        Ok(Err(error)) if error.is::<LengthLimitError>() => {
            let message = if limit == MAX_BODY {
                "the request body is larger than the gateway takes"
            } else {
                "the request body is larger than may be sent without signing in"
            };
            return Err(Refusal::TooLarge { message }.answer(face, parts.version));
        }
        Ok(Err(_)) => return Err(Refusal::BrokenBody.answer(face, parts.version)),
        Err(_) => {
            metrics.slow_client("body");
            tracing::info!(%route, "a request body did not arrive in time");
            return Err(Refusal::SlowBody.answer(face, parts.version));
        }
    };
    let trailers = collected.trailers().cloned();
    let data = collected.to_bytes();
    let body = match trailers {
        None => Body::from(data),
        Some(trailers) => {
            let frames = [Ok::<_, Infallible>(Frame::data(data)), Ok(Frame::trailers(trailers))];
            Body::new(http_body_util::StreamBody::new(futures::stream::iter(frames)))
        }
    };
    Ok(Request::from_parts(parts, body))
}

/// A streamed body that fails when no part of it arrives for `pause`.
struct Paced {
    inner: Body,
    pause: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl Paced {
    fn new(inner: Body, pause: Duration) -> Self {
        Self { inner, pause, deadline: Box::pin(tokio::time::sleep(pause)) }
    }
}

impl http_body::Body for Paced {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let next = tokio::time::Instant::now() + self.pause;
                self.deadline.as_mut().reset(next);
                Poll::Ready(frame)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new("the upload paused for too long")))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use http::StatusCode;

    type Echo = tower::util::BoxCloneService<Request, Response, Infallible>;

    fn echo() -> Echo {
        tower::util::BoxCloneService::new(tower::service_fn(|request: Request| async move {
            let bytes = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            Ok::<_, Infallible>(Response::new(Body::from(bytes)))
        }))
    }

    fn layer(timeout: Duration) -> ReadBody<Echo> {
        BodyLayer::new(timeout, Arc::new(Metrics::default())).layer(echo())
    }

    /// A body that sends `first` and then nothing, ever.
    fn stalled(first: &'static [u8]) -> Body {
        let frames = futures::stream::iter([Ok::<_, Infallible>(Frame::data(Bytes::from_static(first)))])
            .chain(futures::stream::pending());
        Body::new(http_body_util::StreamBody::new(frames))
    }

    #[tokio::test]
    async fn a_body_that_stops_coming_is_answered_408_without_reaching_the_handler() {
        let request = Request::builder().method("POST").uri("/sign-in").body(stalled(b"ab")).unwrap();
        let answer = layer(Duration::from_millis(50)).oneshot(request).await.unwrap();
        assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
    }

    #[tokio::test]
    async fn a_whole_body_reaches_the_handler_as_sent() {
        let mut request = Request::builder().method("POST").uri("/sign-in").body(Body::from("person=a")).unwrap();
        request.extensions_mut().insert(SignedIn);
        let answer = layer(Duration::from_secs(5)).oneshot(request).await.unwrap();
        assert_eq!(answer.into_body().collect().await.unwrap().to_bytes(), "person=a");
    }

    #[tokio::test]
    async fn a_stranger_may_not_send_a_large_body() {
        let big = vec![b'x'; MAX_ANONYMOUS_BODY + 1];
        let request = Request::builder().method("POST").uri("/api/v1/referrals").body(Body::from(big)).unwrap();
        let answer = layer(Duration::from_secs(5)).oneshot(request).await.unwrap();
        assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn an_upload_is_passed_on_as_it_streams_and_ended_when_it_pauses() {
        let request = Request::builder()
            .method("POST")
            .uri("/sen.v1.SchoolsService/ImportSchools")
            .header("content-type", "application/grpc")
            .body(stalled(b"ab"))
            .unwrap();
        let request = crate::layers::route::label(request);
        assert!(is_stream(&request));
        let (_, body) =
            read_ahead(request, Duration::from_millis(50), &Arc::new(Metrics::default())).await.unwrap().into_parts();
        assert!(body.collect().await.is_err(), "the pause ends the upload");
    }
}
