//! Where the gateway's probes answer. They say nothing of any person's data, but
//! they are for the cluster, not the public: in production `/healthz`,
//! `/readyz`, `/readyz/upstreams` and `grpc.health.v1` answer on the admin port
//! only, as `/metrics` does, and the front port knows nothing of them; the
//! embedded platform keeps them on its one port for convenience.

use sen_platform::config::Mode;
use sen_platform::testing::Engine;
use sen_tests::gateway::{free_port, serve_in_mode};
use sen_tests::platform::TestPlatform;
use tonic::Code;
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

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
    let (front, admin, server) = serve_in_mode(&platform, Mode::Production, Some(free_port())).await;
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
    let (front, _, server) = serve_in_mode(&platform, Mode::Embedded, None).await;
    for probe in ["/healthz", "/readyz", "/readyz/upstreams"] {
        assert_eq!(status_of(format!("{front}{probe}")).await, 200, "{probe}");
    }
    assert_eq!(grpc_health(&front).await, Ok(ServingStatus::Serving));
    server.abort();
}
