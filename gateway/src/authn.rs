//! Who is calling: the bearer token checked, then the short-lived internal
//! identity token minted that the services trust.
//!
//! In production the bearer token comes from the authority's OpenID Connect
//! provider ([`crate::oidc`]). In the embedded mode it comes from the development
//! issuer (`sen token`, the demo sign-in); production never accepts those.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use sen_platform::identity::{Grant, IdentitySigner, IdentityVerifier, TokenCache};

use crate::caller::Caller;
use crate::oidc::{AuthError, OidcVerifier};

/// The longest an internal token lives; shorter when the bearer token expires sooner.
const INTERNAL_LIFETIME: Duration = Duration::from_secs(300);
/// How long a checked bearer token's caller, with the internal token minted for
/// it, is reused (never past the bearer token's own expiry). Every forwarded call
/// so carries an internal token with at least `INTERNAL_LIFETIME - CALLER_REUSE`
/// to live, and the services remember the few internal tokens they see.
const CALLER_REUSE: Duration = Duration::from_secs(30);
/// Clock skew tolerated between the identity provider and the gateway, as the
/// token checks tolerate it.
const CLOCK_LEEWAY: Duration = Duration::from_secs(30);
/// Bearer tokens whose caller is remembered at most (about 2 KiB each).
const CALLER_CACHE_CAPACITY: usize = 4_096;

/// Checks bearer tokens.
#[derive(Clone, Debug)]
pub enum Authenticator {
    /// The authority's OpenID Connect provider (production).
    Oidc(OidcVerifier),
    /// The embedded development issuer.
    Development(IdentityVerifier),
}

/// Why a request was not authenticated, with what may be said to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Whether the token was good but grants nothing here (PERMISSION_DENIED rather
    /// than UNAUTHENTICATED).
    pub forbidden: bool,
    /// Whether the identity provider could not be reached (UNAVAILABLE).
    pub unavailable: bool,
    /// Safe to show the caller.
    pub message: &'static str,
}

impl Refusal {
    fn unauthenticated(message: &'static str) -> Self {
        Self { forbidden: false, unavailable: false, message }
    }
}

/// Authenticates requests and mints their internal identity tokens.
///
/// The caller proven by a bearer token, and the internal token minted for them,
/// are remembered for [`CALLER_REUSE`] by the bearer token's full text, never
/// past its expiry (see [`TokenCache`]): a caller's calls in quick succession
/// cost neither a signature check nor a signature. A refusal is never remembered.
/// A key the identity provider withdraws stops working once the gateway's copy of
/// the key set is refreshed and at most `CALLER_REUSE` later.
#[derive(Clone, Debug)]
pub struct Authn {
    authenticator: Authenticator,
    signer: IdentitySigner,
    callers: Arc<TokenCache<Caller>>,
}

impl Authn {
    /// Checks bearer tokens with `authenticator`; mints internal tokens with `signer`.
    pub fn new(authenticator: Authenticator, signer: IdentitySigner) -> Self {
        Self { authenticator, signer, callers: Arc::new(TokenCache::new(CALLER_CACHE_CAPACITY)) }
    }

    /// The caller of a request with these headers: `authorization: Bearer <token>`
    /// (HTTP and gRPC alike).
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Refusal> {
        self.authenticate_at(headers, SystemTime::now()).await
    }

    /// As [`Authn::authenticate`], as at `now`.
    async fn authenticate_at(&self, headers: &HeaderMap, now: SystemTime) -> Result<Caller, Refusal> {
        let token = bearer(headers).ok_or(Refusal::unauthenticated("a bearer token is required"))?;
        let now_secs = unix_seconds(now);
        if let Some(caller) = self.callers.get(token, now_secs) {
            return Ok(caller);
        }
        let (grant, expires_at) = match &self.authenticator {
            Authenticator::Oidc(oidc) => match oidc.verify(token).await {
                Ok(verified) => (verified.grant, verified.expires_at),
                Err(e) => {
                    tracing::info!(reason = %e, "bearer token refused");
                    return Err(Refusal {
                        forbidden: matches!(e, AuthError::NotPermitted(_)),
                        unavailable: matches!(e, AuthError::ProviderUnavailable(_)),
                        message: e.client_message(),
                    });
                }
            },
            Authenticator::Development(verifier) => match verifier.verify_with_expiry(token) {
                Ok((identity, expires_at)) => {
                    let grant = Grant {
                        person: identity.person().to_owned(),
                        role: identity.role(),
                        tenant: identity.tenant(),
                        school: identity.scope().ok().and_then(|s| s.school()),
                    };
                    (grant, expires_at)
                }
                Err(e) => {
                    tracing::info!(reason = %e, "development token refused");
                    return Err(Refusal::unauthenticated("the token is not valid or has expired"));
                }
            },
        };
        if grant.role == sen_platform::identity::Role::Service {
            return Err(Refusal { forbidden: true, unavailable: false, message: "the token grants no role here" });
        }
        // The checks above read the system clock; `now` must agree too.
        if expires_at + CLOCK_LEEWAY < now {
            return Err(Refusal::unauthenticated("the token is not valid or has expired"));
        }
        let remaining = expires_at.duration_since(now).unwrap_or_default();
        let lifetime = remaining.min(INTERNAL_LIFETIME).max(Duration::from_secs(1));
        let internal_token = self.signer.mint(&grant, lifetime).map_err(|e| {
            tracing::error!(error = %e, "cannot mint an internal identity token");
            Refusal::unauthenticated("the identity could not be passed on")
        })?;
        let caller = Caller { grant, internal_token };
        let reuse_until = unix_seconds(expires_at).min(now_secs + CALLER_REUSE.as_secs());
        self.callers.insert(token, caller.clone(), reuse_until, now_secs);
        Ok(caller)
    }
}

/// Whole seconds since the Unix epoch (rounded down).
fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The bearer token of `authorization`, if well formed.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sen_platform::identity::{DevIssuer, Role};
    use sen_platform::ids::LaCode;

    fn grant(role: Role) -> Grant {
        Grant { person: "p-1".into(), role, tenant: LaCode::parse("990").ok(), school: None }
    }

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[tokio::test]
    async fn a_development_token_becomes_a_caller_with_a_fresh_internal_token() {
        let dev = DevIssuer::generate().unwrap();
        let authn = Authn::new(Authenticator::Development(dev.verifier.clone()), dev.signer.clone());
        let token = dev.signer.mint(&grant(Role::CaseOfficer), Duration::from_secs(60)).unwrap();
        let caller = authn.authenticate(&headers(&format!("Bearer {token}"))).await.unwrap();
        assert_eq!(caller.grant, grant(Role::CaseOfficer));
        assert_ne!(caller.internal_token, token);
        let inner = dev.verifier.verify(&caller.internal_token).unwrap();
        assert_eq!(inner.role(), Role::CaseOfficer);
    }

    #[tokio::test]
    async fn missing_malformed_and_foreign_tokens_are_refused() {
        let dev = DevIssuer::generate().unwrap();
        let other = DevIssuer::generate().unwrap();
        let authn = Authn::new(Authenticator::Development(dev.verifier.clone()), dev.signer.clone());
        assert!(authn.authenticate(&HeaderMap::new()).await.is_err());
        assert!(authn.authenticate(&headers("Basic abc")).await.is_err());
        assert!(authn.authenticate(&headers("Bearer ")).await.is_err());
        let foreign = other.signer.mint(&grant(Role::LaManager), Duration::from_secs(60)).unwrap();
        let refusal = authn.authenticate(&headers(&format!("Bearer {foreign}"))).await.unwrap_err();
        assert!(!refusal.forbidden);
    }

    #[tokio::test]
    async fn a_service_identity_cannot_come_in_from_outside() {
        let dev = DevIssuer::generate().unwrap();
        let authn = Authn::new(Authenticator::Development(dev.verifier.clone()), dev.signer.clone());
        let token = dev.signer.mint(&grant(Role::Service), Duration::from_secs(60)).unwrap();
        let refusal = authn.authenticate(&headers(&format!("bearer {token}"))).await.unwrap_err();
        assert!(refusal.forbidden);
    }

    #[tokio::test]
    async fn a_callers_next_calls_reuse_their_internal_token_for_a_while() {
        let dev = DevIssuer::generate().unwrap();
        let authn = Authn::new(Authenticator::Development(dev.verifier.clone()), dev.signer.clone());
        let token = dev.signer.mint(&grant(Role::CaseOfficer), Duration::from_secs(600)).unwrap();
        let headers = headers(&format!("Bearer {token}"));
        let now = SystemTime::now();
        let first = authn.authenticate_at(&headers, now).await.unwrap();
        let again = authn.authenticate_at(&headers, now + Duration::from_secs(10)).await.unwrap();
        assert_eq!(first.internal_token, again.internal_token);
        let secs = unix_seconds(now);
        assert!(authn.callers.get(&token, secs + 10).is_some());
        assert!(authn.callers.get(&token, secs + CALLER_REUSE.as_secs()).is_none(), "checked again after the reuse");
    }

    #[tokio::test]
    async fn an_expired_bearer_token_is_refused_although_its_caller_was_remembered() {
        let dev = DevIssuer::generate().unwrap();
        let authn = Authn::new(Authenticator::Development(dev.verifier.clone()), dev.signer.clone());
        let token = dev.signer.mint(&grant(Role::CaseOfficer), Duration::from_secs(20)).unwrap();
        let headers = headers(&format!("Bearer {token}"));
        let now = SystemTime::now();
        let caller = authn.authenticate_at(&headers, now).await.unwrap();
        let internal = dev.verifier.verify_with_expiry(&caller.internal_token).unwrap().1;
        assert!(internal <= now + Duration::from_secs(21), "the internal token never outlives the bearer token");
        let expired = now + Duration::from_secs(120);
        assert!(authn.authenticate_at(&headers, expired).await.is_err());
    }

    #[tokio::test]
    async fn one_callers_remembered_identity_is_never_given_to_another() {
        let dev = DevIssuer::generate().unwrap();
        let authn = Authn::new(Authenticator::Development(dev.verifier.clone()), dev.signer.clone());
        let officer = dev.signer.mint(&grant(Role::CaseOfficer), Duration::from_secs(600)).unwrap();
        let mut other = grant(Role::LaManager);
        other.person = "p-2".into();
        let manager = dev.signer.mint(&other, Duration::from_secs(600)).unwrap();
        for _ in 0..3 {
            let a = authn.authenticate(&headers(&format!("Bearer {officer}"))).await.unwrap();
            let b = authn.authenticate(&headers(&format!("Bearer {manager}"))).await.unwrap();
            assert_eq!(a.grant, grant(Role::CaseOfficer));
            assert_eq!(b.grant, other);
            assert_ne!(a.internal_token, b.internal_token);
        }
        let foreign = DevIssuer::generate().unwrap();
        let forged = foreign.signer.mint(&grant(Role::CaseOfficer), Duration::from_secs(600)).unwrap();
        assert!(authn.authenticate(&headers(&format!("Bearer {forged}"))).await.is_err());
    }
}
