//! Serving a set of gRPC services the same way everywhere: identity-checked
//! routes, `grpc.health.v1` and reflection beside them, a span per call parented
//! on the caller's trace, optional TLS, and a graceful stop on SIGTERM / Ctrl-C
//! that reports NOT_SERVING, lets in-flight calls finish within the grace period,
//! then stops.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use tonic::transport::{Server, ServerTlsConfig};
use tonic_health::ServingStatus;

use crate::telemetry;

/// What to serve besides the routes themselves.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// TLS for the port; plaintext when `None`.
    pub tls: Option<ServerTlsConfig>,
    /// How long in-flight calls may run after the stop signal.
    pub shutdown_grace: Duration,
    /// A plaintext port answering only `grpc.health.v1`, for probes that cannot
    /// speak TLS (Kubernetes' native gRPC probes).
    pub admin: Option<std::net::SocketAddr>,
}

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
            let health = health.clone();
            Some(AbortOnDrop(tokio::spawn(async move {
                let served =
                    Server::builder().add_service(health).serve_with_incoming(TcpListenerStream::new(listener)).await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "the admin port stopped");
                }
            })))
        }
        None => None,
    };

    let mut builder = Server::builder().trace_fn(telemetry::server_span);
    if let Some(tls) = options.tls {
        builder = builder.tls_config(tls).map_err(|e| anyhow::anyhow!("TLS configuration: {e}"))?;
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
    let server = builder.add_routes(routes).serve_with_incoming_shutdown(TcpListenerStream::new(listener), signal);
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

/// Completes on SIGTERM (Kubernetes stopping the pod) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
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
) -> anyhow::Result<()> {
    let tls = config.tls.as_ref().map(crate::tls::server_tls).transpose()?;
    let options = ServeOptions { tls, shutdown_grace: config.shutdown_grace, admin: config.admin_listen };
    serve(listener, routes, services, options, shutdown_signal()).await
}
