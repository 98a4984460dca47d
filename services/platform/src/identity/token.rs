//! Identity tokens: EdDSA-signed JWTs, minted by an [`IdentitySigner`], checked by
//! an [`IdentityVerifier`] on every call, and sent by clients with [`AttachIdentity`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::{Request, Status};

use super::cache::TokenCache;
use super::{
    AUDIENCE, GATEWAY_ISSUER, Grant, IDENTITY_METADATA_KEY, Identity, LEEWAY_SECONDS, MAX_TOKEN_LIFETIME, Role,
    SERVICE_ISSUER,
};
use crate::ids::{LaCode, Urn};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    school: Option<String>,
    /// A service's token only: the identity token of the person it acts for
    /// (`super::on_behalf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    on_behalf_of: Option<String>,
    iat: u64,
    exp: u64,
}

/// Why a token was refused. Callers only ever see UNAUTHENTICATED; this is for logs.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signature, issuer, audience or expiry failed.
    #[error("token rejected: {0}")]
    Rejected(#[from] jsonwebtoken::errors::Error),
    /// Signed, but its claims do not make a coherent identity.
    #[error("token claims are not a valid identity: {0}")]
    Claims(String),
}

/// Signs identity tokens. The gateway holds one with the production key; the
/// embedded mode holds one with the development key.
#[derive(Clone)]
pub struct IdentitySigner {
    key: Arc<EncodingKey>,
    issuer: String,
}

impl fmt::Debug for IdentitySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentitySigner").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

impl IdentitySigner {
    /// A signer from an Ed25519 private key in PKCS#8 PEM.
    pub fn from_pem(pem: &[u8], issuer: &str) -> Result<Self, String> {
        let key = EncodingKey::from_ed_pem(pem).map_err(|e| format!("not an Ed25519 private key: {e}"))?;
        Ok(Self { key: Arc::new(key), issuer: issuer.to_owned() })
    }

    /// A signer from an Ed25519 private key in PKCS#8 PEM, and the verifier of its
    /// own tokens (for a party that checks what it signed itself, such as the
    /// gateway's web sessions).
    pub fn with_own_verifier(pem: &[u8], issuer: &str) -> Result<(Self, IdentityVerifier), String> {
        use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePublicKey};
        let text = std::str::from_utf8(pem).map_err(|_| "the key is not PEM text".to_owned())?;
        let key =
            ed25519_dalek::SigningKey::from_pkcs8_pem(text).map_err(|e| format!("not an Ed25519 private key: {e}"))?;
        let public = key
            .verifying_key()
            .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map_err(|e| e.to_string())?;
        let verifier = IdentityVerifier::from_public_pems(&[public.into_bytes()], &[issuer])?;
        Ok((Self::from_pem(pem, issuer)?, verifier))
    }

    /// Signs a token for `grant` lasting `lifetime` (at most [`MAX_TOKEN_LIFETIME`]).
    pub fn mint(&self, grant: &Grant, lifetime: Duration) -> Result<String, String> {
        self.mint_acting(grant, lifetime, None)
    }

    /// As [`IdentitySigner::mint`], for a service's `grant` acting for the person
    /// whose verified token is `on_behalf_of` (`super::on_behalf`).
    pub(super) fn mint_acting(
        &self,
        grant: &Grant,
        lifetime: Duration,
        on_behalf_of: Option<&str>,
    ) -> Result<String, String> {
        grant.validate()?;
        if grant.role == Role::Service && self.issuer == GATEWAY_ISSUER {
            return Err("the gateway vouches for people only, never for one of the platform's services".into());
        }
        if grant.role != Role::Service && self.issuer == SERVICE_ISSUER {
            return Err("a service's key vouches for the service only, never for a person".into());
        }
        if on_behalf_of.is_some() && grant.role != Role::Service {
            return Err("only a service's token says whom the service acts for".into());
        }
        if lifetime > MAX_TOKEN_LIFETIME || lifetime.is_zero() {
            return Err(format!("lifetime must be between 1 second and {}h", MAX_TOKEN_LIFETIME.as_secs() / 3600));
        }
        let now = unix_now();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_owned(),
            sub: grant.person.clone(),
            role: grant.role.as_str().to_owned(),
            tenant: grant.tenant.map(|t| t.to_string()),
            school: grant.school.map(|u| u.to_string()),
            on_behalf_of: on_behalf_of.map(str::to_owned),
            iat: now,
            exp: now + lifetime.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &self.key)
            .map_err(|e| format!("signing failed: {e}"))
    }
}

/// Tokens whose verification a verifier remembers at most (about 1 KiB each).
const VERIFIED_CACHE_CAPACITY: usize = 4_096;

/// Verifies identity tokens against the trusted public keys and issuers.
///
/// A token that verified is remembered (by its full text, until its own `exp`;
/// see [`TokenCache`]) so that the caller's next calls skip the signature check.
/// Clones share the memory; a verifier made with other keys has its own.
#[derive(Clone)]
pub struct IdentityVerifier {
    keys: Arc<Vec<DecodingKey>>,
    issuers: Vec<String>,
    verified: Arc<TokenCache<(Identity, u64)>>,
}

impl fmt::Debug for IdentityVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityVerifier").field("keys", &self.keys.len()).field("issuers", &self.issuers).finish()
    }
}

impl IdentityVerifier {
    /// Trusts tokens from `issuers` signed by any of the Ed25519 public keys (SPKI PEM).
    /// Several keys allow rotating the gateway's key without downtime.
    pub fn from_public_pems(pems: &[Vec<u8>], issuers: &[&str]) -> Result<Self, String> {
        if pems.is_empty() {
            return Err("no public key given".into());
        }
        let keys = pems
            .iter()
            .map(|pem| DecodingKey::from_ed_pem(pem).map_err(|e| format!("not an Ed25519 public key: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            keys: Arc::new(keys),
            issuers: issuers.iter().map(|s| (*s).to_owned()).collect(),
            verified: Arc::new(TokenCache::new(VERIFIED_CACHE_CAPACITY)),
        })
    }

    /// Checks signature, issuer, audience and expiry, then the claims' coherence.
    pub fn verify(&self, token: &str) -> Result<Identity, TokenError> {
        self.verify_at(token, unix_now()).map(|(identity, _)| identity)
    }

    /// As [`IdentityVerifier::verify`], with the token's expiry (`exp`) as well.
    pub fn verify_with_expiry(&self, token: &str) -> Result<(Identity, std::time::SystemTime), TokenError> {
        let (identity, exp) = self.verify_at(token, unix_now())?;
        Ok((identity, std::time::UNIX_EPOCH + Duration::from_secs(exp)))
    }

    /// Verifies `token` as at `now` (Unix seconds): the remembered answer while
    /// `now` is before the token's `exp`, else the full check, remembered when it
    /// passes. Returns the identity and the token's `exp`.
    fn verify_at(&self, token: &str, now: u64) -> Result<(Identity, u64), TokenError> {
        if let Some(known) = self.verified.get(token, now) {
            return Ok(known);
        }
        let (claims, exp) = self.check_signature(token)?;
        // The signature check reads the system clock; `now` must agree too.
        if exp.saturating_add(LEEWAY_SECONDS) < now {
            return Err(TokenError::Rejected(jsonwebtoken::errors::ErrorKind::ExpiredSignature.into()));
        }
        let on_behalf_of = claims.on_behalf_of.clone();
        let identity = identity_from_claims(claims, token)?;
        let (identity, exp) = match on_behalf_of {
            None => (identity, exp),
            Some(inner) => {
                // Trusted no longer than the person's own token.
                let (person, inner_exp) = self.verify_person_at(&inner, now)?;
                (identity.acting_for(&person).map_err(TokenError::Claims)?, exp.min(inner_exp))
            }
        };
        self.verified.insert(token, (identity.clone(), exp), exp, now);
        Ok((identity, exp))
    }

    /// Verifies the token of the person a service acts for: a person's token,
    /// never a service's, so it cannot itself act for anyone.
    fn verify_person_at(&self, token: &str, now: u64) -> Result<(Identity, u64), TokenError> {
        let (person, exp) = match self.verified.get(token, now) {
            Some(known) => known,
            None => {
                let (claims, exp) = self.check_signature(token)?;
                if exp.saturating_add(LEEWAY_SECONDS) < now {
                    return Err(TokenError::Rejected(jsonwebtoken::errors::ErrorKind::ExpiredSignature.into()));
                }
                if claims.on_behalf_of.is_some() || claims.role == Role::Service.as_str() {
                    return Err(TokenError::Claims("a service acts for a person, never for another service".into()));
                }
                let person = identity_from_claims(claims, token)?;
                self.verified.insert(token, (person.clone(), exp), exp, now);
                (person, exp)
            }
        };
        if person.role() == Role::Service {
            return Err(TokenError::Claims("a service acts for a person, never for another service".into()));
        }
        Ok((person, exp))
    }

    /// The full check of signature, issuer, audience and expiry: the claims
    /// signed, and the token's `exp`.
    fn check_signature(&self, token: &str) -> Result<(Claims, u64), TokenError> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&self.issuers);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        let mut last_error = None;
        for key in self.keys.iter() {
            match jsonwebtoken::decode::<Claims>(token, key, &validation) {
                Ok(data) => {
                    let exp = data.claims.exp;
                    return Ok((data.claims, exp));
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(TokenError::Rejected(
            last_error.unwrap_or_else(|| jsonwebtoken::errors::ErrorKind::InvalidSignature.into()),
        ))
    }

    /// A tonic interceptor that verifies `x-sen-identity` and attaches the
    /// [`Identity`] to the request; anything else is UNAUTHENTICATED.
    pub fn interceptor(&self) -> VerifyIdentity {
        VerifyIdentity(self.clone())
    }
}

/// The server interceptor made by [`IdentityVerifier::interceptor`]: verifies
/// `x-sen-identity` and attaches the [`Identity`]; anything else is UNAUTHENTICATED.
#[derive(Clone, Debug)]
pub struct VerifyIdentity(IdentityVerifier);

impl tonic::service::Interceptor for VerifyIdentity {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let token = request
            .metadata()
            .get(IDENTITY_METADATA_KEY)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Status::unauthenticated("missing identity token"))?;
        match self.0.verify(token) {
            Ok(identity) => {
                request.extensions_mut().insert(identity);
                Ok(request)
            }
            Err(e) => {
                tracing::info!(reason = %e, "identity token refused");
                Err(Status::unauthenticated("invalid identity token"))
            }
        }
    }
}

/// A client interceptor that sends an identity token with every call, together
/// with the current trace context. Used by the gateway, the CLI and tests.
#[derive(Clone, Debug)]
pub struct AttachIdentity {
    token: tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
}

impl AttachIdentity {
    /// Sends `token` as `x-sen-identity`.
    pub fn new(token: &str) -> Result<Self, String> {
        token
            .parse()
            .map(|token| Self { token })
            .map_err(|_| "the token has characters that cannot be sent in metadata".to_owned())
    }
}

impl tonic::service::Interceptor for AttachIdentity {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request.metadata_mut().insert(IDENTITY_METADATA_KEY, self.token.clone());
        crate::telemetry::inject_trace_context(request.metadata_mut());
        Ok(request)
    }
}

/// A client interceptor that sends a bearer token (`authorization: Bearer …`),
/// as callers outside the platform do when they call the gateway, together with
/// the current trace context. Used by the `sen` client and tests.
#[derive(Clone, Debug)]
pub struct AttachBearer {
    value: tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
}

impl AttachBearer {
    /// Sends `token` as the bearer token.
    pub fn new(token: &str) -> Result<Self, String> {
        format!("Bearer {}", token.trim())
            .parse()
            .map(|value| Self { value })
            .map_err(|_| "the token has characters that cannot be sent in metadata".to_owned())
    }
}

impl tonic::service::Interceptor for AttachBearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request.metadata_mut().insert("authorization", self.value.clone());
        crate::telemetry::inject_trace_context(request.metadata_mut());
        Ok(request)
    }
}

fn identity_from_claims(claims: Claims, token: &str) -> Result<Identity, TokenError> {
    let role = Role::parse(&claims.role).map_err(TokenError::Claims)?;
    // What the gateway signs is a person's identity; a service's comes from the
    // service's own key (or, embedded, the development issuer).
    if role == Role::Service && claims.iss == GATEWAY_ISSUER {
        return Err(TokenError::Claims("the gateway never vouches for a service".into()));
    }
    if role != Role::Service && claims.iss == SERVICE_ISSUER {
        return Err(TokenError::Claims("a service's key never vouches for a person".into()));
    }
    if role != Role::Service && claims.on_behalf_of.is_some() {
        return Err(TokenError::Claims("only a service's token says whom the service acts for".into()));
    }
    let tenant = claims.tenant.as_deref().map(LaCode::parse).transpose().map_err(TokenError::Claims)?;
    let school = claims.school.as_deref().map(Urn::parse).transpose().map_err(TokenError::Claims)?;
    let grant = Grant { person: claims.sub, role, tenant, school };
    grant.validate().map_err(TokenError::Claims)?;
    Ok(Identity::verified(grant.person, role, tenant, school, token))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::super::tests::grant;
    use super::super::{DEV_ISSUER, DevIssuer};
    use super::*;

    #[test]
    fn a_minted_token_verifies_to_the_same_identity() {
        let dev = DevIssuer::generate().unwrap();
        let token = dev.signer.mint(&grant(Role::Senco, Some("886"), Some("100001")), Duration::from_secs(60)).unwrap();
        let who = dev.verifier.verify(&token).unwrap();
        assert_eq!(who.role(), Role::Senco);
        assert_eq!(who.person(), "p-1");
        let scope = who.scope().unwrap();
        assert_eq!(scope.school().map(|u| u.get()), Some(100001));
        assert_eq!(scope.tenant().key(), "886");
    }

    #[test]
    fn tokens_from_another_key_or_issuer_are_refused() {
        let dev = DevIssuer::generate().unwrap();
        let other = DevIssuer::generate().unwrap();
        let token = other.signer.mint(&grant(Role::LaManager, Some("886"), None), Duration::from_secs(60)).unwrap();
        assert!(dev.verifier.verify(&token).is_err());
        assert!(dev.verifier.verify("not.a.token").is_err());

        let gateway_only = IdentityVerifier {
            issuers: vec![GATEWAY_ISSUER.into()],
            verified: Arc::new(TokenCache::new(8)),
            ..dev.verifier.clone()
        };
        let dev_token = dev.signer.mint(&grant(Role::LaManager, Some("886"), None), Duration::from_secs(60)).unwrap();
        assert!(gateway_only.verify(&dev_token).is_err(), "development tokens are not gateway tokens");
    }

    #[test]
    fn the_gateway_neither_mints_nor_passes_a_service_token() {
        let dev = DevIssuer::generate().unwrap();
        let gateway = IdentitySigner { issuer: GATEWAY_ISSUER.into(), ..dev.signer.clone() };
        let every_tenant = grant(Role::Service, None, None);
        assert!(gateway.mint(&every_tenant, Duration::from_secs(60)).unwrap_err().contains("never"));
        assert!(gateway.mint(&grant(Role::Service, Some("886"), None), Duration::from_secs(60)).is_err());
        assert!(gateway.mint(&grant(Role::LaManager, Some("886"), None), Duration::from_secs(60)).is_ok());

        // Signed with the gateway's key by other means, it is still refused.
        let claims = Claims {
            iss: GATEWAY_ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: "caseloads".into(),
            role: "service".into(),
            tenant: None,
            school: None,
            on_behalf_of: None,
            iat: unix_now(),
            exp: unix_now() + 60,
        };
        let forged = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &dev.signer.key).unwrap();
        let trusting_the_gateway = IdentityVerifier {
            issuers: vec![GATEWAY_ISSUER.into(), DEV_ISSUER.into()],
            verified: Arc::new(TokenCache::new(8)),
            ..dev.verifier.clone()
        };
        assert!(matches!(trusting_the_gateway.verify(&forged), Err(TokenError::Claims(_))));
        let service = dev.signer.mint(&every_tenant, Duration::from_secs(60)).unwrap();
        assert!(trusting_the_gateway.verify(&service).unwrap().is_for_every_tenant(), "the service's own issuer may");
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let dev = DevIssuer::generate().unwrap();
        let token = dev.signer.mint(&grant(Role::CaseOfficer, Some("886"), None), Duration::from_secs(60)).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let body = format!(
            r#"{{"iss":"{DEV_ISSUER}","aud":"{AUDIENCE}","sub":"p-1","role":"la_manager","tenant":"887","iat":1,"exp":{}}}"#,
            unix_now() + 60
        );
        use base64::Engine;
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body);
        assert!(dev.verifier.verify(&parts.join(".")).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let dev = DevIssuer::generate().unwrap();
        let claims = Claims {
            iss: DEV_ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: "p-1".into(),
            role: "la_manager".into(),
            tenant: Some("886".into()),
            school: None,
            on_behalf_of: None,
            iat: unix_now() - 600,
            exp: unix_now() - LEEWAY_SECONDS - 1,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &dev.signer.key).unwrap();
        assert!(dev.verifier.verify(&token).is_err());
    }

    #[test]
    fn an_expired_token_is_refused_although_its_verification_was_remembered() {
        let dev = DevIssuer::generate().unwrap();
        let token = dev.signer.mint(&grant(Role::LaManager, Some("886"), None), Duration::from_secs(60)).unwrap();
        let now = unix_now();
        let (_, exp) = dev.verifier.verify_at(&token, now).unwrap();
        assert_eq!(dev.verifier.verified.len(), 1, "the verification is remembered");
        assert!(dev.verifier.verify_at(&token, exp - 1).is_ok());
        assert!(dev.verifier.verify_at(&token, exp + LEEWAY_SECONDS + 1).is_err(), "refused once expired");

        // A token that expired for real, remembered as if checked while it was good.
        let claims = Claims {
            iss: DEV_ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: "p-1".into(),
            role: "la_manager".into(),
            tenant: Some("886".into()),
            school: None,
            on_behalf_of: None,
            iat: now - 600,
            exp: now - LEEWAY_SECONDS - 1,
        };
        let stale = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &dev.signer.key).unwrap();
        let who = Identity::verified("p-1".into(), Role::LaManager, LaCode::parse("886").ok(), None, &stale);
        dev.verifier.verified.insert(&stale, (who, claims.exp), claims.exp, claims.exp - 60);
        assert!(dev.verifier.verify(&stale).is_err());
    }

    #[test]
    fn a_remembered_token_never_answers_for_another_caller() {
        let dev = DevIssuer::generate().unwrap();
        let senco = dev.signer.mint(&grant(Role::Senco, Some("886"), Some("100001")), Duration::from_secs(60)).unwrap();
        let manager = dev.signer.mint(&grant(Role::LaManager, Some("887"), None), Duration::from_secs(60)).unwrap();
        for _ in 0..3 {
            let who = dev.verifier.verify(&senco).unwrap();
            assert_eq!((who.role(), who.token()), (Role::Senco, senco.as_str()));
            let who = dev.verifier.verify(&manager).unwrap();
            assert_eq!((who.role(), who.tenant().map(|t| t.to_string())), (Role::LaManager, Some("887".into())));
        }
        let mut forged: Vec<String> = senco.split('.').map(str::to_owned).collect();
        forged[2] = forged[2].chars().rev().collect();
        assert!(dev.verifier.verify(&forged.join(".")).is_err(), "a remembered token's claims with another signature");
    }

    #[test]
    fn a_verifier_trusting_other_keys_trusts_nothing_another_remembered() {
        let old = DevIssuer::generate().unwrap();
        let token = old.signer.mint(&grant(Role::LaManager, Some("886"), None), Duration::from_secs(60)).unwrap();
        assert!(old.verifier.verify(&token).is_ok());
        let rotated = DevIssuer::generate().unwrap();
        assert!(rotated.verifier.verify(&token).is_err(), "the old key stops working with the new verifier");
    }
}
