//! A [`Balanced`] service behind a tonic [`Channel`], for the clients written
//! against `Channel`.
//!
//! tonic makes a `Channel` only from a connector (something that opens a byte
//! stream), so the connector here opens an in-memory pipe and serves the
//! balanced service on its far end over HTTP/2. Each call crosses the pipe as
//! one stream: its deadline (`grpc-timeout`), metadata, messages and
//! cancellation pass through unchanged, and a call the balancer cannot place
//! answers the gRPC status tonic would have given for the same failure (a
//! connection refused is UNAVAILABLE).

use std::convert::Infallible;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tonic::body::Body;
use tonic::transport::{Channel, Endpoint, Uri};
use tower::ServiceExt;

use super::Balanced;

/// How many bytes the pipe holds each way before the writer waits.
const PIPE: usize = 256 * 1024;

/// A channel whose calls `balanced` places, carrying `origin` (the service URL)
/// as their authority; `timeout` bounds each call, as on every channel.
pub(crate) fn channel(balanced: Balanced, origin: Uri, timeout: std::time::Duration) -> anyhow::Result<Channel> {
    let authority = origin.authority().ok_or_else(|| anyhow::anyhow!("'{origin}' names no host"))?;
    // tonic opens TLS only for an https endpoint with its own TLS settings; the
    // pipe is plain, and each member makes its own TLS connection.
    let pipe: Uri = format!("http://{authority}").parse().map_err(|e| anyhow::anyhow!("'{origin}': {e}"))?;
    let connector = tower::service_fn(move |_: Uri| {
        let balanced = balanced.clone();
        async move {
            let (ours, theirs) = tokio::io::duplex(PIPE);
            tokio::spawn(serve(theirs, balanced));
            Ok::<_, Infallible>(TokioIo::new(ours))
        }
    });
    Ok(Endpoint::from(pipe).origin(origin).timeout(timeout).connect_with_connector_lazy(connector))
}

/// Serves `balanced` on the far end of a pipe, until the channel closes it.
async fn serve(pipe: tokio::io::DuplexStream, balanced: Balanced) {
    let place = hyper::service::service_fn(move |request: http::Request<Incoming>| {
        let balanced = balanced.clone();
        async move {
            let answer = balanced.oneshot(request.map(Body::new)).await;
            Ok::<_, Infallible>(answer.unwrap_or_else(|error| tonic::Status::from_error(error).into_http()))
        }
    });
    let mut http2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    // The called services set their own limits; the pipe adds none.
    http2.max_concurrent_streams(None);
    if let Err(error) = http2.serve_connection(TokioIo::new(pipe), place).await {
        tracing::debug!(%error, "an in-memory connection to a balanced service ended");
    }
}
