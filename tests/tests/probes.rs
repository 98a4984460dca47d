//! Where the gateway's probes answer. They say nothing of any person's data, but
//! they are for the cluster, not the public: in production `/healthz`,
//! `/readyz`, `/readyz/upstreams` and `grpc.health.v1` answer on the admin port
//! only, as `/metrics` does, and the front port knows nothing of them; the
//! embedded platform keeps them on its one port for convenience.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sen_platform::config::{Config, Mode, Serving};
use sen_platform::testing::Engine;
use sen_tests::gateway::{GatewayOptions, gateway_before};
use sen_tests::platform::TestPlatform;
use tonic::Code;
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// A port free a moment ago.
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

/// Serves a gateway in front of `platform` with `sen_gateway::run` in `mode`,
/// with an admin port when `admin` is set; answers the front and admin URLs
/// once each answers.
async fn serve(
    platform: &TestPlatform,
    mode: Mode,
    admin: Option<SocketAddr>,
) -> (String, Option<String>, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let lookup = |name: &str| match name {
        "SEN_ADMIN_LISTEN" => admin.map(|a| a.to_string()),
        _ => None,
    };
    let mut config = Config::from_lookup_among(&lookup, Serving::Gateway, &[]).expect("config");
    // TLS and the identity provider are left out: this is about which port serves what.
    config.mode = mode;
    let gateway = Arc::new(gateway_before(platform, &GatewayOptions::default()).expect("gateway"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let front = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(async move { sen_gateway::run(listener, &config, gateway, None).await });
    let admin = admin.map(|a| format!("http://{a}"));
    for url in std::iter::once(&front).chain(&admin) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut every = tokio::time::interval(Duration::from_millis(50));
        while reqwest::get(format!("{url}/healthz")).await.is_err() {
            assert!(Instant::now() < deadline, "{url} never answered");
            every.tick().await;
        }
    }
    (front, admin, server)
}

/// What `grpc.health.v1` at `url` answers, or why it does not.
async fn grpc_health(url: &str) -> Result<ServingStatus, Code> {
    let channel = Endpoint::from_shared(url.to_owned()).expect("url").connect().await.expect("connects");
    let answer = HealthClient::new(channel).check(HealthCheckRequest::default()).await;
    answer.map(|answer| answer.into_inner().status()).map_err(|status| status.code())
}

async fn status_of(url: String) -> u16 {
    reqwest::get(url).await.expect("answers").status().as_u16()
}

#[tokio::test]
async fn in_production_the_probes_answer_on_the_admin_port_only() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let (front, admin, server) = serve(&platform, Mode::Production, Some(free_port())).await;
    let admin = admin.expect("admin port");
    for probe in ["/healthz", "/readyz", "/readyz/upstreams"] {
        assert_eq!(status_of(format!("{front}{probe}")).await, 404, "{probe} is not on the front port");
        assert_eq!(status_of(format!("{admin}{probe}")).await, 200, "{probe} is on the admin port");
    }
    assert!(grpc_health(&front).await.is_err(), "no gRPC health on the front port");
    assert_eq!(grpc_health(&admin).await, Ok(ServingStatus::Serving), "gRPC health on the admin port");
    server.abort();
}

#[tokio::test]
async fn the_embedded_platform_keeps_its_probes_on_its_one_port() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let (front, _, server) = serve(&platform, Mode::Embedded, None).await;
    for probe in ["/healthz", "/readyz", "/readyz/upstreams"] {
        assert_eq!(status_of(format!("{front}{probe}")).await, 200, "{probe}");
    }
    assert_eq!(grpc_health(&front).await, Ok(ServingStatus::Serving));
    server.abort();
}
