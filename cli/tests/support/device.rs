//! An identity provider offering the device authorization grant (RFC 8628),
//! for the `sen login` tests: a discovery document, a device authorization
//! endpoint, a token endpoint answering the device code and refresh token
//! grants, and a revocation endpoint, on an ephemeral port of 127.0.0.1.
//!
//! Its tokens are signed by the gateway's own test provider
//! ([`StubProvider`]), whose key set this provider's discovery document names,
//! so a gateway with `SEN_OIDC_ISSUER` set to [`DeviceProvider::issuer`]
//! accepts them. The test chooses who signs in, how many polls answer
//! `authorization_pending` first (two by default), and how the wait ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sen_gateway::oidc::testing::StubProvider;
use serde_json::{Value, json};

/// The client id the provider knows `sen` by.
pub const CLIENT_ID: &str = "sen-cli-test";
/// The platform API's scope.
pub const API_SCOPE: &str = "api://sen-platform/SEN.Access";
/// The user code every sign-in shows.
pub const USER_CODE: &str = "WDJB-MJHT";

/// How the person's sign-in ends, once the pending answers are used up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// They sign in: tokens are granted.
    Grant,
    /// They decline: `access_denied`.
    Deny,
    /// They never finish: `expired_token`.
    Expire,
}

/// A running provider; stops when dropped.
pub struct DeviceProvider {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    issuer: String,
    audience: String,
    signer: StubProvider,
    state: Mutex<ProviderState>,
}

struct ProviderState {
    person: (String, String, String),
    outcome: Outcome,
    pending_polls: u32,
    interval: u64,
    access_lifetime: u64,
    /// Device codes handed out, with the polls each has had and the scope asked for.
    devices: HashMap<String, (u32, String)>,
    /// Refresh tokens in force; each is used once (rotated, as Entra ID does).
    refresh_tokens: Vec<String>,
    refuse_refresh: bool,
    fail_revocation: bool,
    issued: u32,
    polls: u32,
    refreshes: u32,
    scopes: Vec<String>,
    revoked: Vec<String>,
}

impl DeviceProvider {
    /// Starts a provider whose tokens carry `audience`; the person signing in is
    /// an educational psychologist of authority 990, the interval 0 s.
    pub async fn start(audience: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("the provider binds");
        let address = listener.local_addr().expect("the provider has an address");
        let shared = Arc::new(Shared {
            issuer: format!("http://{address}"),
            audience: audience.to_owned(),
            signer: StubProvider::start().await,
            state: Mutex::new(ProviderState {
                person: ("ep-ada".into(), "educational_psychologist".into(), "990".into()),
                outcome: Outcome::Grant,
                pending_polls: 2,
                interval: 0,
                access_lifetime: 3600,
                devices: HashMap::new(),
                refresh_tokens: Vec::new(),
                refuse_refresh: false,
                fail_revocation: false,
                issued: 0,
                polls: 0,
                refreshes: 0,
                scopes: Vec::new(),
                revoked: Vec::new(),
            }),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/devicecode", post(device_code))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            // Ends when the test drops the provider (the task is aborted).
            let _ = axum::serve(listener, app).await;
        });
        Self { shared, server }
    }

    fn state(&self) -> MutexGuard<'_, ProviderState> {
        self.shared.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The issuer, `http://127.0.0.1:<port>`: the gateway's `SEN_OIDC_ISSUER`.
    pub fn issuer(&self) -> String {
        self.shared.issuer.clone()
    }

    /// Who signs in next: their person id, role and authority.
    pub fn sign_in_as(&self, person: &str, role: &str, tenant: &str) {
        self.state().person = (person.into(), role.into(), tenant.into());
    }

    /// How the next sign-ins end.
    pub fn set_outcome(&self, outcome: Outcome) {
        self.state().outcome = outcome;
    }

    /// The `expires_in` of the access tokens granted from now on.
    pub fn set_access_lifetime(&self, seconds: u64) {
        self.state().access_lifetime = seconds;
    }

    /// From now on the token endpoint refuses every refresh token (`invalid_grant`).
    pub fn refuse_refresh(&self) {
        self.state().refuse_refresh = true;
    }

    /// From now on the revocation endpoint answers 503.
    pub fn fail_revocation(&self) {
        self.state().fail_revocation = true;
    }

    /// How many times the token endpoint was asked with a device code.
    pub fn polls(&self) -> u32 {
        self.state().polls
    }

    /// How many times a refresh token was presented.
    pub fn refreshes(&self) -> u32 {
        self.state().refreshes
    }

    /// The scopes each device sign-in asked for.
    pub fn scopes(&self) -> Vec<String> {
        self.state().scopes.clone()
    }

    /// The refresh tokens revoked.
    pub fn revoked(&self) -> Vec<String> {
        self.state().revoked.clone()
    }

    /// An access token for the current person, signed by this provider, that
    /// expired ten minutes ago.
    pub fn expired_access_token(&self) -> String {
        let person = self.state().person.clone();
        let mut claims = self.shared.claims(&person, 3600);
        let now = unix_now();
        claims["iat"] = json!(now - 4200);
        claims["nbf"] = json!(now - 4200);
        claims["exp"] = json!(now - 600);
        self.shared.signer.token(&claims)
    }
}

impl Drop for DeviceProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, ProviderState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Claims for `person` from this issuer, valid for `lifetime` seconds.
    fn claims(&self, (sub, role, tenant): &(String, String, String), lifetime: u64) -> Value {
        let mut claims =
            self.signer.claims(sub, role, Some(tenant), None, &self.audience, Duration::from_secs(lifetime));
        claims["iss"] = json!(self.issuer);
        claims
    }

    /// A token answer for the current person, with a new refresh token if `offline`.
    fn grant(&self, state: &mut ProviderState, offline: bool) -> Response {
        state.issued += 1;
        let mut claims = self.claims(&state.person, state.access_lifetime);
        // Each token its own, as a provider's token identifiers make them.
        claims["jti"] = json!(format!("token-{}", state.issued));
        let access_token = self.signer.token(&claims);
        let mut answer = json!({
            "token_type": "Bearer",
            "expires_in": state.access_lifetime,
            "access_token": access_token,
        });
        if offline {
            let refresh_token = format!("refresh-{}-{}", state.issued, unix_now());
            state.refresh_tokens.push(refresh_token.clone());
            answer["refresh_token"] = json!(refresh_token);
        }
        Json(answer).into_response()
    }
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default().try_into().unwrap_or(0)
}

fn oauth_error(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error, "error_description": format!("test provider: {error}") })))
        .into_response()
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    let issuer = &shared.issuer;
    Json(json!({
        "issuer": issuer,
        "jwks_uri": shared.signer.jwks_url(),
        "token_endpoint": format!("{issuer}/token"),
        "device_authorization_endpoint": format!("{issuer}/devicecode"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "grant_types_supported": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
    }))
    .into_response()
}

async fn device_code(State(shared): State<Arc<Shared>>, Form(form): Form<HashMap<String, String>>) -> Response {
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return oauth_error("invalid_client");
    }
    let mut state = shared.state();
    let code = format!("device-{}", state.devices.len() + 1);
    let scope = form.get("scope").cloned().unwrap_or_default();
    state.scopes.push(scope.clone());
    state.devices.insert(code.clone(), (0, scope));
    let issuer = &shared.issuer;
    Json(json!({
        "device_code": code,
        "user_code": USER_CODE,
        "verification_uri": format!("{issuer}/device"),
        "verification_uri_complete": format!("{issuer}/device?user_code={USER_CODE}"),
        "expires_in": 600,
        "interval": state.interval,
    }))
    .into_response()
}

async fn token(State(shared): State<Arc<Shared>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let get = |name: &str| form.get(name).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID {
        return oauth_error("invalid_client");
    }
    let mut state = shared.state();
    match get("grant_type").as_str() {
        "urn:ietf:params:oauth:grant-type:device_code" => {
            state.polls += 1;
            let code = get("device_code");
            let Some((polls, scope)) = state.devices.get_mut(&code) else { return oauth_error("invalid_grant") };
            *polls += 1;
            let (polls, offline) = (*polls, scope.split(' ').any(|s| s == "offline_access"));
            if polls <= state.pending_polls {
                return oauth_error("authorization_pending");
            }
            state.devices.remove(&code);
            match state.outcome {
                Outcome::Grant => shared.grant(&mut state, offline),
                Outcome::Deny => oauth_error("access_denied"),
                Outcome::Expire => oauth_error("expired_token"),
            }
        }
        "refresh_token" => {
            state.refreshes += 1;
            let presented = get("refresh_token");
            let known = state.refresh_tokens.iter().position(|t| *t == presented);
            match known {
                Some(at) if !state.refuse_refresh => {
                    state.refresh_tokens.remove(at);
                    shared.grant(&mut state, true)
                }
                _ => oauth_error("invalid_grant"),
            }
        }
        _ => oauth_error("unsupported_grant_type"),
    }
}

async fn revoke(State(shared): State<Arc<Shared>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let mut state = shared.state();
    if state.fail_revocation {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let token = form.get("token").cloned().unwrap_or_default();
    state.refresh_tokens.retain(|t| *t != token);
    state.revoked.push(token);
    StatusCode::OK.into_response()
}
