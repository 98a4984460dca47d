//! The gateway's metrics cannot be grown from outside, and production keeps
//! them off the front port (issue 15, point 3): only the methods the gateway
//! serves are labels, so made-up gRPC paths, signed in or not, add a fixed
//! handful of series however many there are; and in production `/metrics` is
//! served on the admin port only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand_core::{OsRng, RngCore};
use sen_platform::config::{Config, Mode, Serving};
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_tests::gateway::{GatewayOptions, TestGateway, gateway_before};
use sen_tests::platform::TestPlatform;

/// The series in a metrics exposition: every sample line.
fn series(exposition: &str) -> usize {
    exposition.lines().filter(|line| !line.is_empty() && !line.starts_with('#')).count()
}

async fn metrics_of(url: &str) -> String {
    reqwest::get(format!("{url}/metrics")).await.expect("metrics").text().await.expect("text")
}

#[tokio::test]
async fn made_up_grpc_paths_add_no_more_than_a_handful_of_metric_series() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    // Once first, so that `/metrics` itself is counted before the count is taken.
    metrics_of(&gateway.url()).await;
    let before = series(&metrics_of(&gateway.url()).await);

    let http = reqwest::Client::builder().http2_prior_knowledge().build().expect("client");
    let token = platform.token(Role::LaManager, Some("886"), None);
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..2_000 {
        let path = format!("/sen.v1.X{:x}/Y{:x}", OsRng.next_u64(), OsRng.next_u64());
        let mut call = http
            .post(format!("{}{path}", gateway.url()))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(vec![0u8; 5]);
        // Half of them signed in: a caller with a good token cannot grow the metrics either.
        if n % 2 == 0 {
            call = call.bearer_auth(&token);
        }
        calls.spawn(async move { call.send().await.map(|answer| answer.headers().get("grpc-status").cloned()) });
        if calls.len() >= 64 {
            let answered = calls.join_next().await.expect("a call").expect("task");
            assert!(answered.expect("an answer").is_some(), "refused in gRPC");
        }
    }
    while let Some(answered) = calls.join_next().await {
        assert!(answered.expect("task").expect("an answer").is_some(), "refused in gRPC");
    }

    let after = metrics_of(&gateway.url()).await;
    assert!(series(&after) - before <= 40, "{} series added:\n{after}", series(&after) - before);
    assert!(after.contains("route=\"unknown\""), "{after}");
    assert!(!after.contains("/sen.v1.X"), "no made-up path is a label");
}

/// A port free a moment ago.
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

/// Waits until `url` answers at all (the server has started), for at most ten seconds.
async fn until_answering(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut every = tokio::time::interval(Duration::from_millis(50));
    while reqwest::get(url).await.is_err() {
        assert!(Instant::now() < deadline, "{url} never answered");
        every.tick().await;
    }
}

/// Serves a gateway in front of `platform` with `sen_gateway::run`, as
/// configured by `mode` and `admin`; answers its front and admin URLs.
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
    until_answering(&format!("{front}/healthz")).await;
    let admin = admin.map(|a| format!("http://{a}"));
    if let Some(admin) = &admin {
        until_answering(&format!("{admin}/healthz")).await;
    }
    (front, admin, server)
}

#[tokio::test]
async fn in_production_metrics_are_served_on_the_admin_port_only() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");

    let (front, admin, server) = serve(&platform, Mode::Production, Some(free_port())).await;
    let on_front = reqwest::get(format!("{front}/metrics")).await.expect("front");
    assert_eq!(on_front.status(), 404, "not on the front port");
    let admin = admin.expect("admin port");
    assert!(metrics_of(&admin).await.contains("sen_gateway_requests_total"), "on the admin port");
    server.abort();

    let (front, _, server) = serve(&platform, Mode::Production, None).await;
    let on_front = reqwest::get(format!("{front}/metrics")).await.expect("front");
    assert_eq!(on_front.status(), 404, "not on the front port even without an admin port");
    server.abort();

    let (front, _, server) = serve(&platform, Mode::Embedded, None).await;
    assert!(metrics_of(&front).await.contains("sen_gateway_requests_total"), "the embedded demo keeps them");
    server.abort();
}
