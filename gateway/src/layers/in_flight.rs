//! How many requests one key (a person, a client address) has in progress at
//! once, capped: a request over the cap is refused at once, and a request's
//! place is given back when it is answered (its [`Entered`] dropped). Keys with
//! nothing in progress are not kept, so the table is never larger than the
//! requests in progress.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

/// Requests in progress by key, at most `max` each.
#[derive(Debug)]
pub struct InFlight<K> {
    max: usize,
    counts: Arc<Mutex<HashMap<K, usize>>>,
}

/// One request's place, given back when dropped.
#[derive(Debug)]
pub struct Entered<K: Hash + Eq> {
    counts: Arc<Mutex<HashMap<K, usize>>>,
    key: K,
}

fn lock<K>(counts: &Mutex<HashMap<K, usize>>) -> MutexGuard<'_, HashMap<K, usize>> {
    match counts.lock() {
        Ok(counts) => counts,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl<K: Hash + Eq + Clone> InFlight<K> {
    /// At most `max` requests in progress a key.
    pub fn new(max: usize) -> Self {
        Self { max: max.max(1), counts: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// A place for one more request of `key`, if it has fewer than the cap in progress.
    pub fn enter(&self, key: &K) -> Option<Entered<K>> {
        let mut counts = lock(&self.counts);
        let count = counts.entry(key.clone()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Entered { counts: self.counts.clone(), key: key.clone() })
    }
}

impl<K: Hash + Eq> Drop for Entered<K> {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_at_its_cap_waits_for_one_of_its_own_requests_to_finish() {
        let in_flight = InFlight::new(2);
        let first = in_flight.enter(&"a").unwrap();
        let _second = in_flight.enter(&"a").unwrap();
        assert!(in_flight.enter(&"a").is_none());
        assert!(in_flight.enter(&"b").is_some(), "another key is not held up");
        drop(first);
        assert!(in_flight.enter(&"a").is_some());
    }

    #[test]
    fn keys_with_nothing_in_progress_are_not_kept() {
        let in_flight = InFlight::new(1);
        for key in 0..1000 {
            drop(in_flight.enter(&key));
        }
        assert!(lock(&in_flight.counts).is_empty());
    }
}
