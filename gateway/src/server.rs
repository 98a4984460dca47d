//! Serving one port with HTTP/1.1 and HTTP/2 (so browsers, JSON clients and gRPC
//! share it), over TLS when configured (a rustls configuration that serves the
//! certificate files as they are renewed: `sen_platform::tls::ServerTls`), with
//! a graceful stop: no new connections after the signal, in-flight requests
//! finish within the grace.
//!
//! A connection is held to time limits before any request reaches the layers
//! ([`ConnectionSettings`]): its first request must arrive within the header
//! timeout (whatever the protocol, TLS handshake aside), every HTTP/1.1
//! request's headers too (hyper's `header_read_timeout`, which also closes an
//! HTTP/1.1 connection idle that long), and an HTTP/2 peer must answer pings. A
//! client sending slowly, or not at all, so holds a connection for a bounded
//! time and never a working place. Each request is told its connection's peer
//! (axum's `ConnectInfo`), which the limits on strangers go by.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::Watcher;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceBuilder;

use crate::layers::Metrics;

/// How long a client may take to send what it must, and how much one
/// connection may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// A connection's first request, and each HTTP/1.1 request's headers, must
    /// arrive within this; an HTTP/1.1 connection idle this long is closed
    /// (`SEN_HEADER_READ_TIMEOUT_SECONDS`).
    pub header_read_timeout: Duration,
    /// HTTP/2: a ping after this long without a frame from the peer, and the
    /// connection closed if the ping is not answered within as long again
    /// (`SEN_HTTP2_KEEPALIVE_SECONDS`).
    pub keep_alive: Duration,
    /// HTTP/2: streams (calls) one connection may have open at once (`SEN_HTTP2_MAX_STREAMS`).
    pub max_streams: u32,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self { header_read_timeout: Duration::from_secs(10), keep_alive: Duration::from_secs(30), max_streams: 256 }
    }
}

/// The connections' settings, and where to count the clients cut off for slowness.
#[derive(Clone, Debug)]
pub struct Connections {
    /// The limits.
    pub settings: ConnectionSettings,
    /// Counts `sen_gateway_slow_clients_total{stage="headers"}`.
    pub metrics: Arc<Metrics>,
}

/// Serves `app` on `listener` with the default [`ConnectionSettings`] until
/// `shutdown` completes, then lets open requests finish for up to `grace`.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: axum::Router,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let connections = Connections { settings: ConnectionSettings::default(), metrics: Arc::new(Metrics::default()) };
    serve_with(listener, tls, app, &connections, grace, shutdown).await
}

/// Serves `app` on `listener`, its connections held to `connections`, until
/// `shutdown` completes, then lets open requests finish for up to `grace`.
pub async fn serve_with(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: axum::Router,
    connections: &Connections,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let acceptor = tls.map(TlsAcceptor::from);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let settings = connections.settings;
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(settings.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(settings.keep_alive))
        .keep_alive_timeout(settings.keep_alive)
        .max_concurrent_streams(settings.max_streams);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            peer,
            app: app.clone(),
            builder: builder.clone(),
            watcher: graceful.watcher(),
            connections: connections.clone(),
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match acceptor {
                Some(acceptor) => {
                    let stream = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    connection.serve(stream).await;
                }
                None => connection.serve(stream).await,
            }
        });
    }
    drop(listener);
    tracing::info!("stopping: no new connections; finishing requests in flight");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_seconds = grace.as_secs(), "requests still open after the grace period were cut off");
        }
    }
    Ok(())
}

/// One accepted connection, to be served.
struct Connection {
    peer: SocketAddr,
    app: axum::Router,
    builder: Arc<Builder<TokioExecutor>>,
    watcher: Watcher,
    connections: Connections,
}

impl Connection {
    /// Serves `io` until the client or the server closes it, or until the
    /// header timeout passes without a first request.
    async fn serve<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Self { peer, app, builder, watcher, connections } = self;
        let (seen, mut first) = tokio::sync::watch::channel(false);
        let seen = Arc::new(seen);
        let service = ServiceBuilder::new()
            .map_request(move |mut request: http::Request<hyper::body::Incoming>| {
                seen.send_replace(true);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            })
            .service(app);
        let serving = watcher.watch(
            builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service)).into_owned(),
        );
        // Fires only if no request arrived in time: hyper's own timeouts start
        // once it knows the protocol, which a silent client never lets it learn.
        let header_timeout = connections.settings.header_read_timeout;
        let too_late = async move {
            if tokio::time::timeout(header_timeout, first.wait_for(|seen| *seen)).await.is_ok() {
                std::future::pending::<()>().await;
            }
        };
        let served = tokio::select! {
            served = serving => served,
            () = too_late => {
                connections.metrics.slow_client("headers");
                tracing::debug!(%peer, "no request arrived in time; closing the connection");
                return;
            }
        };
        if let Err(e) = served {
            if e.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_timeout) {
                connections.metrics.slow_client("headers");
            }
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}
