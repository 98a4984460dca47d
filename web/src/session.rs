//! Web sessions: a signed cookie naming the person, role, authority and school,
//! made at sign-in and checked on every page; and the CSRF token every form
//! carries, bound to the session.
//!
//! The cookie is a token signed with the gateway's key under its own issuer
//! (`sen-web-session`), so any replica of the gateway can check it and no
//! service accepts it. It is `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure`
//! whenever the gateway serves TLS or runs in production. A form's CSRF token is
//! a digest of the session cookie: a page of another site can neither read the
//! cookie nor so compute the token.
//!
//! A handler gets its [`Session`] as an extractor ([`crate::state`]); the checks
//! that refuse with a page (the role, the CSRF token) are with the pages they
//! answer ([`crate::refusals`]).

use std::time::Duration;

use base64::Engine;
use http::request::Parts;
use sen_gateway::caller::Caller;
use sen_platform::identity::{Grant, IdentitySigner, IdentityVerifier, Role};

/// The issuer of session cookies; no service trusts it.
pub const SESSION_ISSUER: &str = "sen-web-session";
/// How long a sign-in lasts: a working day.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(9 * 3600);
/// The session cookie's name.
pub const COOKIE: &str = "sen_session";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// Signs and checks session cookies.
#[derive(Clone, Debug)]
pub struct SessionKeys {
    signer: IdentitySigner,
    verifier: IdentityVerifier,
}

impl SessionKeys {
    /// Keys from the gateway's Ed25519 private key (PKCS#8 PEM).
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        let (signer, verifier) = IdentitySigner::with_own_verifier(pem, SESSION_ISSUER)?;
        Ok(Self { signer, verifier })
    }

    /// The `Set-Cookie` value that signs `grant` in.
    pub fn sign_in(&self, grant: &Grant, secure: bool) -> Result<String, String> {
        let token = self.signer.mint(grant, SESSION_LIFETIME)?;
        Ok(format!(
            "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
            SESSION_LIFETIME.as_secs(),
            if secure { "; Secure" } else { "" }
        ))
    }

    /// The `Set-Cookie` value that signs out.
    pub fn sign_out(secure: bool) -> String {
        format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", if secure { "; Secure" } else { "" })
    }

    /// The grant of a session cookie's value, if this gateway's key signed it and
    /// it has not expired.
    pub fn check(&self, token: &str) -> Option<Grant> {
        let identity = self.verifier.verify(token).ok()?;
        let grant = Grant {
            person: identity.person().to_owned(),
            role: identity.role(),
            tenant: identity.tenant(),
            school: identity.scope().ok().and_then(|s| s.school()),
        };
        (grant.role != Role::Service).then_some(grant)
    }
}

/// The signed-in person of a page request.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who they are, with the internal token for this request's service calls.
    pub caller: Caller,
    /// The token this session's forms carry.
    pub csrf: String,
}

impl Session {
    /// Their role.
    pub fn role(&self) -> Role {
        self.caller.grant.role
    }

    /// Whether `sent` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, sent: &str) -> bool {
        constant_time_eq(sent.as_bytes(), self.csrf.as_bytes())
    }
}

/// Whether `a` and `b` are equal, taking the same time wherever they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The CSRF token of a session cookie.
pub fn csrf_of(cookie: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, cookie.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// The session cookie's value in a request, if any.
pub fn cookie(parts: &Parts) -> Option<&str> {
    cookie_in(&parts.headers)
}

/// The session cookie's value among `headers`, if any.
pub fn cookie_in(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// Percent-encodes everything but unreserved characters and `/`.
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sen_platform::ids::LaCode;

    fn keys() -> SessionKeys {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        let pem = key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).unwrap();
        SessionKeys::from_pem(pem.as_bytes()).unwrap()
    }

    #[test]
    fn a_signed_in_cookie_checks_out_to_the_same_person_and_a_tampered_one_does_not() {
        let keys = keys();
        let grant =
            Grant { person: "mgr-1".into(), role: Role::LaManager, tenant: LaCode::parse("990").ok(), school: None };
        let header = keys.sign_in(&grant, true).unwrap();
        assert!(header.contains("HttpOnly") && header.contains("SameSite=Lax") && header.contains("Secure"));
        let value = header.split(';').next().unwrap().strip_prefix("sen_session=").unwrap();
        assert_eq!(keys.check(value), Some(grant));
        assert_eq!(keys.check(&format!("{value}x")), None);
        assert_eq!(self::keys().check(value), None, "another gateway key does not accept it");
    }

    #[test]
    fn the_csrf_token_is_bound_to_the_session() {
        assert_eq!(csrf_of("a"), csrf_of("a"));
        assert_ne!(csrf_of("a"), csrf_of("b"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn a_return_address_is_encoded_and_kept_on_this_site() {
        assert_eq!(url_encode("/referrals?status=open&page=2"), "/referrals%3Fstatus%3Dopen%26page%3D2");
    }
}
