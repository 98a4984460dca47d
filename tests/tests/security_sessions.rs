//! Web sessions end when they are ended, on every gateway replica: signing out
//! ends the session itself (a copy of its cookie taken before no longer opens a
//! page), an operator ending a person's sessions ends them on every gateway that
//! shares the session store, and rotating the gateway key keeps people signed
//! in until the old key is taken out of the set, which ends what it signed.
//! Each scenario runs with the session store on SQLite and on PostgreSQL; people
//! sign in through the demo sign-in page, as a browser does.

use reqwest::StatusCode;
use sen_gateway::sessions::EndReason;
use sen_platform::ids::LaCode;
use sen_platform::on_both_engines;
use sen_platform::testing::{Engine, TestDatabase};
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway, gateway_key_pem};
use sen_tests::platform::TestPlatform;

/// The demo people of the test gateway, by their place on the sign-in page.
const MANAGER_886: usize = 0;
const OFFICER_886: usize = 1;

/// A browser that follows no redirects, so each answer can be looked at.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client")
}

/// The value of cookie `name` that `response` sets, if any.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next()?.strip_prefix(&format!("{name}=")).map(str::to_owned))
        .find(|value| !value.is_empty())
}

/// The value of the first `name="csrf"` field of a page.
fn csrf_field(html: &str) -> String {
    html.split(r#"name="csrf" value=""#).nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_default().to_owned()
}

/// Signs in on `gateway`'s sign-in page as the demo person at `place`: the
/// session cookie's value.
async fn sign_in(gateway: &TestGateway, place: usize) -> String {
    let browser = browser();
    let page = browser.get(format!("{}/sign-in", gateway.url())).send().await.expect("the sign-in page");
    let form_cookie = set_cookie(&page, "sen_sign_in").expect("the sign-in form's cookie");
    let token = csrf_field(&page.text().await.expect("the page"));
    let form = [("person", place.to_string()), ("next", String::new()), ("csrf", token)];
    let signed_in = browser
        .post(format!("{}/sign-in", gateway.url()))
        .header("cookie", format!("sen_sign_in={form_cookie}"))
        .form(&form)
        .send()
        .await
        .expect("signed in");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    set_cookie(&signed_in, "sen_session").expect("a session cookie")
}

/// What a page request with `session` gets: its status, where it is sent, its text.
async fn open(gateway: &TestGateway, session: &str, path: &str) -> (StatusCode, String, String) {
    let response = browser()
        .get(format!("{}{path}", gateway.url()))
        .header("cookie", format!("sen_session={session}"))
        .send()
        .await
        .expect("the page answers");
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (response.status(), location, response.text().await.unwrap_or_default())
}

/// Whether `session` opens the schools page on `gateway` and sees the school.
async fn sees_the_school(gateway: &TestGateway, session: &str) -> bool {
    let (status, _, html) = open(gateway, session, "/schools").await;
    status == StatusCode::OK && html.contains("School 2001")
}

/// Whether `session` is sent to sign in, with none of the page's data.
async fn is_sent_to_sign_in(gateway: &TestGateway, session: &str) -> bool {
    let (status, location, html) = open(gateway, session, "/schools").await;
    status == StatusCode::SEE_OTHER && location.starts_with("/sign-in") && !html.contains("School 2001")
}

/// The services with one school of authority 886, and a fresh session store on `engine`.
async fn platform_and_store(engine: Engine) -> (TestPlatform, TestDatabase) {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("the platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let store = TestDatabase::create(engine).await.expect("a session store");
    (platform, store)
}

async fn gateway(platform: &TestPlatform, store: &TestDatabase, key: &str, previous: &[&str]) -> TestGateway {
    let options = GatewayOptions {
        session_store: Some(store.url.clone()),
        session_key: Some(key.to_owned()),
        previous_session_keys: previous.iter().map(|pem| (*pem).to_owned()).collect(),
        ..Default::default()
    };
    TestGateway::start(platform, options).await.expect("a gateway")
}

async fn signing_out_ends_the_session_so_a_copied_cookie_no_longer_opens_a_page(engine: Engine) {
    let (platform, store) = platform_and_store(engine).await;
    let key = gateway_key_pem().expect("a key");
    let gateway = gateway(&platform, &store, &key, &[]).await;
    let session = sign_in(&gateway, MANAGER_886).await;
    let copied = session.clone();
    assert!(sees_the_school(&gateway, &session).await, "signed in, the manager sees their schools");

    let (_, _, page) = open(&gateway, &session, "/schools").await;
    let signed_out = browser()
        .post(format!("{}/sign-out", gateway.url()))
        .header("cookie", format!("sen_session={session}"))
        .form(&[("csrf", csrf_field(&page))])
        .send()
        .await
        .expect("signed out");
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_out.headers()["location"], "/sign-in");

    assert!(is_sent_to_sign_in(&gateway, &copied).await, "the copied cookie is sent to sign in, with no data");
    let (status, location, _) = open(&gateway, &copied, "/").await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/sign-in"));
}

async fn ending_a_persons_sessions_ends_them_on_every_gateway(engine: Engine) {
    let (platform, store) = platform_and_store(engine).await;
    let key = gateway_key_pem().expect("a key");
    let first = gateway(&platform, &store, &key, &[]).await;
    let second = gateway(&platform, &store, &key, &[]).await;
    let on_first = sign_in(&first, MANAGER_886).await;
    let on_second = sign_in(&second, MANAGER_886).await;
    let colleague = sign_in(&first, OFFICER_886).await;
    for gateway in [&first, &second] {
        for session in [&on_first, &on_second] {
            assert!(sees_the_school(gateway, session).await, "a session made on one gateway works on both");
        }
    }

    // What `sen sessions end --person manager-886 --tenant 886` does.
    let now = sen_web::session::now();
    let ended = second
        .sessions()
        .store()
        .end_person("manager-886", LaCode::parse("886").ok(), now, EndReason::Operator)
        .await
        .expect("the store answers");
    assert_eq!(ended, 2);
    for gateway in [&first, &second] {
        for session in [&on_first, &on_second] {
            assert!(is_sent_to_sign_in(gateway, session).await, "an ended session opens nothing on any gateway");
        }
        assert!(sees_the_school(gateway, &colleague).await, "their colleague is still signed in");
    }
    let again = sign_in(&first, MANAGER_886).await;
    assert!(sees_the_school(&second, &again).await, "signing in again starts a new session");
}

async fn a_rotated_gateway_key_keeps_sessions_and_a_removed_key_ends_them(engine: Engine) {
    let (platform, store) = platform_and_store(engine).await;
    let (old_key, new_key) = (gateway_key_pem().expect("a key"), gateway_key_pem().expect("a key"));
    let before = gateway(&platform, &store, &old_key, &[]).await;
    let old_session = sign_in(&before, MANAGER_886).await;

    let rotated = gateway(&platform, &store, &new_key, &[&old_key]).await;
    assert!(sees_the_school(&rotated, &old_session).await, "the new key's gateway keeps the old key's sessions");
    let new_session = sign_in(&rotated, OFFICER_886).await;
    assert!(sees_the_school(&rotated, &new_session).await);

    let removed = gateway(&platform, &store, &new_key, &[]).await;
    assert!(is_sent_to_sign_in(&removed, &old_session).await, "without the old key its sessions end");
    assert!(
        is_sent_to_sign_in(&rotated, &old_session).await,
        "and they are ended in the store, so no gateway still holding the old key lets them in"
    );
    assert!(sees_the_school(&removed, &new_session).await, "the new key's sessions carry on");
}

#[tokio::test]
async fn a_forged_session_cookie_is_refused() {
    let (platform, store) = platform_and_store(Engine::Sqlite).await;
    let gateway = gateway(&platform, &store, &gateway_key_pem().expect("a key"), &[]).await;
    let session = sign_in(&gateway, MANAGER_886).await;
    let (payload, rest) = session.split_once('.').expect("a signed cookie");
    // The same cookie with its payload's last character changed.
    let changed = if payload.ends_with('A') { 'B' } else { 'A' };
    let forged = format!("{}{changed}.{rest}", &payload[..payload.len() - 1]);
    assert!(is_sent_to_sign_in(&gateway, &forged).await);
    let other_key =
        TestGateway::start(&platform, GatewayOptions { session_store: Some(store.url.clone()), ..Default::default() })
            .await
            .expect("a gateway with another key");
    assert!(is_sent_to_sign_in(&other_key, &session).await, "a cookie signed by another key opens nothing");
}

on_both_engines!(
    signing_out_ends_the_session_so_a_copied_cookie_no_longer_opens_a_page,
    ending_a_persons_sessions_ends_them_on_every_gateway,
    a_rotated_gateway_key_keeps_sessions_and_a_removed_key_ends_them,
);
