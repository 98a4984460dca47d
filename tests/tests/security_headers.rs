//! What every page and every JSON answer holding pupils' data tells the browser:
//! no framing, no sniffing, no script or style from elsewhere, HTTPS only once
//! seen over HTTPS, and nothing kept in a cache.

use reqwest::header::HeaderMap;
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

fn assert_page_headers(page: &str, headers: &HeaderMap) {
    let policy = header(headers, "content-security-policy");
    for directive in ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"] {
        assert!(policy.contains(directive), "{page}: the content security policy lacks {directive}: {policy:?}");
    }
    assert_eq!(header(headers, "x-frame-options"), "DENY", "{page}");
    assert_eq!(header(headers, "x-content-type-options"), "nosniff", "{page}");
    assert!(header(headers, "strict-transport-security").starts_with("max-age="), "{page}: no HSTS");
    assert_eq!(header(headers, "cache-control"), "no-store", "{page}");
}

#[tokio::test]
async fn pages_signed_in_or_not_forbid_framing_sniffing_outside_scripts_and_caching() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");

    let stranger = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let answer = stranger.get(format!("{}/sign-in", gateway.url())).send().await.expect("sign-in page");
    assert_eq!(answer.status(), 200);
    assert_page_headers("/sign-in", answer.headers());

    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;
    for page in ["/dashboard", "/schools", "/schools/100001", "/referrals"] {
        let answer = manager.get(format!("{}{page}", gateway.url())).send().await.expect("page");
        assert_eq!(answer.status(), 200, "{page}");
        assert_page_headers(page, answer.headers());
    }
    gateway.stop().await.expect("stopped");
}

#[tokio::test]
async fn json_answers_with_a_pupils_details_are_never_cached_nor_sniffed() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");

    let token = platform.token(Role::LaManager, Some("886"), None);
    let answer = reqwest::Client::new()
        .get(format!("{}/api/v1/pupils/{pupil}", gateway.url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("pupil");
    assert_eq!(answer.status(), 200);
    assert_eq!(header(answer.headers(), "cache-control"), "no-store");
    assert_eq!(header(answer.headers(), "x-content-type-options"), "nosniff");
    assert!(answer.text().await.expect("body").contains("Musa"));
    gateway.stop().await.expect("stopped");
}
