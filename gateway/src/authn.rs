//! Who is calling: the bearer token checked, then the short-lived internal
//! identity token minted that the services trust.
//!
//! In production the bearer token comes from the authority's OpenID Connect
//! provider ([`crate::oidc`]). In the embedded mode it comes from the development
//! issuer (`sen token`, the demo sign-in); production never accepts those.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use sen_platform::identity::{Grant, IdentitySigner, IdentityVerifier};

use crate::caller::Caller;
use crate::oidc::{AuthError, OidcVerifier};

/// The longest an internal token lives; shorter when the bearer token expires sooner.
const INTERNAL_LIFETIME: Duration = Duration::from_secs(300);

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
#[derive(Clone, Debug)]
pub struct Authn {
    authenticator: Authenticator,
    signer: IdentitySigner,
}

impl Authn {
    /// Checks bearer tokens with `authenticator`; mints internal tokens with `signer`.
    pub fn new(authenticator: Authenticator, signer: IdentitySigner) -> Self {
        Self { authenticator, signer }
    }

    /// The caller of a request with these headers: `authorization: Bearer <token>`
    /// (HTTP and gRPC alike).
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Refusal> {
        let token = bearer(headers).ok_or(Refusal::unauthenticated("a bearer token is required"))?;
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
            Authenticator::Development(verifier) => match verifier.verify(token) {
                Ok(identity) => {
                    let grant = Grant {
                        person: identity.person().to_owned(),
                        role: identity.role(),
                        tenant: identity.tenant(),
                        school: identity.scope().ok().and_then(|s| s.school()),
                    };
                    (grant, SystemTime::now() + INTERNAL_LIFETIME)
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
        let remaining = expires_at.duration_since(SystemTime::now()).unwrap_or_default();
        let lifetime = remaining.min(INTERNAL_LIFETIME).max(Duration::from_secs(1));
        let internal_token = self.signer.mint(&grant, lifetime).map_err(|e| {
            tracing::error!(error = %e, "cannot mint an internal identity token");
            Refusal::unauthenticated("the identity could not be passed on")
        })?;
        Ok(Caller { grant, internal_token })
    }
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
}
