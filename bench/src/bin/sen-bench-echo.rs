//! The ceiling the RPC benchmarks are measured against: a bare tonic server with
//! one unary method, `/bench.Echo/Echo`, that answers the bytes it was sent
//! (`google.protobuf.BytesValue` in, the same out). No identity, no database, no
//! layers: what tonic itself serves on this machine. `scripts/bench rpc` starts
//! it beside the platform and drives both with the same load generator.
//!
//! `sen-bench-echo [ADDRESS]` listens on ADDRESS (default `127.0.0.1:0`), prints
//! `listening on <address>` and serves until killed. Accepted sockets get
//! TCP_NODELAY, as tonic's own `Server::serve` sets by default.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::codegen::BoxFuture;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// The echo service: one unary method, no state.
#[derive(Clone, Copy, Debug, Default)]
struct Echo;

impl NamedService for Echo {
    const NAME: &'static str = "bench.Echo";
}

/// The method itself: the request's bytes are the answer.
struct EchoMethod;

impl UnaryService<Vec<u8>> for EchoMethod {
    type Response = Vec<u8>;
    type Future = Ready<Result<Response<Vec<u8>>, Status>>;

    fn call(&mut self, request: Request<Vec<u8>>) -> Self::Future {
        ready(Ok(Response::new(request.into_inner())))
    }
}

impl tower::Service<http::Request<Body>> for Echo {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path() != "/bench.Echo/Echo" {
            return Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) });
        }
        Box::pin(async move {
            let mut grpc = Grpc::new(tonic_prost::ProstCodec::<Vec<u8>, Vec<u8>>::default());
            Ok(grpc.unary(EchoMethod, request).await)
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
    println!("listening on {}", listener.local_addr()?);
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    Server::builder().add_service(Echo).serve_with_incoming(incoming).await?;
    Ok(())
}
