//! A page is served with a service down: with the caseloads service unreachable
//! the council's dashboard and a referral's page still answer 200, the part that
//! needs the caseloads service is marked as not available, and the parts from
//! the other services (register figures, referrals, the pupil's name) show.

use reqwest::{Client, StatusCode};
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;

async fn get(gateway: &TestGateway, client: &Client, path: &str) -> (StatusCode, String) {
    let response = client.get(format!("{}{path}", gateway.url())).send().await.expect("answered");
    (response.status(), response.text().await.expect("body"))
}

/// A school of 886 with a pupil and their accepted referral, and a gateway that
/// cannot reach the services named in `down`; returns the referral's id.
async fn world(down: Vec<&'static str>) -> (TestPlatform, TestGateway, i64) {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Ada", "Reed")).await;
    let referral = platform.accepted_referral_886(pupil, "educational_psychology", "down-1").await;
    let gateway = TestGateway::start(&platform, GatewayOptions { down, ..Default::default() }).await.expect("gateway");
    (platform, gateway, referral)
}

#[tokio::test]
async fn with_the_caseloads_service_down_the_dashboard_is_served_with_the_caseload_balance_marked_unavailable() {
    let (_platform, gateway, _) = world(vec!["caseloads"]).await;
    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let (status, html) = get(&gateway, &manager, "/dashboard").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Caseload balance is not available"), "the missing part is named: {html}");
    assert!(!html.contains("data-chart=\"caseload-load\""), "no chart without its figures");
    for text in ["Pupils on SEN support", "Pupils with an EHC plan", "Open referrals", "Schools with no SENCO"] {
        assert!(html.contains(text), "{text}: the other services' figures show");
    }
    assert!(html.contains("data-chart=\"referrals-by-month\""), "the referrals service's chart shows");
    assert!(html.contains("data-chart=\"sen-by-school\""), "the pupils service's chart shows");
}

#[tokio::test]
async fn with_the_caseloads_service_down_a_referrals_page_is_served_without_its_allocation_suggestions() {
    let (_platform, gateway, referral) = world(vec!["caseloads"]).await;
    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let (status, html) = get(&gateway, &manager, &format!("/referrals/{referral}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Suggestions are not available just now"), "the allocation part says why it is empty");
    assert!(html.contains("Reading age three years behind"), "the referral itself shows (referrals service)");
    assert!(html.contains("Reed"), "the pupil's name shows (pupils service)");
}

#[tokio::test]
async fn with_every_service_up_the_same_pages_mark_nothing_unavailable() {
    let (_platform, gateway, referral) = world(Vec::new()).await;
    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let (status, html) = get(&gateway, &manager, "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("is not available"), "{html}");
    let (status, html) = get(&gateway, &manager, &format!("/referrals/{referral}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("Suggestions are not available"), "{html}");
}
