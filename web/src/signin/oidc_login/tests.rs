//! The sign-in flow against the stub provider, over real HTTP: the pages on one
//! ephemeral port, the provider on another.

use std::sync::Arc;
use std::time::Duration;

use sen_gateway::oidc::testing::StubProvider;
use sen_gateway::sessions::{SessionKey, SessionKeySet, SessionStore};
use sen_gateway::upstream::Upstreams;
use sen_platform::identity::{GATEWAY_ISSUER, IdentitySigner};

use super::*;
use crate::session::Sessions;
use crate::signin::Login;

const CLIENT: &str = "sen-web";

struct Site {
    address: String,
    login: Arc<ProviderLogin>,
    client: reqwest::Client,
    provider: StubProvider,
    web: Arc<Web>,
    server: tokio::task::JoinHandle<()>,
    _store: tempfile::TempDir,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn key_pem() -> String {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).expect("a PEM").to_string()
}

async fn site(configure: impl FnOnce(&mut LoginSettings)) -> Site {
    let provider = StubProvider::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let mut settings = LoginSettings::new(&address, CLIENT);
    configure(&mut settings);
    let pem = key_pem();
    let login = Arc::new(ProviderLogin::new(settings, &provider.settings("sen-api"), pem.as_bytes()).expect("a login"));
    let folder = tempfile::tempdir().expect("a folder");
    let url = sen_platform::config::sqlite_url(&folder.path().join("data").join("gateway.db"));
    let store = SessionStore::connect(&url, &Default::default()).await.expect("the session store");
    let keys = SessionKeySet::new(SessionKey::from_pem(pem.as_bytes()).expect("a session key"), Vec::new());
    let web = Arc::new(Web {
        upstreams: Upstreams::new(Vec::new()),
        internal: IdentitySigner::from_pem(pem.as_bytes(), GATEWAY_ISSUER).expect("a signer"),
        sessions: Sessions::new(keys, store, Some(Duration::from_secs(3600))),
        secure_cookies: true,
    });
    let app = crate::router(web.clone(), Login::Provider(login.clone()));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");
    Site { address, login, client, provider, web, server, _store: folder }
}

impl Site {
    fn login(&self) -> &ProviderLogin {
        &self.login
    }

    /// `GET /sign-in`: the login cookie's value and where the browser is sent.
    async fn start(&self, path: &str) -> (String, String, String) {
        let response = self.client.get(format!("{}{path}", self.address)).send().await.expect("sign-in answers");
        assert_eq!(response.status(), 303);
        let set_cookie = header(&response, "set-cookie");
        let value = set_cookie.split(';').next().and_then(|c| c.strip_prefix("sen_login=")).expect("a login cookie");
        (value.to_owned(), set_cookie.clone(), header(&response, "location"))
    }

    /// The provider's answer: where it sends the browser back.
    async fn at_provider(&self, authorize: &str) -> String {
        let response = self.client.get(authorize).send().await.expect("the provider answers");
        assert_eq!(response.status(), 303, "the stub redirects at once");
        header(&response, "location")
    }

    async fn back(&self, callback: &str, cookie: &str) -> reqwest::Response {
        self.client
            .get(callback)
            .header("cookie", format!("sen_login={cookie}"))
            .send()
            .await
            .expect("the callback answers")
    }
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("sen_session=") && !c.starts_with("sen_session=;"))
        .map(str::to_owned)
}

fn manager(provider: &StubProvider, audience: &str) -> serde_json::Value {
    provider.claims("mgr-1", "la_manager", Some("886"), None, audience, Duration::from_secs(300))
}

#[tokio::test]
async fn a_good_sign_in_sets_the_session_cookie_and_goes_where_the_person_was_going() {
    let site = site(|_| {}).await;
    site.provider.next_sign_in(manager(&site.provider, CLIENT));
    let (cookie, set_cookie, authorize) = site.start("/sign-in?next=/referrals").await;
    for attribute in ["Path=/sign-in", "HttpOnly", "SameSite=Lax", "Secure", "Max-Age=600"] {
        assert!(set_cookie.contains(attribute), "the login cookie has {attribute}: {set_cookie}");
    }
    let url = reqwest::Url::parse(&authorize).expect("a URL");
    assert!(authorize.starts_with(&site.provider.authorization_endpoint()));
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT);
    assert_eq!(query["redirect_uri"], format!("{}/sign-in/callback", site.address));
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["scope"], "openid profile");
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(!cookie.contains(&query["state"]), "the secrets are not readable from the cookie's text as such");

    let callback = site.at_provider(&authorize).await;
    let response = site.back(&callback, &cookie).await;
    assert_eq!(response.status(), 303);
    assert_eq!(header(&response, "location"), "/referrals");
    let session = session_cookie(&response).expect("a session cookie");
    assert!(session.contains("HttpOnly") && session.contains("Secure"), "{session}");
    let cleared = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("sen_login=;") && c.contains("Max-Age=0"));
    assert!(cleared, "the login cookie is cleared");
}

#[tokio::test]
async fn without_a_return_address_the_person_starts_on_their_roles_page() {
    let site = site(|_| {}).await;
    site.provider.next_sign_in(manager(&site.provider, CLIENT));
    let (cookie, _, authorize) = site.start("/sign-in").await;
    let response = site.back(&site.at_provider(&authorize).await, &cookie).await;
    assert_eq!(header(&response, "location"), "/dashboard");
}

#[tokio::test]
async fn a_callback_with_another_state_is_refused() {
    let site = site(|_| {}).await;
    site.provider.next_sign_in(manager(&site.provider, CLIENT));
    let (cookie, _, authorize) = site.start("/sign-in").await;
    let callback = site.at_provider(&authorize).await;
    let mut url = reqwest::Url::parse(&callback).expect("a URL");
    let code = url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("a code");
    url.query_pairs_mut().clear().append_pair("code", &code).append_pair("state", "forged");
    let response = site.back(url.as_str(), &cookie).await;
    assert_eq!(response.status(), 400);
    assert!(session_cookie(&response).is_none());
    let page = response.text().await.expect("a page");
    assert!(page.contains("You could not be signed in") && page.contains("Try again"), "{page}");
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_refused_at_the_token_endpoint() {
    let site = site(|_| {}).await;
    site.provider.next_sign_in(manager(&site.provider, CLIENT));
    let (cookie, _, authorize) = site.start("/sign-in").await;
    let mut pending = site.login().open(&cookie).expect("the gateway reads its own cookie");
    pending.verifier = random_token().expect("random");
    let forged = site.login().sign(&pending).expect("signed");
    let response = site.back(&site.at_provider(&authorize).await, &forged).await;
    assert_eq!(response.status(), 502);
    assert!(session_cookie(&response).is_none());
}

#[tokio::test]
async fn a_tampered_or_missing_login_cookie_is_refused() {
    let site = site(|_| {}).await;
    site.provider.next_sign_in(manager(&site.provider, CLIENT));
    let (cookie, _, authorize) = site.start("/sign-in").await;
    let callback = site.at_provider(&authorize).await;
    let tampered = format!("x{cookie}");
    assert_eq!(site.back(&callback, &tampered).await.status(), 400);
    let response = site.client.get(&callback).send().await.expect("answers");
    assert_eq!(response.status(), 400);
    assert!(session_cookie(&response).is_none());
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let site = site(|_| {}).await;
    site.provider.next_sign_in(manager(&site.provider, "another-client"));
    let (cookie, _, authorize) = site.start("/sign-in").await;
    let response = site.back(&site.at_provider(&authorize).await, &cookie).await;
    assert_eq!(response.status(), 403);
    assert!(session_cookie(&response).is_none());
}

#[tokio::test]
async fn a_refusal_at_the_provider_ends_on_a_page_with_a_way_to_try_again() {
    let site = site(|_| {}).await;
    let (cookie, _, authorize) = site.start("/sign-in?next=/caseload").await;
    let response = site.back(&site.at_provider(&authorize).await, &cookie).await;
    assert_eq!(response.status(), 403);
    let page = response.text().await.expect("a page");
    assert!(page.contains("did not let you in"), "{page}");
    assert!(page.contains("href=\"/sign-in?next=/caseload\""), "{page}");
}

#[tokio::test]
async fn a_confidential_client_sends_its_secret_and_the_roles_may_come_from_the_access_token() {
    let dir = tempfile::tempdir().expect("a folder");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cret\n").expect("written");
    let site = site(|s| {
        s.client_secret_file = Some(secret.clone());
        s.token = LoginToken::AccessToken;
        s.extra_scopes = vec!["api://sen-api/access_as_user".into()];
    })
    .await;
    site.provider.require_client_secret("s3cret");
    site.provider.next_sign_in(manager(&site.provider, "sen-api"));
    let (cookie, _, authorize) = site.start("/sign-in").await;
    assert!(authorize.contains("scope=openid+profile+api%3A%2F%2Fsen-api%2Faccess_as_user"), "{authorize}");
    let response = site.back(&site.at_provider(&authorize).await, &cookie).await;
    assert_eq!(response.status(), 303);
    assert!(session_cookie(&response).is_some());
}

impl Site {
    /// Signs in as the person of `claims` through the provider; the session cookie's value.
    async fn signed_in(&self, claims: serde_json::Value) -> String {
        self.provider.next_sign_in(claims);
        let (cookie, _, authorize) = self.start("/sign-in").await;
        let response = self.back(&self.at_provider(&authorize).await, &cookie).await;
        let set_cookie = session_cookie(&response).expect("a session cookie");
        set_cookie.split(';').next().and_then(|c| c.strip_prefix("sen_session=")).expect("a value").to_owned()
    }

    async fn get(&self, path: &str, session: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .header("cookie", format!("sen_session={session}"))
            .send()
            .await
            .expect("the page answers")
    }

    /// Makes the session look last confirmed just over the re-check interval ago.
    async fn confirmed_long_ago(&self, session: &str) {
        let digest = self.web.sessions.digest_of(session).expect("a session of this site");
        let long_ago = crate::session::now() - 3601;
        assert!(self.web.sessions.store().confirmed(&digest, long_ago).await.expect("the store answers"));
    }

    /// A page load of a session due for a re-check: off to the provider with
    /// `prompt=none`, and back. The callback's answer.
    async fn recheck(&self, session: &str) -> reqwest::Response {
        let (login, callback) = self.recheck_at_provider(session).await;
        self.client
            .get(callback)
            .header("cookie", format!("sen_login={login}; sen_session={session}"))
            .send()
            .await
            .expect("the callback answers")
    }

    /// A re-check as far as the provider's answer: the login cookie's value and
    /// where the provider sends the browser back.
    async fn recheck_at_provider(&self, session: &str) -> (String, String) {
        let due = self.get("/", session).await;
        assert_eq!(due.status(), 303);
        assert_eq!(header(&due, "location"), "/sign-in/recheck?next=/");
        let start = self.get("/sign-in/recheck?next=/", session).await;
        assert_eq!(start.status(), 303);
        let authorize = header(&start, "location");
        assert!(authorize.starts_with(&self.provider.authorization_endpoint()), "{authorize}");
        let query: std::collections::HashMap<String, String> =
            reqwest::Url::parse(&authorize).expect("a URL").query_pairs().into_owned().collect();
        assert_eq!(query.get("prompt").map(String::as_str), Some("none"), "the provider asks nothing");
        let login = header(&start, "set-cookie");
        let login = login.split(';').next().and_then(|c| c.strip_prefix("sen_login=")).expect("a login cookie");
        (login.to_owned(), self.at_provider(&authorize).await)
    }
}

#[tokio::test]
async fn a_session_past_the_recheck_interval_is_confirmed_at_the_provider_and_carries_on() {
    let site = site(|_| {}).await;
    let session = site.signed_in(manager(&site.provider, CLIENT)).await;
    assert_eq!(header(&site.get("/", &session).await, "location"), "/dashboard", "a fresh session is not re-checked");

    site.confirmed_long_ago(&session).await;
    site.provider.next_sign_in(manager(&site.provider, CLIENT));
    let back = site.recheck(&session).await;
    assert_eq!(back.status(), 303);
    assert_eq!(header(&back, "location"), "/", "back to the page being loaded");
    assert!(session_cookie(&back).is_none(), "the same session goes on");
    assert_eq!(header(&site.get("/", &session).await, "location"), "/dashboard", "confirmed until the next interval");
}

#[tokio::test]
async fn a_recheck_finding_another_role_ends_every_session_of_the_person() {
    let site = site(|_| {}).await;
    let laptop = site.signed_in(manager(&site.provider, CLIENT)).await;
    let phone = site.signed_in(manager(&site.provider, CLIENT)).await;
    site.confirmed_long_ago(&laptop).await;
    let demoted = site.provider.claims("mgr-1", "case_officer", Some("886"), None, CLIENT, Duration::from_secs(300));
    site.provider.next_sign_in(demoted);
    let back = site.recheck(&laptop).await;
    assert_eq!(header(&back, "location"), "/sign-in?next=/", "signed in afresh, to get the new role");
    for session in [&laptop, &phone] {
        let page = site.get("/", session).await;
        assert_eq!(header(&page, "location"), "/sign-in", "the manager's session no longer works");
    }
}

#[tokio::test]
async fn a_recheck_the_provider_refuses_ends_the_session() {
    let site = site(|_| {}).await;
    let session = site.signed_in(manager(&site.provider, CLIENT)).await;
    site.confirmed_long_ago(&session).await;
    // Nobody chosen: the provider answers with an error, as it does when it no longer knows the person.
    let back = site.recheck(&session).await;
    assert_eq!(header(&back, "location"), "/sign-in?next=/");
    assert_eq!(header(&site.get("/", &session).await, "location"), "/sign-in");
}

#[tokio::test]
async fn a_recheck_finding_no_role_says_so_and_ends_the_session() {
    let site = site(|_| {}).await;
    let session = site.signed_in(manager(&site.provider, CLIENT)).await;
    site.confirmed_long_ago(&session).await;
    let mut no_role = manager(&site.provider, CLIENT);
    no_role["roles"] = serde_json::json!([]);
    site.provider.next_sign_in(no_role);
    let back = site.recheck(&session).await;
    assert_eq!(back.status(), 403);
    assert!(back.text().await.expect("a page").contains("no role on this service"));
    assert_eq!(header(&site.get("/", &session).await, "location"), "/sign-in");
}

#[tokio::test]
async fn a_recheck_answer_that_is_not_this_browsers_leaves_the_session_alone() {
    let site = site(|_| {}).await;
    let session = site.signed_in(manager(&site.provider, CLIENT)).await;
    site.confirmed_long_ago(&session).await;
    site.provider.next_sign_in(manager(&site.provider, CLIENT));
    let (login, callback) = site.recheck_at_provider(&session).await;
    let mut url = reqwest::Url::parse(&callback).expect("a URL");
    let code = url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("a code");
    url.query_pairs_mut().clear().append_pair("code", &code).append_pair("state", "another-tabs");
    let back = site
        .client
        .get(url.as_str())
        .header("cookie", format!("sen_login={login}; sen_session={session}"))
        .send()
        .await
        .expect("the callback answers");
    assert_eq!(back.status(), 400, "a page, not a redirect that could loop");
    let still = site.get("/", &session).await;
    assert_eq!(header(&still, "location"), "/sign-in/recheck?next=/", "still signed in, still due for its check");
}

#[tokio::test]
async fn the_name_the_provider_gives_is_the_name_the_pages_greet_the_person_by() {
    let site = site(|_| {}).await;
    let mut claims = manager(&site.provider, CLIENT);
    claims["name"] = serde_json::json!("Claire Whitmore");
    let session = site.signed_in(claims).await;
    let live = site.web.sessions.check(&session).await.expect("the store answers").expect("live");
    assert_eq!(live.name.as_deref(), Some("Claire Whitmore"));

    let mut claims = manager(&site.provider, CLIENT);
    claims["given_name"] = serde_json::json!("Owen");
    claims["family_name"] = serde_json::json!("Price");
    let session = site.signed_in(claims).await;
    let live = site.web.sessions.check(&session).await.expect("the store answers").expect("live");
    assert_eq!(live.name.as_deref(), Some("Owen Price"), "from the given and family names");

    let session = site.signed_in(manager(&site.provider, CLIENT)).await;
    let live = site.web.sessions.check(&session).await.expect("the store answers").expect("live");
    assert_eq!(live.name, None, "no name given, none made up");
}
