//! What a verified token proved, remembered until the token stops being good,
//! so that the same token is not checked again on every call.
//!
//! Checking an Ed25519 signature is most of what a call costs a service (and
//! checking a bearer token and signing the internal one most of what it costs
//! the gateway), while a caller sends the same token on every call for minutes.
//! The cache keeps the signature check's answer, never more:
//!
//! - an entry is keyed by the token's **full text** and found only by an exact
//!   match, so one caller's identity is never served for another's token;
//! - an entry is served only while the time is before its `valid_until`, which
//!   its owner sets no later than the token's own `exp` (the signature check's
//!   30 s of clock-skew leeway is never extended to a cached answer);
//! - each cache belongs to one verifier, so a verifier trusting other keys
//!   (a key rotated out, a restart with `SEN_IDENTITY_PUBLIC_KEY_FILES` changed)
//!   starts empty and trusts nothing its predecessor checked;
//! - it holds at most `capacity` entries: when full, expired entries go first,
//!   then an eighth of the rest, so a flood of distinct tokens costs bounded memory.
//!
//! Refusals are never cached: a bad token is checked in full every time.

use std::collections::HashMap;
use std::sync::Mutex;

/// Remembered answers for tokens, each until its own time runs out. Times are
/// whole seconds since the Unix epoch, passed in so tests choose them.
#[derive(Debug)]
pub struct TokenCache<V> {
    entries: Mutex<HashMap<Box<str>, Entry<V>>>,
    capacity: usize,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    valid_until: u64,
}

impl<V: Clone> TokenCache<V> {
    /// An empty cache holding at most `capacity` tokens (at least one).
    pub fn new(capacity: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), capacity: capacity.max(1) }
    }

    /// What was remembered for exactly `token`, if it is still good at `now`.
    pub fn get(&self, token: &str, now: u64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(token).filter(|entry| now < entry.valid_until).map(|entry| entry.value.clone())
    }

    /// Remembers `value` for `token` until `valid_until` (exclusive), which the
    /// caller sets no later than the token's own expiry.
    pub fn insert(&self, token: &str, value: V, valid_until: u64, now: u64) {
        if valid_until <= now {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(token) {
            entries.retain(|_, entry| now < entry.valid_until);
            if entries.len() >= self.capacity {
                let drop_count = (self.capacity / 8).max(1);
                let victims: Vec<Box<str>> = entries.keys().take(drop_count).cloned().collect();
                for victim in victims {
                    entries.remove(&victim);
                }
            }
        }
        entries.insert(token.into(), Entry { value, valid_until });
    }

    /// How many tokens are remembered.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_answer_is_never_served_at_or_after_its_expiry() {
        let cache = TokenCache::new(8);
        cache.insert("token-a", "person a", 1_000, 900);
        assert_eq!(cache.get("token-a", 999), Some("person a"));
        assert_eq!(cache.get("token-a", 1_000), None);
        assert_eq!(cache.get("token-a", 5_000), None);
    }

    #[test]
    fn a_token_never_gets_another_tokens_answer() {
        let cache = TokenCache::new(8);
        cache.insert("eyJ.aaaa.sig1", "person a", 1_000, 0);
        assert_eq!(cache.get("eyJ.aaaa.sig2", 1), None, "same claims, other signature");
        assert_eq!(cache.get("eyJ.aaaa.sig", 1), None, "a prefix");
        assert_eq!(cache.get("eyJ.aaaa.sig1 ", 1), None, "a longer token");
        cache.insert("eyJ.bbbb.sig1", "person b", 1_000, 0);
        assert_eq!(cache.get("eyJ.aaaa.sig1", 1), Some("person a"));
        assert_eq!(cache.get("eyJ.bbbb.sig1", 1), Some("person b"));
    }

    #[test]
    fn the_cache_never_holds_more_than_its_bound() {
        let cache = TokenCache::new(64);
        for n in 0..10_000u64 {
            cache.insert(&format!("token-{n}"), n, 1_000_000, 0);
            assert!(cache.len() <= 64, "{} entries after {n} inserts", cache.len());
        }
        // The newest answer is always kept.
        assert_eq!(cache.get("token-9999", 1), Some(9_999));
    }

    #[test]
    fn expired_entries_make_room_first() {
        let cache = TokenCache::new(4);
        cache.insert("old-1", 1, 10, 0);
        cache.insert("old-2", 2, 10, 0);
        cache.insert("live-1", 3, 1_000, 0);
        cache.insert("live-2", 4, 1_000, 0);
        cache.insert("new", 5, 1_000, 20);
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get("live-1", 20), Some(3));
        assert_eq!(cache.get("live-2", 20), Some(4));
        assert_eq!(cache.get("new", 20), Some(5));
    }

    #[test]
    fn an_answer_already_expired_is_not_remembered() {
        let cache = TokenCache::new(4);
        cache.insert("late", 1, 100, 100);
        assert!(cache.is_empty());
    }
}
