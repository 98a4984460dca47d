//! Rate limits: one person's burst does not use up their
//! council's allowance, callers who have not signed in are limited by their
//! address without holding back anyone signed in, and every refusal for too
//! many requests says when to try again, in the caller's protocol.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use sen_gateway::layers::Rate;
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;
use tonic::Code;
use tonic_types::StatusExt;

fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))).build().expect("client")
}

#[tokio::test]
async fn one_sencos_burst_leaves_their_councils_manager_served() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let mut options = GatewayOptions { rate: (1, 5), ..Default::default() };
    options.limits.per_person = Rate { per_second: 1, burst: 3 };
    let gateway = TestGateway::start(&platform, options).await.expect("gateway");
    let senco = platform.token(Role::Senco, Some("886"), Some(100001));
    let mut schools = SchoolsServiceClient::new(gateway.bearer(&senco).await.expect("gateway"));
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(schools.list_schools(pb::ListSchoolsRequest::default()).await.err().map(|s| s.code()));
    }
    assert_eq!(codes[..3], [None, None, None], "a person's burst is served");
    assert!(codes.contains(&Some(Code::ResourceExhausted)), "then the person is told to slow down: {codes:?}");

    let manager = platform.token(Role::LaManager, Some("886"), None);
    let answer = reqwest::Client::new()
        .get(format!("{}/api/v1/schools", gateway.url()))
        .bearer_auth(&manager)
        .send()
        .await
        .expect("json");
    assert_eq!(answer.status(), 200, "the council's manager still has the council's allowance");
}

#[tokio::test]
async fn callers_who_have_not_signed_in_are_limited_by_address_and_signed_in_people_are_not() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let mut options = GatewayOptions::default();
    options.limits.per_address = Rate { per_second: 1, burst: 3 };
    let gateway = TestGateway::start(&platform, options).await.expect("gateway");
    let sign_in = format!("{}/sign-in", gateway.url());
    let stranger = client_from(50);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(stranger.get(&sign_in).send().await.expect("sign-in page").status().as_u16());
    }
    assert_eq!(statuses[..3], [200, 200, 200]);
    assert_eq!(statuses[3], 429, "the fourth request at once from one address is refused");

    let neighbour = client_from(51);
    assert_eq!(neighbour.get(&sign_in).send().await.expect("sign-in").status(), 200, "another address has its own");

    // A signed-in person at the same address is held to their own limits, not the address's.
    let manager = platform.token(Role::LaManager, Some("887"), None);
    let json = stranger.get(format!("{}/api/v1/schools", gateway.url())).bearer_auth(&manager).send().await;
    assert_eq!(json.expect("json").status(), 200);
}

#[tokio::test]
async fn every_refusal_for_too_many_requests_says_when_to_try_again() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let mut options = GatewayOptions::default();
    options.limits.per_person = Rate { per_second: 1, burst: 1 };
    let gateway = TestGateway::start(&platform, options).await.expect("gateway");

    // JSON.
    let manager = platform.token(Role::LaManager, Some("886"), None);
    let http = reqwest::Client::new();
    let schools = format!("{}/api/v1/schools", gateway.url());
    let _ = http.get(&schools).bearer_auth(&manager).send().await.expect("json");
    let refused = http.get(&schools).bearer_auth(&manager).send().await.expect("json");
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.expect("error body");
    assert_eq!(body["error"]["code"], "RESOURCE_EXHAUSTED");

    // Pages (a quick one, so that both requests fall within the same second).
    let officer = gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    let page = format!("{}/sign-in", gateway.url());
    let _ = officer.get(&page).send().await.expect("page");
    let refused = officer.get(&page).send().await.expect("page");
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert!(refused.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/html"));

    // gRPC: RESOURCE_EXHAUSTED, with the wait in metadata and as RetryInfo.
    let senco = platform.token(Role::Senco, Some("886"), Some(100001));
    let mut grpc = SchoolsServiceClient::new(gateway.bearer(&senco).await.expect("gateway"));
    let _ = grpc.list_schools(pb::ListSchoolsRequest::default()).await;
    let refused = grpc.list_schools(pb::ListSchoolsRequest::default()).await.expect_err("over the limit");
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert_eq!(refused.metadata().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let retry = refused.get_details_retry_info().and_then(|info| info.retry_delay);
    assert_eq!(retry, Some(Duration::from_secs(1)));
}
