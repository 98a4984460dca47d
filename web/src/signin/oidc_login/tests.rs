//! The sign-in flow against the stub provider, over real HTTP: the pages on one
//! ephemeral port, the provider on another.

use std::sync::Arc;
use std::time::Duration;

use sen_gateway::oidc::testing::StubProvider;
use sen_gateway::upstream::Upstreams;
use sen_platform::identity::{GATEWAY_ISSUER, IdentitySigner};

use super::*;
use crate::session::SessionKeys;
use crate::signin::Login;

const CLIENT: &str = "sen-web";

struct Site {
    address: String,
    login: Arc<ProviderLogin>,
    client: reqwest::Client,
    provider: StubProvider,
    server: tokio::task::JoinHandle<()>,
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
    let web = Arc::new(Web {
        upstreams: Upstreams::new(Vec::new()),
        internal: IdentitySigner::from_pem(pem.as_bytes(), GATEWAY_ISSUER).expect("a signer"),
        sessions: SessionKeys::from_pem(pem.as_bytes()).expect("session keys"),
        secure_cookies: true,
    });
    let app = crate::router(web, Login::Provider(login.clone()));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");
    Site { address, login, client, provider, server }
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
