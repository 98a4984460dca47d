//! How the balancer reaches one address of a service: the caller's own channel
//! settings (TLS, keep-alive, time limits), given as a [`Dial`].

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use tonic::transport::Channel;
use tower::BoxError;

/// Makes the channels to one address of a service.
pub trait Dial: Send + Sync + 'static {
    /// A channel to `addr` that connects on its first call and reconnects by itself.
    fn lazy(&self, addr: SocketAddr) -> Channel;
    /// A channel to `addr`, once connected.
    fn connect(&self, addr: SocketAddr) -> Pin<Box<dyn Future<Output = Result<Channel, BoxError>> + Send>>;
}
