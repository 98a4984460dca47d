//! One service down does not take the site down: every gateway replica sees the
//! same services, so a gateway that called itself unready whenever one of them
//! was missing would leave the load balancer no replica at all. With the
//! caseloads service unreachable the gateway stays ready, serves everything
//! that does not need it, fails only what does, and tells operators which
//! service is missing.

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::caseloads_service_client::CaseloadsServiceClient;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;
use serde_json::Value;
use tonic::Code;

#[tokio::test]
async fn with_the_caseloads_service_down_the_gateway_stays_ready_and_only_caseload_work_fails() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let options = GatewayOptions { down: vec!["caseloads"], ..Default::default() };
    let gateway = TestGateway::start(&platform, options).await.expect("gateway");
    let manager = platform.token(Role::LaManager, Some("886"), None);
    let http = reqwest::Client::new();

    // The load balancer keeps sending work here.
    let ready = http.get(format!("{}/readyz", gateway.url())).send().await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let report: Value = ready.json().await.expect("report");
    assert_eq!(report["ready"], true, "{report}");

    // What does not need the caseloads service is served.
    let schools = http.get(format!("{}/api/v1/schools", gateway.url())).bearer_auth(&manager).send().await;
    assert_eq!(schools.expect("schools").status(), 200);
    let mut grpc = SchoolsServiceClient::new(gateway.bearer(&manager).await.expect("gateway"));
    assert!(grpc.list_schools(pb::ListSchoolsRequest::default()).await.is_ok());
    let overview: Value = http
        .get(format!("{}/api/v1/overview", gateway.url()))
        .bearer_auth(&manager)
        .send()
        .await
        .expect("overview")
        .json()
        .await
        .expect("overview body");
    assert_eq!(overview["tenant"], "886");
    assert_eq!(overview["unavailable"][0]["part"], "caseload_balance", "{overview}");

    // What needs it fails, and says so.
    let professionals =
        http.get(format!("{}/api/v1/professionals", gateway.url())).bearer_auth(&manager).send().await.expect("json");
    assert_eq!(professionals.status(), 503);
    let mut caseloads = CaseloadsServiceClient::new(gateway.bearer(&manager).await.expect("gateway"));
    let refused = caseloads.list_professionals(pb::ListProfessionalsRequest::default()).await.expect_err("down");
    assert_eq!(refused.code(), Code::Unavailable);

    // Operators see which service is missing.
    let upstreams = http.get(format!("{}/readyz/upstreams", gateway.url())).send().await.expect("upstreams");
    assert_eq!(upstreams.status(), 503, "not every service serves");
    let report: Value = upstreams.json().await.expect("report");
    let status = |part: &str| {
        let services = report["services"].as_array().cloned().unwrap_or_default();
        services.iter().find(|s| s["service"] == part).map(|s| s["status"].as_str().unwrap_or_default().to_owned())
    };
    assert!(status("caseloads").is_some_and(|s| s.starts_with("unreachable")), "{report}");
    for part in ["schools", "pupils", "referrals"] {
        assert_eq!(status(part).as_deref(), Some("SERVING"), "{report}");
    }
    let metrics = http.get(format!("{}/metrics", gateway.url())).send().await.expect("metrics");
    let metrics = metrics.text().await.expect("text");
    assert!(metrics.contains("sen_gateway_upstream_up{service=\"caseloads\"} 0"), "{metrics}");
    assert!(metrics.contains("sen_gateway_upstream_up{service=\"schools\"} 1"), "{metrics}");
}
