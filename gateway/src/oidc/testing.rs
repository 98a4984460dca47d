//! A stub OpenID Connect provider for tests (this crate's, and other crates'
//! with the `testing` feature): a discovery document and a JWK set served over
//! plain HTTP on 127.0.0.1, and tokens signed with its keys.
//!
//! Keys are ES256 (P-256), generated when the stub starts, so nothing secret
//! is ever committed; an RSA key made by the test can be added for RS256.
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

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
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
            state: Mutex::new(StubState { keys: vec![StubKey::es256("stub-key-1".into())], available: true }),
            fetches: AtomicUsize::new(0),
            made_up: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
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
