//! Web sessions kept by the gateway, so that a session ends when it is ended:
//! on signing out, when an operator ends a person's sessions, when the identity
//! provider stops confirming a person's role, or when the key that signed it is
//! taken out of the key set.
//!
//! Each sign-in is a row in the session store ([`SessionStore`]) that every
//! replica of the gateway shares: a SQLite file in the data folder in the
//! embedded mode, PostgreSQL in production (`SEN_GATEWAY_DATABASE_URL`,
//! [`SessionSettings`]). The row is found by a SHA-256 digest of the session's
//! random 256-bit id; the id itself is only ever in the person's cookie, so a
//! copy of the store signs nobody in. The cookie is signed too ([`keys`]), so a
//! forged one is refused before the store is asked.
//!
//! The web pages ask the store on every request (one lookup by primary key), so
//! an ended session stops working on every replica at the next request: there is
//! no cache to wait out.

pub mod entity;
pub mod exports;
pub mod keys;
pub mod migration;
pub mod settings;
pub mod store;
#[cfg(test)]
mod tests;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sen_platform::config::Config;

pub use exports::{ExportRecord, NewExport};
pub use keys::{SessionKey, SessionKeySet};
pub use settings::SessionSettings;
pub use store::{EndReason, NewSession, SessionStore, StoredSession};

use crate::signing_key::SigningKey;

/// How long rows of expired sessions are kept (for the record of who was
/// signed in when) before they are deleted.
pub const KEPT_AFTER_EXPIRY_SECONDS: i64 = 30 * 24 * 3600;

/// The digest of a session id under which the store keeps it.
pub fn digest(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, id).as_ref())
}

/// A fresh random session id: 256 bits from the operating system.
pub fn new_id() -> Result<[u8; 32], String> {
    use ring::rand::SecureRandom;
    let mut id = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut id).map_err(|_| "no randomness for a session id".to_owned())?;
    Ok(id)
}

/// The key set as configured: the gateway's key signs, the previous keys of
/// `settings` still verify.
pub fn key_set(key: &SigningKey, settings: &SessionSettings) -> anyhow::Result<SessionKeySet> {
    let current = SessionKey::from_pem(key.pem()).map_err(|e| anyhow::anyhow!("the gateway key: {e}"))?;
    let mut previous = Vec::new();
    for path in &settings.previous_keys {
        let pem = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("SEN_GATEWAY_PREVIOUS_KEY_FILES: {}: {e}", path.display()))?;
        previous.push(
            SessionKey::from_pem(&pem)
                .map_err(|e| anyhow::anyhow!("SEN_GATEWAY_PREVIOUS_KEY_FILES: {}: {e}", path.display()))?,
        );
    }
    Ok(SessionKeySet::new(current, previous))
}

/// Opens the configured store, ends the sessions signed by keys no longer in
/// `keys`, and forgets sessions long expired. `now` is Unix seconds.
pub async fn open(
    config: &Config,
    settings: &SessionSettings,
    keys: &SessionKeySet,
    now: i64,
) -> anyhow::Result<SessionStore> {
    let Some(url) = &settings.database_url else {
        anyhow::bail!("SEN_GATEWAY_DATABASE_URL is required for web sessions in production mode");
    };
    let store = SessionStore::connect(url, &config.pool).await?;
    let ended = store.end_signed_by_other_keys(&keys.ids(), now).await?;
    if ended > 0 {
        tracing::info!(sessions = ended, "ended the web sessions signed by keys taken out of the key set");
    }
    store.forget_expired(now - KEPT_AFTER_EXPIRY_SECONDS).await?;
    Ok(store)
}
