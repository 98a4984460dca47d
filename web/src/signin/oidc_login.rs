//! Production sign-in: the OpenID Connect authorization-code flow with PKCE
//! (S256) against the authority's identity provider.
//!
//! `GET /sign-in` sends the browser to the provider's authorization endpoint
//! (found by discovery from `SEN_OIDC_ISSUER`) with a fresh `state`, `nonce` and
//! code challenge; the verifier, state and nonce wait in a short-lived signed
//! cookie (`sen_login`: 10 minutes, `HttpOnly`, `SameSite=Lax`, `Secure`,
//! `Path=/sign-in`) so that any replica of the gateway can finish the flow. The
//! provider sends the browser back to `GET /sign-in/callback` with a code: the
//! state must match the cookie's, the code is exchanged at the token endpoint
//! (with the client secret of a confidential client, and the verifier), and the
//! chosen token (the ID token by default, whose audience is the client id and
//! whose nonce must match) is verified by [`OidcVerifier`] and mapped to a
//! [`Grant`] exactly as a bearer token is. Then the session starts
//! ([`super::complete`]).
//!
//! Anything wrong (refused at the provider, a stale or forged state, a failed
//! exchange, a token that grants no role) ends on a page saying so, with a link
//! to try again; the reason goes to the log, never a token or a code.
//!
//! A session made here is confirmed at the provider again once it is older than
//! the re-check interval (`SEN_SESSION_RECHECK_MINUTES`): the same flow with
//! `prompt=none`, so the person is asked nothing while the provider still knows
//! them (`recheck`). The role is read again from the fresh token; a re-check
//! that fails, or finds another role, ends the session.

mod recheck;
mod settings;
#[cfg(test)]
mod tests;

pub use settings::{LoginSettings, LoginToken, VARIABLES};

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use maud::html;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use sen_gateway::oidc::{AuthError, OidcSettings, OidcVerifier};
use sen_platform::identity::Grant;

use super::complete::signed_in;
use crate::layout::{public_page, start_page};
use crate::refusals;
use crate::session::url_encode;
use crate::state::Web;

/// The cookie carrying the flow's secrets between the two requests.
pub const LOGIN_COOKIE: &str = "sen_login";
/// How long a person has to sign in at the provider.
pub const LOGIN_LIFETIME: Duration = Duration::from_secs(600);
/// How long a call to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Signing in with the authority's provider.
pub struct ProviderLogin {
    settings: LoginSettings,
    issuer: String,
    client_secret: Option<String>,
    verifier: OidcVerifier,
    http: reqwest::Client,
    endpoints: tokio::sync::OnceCell<Endpoints>,
    cookie_key: ring::hmac::Key,
}

impl fmt::Debug for ProviderLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderLogin")
            .field("issuer", &self.issuer)
            .field("client_id", &self.settings.client_id)
            .field("confidential", &self.client_secret.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Deserialize)]
struct Endpoints {
    authorization_endpoint: String,
    token_endpoint: String,
}

/// What waits in the login cookie.
#[derive(Debug, Deserialize, Serialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    expires: u64,
    /// A re-check of a live session rather than a new sign-in.
    #[serde(default)]
    recheck: bool,
}

/// Whether the provider may ask the person anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// A sign-in: the provider asks whatever it needs to.
    Login,
    /// A re-check of a live session (`prompt=none`): the provider answers at
    /// once, from its own session, or with an error.
    None,
}

impl ProviderLogin {
    /// Sign-in as `settings` say with the provider of `oidc`; the login cookie is
    /// signed with a key derived from `key_material` (the gateway's private key,
    /// so every replica derives the same).
    pub fn new(settings: LoginSettings, oidc: &OidcSettings, key_material: &[u8]) -> anyhow::Result<Self> {
        let client_secret = match &settings.client_secret_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("SEN_OIDC_CLIENT_SECRET_FILE: cannot read {}", path.display()))?
                    .trim()
                    .to_owned(),
            ),
            None => None,
        };
        let verifying = match settings.token {
            LoginToken::IdToken => OidcSettings { audience: settings.client_id.clone(), ..oidc.clone() },
            LoginToken::AccessToken => oidc.clone(),
        };
        let mut http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(PROVIDER_TIMEOUT)
            .connect_timeout(PROVIDER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("sen-gateway/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &oidc.ca_file {
            let pem =
                std::fs::read(path).with_context(|| format!("SEN_OIDC_CA_FILE: cannot read {}", path.display()))?;
            for certificate in reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("SEN_OIDC_CA_FILE: {} is not PEM certificates", path.display()))?
            {
                http = http.add_root_certificate(certificate);
            }
        }
        let mut key = b"sen-web-login-cookie\0".to_vec();
        key.extend_from_slice(key_material);
        let digest = ring::digest::digest(&ring::digest::SHA256, &key);
        Ok(Self {
            issuer: oidc.issuer.clone(),
            client_secret,
            verifier: OidcVerifier::new(verifying)?,
            http: http.build().context("cannot build the HTTPS client for the identity provider")?,
            endpoints: tokio::sync::OnceCell::new(),
            cookie_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, digest.as_ref()),
            settings,
        })
    }

    /// The provider's endpoints, from its discovery document (fetched once).
    async fn endpoints(&self) -> Result<&Endpoints, String> {
        self.endpoints
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'));
                let response = self.http.get(&url).send().await.map_err(|e| format!("{url}: {e}"))?;
                if !response.status().is_success() {
                    return Err(format!("{url} answered {}", response.status()));
                }
                let endpoints: Endpoints = response.json().await.map_err(|e| format!("{url}: {e}"))?;
                for address in [&endpoints.authorization_endpoint, &endpoints.token_endpoint] {
                    let parsed = reqwest::Url::parse(address).map_err(|e| format!("'{address}': {e}"))?;
                    if parsed.scheme() != "https" && !settings::is_loopback(&parsed) {
                        return Err(format!("'{address}' is not https://"));
                    }
                }
                Ok(endpoints)
            })
            .await
    }

    fn sign(&self, pending: &Pending) -> Result<String, String> {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(pending).map_err(|e| e.to_string())?);
        let tag = ring::hmac::sign(&self.cookie_key, payload.as_bytes());
        Ok(format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref())))
    }

    fn open(&self, cookie: &str) -> Option<Pending> {
        let (payload, tag) = cookie.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        ring::hmac::verify(&self.cookie_key, payload.as_bytes(), &tag).ok()?;
        let pending: Pending = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (pending.expires > now()).then_some(pending)
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// 32 random bytes, base64url: a state, a nonce or a PKCE verifier (43 characters).
fn random_token() -> Result<String, ring::error::Unspecified> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The S256 code challenge of a PKCE verifier.
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref())
}

fn login_cookie(value: &str, max_age: u64) -> String {
    format!("{LOGIN_COOKIE}={value}; Path=/sign-in; HttpOnly; SameSite=Lax; Secure; Max-Age={max_age}")
}

/// `GET /sign-in` (and `/sign-in/recheck`, with [`Prompt::None`]): off to the
/// provider, `next` kept for afterwards.
pub(super) async fn start(login: &ProviderLogin, next: Option<&str>, prompt: Prompt) -> Response {
    let endpoints = match login.endpoints().await {
        Ok(endpoints) => endpoints,
        Err(reason) => {
            tracing::error!(%reason, "cannot find the identity provider's endpoints");
            return failure(StatusCode::BAD_GATEWAY, "We cannot reach your council's sign-in service just now.", next);
        }
    };
    let (Ok(state), Ok(nonce), Ok(verifier)) = (random_token(), random_token(), random_token()) else {
        tracing::error!("no randomness for a sign-in");
        return refusals::unavailable();
    };
    let Ok(mut url) = reqwest::Url::parse(&endpoints.authorization_endpoint) else {
        return failure(StatusCode::BAD_GATEWAY, "Your council's sign-in service is misconfigured.", next);
    };
    url.query_pairs_mut()
        .append_pair("client_id", &login.settings.client_id)
        .append_pair("redirect_uri", &login.settings.redirect_uri())
        .append_pair("response_type", "code")
        .append_pair("scope", &login.settings.scope())
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &code_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    if prompt == Prompt::None {
        url.query_pairs_mut().append_pair("prompt", "none");
    }
    let pending = Pending {
        state,
        nonce,
        verifier,
        next: next.unwrap_or("").to_owned(),
        expires: now() + LOGIN_LIFETIME.as_secs(),
        recheck: prompt == Prompt::None,
    };
    match login.sign(&pending) {
        Ok(value) => {
            ([(http::header::SET_COOKIE, login_cookie(&value, LOGIN_LIFETIME.as_secs()))], Redirect::to(url.as_str()))
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot make the login cookie");
            refusals::unavailable()
        }
    }
}

/// What the provider sends back.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
    access_token: Option<String>,
}

/// Why the provider's answer named nobody with a role here.
pub(super) struct NotSignedIn {
    status: StatusCode,
    message: &'static str,
    /// The person was confirmed, with no role on this service.
    no_role: bool,
    /// The answer was not for this browser's flow (another tab's, or forged):
    /// it says nothing of the person.
    crossed: bool,
}

impl NotSignedIn {
    fn new(status: StatusCode, message: &'static str) -> Self {
        Self { status, message, no_role: false, crossed: false }
    }

    fn crossed() -> Self {
        Self { crossed: true, ..Self::new(StatusCode::BAD_REQUEST, "Your sign-in could not be checked.") }
    }
}

/// `GET /sign-in/callback`: checks the state, exchanges the code, verifies the
/// token, and signs the person in (or, for a re-check, confirms their session:
/// [`recheck::finish`]).
pub(super) async fn callback(
    web: &Web,
    login: &ProviderLogin,
    cookie: Option<&str>,
    session: Option<&str>,
    back: Callback,
) -> Response {
    let Some(pending) = cookie.and_then(|c| login.open(c)) else {
        tracing::warn!("a sign-in callback without a valid login cookie (expired, or started elsewhere)");
        return failure(StatusCode::BAD_REQUEST, "Your sign-in took too long or was started in another browser.", None);
    };
    let next = Some(pending.next.as_str()).filter(|n| !n.is_empty());
    let outcome = identify(login, &pending, &back).await;
    let mut response = if pending.recheck {
        recheck::finish(web, session, outcome.map(|(grant, _)| grant), next).await
    } else {
        match outcome {
            Ok((grant, name)) => signed_in(web, &grant, name.as_deref(), next.unwrap_or(start_page(grant.role))).await,
            Err(refused) => return failure(refused.status, refused.message, next),
        }
    };
    if let Ok(clear) = http::HeaderValue::from_str(&login_cookie("", 0)) {
        response.headers_mut().append(http::header::SET_COOKIE, clear);
    }
    response
}

/// Who the provider's answer names: the state checked, the code exchanged, the
/// token verified and mapped to a grant exactly as a bearer token is; and their
/// name, from the token's standard `name` claim (else `given_name` and
/// `family_name`), to greet them by.
async fn identify(
    login: &ProviderLogin,
    pending: &Pending,
    back: &Callback,
) -> Result<(Grant, Option<String>), NotSignedIn> {
    if let Some(error) = &back.error {
        tracing::info!(error = %error.chars().take(64).collect::<String>(), "the identity provider did not sign the person in");
        let message = if error == "access_denied" {
            "Your council's sign-in service did not let you in: you may not have access to this service, or you cancelled."
        } else {
            "Your council's sign-in service could not sign you in."
        };
        return Err(NotSignedIn::new(StatusCode::FORBIDDEN, message));
    }
    let state_matches = back.state.as_deref().is_some_and(|s| {
        s.len() == pending.state.len()
            && s.bytes().zip(pending.state.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    });
    let (true, Some(code)) = (state_matches, back.code.as_deref()) else {
        tracing::warn!("a sign-in callback whose state is not this browser's");
        return Err(NotSignedIn::crossed());
    };
    let token = exchange(login, code, &pending.verifier).await.map_err(|reason| {
        tracing::warn!(%reason, "the sign-in code exchange failed");
        NotSignedIn::new(StatusCode::BAD_GATEWAY, "Your council's sign-in service did not confirm who you are.")
    })?;
    let verified = login.verifier.verify(&token).await.map_err(|error| {
        tracing::warn!(reason = %error, "the sign-in token was refused");
        match error {
            AuthError::NotPermitted(_) => NotSignedIn {
                status: StatusCode::FORBIDDEN,
                message: "Your account has no role on this service. Ask your SEN manager for access.",
                no_role: true,
                crossed: false,
            },
            _ => NotSignedIn::new(
                StatusCode::FORBIDDEN,
                "The answer from your council's sign-in service could not be verified.",
            ),
        }
    })?;
    if login.settings.token == LoginToken::IdToken && claim(&token, "nonce").as_deref() != Some(pending.nonce.as_str())
    {
        tracing::warn!("the ID token's nonce is not this sign-in's");
        return Err(NotSignedIn::crossed());
    }
    let name = claim(&token, "name").or_else(|| {
        let parts = [claim(&token, "given_name"), claim(&token, "family_name")];
        let joined = parts.into_iter().flatten().collect::<Vec<_>>().join(" ");
        (!joined.trim().is_empty()).then_some(joined)
    });
    Ok((verified.grant, name))
}

/// Exchanges the code at the token endpoint; answers the token that carries the roles.
async fn exchange(login: &ProviderLogin, code: &str, verifier: &str) -> Result<String, String> {
    let endpoints = login.endpoints().await?;
    let redirect_uri = login.settings.redirect_uri();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", login.settings.client_id.as_str()),
        ("code_verifier", verifier),
    ];
    if let Some(secret) = &login.client_secret {
        form.push(("client_secret", secret.as_str()));
    }
    let response = login
        .http
        .post(&endpoints.token_endpoint)
        .header(http::header::ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("the token endpoint: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        // The error code only: descriptions may echo what was sent.
        let error = response.json::<Value>().await.ok().and_then(|v| v["error"].as_str().map(str::to_owned));
        return Err(format!("the token endpoint answered {status} ({})", error.unwrap_or_default()));
    }
    let tokens: TokenResponse = response.json().await.map_err(|e| format!("the token endpoint's answer: {e}"))?;
    match login.settings.token {
        LoginToken::IdToken => tokens.id_token.ok_or_else(|| "no id_token in the answer".into()),
        LoginToken::AccessToken => tokens.access_token.ok_or_else(|| "no access_token in the answer".into()),
    }
}

/// A string claim of a token whose signature has already been verified.
fn claim(token: &str, name: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.get(name)?.as_str().map(str::to_owned)
}

/// The page of a sign-in that did not work, with a way to try again.
fn failure(status: StatusCode, message: &str, next: Option<&str>) -> Response {
    let again = match next {
        Some(next) => format!("/sign-in?next={}", url_encode(next)),
        None => "/sign-in".to_owned(),
    };
    let body = html! {
        h1 class="heading-l" { "You could not be signed in" }
        p class="body" { (message) }
        p class="body" { a class="button" href=(again) { "Try again" } }
        p class="body-s" { "If this keeps happening, contact your council's IT service desk." }
    };
    (status, public_page("Sign-in failed", body)).into_response()
}
