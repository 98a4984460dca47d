//! The keys that sign web session cookies: the current gateway key signs, and
//! the keys it replaced (`SEN_GATEWAY_PREVIOUS_KEY_FILES`) still verify, so that
//! rotating the gateway key signs nobody out. A key taken out of the set no
//! longer verifies anything it signed: those sessions end.
//!
//! Each key is an HMAC-SHA256 key derived from a gateway private key (its DER
//! body, so the same key written with other line breaks is the same key), with
//! a short public id derived from it in turn, which a cookie names so that the
//! right key is tried first and the store can tell which key made a session.
//! Every replica given the same key files derives the same keys.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// One key of the set.
#[derive(Clone)]
pub struct SessionKey {
    id: String,
    hmac: ring::hmac::Key,
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The id only: it is derived one-way and says nothing of the key.
        f.debug_struct("SessionKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl SessionKey {
    /// The key derived from a gateway private key (PKCS#8 PEM).
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        let der = pem_body(pem)?;
        let mut material = b"sen-web-session\0".to_vec();
        material.extend_from_slice(&der);
        let secret = ring::digest::digest(&ring::digest::SHA256, &material);
        let mut named = b"sen-web-session-key-id\0".to_vec();
        named.extend_from_slice(secret.as_ref());
        let id = URL_SAFE_NO_PAD.encode(&ring::digest::digest(&ring::digest::SHA256, &named).as_ref()[..12]);
        Ok(Self { id, hmac: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_ref()) })
    }

    /// The key's public id (16 characters of base64url).
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The DER bytes of a PEM block, whatever its line breaks.
fn pem_body(pem: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(pem).map_err(|_| "the key file is not PEM text".to_owned())?;
    let body: String = text
        .lines()
        .map(str::trim)
        .skip_while(|line| !line.starts_with("-----BEGIN "))
        .skip(1)
        .take_while(|line| !line.starts_with("-----END "))
        .collect();
    if body.is_empty() {
        return Err("the key file holds no PEM block".into());
    }
    STANDARD.decode(body).map_err(|_| "the key file's PEM block is not base64".into())
}

/// The current key and those still accepted.
#[derive(Clone, Debug)]
pub struct SessionKeySet {
    current: SessionKey,
    previous: Vec<SessionKey>,
}

impl SessionKeySet {
    /// A set signing with `current` and also accepting `previous`.
    pub fn new(current: SessionKey, previous: Vec<SessionKey>) -> Self {
        let previous = previous.into_iter().filter(|key| key.id != current.id).collect();
        Self { current, previous }
    }

    /// The id of the key that signs new cookies.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// The ids of every key the set accepts, the current first.
    pub fn ids(&self) -> Vec<String> {
        std::iter::once(&self.current).chain(&self.previous).map(|key| key.id.clone()).collect()
    }

    /// `payload` signed with the current key: `payload.key-id.tag`. The payload
    /// must be base64url (no dots).
    pub fn sign(&self, payload: &str) -> String {
        let signed = format!("{payload}.{}", self.current.id);
        let tag = ring::hmac::sign(&self.current.hmac, signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The payload of `value` and the id of the key that signed it, if a key of
    /// the set did.
    pub fn verify<'a>(&self, value: &'a str) -> Option<(&'a str, &'a str)> {
        let (signed, tag) = value.rsplit_once('.')?;
        let (payload, id) = signed.rsplit_once('.')?;
        let key = std::iter::once(&self.current).chain(&self.previous).find(|key| key.id == id)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        ring::hmac::verify(&key.hmac, signed.as_bytes(), &tag).ok()?;
        Some((payload, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn pem() -> String {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF).unwrap().to_string()
    }

    #[test]
    fn the_same_key_written_differently_is_the_same_session_key() {
        let pem = pem();
        let crlf = pem.replace('\n', "\r\n");
        assert_eq!(
            SessionKey::from_pem(pem.as_bytes()).unwrap().id(),
            SessionKey::from_pem(crlf.as_bytes()).unwrap().id()
        );
        assert_ne!(
            SessionKey::from_pem(pem.as_bytes()).unwrap().id(),
            SessionKey::from_pem(self::pem().as_bytes()).unwrap().id()
        );
        assert!(SessionKey::from_pem(b"not a key").is_err());
        assert!(!format!("{:?}", SessionKey::from_pem(pem.as_bytes()).unwrap()).contains("hmac"));
    }

    #[test]
    fn a_previous_key_still_verifies_and_a_removed_one_does_not() {
        let old = SessionKey::from_pem(pem().as_bytes()).unwrap();
        let new = SessionKey::from_pem(pem().as_bytes()).unwrap();
        let before = SessionKeySet::new(old.clone(), Vec::new());
        let cookie = before.sign("cGF5bG9hZA");
        assert_eq!(before.verify(&cookie), Some(("cGF5bG9hZA", old.id())));

        let rotated = SessionKeySet::new(new.clone(), vec![old.clone()]);
        assert_eq!(rotated.verify(&cookie), Some(("cGF5bG9hZA", old.id())), "a rotated key keeps its cookies");
        assert_eq!(rotated.ids(), vec![new.id().to_owned(), old.id().to_owned()]);
        assert!(rotated.sign("x").contains(new.id()), "the current key signs");

        let removed = SessionKeySet::new(new, Vec::new());
        assert_eq!(removed.verify(&cookie), None, "a removed key's cookies no longer verify");
    }

    #[test]
    fn a_tampered_cookie_is_refused() {
        let set = SessionKeySet::new(SessionKey::from_pem(pem().as_bytes()).unwrap(), Vec::new());
        let cookie = set.sign("cGF5bG9hZA");
        let (_, rest) = cookie.split_once('.').unwrap();
        assert_eq!(set.verify(&format!("cGF5bG9hZB.{rest}")), None);
        assert_eq!(set.verify(&format!("{cookie}x")), None);
        assert_eq!(set.verify("no-dots"), None);
        assert_eq!(set.verify(""), None);
    }
}
