//! The per-authority rate limit: one token bucket a tenant. It is taken once the
//! caller is known (after authentication), so it is a step of admission rather
//! than a layer in front of every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Per-tenant token buckets: each tenant may make `rate` requests a second on
/// average, with bursts up to `burst`.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `rate` requests a second per tenant, bursts of `burst`.
    pub fn new(rate: u32, burst: u32) -> Self {
        Self { rate: f64::from(rate), burst: f64::from(burst.max(1)), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from `tenant`'s bucket; false when it is empty.
    pub fn allow(&self, tenant: &str) -> bool {
        self.allow_at(tenant, Instant::now())
    }

    fn allow_at(&self, tenant: &str, now: Instant) -> bool {
        let mut buckets = match self.buckets.lock() {
            Ok(buckets) => buckets,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (tokens, last) = buckets.entry(tenant.to_owned()).or_insert((self.burst, now));
        let refill = now.saturating_duration_since(*last).as_secs_f64() * self.rate;
        *tokens = (*tokens + refill).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_tenant_past_its_burst_is_refused_until_its_bucket_refills() {
        let limiter = RateLimiter::new(10, 3);
        let start = Instant::now();
        assert!((0..3).all(|_| limiter.allow_at("990", start)));
        assert!(!limiter.allow_at("990", start), "the fourth request within the burst is refused");
        assert!(limiter.allow_at("991", start), "another tenant has its own bucket");
        assert!(limiter.allow_at("990", start + Duration::from_millis(100)), "one token back after 1/rate s");
        assert!(!limiter.allow_at("990", start + Duration::from_millis(100)));
    }
}
