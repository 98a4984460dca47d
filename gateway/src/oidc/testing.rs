//! A stub OpenID Connect provider for tests (this crate's, and other crates'
//! with the `testing` feature): a discovery document and a JWK set served over
//! plain HTTP on 127.0.0.1, and tokens signed with its keys.
//!
//! Keys are ES256 (P-256), generated when the stub starts, so nothing secret
//! is ever committed; an RSA key made by the test can be added for RS256.
//!
//! For the web sign-in it is also an authorization server: its authorization
//! endpoint sends the browser straight back with a code for the person the test
//! chose beforehand ([`StubProvider::next_sign_in`]; nobody chosen: back with
//! `error=access_denied`), and its token endpoint checks the PKCE verifier, the
//! redirect URI, the client (and its secret, when one is required) and answers
//! an ID token carrying the sign-in's nonce, and an access token.
//!
//! ```no_run
//! # async fn example() {
//! use std::time::Duration;
//! use sen_gateway::oidc::{OidcVerifier, testing::StubProvider};
//!
//! let provider = StubProvider::start().await;
//! let verifier = OidcVerifier::new(provider.settings("sen-platform")).unwrap();
//! let claims = provider.claims("p-1", "case_officer", Some("886"), None, "sen-platform", Duration::from_secs(300));
//! let verified = verifier.verify(&provider.token(&claims)).await.unwrap();
//! # }
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::OidcSettings;

/// A running stub provider; stops when dropped.
pub struct StubProvider {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    issuer: String,
    state: Mutex<StubState>,
    fetches: AtomicUsize,
    made_up: AtomicUsize,
}

struct StubState {
    /// Every published key; the last one signs new tokens.
    keys: Vec<StubKey>,
    available: bool,
    /// Who the next sign-ins are, in order (their claims).
    sign_ins: VecDeque<Value>,
    /// Codes handed out and not yet exchanged.
    codes: HashMap<String, PendingCode>,
    /// The client secret the token endpoint requires, if any.
    client_secret: Option<String>,
}

/// A code waiting to be exchanged, and what the exchange must match.
struct PendingCode {
    claims: Value,
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
}

struct StubKey {
    kid: String,
    algorithm: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

impl StubKey {
    fn es256(kid: String) -> Self {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("a P-256 key is generated");
        Self::new(kid, Algorithm::ES256, EncodingKey::from_ec_der(&pair.serialize_der()))
    }

    fn new(kid: String, algorithm: Algorithm, encoding: EncodingKey) -> Self {
        let mut jwk = Jwk::from_encoding_key(&encoding, algorithm).expect("the public key is derived");
        jwk.common.key_id = Some(kid.clone());
        let jwk = serde_json::to_value(&jwk).expect("a JWK serialises");
        Self { kid, algorithm, encoding, jwk }
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("the stub signs")
    }
}

impl StubProvider {
    /// Starts a provider with one ES256 key on an ephemeral port of 127.0.0.1.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("the stub provider binds");
        let address = listener.local_addr().expect("the stub provider has an address");
        let shared = Arc::new(Shared {
            issuer: format!("http://{address}"),
            state: Mutex::new(StubState {
                keys: vec![StubKey::es256("stub-key-1".into())],
                available: true,
                sign_ins: VecDeque::new(),
                codes: HashMap::new(),
                client_secret: None,
            }),
            fetches: AtomicUsize::new(0),
            made_up: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            // Ends when the test drops the provider (the task is aborted).
            let _ = axum::serve(listener, app).await;
        });
        Self { shared, server }
    }

    /// The issuer, `http://127.0.0.1:<port>`.
    pub fn issuer(&self) -> String {
        self.shared.issuer.clone()
    }

    /// Where the JWK set is served.
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.shared.issuer)
    }

    /// Settings trusting this provider for `audience`, keys found by discovery,
    /// the default claim names.
    pub fn settings(&self, audience: &str) -> OidcSettings {
        OidcSettings::new(self.issuer(), audience)
    }

    /// Claims with this issuer and the default claim names: `sub`, `roles` (an
    /// array of `role`), `sen_tenant`, `sen_school`, valid from now for `lifetime`.
    pub fn claims(
        &self,
        sub: &str,
        role: &str,
        tenant: Option<&str>,
        school: Option<&str>,
        audience: &str,
        lifetime: Duration,
    ) -> Value {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        let mut claims = json!({
            "iss": self.issuer(),
            "aud": audience,
            "sub": sub,
            "roles": [role],
            "iat": now,
            "nbf": now,
            "exp": now + lifetime.as_secs(),
        });
        if let Some(tenant) = tenant {
            claims["sen_tenant"] = json!(tenant);
        }
        if let Some(school) = school {
            claims["sen_school"] = json!(school);
        }
        claims
    }

    /// `claims`, signed with the current key (its `kid` in the header).
    pub fn token(&self, claims: &Value) -> String {
        let state = self.shared.state.lock().expect("stub state");
        state.keys.last().expect("the stub has a key").sign(claims)
    }

    /// `claims`, signed with a fresh key under a made-up `kid` that is not and
    /// never will be in the key set.
    pub fn token_signed_by_unknown_key(&self, claims: &Value) -> String {
        let n = self.shared.made_up.fetch_add(1, Ordering::Relaxed) + 1;
        StubKey::es256(format!("made-up-{n}")).sign(claims)
    }

    /// Publishes a new ES256 key and signs new tokens with it; older keys stay
    /// published, as providers keep them while their tokens live.
    pub fn rotate(&self) {
        let mut state = self.shared.state.lock().expect("stub state");
        let kid = format!("stub-key-{}", state.keys.len() + 1);
        state.keys.push(StubKey::es256(kid));
    }

    /// Publishes an RSA key (PKCS#1 DER private key) and signs new tokens with
    /// it (RS256), older keys staying published.
    pub fn rotate_to_rsa(&self, pkcs1_der: &[u8]) {
        let mut state = self.shared.state.lock().expect("stub state");
        let kid = format!("stub-key-{}", state.keys.len() + 1);
        state.keys.push(StubKey::new(kid, Algorithm::RS256, EncodingKey::from_rsa_der(pkcs1_der)));
    }

    /// The `kid` new tokens are signed under.
    pub fn current_kid(&self) -> String {
        let state = self.shared.state.lock().expect("stub state");
        state.keys.last().map(|k| k.kid.clone()).unwrap_or_default()
    }

    /// While `false`, the discovery document and key set answer 503.
    pub fn set_available(&self, available: bool) {
        self.shared.state.lock().expect("stub state").available = available;
    }

    /// The next sign-in at the authorization endpoint is the person of `claims`
    /// (e.g. [`StubProvider::claims`] with the client id as audience); the ID
    /// token gets the sign-in's nonce added.
    pub fn next_sign_in(&self, claims: Value) {
        self.shared.state.lock().expect("stub state").sign_ins.push_back(claims);
    }

    /// From now on the token endpoint requires this client secret.
    pub fn require_client_secret(&self, secret: &str) {
        self.shared.state.lock().expect("stub state").client_secret = Some(secret.to_owned());
    }

    /// The authorization endpoint's address.
    pub fn authorization_endpoint(&self) -> String {
        format!("{}/authorize", self.shared.issuer)
    }

    /// How many times the key set has been requested (answered or not).
    pub fn fetches(&self) -> usize {
        self.shared.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for StubProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    if !shared.state.lock().expect("stub state").available {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    Json(json!({
        "issuer": shared.issuer,
        "jwks_uri": format!("{}/jwks", shared.issuer),
        "authorization_endpoint": format!("{}/authorize", shared.issuer),
        "token_endpoint": format!("{}/token", shared.issuer),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
    }))
    .into_response()
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    shared.fetches.fetch_add(1, Ordering::SeqCst);
    let state = shared.state.lock().expect("stub state");
    if !state.available {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let keys: Vec<Value> = state.keys.iter().map(|k| k.jwk.clone()).collect();
    Json(json!({ "keys": keys })).into_response()
}

/// Sends the browser back at once: with a code for the chosen person, or with
/// `error=access_denied` when the test chose nobody.
async fn authorize(State(shared): State<Arc<Shared>>, Query(query): Query<HashMap<String, String>>) -> Response {
    let get = |name: &str| query.get(name).cloned().unwrap_or_default();
    let redirect_uri = get("redirect_uri");
    let Ok(mut back) = reqwest::Url::parse(&redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri is not a URL").into_response();
    };
    let mut state = shared.state.lock().expect("stub state");
    let well_formed = get("response_type") == "code"
        && get("code_challenge_method") == "S256"
        && !get("code_challenge").is_empty()
        && !get("client_id").is_empty()
        && get("scope").split(' ').any(|s| s == "openid");
    let outcome = if !well_formed { Err("invalid_request") } else { state.sign_ins.pop_front().ok_or("access_denied") };
    match outcome {
        Ok(claims) => {
            let code = format!("code-{}", shared.made_up.fetch_add(1, Ordering::Relaxed) + state.codes.len() + 1000);
            state.codes.insert(
                code.clone(),
                PendingCode {
                    claims,
                    client_id: get("client_id"),
                    redirect_uri: redirect_uri.clone(),
                    challenge: get("code_challenge"),
                    nonce: query.get("nonce").cloned(),
                },
            );
            back.query_pairs_mut().append_pair("code", &code);
        }
        Err(error) => {
            back.query_pairs_mut().append_pair("error", error);
        }
    }
    if let Some(s) = query.get("state") {
        back.query_pairs_mut().append_pair("state", s);
    }
    Redirect::to(back.as_str()).into_response()
}

/// Exchanges a code once, if the verifier, redirect URI, client and secret match.
async fn token(State(shared): State<Arc<Shared>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let get = |name: &str| form.get(name).cloned().unwrap_or_default();
    let refused = |error: &str| (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response();
    let mut state = shared.state.lock().expect("stub state");
    if get("grant_type") != "authorization_code" {
        return refused("unsupported_grant_type");
    }
    if let Some(secret) = &state.client_secret
        && get("client_secret") != *secret
    {
        return refused("invalid_client");
    }
    let Some(pending) = state.codes.remove(&get("code")) else { return refused("invalid_grant") };
    let challenge =
        URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, get("code_verifier").as_bytes()));
    if pending.challenge != challenge
        || pending.redirect_uri != get("redirect_uri")
        || pending.client_id != get("client_id")
    {
        return refused("invalid_grant");
    }
    let key = state.keys.last().expect("the stub has a key");
    let access_token = key.sign(&pending.claims);
    let mut id_claims = pending.claims;
    if let Some(nonce) = pending.nonce {
        id_claims["nonce"] = json!(nonce);
    }
    Json(json!({
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": key.sign(&id_claims),
        "access_token": access_token,
    }))
    .into_response()
}
