//! Rate limits as token buckets, one a key: a person, an authority, or a client
//! address for callers without an identity ([`super::limits`] says which applies).
//! A refusal says how long until the bucket holds a token again, which the
//! caller is told as `Retry-After`.
//!
//! A bucket that has refilled to its burst is the same as no bucket, so full
//! buckets are dropped whenever the table grows past a bound: the table holds
//! only keys seen in the last few seconds, however many addresses a client
//! sends from.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A rate: `per_second` requests a second on average, `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Requests a second, on average.
    pub per_second: u32,
    /// Requests at once above the average.
    pub burst: u32,
}

/// The table is swept of full buckets when it grows past this many keys.
const SWEEP_FROM: usize = 16_384;

/// Token buckets by key, each refilling at the same [`Rate`].
#[derive(Debug)]
pub struct RateLimiter<K> {
    rate: f64,
    burst: f64,
    table: Mutex<Table<K>>,
}

#[derive(Debug)]
struct Table<K> {
    buckets: HashMap<K, Bucket>,
    sweep_at: usize,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// A limiter at `rate` for every key.
    pub fn new(rate: Rate) -> Self {
        Self {
            rate: f64::from(rate.per_second.max(1)),
            burst: f64::from(rate.burst.max(1)),
            table: Mutex::new(Table { buckets: HashMap::new(), sweep_at: SWEEP_FROM }),
        }
    }

    /// Takes one request from `key`'s bucket, or says how long until it may.
    pub fn take(&self, key: &K) -> Result<(), Duration> {
        self.take_at(key, Instant::now())
    }

    /// Gives back a request taken from `key`'s bucket (a later limit refused it).
    pub fn give_back(&self, key: &K) {
        let mut table = self.lock();
        if let Some(bucket) = table.buckets.get_mut(key) {
            bucket.tokens = (bucket.tokens + 1.0).min(self.burst);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table<K>> {
        match self.table.lock() {
            Ok(table) => table,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn take_at(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut table = self.lock();
        if table.buckets.len() >= table.sweep_at && !table.buckets.contains_key(key) {
            let (rate, burst) = (self.rate, self.burst);
            table.buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst);
            // Sweep again only once the table has doubled, so a sweep costs O(1) a request.
            table.sweep_at = SWEEP_FROM.max(table.buckets.len() * 2);
        }
        let bucket = table.buckets.entry(key.clone()).or_insert(Bucket { tokens: self.burst, at: now });
        let refill = now.saturating_duration_since(bucket.at).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }

    #[cfg(test)]
    fn keys(&self) -> usize {
        self.lock().buckets.len()
    }
}

/// Whole seconds to tell a caller to wait (`Retry-After` takes whole seconds): at least one.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_past_its_burst_is_refused_until_its_bucket_refills() {
        let limiter = RateLimiter::new(Rate { per_second: 10, burst: 3 });
        let start = Instant::now();
        assert!((0..3).all(|_| limiter.take_at(&"990", start).is_ok()));
        let wait = limiter.take_at(&"990", start).unwrap_err();
        assert_eq!(wait, Duration::from_millis(100), "the fourth request waits 1/rate s");
        assert!(limiter.take_at(&"991", start).is_ok(), "another key has its own bucket");
        assert!(limiter.take_at(&"990", start + Duration::from_millis(100)).is_ok());
        assert!(limiter.take_at(&"990", start + Duration::from_millis(100)).is_err());
    }

    #[test]
    fn a_request_given_back_can_be_made_again() {
        let limiter = RateLimiter::new(Rate { per_second: 1, burst: 1 });
        let now = Instant::now();
        assert!(limiter.take_at(&1, now).is_ok());
        assert!(limiter.take_at(&1, now).is_err());
        limiter.give_back(&1);
        assert!(limiter.take_at(&1, now).is_ok());
    }

    #[test]
    fn buckets_of_clients_long_gone_are_forgotten() {
        let limiter = RateLimiter::new(Rate { per_second: 10, burst: 10 });
        let start = Instant::now();
        for key in 0..SWEEP_FROM {
            assert!(limiter.take_at(&key, start).is_ok());
        }
        assert_eq!(limiter.keys(), SWEEP_FROM);
        // A second later every bucket is full again: the next new key sweeps them away.
        assert!(limiter.take_at(&usize::MAX, start + Duration::from_secs(1)).is_ok());
        assert_eq!(limiter.keys(), 1);
    }

    #[test]
    fn a_wait_is_told_in_whole_seconds_rounded_up() {
        assert_eq!(retry_after_seconds(Duration::from_millis(100)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_seconds(Duration::from_millis(2100)), 3);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
    }
}
