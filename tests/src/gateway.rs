//! `TestGateway`: the gateway in front of a [`TestPlatform`], on its own
//! ephemeral port, trusting the platform's development issuer for bearer tokens,
//! as the embedded mode runs it. Each service can be pointed elsewhere (a closed
//! port, to see how the gateway answers when a service is down).

use std::net::SocketAddr;
use std::time::Duration;

use sen_gateway::authn::{Authenticator, Authn};
use sen_gateway::config::GatewaySettings;
use sen_gateway::upstream::GrpcService;
use sen_gateway::{Gateway, SERVICES};
use sen_platform::identity::AttachBearer;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::platform::TestPlatform;

/// How a test gateway is set up.
#[derive(Clone, Debug)]
pub struct GatewayOptions {
    /// Parts whose service is unreachable (pointed at a closed port).
    pub down: Vec<&'static str>,
    /// Requests handled at once.
    pub max_concurrent: usize,
    /// Requests a second per tenant, and the burst.
    pub rate: (u32, u32),
    /// The unary call timeout.
    pub request_timeout: Duration,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self { down: Vec::new(), max_concurrent: 64, rate: (10_000, 10_000), request_timeout: Duration::from_secs(10) }
    }
}

/// A running gateway.
pub struct TestGateway {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestGateway {
    /// Starts a gateway in front of `platform`.
    pub async fn start(platform: &TestPlatform, options: GatewayOptions) -> anyhow::Result<Self> {
        let settings = GatewaySettings {
            signing_key: None,
            oidc: None,
            request_timeout: options.request_timeout,
            max_concurrent: options.max_concurrent,
            rate_per_tenant: options.rate.0,
            rate_burst: options.rate.1,
        };
        let authn =
            Authn::new(Authenticator::Development(platform.issuer.verifier.clone()), platform.issuer.signer.clone());
        let live = Endpoint::from_shared(format!("http://{}", platform.addr))?.connect_lazy();
        // A port that was open a moment ago and is closed now: connections are refused.
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            listener.local_addr()?
        };
        let dead =
            Endpoint::from_shared(format!("http://{closed}"))?.connect_timeout(Duration::from_secs(1)).connect_lazy();
        let services: Vec<(&'static str, &'static str, GrpcService)> = SERVICES
            .into_iter()
            .map(|(service, part)| {
                let channel = if options.down.contains(&part) { dead.clone() } else { live.clone() };
                (service, part, sen_gateway::upstream::boxed(channel))
            })
            .collect();
        let gateway = std::sync::Arc::new(Gateway::new(authn, services, &settings));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = sen_gateway::app(gateway, false);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(sen_gateway::server::serve(listener, None, app, Duration::from_secs(5), async {
            let _ = stopped.await;
        }));
        Ok(Self { addr, stop: Some(stop), server: Some(server) })
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A channel to the gateway.
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        Ok(Endpoint::from_shared(self.url())?.connect().await?)
    }

    /// A channel with `token` as the bearer token on every call.
    pub async fn bearer(&self, token: &str) -> anyhow::Result<InterceptedService<Channel, AttachBearer>> {
        let attach = AttachBearer::new(token).map_err(anyhow::Error::msg)?;
        Ok(InterceptedService::new(self.channel().await?, attach))
    }

    /// Stops the gateway and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(server) => server.await?,
            None => Ok(()),
        }
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
