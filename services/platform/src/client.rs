//! Channels to other services: plaintext on loopback in the embedded mode; TLS
//! trusting `SEN_UPSTREAM_CA_FILE` otherwise, presenting this service's own
//! certificate (`SEN_TLS_CERT_FILE` / `SEN_TLS_KEY_FILE`) where the callee
//! requires mutual TLS. Channels connect lazily and reconnect by themselves, so a
//! service starts even while the one it calls is still starting.
//!
//! A URL whose host is a name is resolved to every address it has, and calls
//! are spread over them ([`crate::balance`]), resolving again every
//! `SEN_RESOLVE_INTERVAL_SECONDS`; a URL with an IP address is one channel.
//! Every address gets the same treatment here ([`Target`]): its own
//! connections, with TLS checking the certificate against the host name of the
//! URL (the Service's DNS name), never against the pod's address.
//!
//! Every connection is held to [`crate::keepalive`]: HTTP/2 pings while idle or
//! busy, TCP keep-alive and a connect timeout, so a path that silently drops
//! traffic is given up within seconds and the next call opens a new connection.
//! Over TLS the channel opens its connections itself (TCP, then
//! [`ClientTls`]), so that each new connection uses the certificate files as
//! they are now.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use rustls::pki_types::ServerName;
use tonic::transport::{Channel, Endpoint, Uri};
use tower::{BoxError, ServiceExt};

use crate::balance::{Balanced, Dial, Dns, Resolve};
use crate::config::Config;
use crate::keepalive;
use crate::tls::ClientTls;

/// The longest a call may take unless its caller says less.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A channel to the service at `url`, as configured.
pub fn channel(url: &str, config: &Config) -> anyhow::Result<Channel> {
    channel_resolved_by(url, config, Arc::new(Dns))
}

/// A channel to the service at `url`, finding its replicas with `resolver`.
pub fn channel_resolved_by(url: &str, config: &Config, resolver: Arc<dyn Resolve>) -> anyhow::Result<Channel> {
    let target = Target::parse(url, config)?;
    match target.address() {
        Some(addr) => Ok(target.lazy(addr)),
        None => {
            let origin = target.origin.clone();
            crate::balance::bridge::channel(spread(target, config, resolver), origin, CALL_TIMEOUT)
        }
    }
}

/// Calls to the service at `url`, as configured, spread over its replicas: a
/// tower service for callers that take any (the gateway's upstreams).
pub fn balanced(url: &str, config: &Config) -> anyhow::Result<Balanced> {
    balanced_resolved_by(url, config, Arc::new(Dns))
}

/// As [`balanced`], finding the replicas with `resolver`.
pub fn balanced_resolved_by(url: &str, config: &Config, resolver: Arc<dyn Resolve>) -> anyhow::Result<Balanced> {
    let target = Target::parse(url, config)?;
    Ok(match target.address() {
        Some(addr) => Balanced::one(target.lazy(addr)),
        None => spread(target, config, resolver),
    })
}

fn spread(target: Target, config: &Config, resolver: Arc<dyn Resolve>) -> Balanced {
    let (host, port) = (target.host.clone(), target.port);
    Balanced::spread(&host, port, resolver, Arc::new(target), config.resolve_interval)
}

/// A service URL and how every connection to one of its addresses is made.
struct Target {
    /// The URL, which every call carries as its origin.
    origin: Uri,
    /// Its host, without brackets: a name, or an IP address.
    host: String,
    port: u16,
    /// TLS for `https` URLs, checking the certificate against `host`.
    tls: Option<(ClientTls, ServerName<'static>)>,
}

impl Target {
    fn parse(url: &str, config: &Config) -> anyhow::Result<Self> {
        let origin: Uri = url.parse().map_err(|e| anyhow::anyhow!("'{url}' is not a service URL: {e}"))?;
        let host = origin
            .host()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| anyhow::anyhow!("'{url}' is not a service URL: it names no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let https = origin.scheme_str() == Some("https");
        let port = origin.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tls = if https {
            let ca = config
                .upstream_ca
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("SEN_UPSTREAM_CA_FILE is required for {url}"))?;
            let identity = config.tls.as_ref().map(|tls| (tls.cert.as_path(), tls.key.as_path()));
            let domain = ServerName::try_from(host.clone())
                .map_err(|e| anyhow::anyhow!("'{host}' is not a name for TLS: {e}"))?;
            Some((ClientTls::load(ca, identity)?, domain))
        } else {
            None
        };
        Ok(Self { origin, host, port, tls })
    }

    /// The one address of a URL that gives an IP address rather than a name.
    fn address(&self) -> Option<SocketAddr> {
        self.host.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, self.port))
    }

    /// The endpoint for `addr`: connections go there, calls carry the URL.
    fn endpoint(&self, addr: SocketAddr) -> Endpoint {
        // A socket address always makes a URI; the URL itself is the fallback all the same.
        let plain = Uri::try_from(format!("http://{addr}")).unwrap_or_else(|_| self.origin.clone());
        held_to_keepalive(Endpoint::from(plain).origin(self.origin.clone()))
    }

    /// TCP as [`held_to_keepalive`] says, then TLS for the URL's host name.
    fn tls_connector(
        &self,
        tls: &ClientTls,
        domain: &ServerName<'static>,
    ) -> impl tower::Service<
        Uri,
        Response = hyper_util::rt::TokioIo<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
        Error = BoxError,
        Future = impl Send,
    > + Send
    + 'static {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_keepalive(Some(keepalive::TCP_IDLE));
        tcp.set_keepalive_interval(Some(keepalive::TCP_INTERVAL));
        tcp.set_keepalive_retries(Some(keepalive::TCP_RETRIES));
        tcp.set_connect_timeout(Some(keepalive::CONNECT_TIMEOUT));
        let (tls, domain) = (tls.clone(), domain.clone());
        tower::service_fn(move |uri: Uri| {
            let (tcp, tls, domain) = (tcp.clone(), tls.clone(), domain.clone());
            async move {
                let stream = tcp.oneshot(uri).await?.into_inner();
                let stream = tls.connect(domain, stream).await?;
                Ok::<_, BoxError>(hyper_util::rt::TokioIo::new(stream))
            }
        })
    }
}

impl Dial for Target {
    fn lazy(&self, addr: SocketAddr) -> Channel {
        let endpoint = self.endpoint(addr);
        match &self.tls {
            None => endpoint.connect_lazy(),
            Some((tls, domain)) => endpoint.connect_with_connector_lazy(self.tls_connector(tls, domain)),
        }
    }

    fn connect(&self, addr: SocketAddr) -> Pin<Box<dyn Future<Output = Result<Channel, BoxError>> + Send>> {
        let endpoint = self.endpoint(addr);
        match &self.tls {
            None => Box::pin(async move { Ok(endpoint.connect().await?) }),
            Some((tls, domain)) => {
                let connector = self.tls_connector(tls, domain);
                Box::pin(async move { Ok(endpoint.connect_with_connector(connector).await?) })
            }
        }
    }
}

/// `endpoint` with the keep-alive, connect timeout and call timeout of every channel.
fn held_to_keepalive(endpoint: Endpoint) -> Endpoint {
    endpoint
        .connect_timeout(keepalive::CONNECT_TIMEOUT)
        .timeout(CALL_TIMEOUT)
        // tonic's default, said here because a 40 ms stall per small call hangs on it.
        .tcp_nodelay(true)
        .tcp_keepalive(Some(keepalive::TCP_IDLE))
        .tcp_keepalive_interval(Some(keepalive::TCP_INTERVAL))
        .tcp_keepalive_retries(Some(keepalive::TCP_RETRIES))
        .http2_keep_alive_interval(keepalive::HTTP2_INTERVAL)
        .keep_alive_timeout(keepalive::HTTP2_TIMEOUT)
        .keep_alive_while_idle(true)
}
