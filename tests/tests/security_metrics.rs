//! The gateway's metrics cannot be grown from outside, and production keeps
//! them off the front port: only the methods the gateway
//! serves are labels, so made-up gRPC paths, signed in or not, add a fixed
//! handful of series however many there are; and in production `/metrics` is
//! served on the admin port only.

use rand_core::{OsRng, RngCore};
use sen_platform::config::Mode;
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_tests::gateway::{GatewayOptions, TestGateway, free_port, serve_in_mode};
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

#[tokio::test]
async fn in_production_metrics_are_served_on_the_admin_port_only() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");

    let (front, admin, server) = serve_in_mode(&platform, Mode::Production, Some(free_port())).await;
    let on_front = reqwest::get(format!("{front}/metrics")).await.expect("front");
    assert_eq!(on_front.status(), 404, "not on the front port");
    let admin = admin.expect("admin port");
    assert!(metrics_of(&admin).await.contains("sen_gateway_requests_total"), "on the admin port");
    server.abort();

    let (front, _, server) = serve_in_mode(&platform, Mode::Production, None).await;
    let on_front = reqwest::get(format!("{front}/metrics")).await.expect("front");
    assert_eq!(on_front.status(), 404, "not on the front port even without an admin port");
    server.abort();

    let (front, _, server) = serve_in_mode(&platform, Mode::Embedded, None).await;
    assert!(metrics_of(&front).await.contains("sen_gateway_requests_total"), "the embedded demo keeps them");
    server.abort();
}
