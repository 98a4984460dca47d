//! Web sessions: made at sign-in, checked on every page, ended for real; and
//! the CSRF token every form carries, bound to the session.
//!
//! Each sign-in is a row in the gateway's session store
//! ([`sen_gateway::sessions`]), shared by every replica; the cookie carries the
//! session's random id with who signed in and when the session expires, signed
//! with the gateway's session key set, so a forged or expired cookie is refused
//! before the store is asked. Every page request then asks the store whether the
//! session is still live: signing out, `sen sessions end`, a failed re-check at
//! the identity provider or a key taken out of the set ends it on every replica
//! at the next request. (The limits of the front door recognise the person from
//! the signed cookie alone, [`Sessions::grant_of`]; that only decides whose
//! allowance a request uses, never what it may see.)
//!
//! The cookie is `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` whenever the
//! gateway serves TLS or runs in production. A form's CSRF token is a digest of
//! the session cookie: a page of another site can neither read the cookie nor so
//! compute the token.
//!
//! A handler gets its [`Session`] as an extractor ([`crate::state`]); the checks
//! that refuse with a page (the role, the CSRF token) are with the pages they
//! answer ([`crate::refusals`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::request::Parts;
use sen_gateway::caller::Caller;
use sen_gateway::sessions::{self, EndReason, NewSession, SessionKeySet, SessionStore};
use sen_platform::identity::{Grant, Role};
use sen_platform::ids::{LaCode, Urn};
use serde::{Deserialize, Serialize};

/// How long a sign-in lasts: a working day.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(9 * 3600);
/// The session cookie's name.
pub const COOKIE: &str = "sen_session";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// What a session cookie says, signed.
#[derive(Debug, Deserialize, Serialize)]
struct Claims {
    /// The session's id (base64url of 32 random bytes).
    sid: String,
    /// The person.
    p: String,
    /// Their role.
    r: String,
    /// Their authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<String>,
    /// Their school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    /// Their name, as the identity provider (or the demo) gave it at sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    /// When the session expires (Unix seconds).
    exp: i64,
}

/// The longest name a session carries (a cookie is small).
const NAME_MAX: usize = 100;

/// A person's name fit to show: one line, trimmed, at most [`NAME_MAX`]
/// characters; none when empty.
fn shown_name(name: Option<&str>) -> Option<String> {
    let name = name?.split_whitespace().collect::<Vec<_>>().join(" ");
    let name: String = name.chars().filter(|c| !c.is_control()).take(NAME_MAX).collect();
    (!name.is_empty()).then_some(name)
}

impl Claims {
    fn grant(&self) -> Option<Grant> {
        Some(Grant {
            person: self.p.clone(),
            role: Role::parse(&self.r).ok()?,
            tenant: self.t.as_deref().map(LaCode::parse).transpose().ok()?,
            school: self.s.as_deref().map(Urn::parse).transpose().ok()?,
        })
    }
}

/// A session the store says is live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSession {
    /// Who signed in, as what (as the store has it).
    pub grant: Grant,
    /// The digest under which the store keeps it.
    pub id_digest: String,
    /// When the identity provider last confirmed it (Unix seconds).
    pub checked_at: i64,
    /// Their name, as the signed cookie carries it.
    pub name: Option<String>,
}

/// Whether a session must be confirmed at the identity provider again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recheck {
    /// Confirmed recently enough.
    NotDue,
    /// Due: a page load goes by the provider first.
    Due,
    /// Long overdue: nothing is done until it is confirmed.
    Overdue,
}

/// Makes, checks and ends web sessions.
#[derive(Clone, Debug)]
pub struct Sessions {
    keys: SessionKeySet,
    store: SessionStore,
    recheck: Option<Duration>,
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

impl Sessions {
    /// Sessions signed with `keys`, kept in `store`; a provider sign-in is
    /// confirmed again every `recheck` (none: the demo people, never).
    pub fn new(keys: SessionKeySet, store: SessionStore, recheck: Option<Duration>) -> Self {
        Self { keys, store, recheck }
    }

    /// The store the sessions are kept in.
    pub fn store(&self) -> &SessionStore {
        &self.store
    }

    /// Starts a session for `grant`: its row in the store, and the `Set-Cookie`
    /// value that carries it.
    pub async fn sign_in(&self, grant: &Grant, secure: bool) -> Result<String, String> {
        self.sign_in_named(grant, None, secure).await
    }

    /// As [`Sessions::sign_in`], for a person whose name is known: the signed
    /// cookie carries it, for the pages to greet them by (never for access).
    pub async fn sign_in_named(&self, grant: &Grant, name: Option<&str>, secure: bool) -> Result<String, String> {
        let id = sessions::new_id()?;
        let id_digest = sessions::digest(&id);
        let created_at = now();
        let expires_at = created_at + SESSION_LIFETIME.as_secs() as i64;
        let claims = Claims {
            sid: URL_SAFE_NO_PAD.encode(id),
            p: grant.person.clone(),
            r: grant.role.as_str().to_owned(),
            t: grant.tenant.map(|t| t.to_string()),
            s: grant.school.map(|s| s.to_string()),
            n: shown_name(name),
            exp: expires_at,
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).map_err(|e| e.to_string())?);
        let session =
            NewSession { id_digest: &id_digest, grant, key_id: self.keys.current_id(), created_at, expires_at };
        self.store.begin(session).await.map_err(|e| format!("cannot record the session: {e:#}"))?;
        Ok(format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
            self.keys.sign(&payload),
            SESSION_LIFETIME.as_secs(),
            if secure { "; Secure" } else { "" }
        ))
    }

    /// The `Set-Cookie` value that clears the session cookie.
    pub fn sign_out(secure: bool) -> String {
        format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", if secure { "; Secure" } else { "" })
    }

    /// The claims of a cookie a key of the set signed and that has not expired.
    fn claims(&self, value: &str, now: i64) -> Option<Claims> {
        let (payload, _) = self.keys.verify(value)?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (claims.exp > now).then_some(claims)
    }

    /// Who a cookie signs in, from the signature alone (the store is not asked):
    /// for the front door's limits, never for access.
    pub fn grant_of(&self, value: &str) -> Option<Grant> {
        self.claims(value, now())?.grant().filter(|grant| grant.role != Role::Service)
    }

    /// The digest under which the store keeps a signed cookie's session.
    pub fn digest_of(&self, value: &str) -> Option<String> {
        let claims = self.claims(value, now())?;
        Some(sessions::digest(&URL_SAFE_NO_PAD.decode(claims.sid).ok()?))
    }

    /// The live session of a cookie's value: signed by a key of the set, not
    /// expired, and live in the store. `Ok(None)` for any cookie that is not;
    /// `Err` only when the store cannot answer.
    pub async fn check(&self, value: &str) -> anyhow::Result<Option<LiveSession>> {
        let now = now();
        let Some(claims) = self.claims(value, now) else { return Ok(None) };
        let Ok(id) = URL_SAFE_NO_PAD.decode(&claims.sid) else { return Ok(None) };
        let id_digest = sessions::digest(&id);
        let Some(stored) = self.store.find(&id_digest).await? else { return Ok(None) };
        if !stored.is_live(now) || stored.grant.role == Role::Service {
            return Ok(None);
        }
        let name = shown_name(claims.n.as_deref());
        Ok(Some(LiveSession { grant: stored.grant, id_digest, checked_at: stored.checked_at, name }))
    }

    /// Whether `session` must be confirmed at the identity provider at `now`:
    /// due after the re-check interval, overdue after twice it (a form sent
    /// from a page loaded just before the interval ran out still goes through).
    pub fn recheck(&self, session: &LiveSession, now: i64) -> Recheck {
        let Some(interval) = self.recheck else { return Recheck::NotDue };
        let age = now.saturating_sub(session.checked_at);
        let interval = interval.as_secs() as i64;
        if age >= 2 * interval {
            Recheck::Overdue
        } else if age >= interval {
            Recheck::Due
        } else {
            Recheck::NotDue
        }
    }

    /// Records that the identity provider confirmed `session` just now.
    pub async fn confirmed(&self, session: &LiveSession) -> anyhow::Result<bool> {
        self.store.confirmed(&session.id_digest, now()).await
    }

    /// Ends one session.
    pub async fn end(&self, session: &LiveSession, reason: EndReason) -> anyhow::Result<bool> {
        self.store.end(&session.id_digest, now(), reason).await
    }

    /// Ends every session of the person of `grant` in their authority.
    pub async fn end_person(&self, grant: &Grant, reason: EndReason) -> anyhow::Result<u64> {
        self.store.end_person(&grant.person, grant.tenant, now(), reason).await
    }
}

/// The signed-in person of a page request.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who they are, with the internal token for this request's service calls.
    pub caller: Caller,
    /// The token this session's forms carry.
    pub csrf: String,
    /// Their name, when their sign-in gave one.
    pub name: Option<String>,
}

impl Session {
    /// Their role.
    pub fn role(&self) -> Role {
        self.caller.grant.role
    }

    /// The signed-in person's stable id.
    pub fn person(&self) -> &str {
        &self.caller.grant.person
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

    pub(crate) fn key_pem() -> String {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).unwrap().to_string()
    }

    async fn sessions(dir: &std::path::Path, keys: SessionKeySet, recheck: Option<Duration>) -> Sessions {
        let url = sen_platform::config::sqlite_url(&dir.join("data").join("gateway.db"));
        let store = SessionStore::connect(&url, &Default::default()).await.unwrap();
        Sessions::new(keys, store, recheck)
    }

    fn key_set() -> SessionKeySet {
        SessionKeySet::new(sessions::SessionKey::from_pem(key_pem().as_bytes()).unwrap(), Vec::new())
    }

    fn value(set_cookie: &str) -> &str {
        set_cookie.split(';').next().unwrap().strip_prefix("sen_session=").unwrap()
    }

    #[tokio::test]
    async fn a_signed_in_cookie_checks_out_to_the_same_person_until_the_session_ends() {
        let dir = tempfile::tempdir().unwrap();
        let sessions = sessions(dir.path(), key_set(), None).await;
        let grant =
            Grant { person: "mgr-1".into(), role: Role::LaManager, tenant: LaCode::parse("990").ok(), school: None };
        let header = sessions.sign_in(&grant, true).await.unwrap();
        assert!(header.contains("HttpOnly") && header.contains("SameSite=Lax") && header.contains("Secure"));
        let value = value(&header);
        let live = sessions.check(value).await.unwrap().expect("live");
        assert_eq!(live.grant, grant);
        assert_eq!(sessions.grant_of(value), Some(grant.clone()));
        assert_eq!(sessions.digest_of(value).as_deref(), Some(live.id_digest.as_str()));
        assert_eq!(sessions.check(&format!("{value}x")).await.unwrap(), None, "tampered");
        assert_eq!(live.name, None, "no name given, none shown");

        assert!(sessions.end(&live, EndReason::SignedOut).await.unwrap());
        assert_eq!(sessions.check(value).await.unwrap(), None, "an ended session's cookie no longer works");
    }

    #[tokio::test]
    async fn another_gateway_key_does_not_accept_the_cookie() {
        let dir = tempfile::tempdir().unwrap();
        let ours = sessions(dir.path(), key_set(), None).await;
        let theirs = Sessions::new(key_set(), ours.store().clone(), None);
        let grant = Grant { person: "op".into(), role: Role::PlatformOperator, tenant: None, school: None };
        let header = ours.sign_in(&grant, false).await.unwrap();
        assert!(!header.contains("Secure"));
        assert!(ours.check(value(&header)).await.unwrap().is_some());
        assert_eq!(theirs.check(value(&header)).await.unwrap(), None);
        assert_eq!(theirs.grant_of(value(&header)), None);
    }

    #[tokio::test]
    async fn a_provider_sign_in_is_due_for_a_recheck_after_the_interval() {
        let dir = tempfile::tempdir().unwrap();
        let sessions = sessions(dir.path(), key_set(), Some(Duration::from_secs(3600))).await;
        let live = LiveSession {
            grant: Grant { person: "p".into(), role: Role::PlatformOperator, tenant: None, school: None },
            id_digest: "d".into(),
            checked_at: 1_000_000,
            name: None,
        };
        assert_eq!(sessions.recheck(&live, 1_000_000 + 3599), Recheck::NotDue);
        assert_eq!(sessions.recheck(&live, 1_000_000 + 3600), Recheck::Due);
        assert_eq!(sessions.recheck(&live, 1_000_000 + 7200), Recheck::Overdue);
        let demo = Sessions::new(key_set(), sessions.store().clone(), None);
        assert_eq!(demo.recheck(&live, 1_000_000 + 100_000), Recheck::NotDue, "the demo people are never re-checked");
    }

    #[tokio::test]
    async fn the_name_given_at_sign_in_comes_back_with_the_session_fit_to_show() {
        let dir = tempfile::tempdir().unwrap();
        let sessions = sessions(dir.path(), key_set(), None).await;
        let grant =
            Grant { person: "m-1".into(), role: Role::LaManager, tenant: LaCode::parse("990").ok(), school: None };
        let header = sessions.sign_in_named(&grant, Some("  Claire\n Whitmore "), false).await.unwrap();
        let live = sessions.check(value(&header)).await.unwrap().expect("live");
        assert_eq!(live.name.as_deref(), Some("Claire Whitmore"));
        let long = "x".repeat(500);
        let header = sessions.sign_in_named(&grant, Some(&long), false).await.unwrap();
        let live = sessions.check(value(&header)).await.unwrap().expect("live");
        assert_eq!(live.name.map(|n| n.chars().count()), Some(NAME_MAX));
        let header = sessions.sign_in_named(&grant, Some(" "), false).await.unwrap();
        assert_eq!(sessions.check(value(&header)).await.unwrap().expect("live").name, None);
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
