//! Serving a set of gRPC services the same way everywhere: identity-checked
//! routes, `grpc.health.v1` and reflection beside them, a span per call parented
//! on the caller's trace, optional TLS, and a graceful stop on SIGTERM / Ctrl-C
//! that reports NOT_SERVING, lets in-flight calls finish within the grace period,
//! then stops.
//!
//! TLS is accepted here rather than by tonic, through [`ServerTls`], so that a
//! renewed certificate is served to new connections without a restart. Every
//! connection is held to [`crate::keepalive`]: the server pings its callers
//! over HTTP/2 and closes a connection whose pings go unanswered, so a caller
//! that vanished behind a silent proxy does not hold it for good.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic_health::ServingStatus;

pub use crate::accept::incoming;
use crate::keepalive;
use crate::telemetry;
use crate::tls::ServerTls;

/// What to serve besides the routes themselves.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// TLS for the port, following its files; plaintext when `None`.
    pub tls: Option<ServerTls>,
    /// How long in-flight calls may run after the stop signal.
    pub shutdown_grace: Duration,
    /// A plaintext port answering `grpc.health.v1`, for probes that cannot
    /// speak TLS (Kubernetes' native gRPC probes), and `GET /metrics`.
    pub admin: Option<std::net::SocketAddr>,
    /// What the admin port's `/metrics` shows: the services' own metrics.
    pub metrics: crate::metrics::Metrics,
}

/// The content type of the OpenMetrics text exposition.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `routes` (whose fully-qualified service names are `services`) on
/// `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    services: &[&str],
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    for name in services {
        reporter.set_service_status(name, ServingStatus::Serving).await;
    }
    // The empty name is the whole server's health, as Kubernetes probes ask by default.
    reporter.set_service_status("", ServingStatus::Serving).await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(sen_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(sen_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    // The admin port answers health until the main server has stopped.
    let admin = match options.admin {
        Some(address) => {
            let listener = TcpListener::bind(address)
                .await
                .map_err(|e| anyhow::anyhow!("SEN_ADMIN_LISTEN: cannot listen on {address}: {e}"))?;
            let metrics = options.metrics.clone();
            let app = Routes::new(health.clone()).into_axum_router().route(
                "/metrics",
                axum::routing::get(move || {
                    let text = metrics.encode();
                    async move { ([(http::header::CONTENT_TYPE, OPENMETRICS)], text) }
                }),
            );
            // Small answers go out at once (TCP_NODELAY), as on the main port.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            Some(AbortOnDrop(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!(error = %e, "the admin port stopped");
                }
            })))
        }
        None => None,
    };

    let mut builder = Server::builder()
        .trace_fn(telemetry::server_span)
        .http2_keepalive_interval(Some(keepalive::HTTP2_INTERVAL))
        .http2_keepalive_timeout(Some(keepalive::HTTP2_TIMEOUT));
    if let Some(tls) = &options.tls {
        tls.register(&options.metrics);
    }
    let routes = routes.add_service(health).add_service(reflection).add_service(reflection_alpha);

    let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
    let names: Vec<String> = services.iter().map(|s| (*s).to_owned()).collect();
    let signal = async move {
        shutdown.await;
        tracing::info!("stopping: reporting NOT_SERVING and finishing in-flight calls");
        reporter.set_service_status("", ServingStatus::NotServing).await;
        for name in &names {
            reporter.set_service_status(name, ServingStatus::NotServing).await;
        }
        let _ = stopping_tx.send(true);
    };
    let router = builder.add_routes(routes);
    let server: std::pin::Pin<Box<dyn Future<Output = Result<(), tonic::transport::Error>> + Send>> = match options.tls
    {
        Some(tls) => Box::pin(router.serve_with_incoming_shutdown(tls.incoming(listener), signal)),
        None => Box::pin(router.serve_with_incoming_shutdown(incoming(listener), signal)),
    };
    tokio::pin!(server);
    let grace = options.shutdown_grace;
    let deadline = async move {
        // Resolves only once the stop signal has fired and the grace period passed.
        let _ = stopping_rx.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(grace).await;
    };
    let outcome = tokio::select! {
        result = &mut server => result.map_err(|e| anyhow::anyhow!("server failed: {e}")),
        () = deadline => {
            tracing::warn!(grace_seconds = grace.as_secs(), "calls still running after the grace period were cut off");
            Ok(())
        }
    };
    drop(admin);
    outcome
}

/// A spawned task that stops when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether the process has been told to stop, shared by everything in it that
/// stops on the signal.
static STOPPING: std::sync::OnceLock<tokio::sync::watch::Receiver<bool>> = std::sync::OnceLock::new();

/// Completes on SIGTERM (Kubernetes stopping the pod) or Ctrl-C.
///
/// The process listens for the signal once, from the first call on, and every
/// caller sees it, including one that starts waiting after it came: a part
/// that starts late (the front door after the services) still stops on a
/// signal sent while it was starting. Call it from within the runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    let mut stopping = STOPPING.get_or_init(listen_for_stop).clone();
    async move {
        if stopping.wait_for(|stopping| *stopping).await.is_err() {
            // The listener's runtime has gone (tests run one per test): no signal will come.
            std::future::pending::<()>().await;
        }
    }
}

fn listen_for_stop() -> tokio::sync::watch::Receiver<bool> {
    let (told, stopping) = tokio::sync::watch::channel(false);
    // Registered here, before any caller waits, so the signal is never missed.
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::spawn(async move {
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let terminate = async {
            match terminate {
                Some(mut sigterm) => {
                    sigterm.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = terminate => {},
        }
        let _ = told.send(true);
    });
    stopping
}

/// Binds the configured front port (`SEN_LISTEN`).
pub async fn bind(config: &crate::config::Config) -> anyhow::Result<TcpListener> {
    TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("SEN_LISTEN: cannot listen on {}: {e}", config.listen))
}

/// Serves `routes` on `listener` as configured: `SEN_TLS_*` and the shutdown grace,
/// stopping gracefully on SIGTERM or Ctrl-C.
pub async fn run(
    listener: TcpListener,
    config: &crate::config::Config,
    routes: Routes,
    services: &[&str],
    metrics: crate::metrics::Metrics,
) -> anyhow::Result<()> {
    let tls = config.tls.as_ref().map(ServerTls::load).transpose()?;
    let options = ServeOptions { tls, shutdown_grace: config.shutdown_grace, admin: config.admin_listen, metrics };
    serve(listener, routes, services, options, shutdown_signal()).await
}

#[cfg(test)]
mod tests {
    use tokio_stream::StreamExt;

    use super::*;

    #[tokio::test]
    async fn accepted_connections_send_small_answers_at_once() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut accepted = incoming(listener);
        let _client = tokio::net::TcpStream::connect(address).await.unwrap();
        let stream = accepted.next().await.unwrap().unwrap();
        assert!(stream.nodelay().unwrap(), "TCP_NODELAY is set on every accepted connection");
    }
}
