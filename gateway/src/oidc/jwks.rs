//! The identity provider's signing keys, fetched and cached.
//!
//! Keys are looked up by the token's `kid`. A `kid` not in the cache usually
//! means the provider has rotated its keys, so the key set is fetched again; but
//! anyone can send tokens with made-up `kid`s, so fetches are at least
//! `jwks_min_refresh` apart, whatever arrives. Requests that miss while a fetch
//! is under way wait for that one fetch (the refresh lock) instead of starting
//! their own. A fetch that fails keeps the keys already cached, so an outage at
//! the provider does not stop tokens signed with known keys.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use tokio::sync::Mutex;

use super::claims::quote;
use super::error::AuthError;
use super::settings::check_provider_url;

/// Largest discovery document or key set accepted (real ones are a few KiB).
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// After this long the key set is fetched again in the background, so keys the
/// provider has withdrawn stop being trusted.
const MAX_KEY_SET_AGE: Duration = Duration::from_secs(3600);

/// A key a token may be verified with, and the one algorithm it is for.
#[derive(Clone)]
pub(crate) struct VerifyingKey {
    pub(crate) key: DecodingKey,
    pub(crate) algorithm: Algorithm,
}

/// Where the key set is.
#[derive(Clone, Debug)]
pub(crate) enum JwksSource {
    /// At this address.
    Url(String),
    /// At the `jwks_uri` of this issuer's discovery document.
    Discovery { issuer: String },
}

#[derive(Default)]
struct KeySet {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    fetched_at: Option<Instant>,
}

#[derive(Default)]
struct RefreshState {
    last_attempt: Option<Instant>,
    /// Why the last attempt failed, while it is the last.
    last_failure: Option<String>,
    /// The discovered key-set address, once known.
    jwks_uri: Option<String>,
}

/// The cached keys and the rules for fetching them again.
pub(crate) struct KeyStore {
    http: reqwest::Client,
    source: JwksSource,
    min_refresh: Duration,
    keys: RwLock<Arc<KeySet>>,
    refresh: Mutex<RefreshState>,
    background: AtomicBool,
}

impl KeyStore {
    pub(crate) fn new(http: reqwest::Client, source: JwksSource, min_refresh: Duration) -> Self {
        Self {
            http,
            source,
            min_refresh,
            keys: RwLock::new(Arc::new(KeySet::default())),
            refresh: Mutex::new(RefreshState::default()),
            background: AtomicBool::new(false),
        }
    }

    fn current(&self) -> Arc<KeySet> {
        // A poisoned lock still holds a whole Arc: the writer only swaps it.
        self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// The key named `kid`, fetching the key set again if it is unknown and the
    /// last fetch is far enough back.
    pub(crate) async fn key(self: &Arc<Self>, kid: &str) -> Result<Arc<VerifyingKey>, AuthError> {
        let keys = self.current();
        if let Some(key) = keys.by_kid.get(kid) {
            if keys.fetched_at.is_some_and(|at| at.elapsed() > MAX_KEY_SET_AGE) {
                self.refresh_in_background();
            }
            return Ok(key.clone());
        }
        let mut state = self.refresh.lock().await;
        // Another request may have fetched the set while this one waited.
        if let Some(key) = self.current().by_kid.get(kid) {
            return Ok(key.clone());
        }
        if self.may_fetch(&state) {
            self.refresh_locked(&mut state).await;
            if let Some(key) = self.current().by_kid.get(kid) {
                return Ok(key.clone());
            }
        }
        Err(match &state.last_failure {
            Some(reason) => AuthError::ProviderUnavailable(reason.clone()),
            None => AuthError::Invalid(format!("key '{}' is not in the identity provider's key set", quote(kid))),
        })
    }

    /// Fetches the key set now unless it was fetched within the minimum interval
    /// (for a readiness check or start-up warm-up).
    pub(crate) async fn refresh(&self) -> Result<(), String> {
        let mut state = self.refresh.lock().await;
        if self.may_fetch(&state) {
            self.refresh_locked(&mut state).await;
        }
        match &state.last_failure {
            Some(reason) => Err(reason.clone()),
            None => Ok(()),
        }
    }

    /// Whether the minimum interval since the last fetch attempt has passed.
    fn may_fetch(&self, state: &RefreshState) -> bool {
        state.last_attempt.is_none_or(|at| at.elapsed() >= self.min_refresh)
    }

    fn refresh_in_background(self: &Arc<Self>) {
        if self.background.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            // Errors are logged by the fetch; the cached keys stay in use.
            let _ = store.refresh().await;
            store.background.store(false, Ordering::Release);
        });
    }

    /// Fetches the key set; the caller holds the refresh lock.
    async fn refresh_locked(&self, state: &mut RefreshState) {
        state.last_attempt = Some(Instant::now());
        match self.fetch(state).await {
            Ok(by_kid) => {
                tracing::info!(keys = by_kid.len(), "fetched the identity provider's signing keys");
                *self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner()) =
                    Arc::new(KeySet { by_kid, fetched_at: Some(Instant::now()) });
                state.last_failure = None;
            }
            Err(reason) => {
                tracing::warn!(%reason, "cannot fetch the identity provider's signing keys; keeping the cached ones");
                state.last_failure = Some(reason);
            }
        }
    }

    async fn fetch(&self, state: &mut RefreshState) -> Result<HashMap<String, Arc<VerifyingKey>>, String> {
        let jwks_uri = match (&self.source, &state.jwks_uri) {
            (JwksSource::Url(url), _) => url.clone(),
            (JwksSource::Discovery { .. }, Some(known)) => known.clone(),
            (JwksSource::Discovery { issuer }, None) => {
                let discovered = self.discover(issuer).await?;
                state.jwks_uri = Some(discovered.clone());
                discovered
            }
        };
        parse_key_set(&get_json(&self.http, &jwks_uri).await?)
    }

    /// The `jwks_uri` of the issuer's OpenID Connect discovery document.
    async fn discover(&self, issuer: &str) -> Result<String, String> {
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let document = get_json(&self.http, &url).await?;
        if document.get("issuer").and_then(Value::as_str) != Some(issuer) {
            tracing::warn!(
                configured = issuer,
                "the discovery document names another issuer; tokens are still checked against the configured one"
            );
        }
        let jwks_uri = document
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{url} has no jwks_uri"))?
            .to_owned();
        check_provider_url(&jwks_uri).map_err(|e| format!("{url}: jwks_uri '{}' {e}", quote(&jwks_uri)))?;
        Ok(jwks_uri)
    }
}

/// GETs a JSON document of bounded size.
async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let mut response = http
        .get(url)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
    if !response.status().is_success() {
        return Err(format!("GET {url}: HTTP {}", response.status()));
    }
    if response.content_length().is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64) {
        return Err(format!("GET {url}: the document is larger than {MAX_DOCUMENT_BYTES} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("GET {url}: {}", error_chain(&e)))? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("GET {url}: the document is larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| format!("GET {url}: not JSON: {e}"))
}

/// The usable signing keys of a JWK set: RSA keys for RS256 and P-256 keys for
/// ES256, each with a `kid`. Others (encryption keys, other algorithms, keys this
/// gateway cannot read) are skipped, not fatal: providers publish more than we use.
fn parse_key_set(document: &Value) -> Result<HashMap<String, Arc<VerifyingKey>>, String> {
    let Some(entries) = document.get("keys").and_then(Value::as_array) else {
        return Err("the key set has no 'keys' array".into());
    };
    let mut keys = HashMap::new();
    for entry in entries {
        let Ok(jwk) = serde_json::from_value::<Jwk>(entry.clone()) else {
            tracing::debug!(kid = ?entry.get("kid"), "skipping a key this gateway cannot read");
            continue;
        };
        if let Some(kid) = jwk.common.key_id.clone()
            && let Some(key) = verifying_key(&jwk)
        {
            keys.insert(kid, Arc::new(key));
        }
    }
    if keys.is_empty() {
        return Err("the key set has no RS256 or ES256 signing key with a kid".into());
    }
    Ok(keys)
}

fn verifying_key(jwk: &Jwk) -> Option<VerifyingKey> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
            if ec.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        _ => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerifyingKey { key, algorithm })
}

/// An error and its causes on one line ("error sending request: connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_key_set_keeps_only_signing_keys_it_can_use() {
        let set = json!({"keys": [
            {"kty": "RSA", "kid": "rsa", "use": "sig", "n": "sXch", "e": "AQAB", "x5t": "x", "issuer": "extra fields are fine"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "n": "sXch", "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "weird", "kid": "w"},
        ]});
        let keys = parse_key_set(&set).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["rsa"]);
        assert_eq!(keys["rsa"].algorithm, Algorithm::RS256);
    }

    #[test]
    fn a_key_set_without_usable_keys_is_an_error() {
        assert!(parse_key_set(&json!({"keys": []})).is_err());
        assert!(parse_key_set(&json!({"nothing": true})).is_err());
    }
}
