//! How the platform's servers accept TCP connections: each with `TCP_NODELAY`
//! and TCP keep-alive ([`crate::keepalive`]), whoever serves them (a plain
//! tonic server, or the TLS acceptor in [`crate::tls`]).

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;

use crate::keepalive;

/// The connections accepted on `listener`, each with TCP_NODELAY and TCP
/// keep-alive ([`crate::keepalive`]) set.
///
/// Without it a small gRPC answer written in pieces (headers, then data and
/// trailers) waits in the kernel for the acknowledgement of the first piece,
/// which the caller delays by up to 40 ms (Nagle's algorithm meeting delayed
/// ACKs): one call in ten took 40 ms more on loopback. tonic sets it only when it
/// binds the port itself, never for a listener it is handed.
pub fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(keepalive::TCP_IDLE))
        .with_keepalive_interval(Some(keepalive::TCP_INTERVAL))
        .with_keepalive_retries(Some(keepalive::TCP_RETRIES))
}
