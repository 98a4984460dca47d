//! Calls to a service spread over all its replicas.
//!
//! A service URL names a host; in a cluster that host is a headless Service
//! whose DNS answer lists every ready pod. [`Balanced`] resolves the name
//! ([`Resolve`]), keeps one connection per address, and sends each call to the
//! less busy of two members picked at random (tower's power-of-two-choices
//! balancer, weighing members by their open calls). Every
//! `SEN_RESOLVE_INTERVAL_SECONDS` the name is resolved again: new replicas join
//! once they connect, replicas no longer listed leave ([`discovery`]). A member
//! whose connection fails leaves at once, so a killed replica stops receiving
//! calls ([`member`]). Each member's connections are made by a [`Dial`]
//! (`crate::client`): the keep-alive, timeouts and TLS of every channel, with
//! the certificate checked against the host name, never the pod's address.
//!
//! The services' clients are written against tonic's `Channel`, which cannot be
//! built over another service: [`bridge`] serves a [`Balanced`] to a `Channel`
//! over an in-memory HTTP/2 connection.

pub(crate) mod bridge;
mod dial;
mod discovery;
mod member;
pub mod resolve;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::body::Body;
use tonic::transport::Channel;
use tower::balance::p2c::Balance;
use tower::buffer::Buffer;
use tower::util::BoxService;
use tower::{BoxError, Service};

pub use self::dial::Dial;
use self::discovery::Discovery;
use self::member::Membership;
pub use self::resolve::{Dns, Listed, Resolve};

/// Calls waiting for the balancer, beyond which callers wait to be queued.
const QUEUE: usize = 1024;

/// What a call answers.
type Answer = Pin<Box<dyn Future<Output = Result<http::Response<Body>, BoxError>> + Send>>;

/// Calls to one service: to its only address, or spread over its replicas.
#[derive(Clone)]
pub struct Balanced(Route);

#[derive(Clone)]
enum Route {
    /// An address given as such (an IP literal): one channel, as ever.
    One(Channel),
    /// A host name: every address it resolves to.
    Spread { queue: Buffer<http::Request<Body>, Answer>, membership: Arc<Membership>, settled: watch::Receiver<bool> },
}

impl std::fmt::Debug for Balanced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Route::One(_) => f.debug_struct("Balanced").field("replicas", &"one address").finish(),
            Route::Spread { membership, .. } => f
                .debug_struct("Balanced")
                .field("host", &membership.host())
                .field("replicas", &membership.addresses())
                .finish(),
        }
    }
}

impl Balanced {
    /// Calls over `channel` alone.
    pub fn one(channel: Channel) -> Self {
        Self(Route::One(channel))
    }

    /// Calls spread over the addresses `resolver` finds for `host`, each with
    /// `port`, connected by `dial`, resolved again `every` so often. Starts
    /// resolving at once (within a Tokio runtime).
    pub fn spread(host: &str, port: u16, resolver: Arc<dyn Resolve>, dial: Arc<dyn Dial>, every: Duration) -> Self {
        let membership = Arc::new(Membership::new(host));
        let (changes, discovered) = mpsc::unbounded_channel();
        let (settled, settled_seen) = watch::channel(false);
        let discover = UnboundedReceiverStream::new(discovered).map(Ok::<_, Infallible>);
        let queue = Buffer::new(BoxService::new(Balance::new(discover)), QUEUE);
        let discovery = Discovery { port, resolver, dial, membership: membership.clone(), changes, settled, every };
        tokio::spawn(discovery.run());
        Self(Route::Spread { queue, membership, settled: settled_seen })
    }

    /// The addresses calls go to now (none for a single address given as such).
    pub fn replicas(&self) -> Vec<SocketAddr> {
        match &self.0 {
            Route::One(_) => Vec::new(),
            Route::Spread { membership, .. } => membership.addresses().into_iter().collect(),
        }
    }
}

impl Service<http::Request<Body>> for Balanced {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match &mut self.0 {
            Route::One(channel) => channel.poll_ready(cx).map_err(Into::into),
            // Readiness is awaited in the call, on a handle of the queue of its own.
            Route::Spread { .. } => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        match &mut self.0 {
            Route::One(channel) => {
                let call = channel.call(request);
                Box::pin(async move { call.await.map_err(Into::into) })
            }
            Route::Spread { queue, membership, settled } => {
                Box::pin(place(queue.clone(), membership.clone(), settled.clone(), request))
            }
        }
    }
}

/// Places `request` with a replica from `queue`, once the first resolution is over.
async fn place(
    mut queue: Buffer<http::Request<Body>, Answer>,
    membership: Arc<Membership>,
    mut settled: watch::Receiver<bool>,
    request: http::Request<Body>,
) -> Result<http::Response<Body>, BoxError> {
    // Before the first resolution is over a call waits for it, rather than fail
    // for want of a replica not looked for yet.
    if !*settled.borrow_and_update() {
        let _ = settled.changed().await;
    }
    if membership.is_empty() {
        let host = membership.host();
        return Err(tonic::Status::unavailable(format!("no replica of {host} was found")).into());
    }
    std::future::poll_fn(|cx| queue.poll_ready(cx)).await?;
    queue.call(request).await
}
