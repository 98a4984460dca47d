//! The pupils service's retention metric, in the process's registry, which the
//! admin port serves as `GET /metrics`.
//!
//! | metric | counts |
//! | --- | --- |
//! | `sen_pupils_retention_erased_total` | pupils erased at the end of their retention period |

use prometheus_client::metrics::counter::Counter;

/// The counter of erasures.
#[derive(Debug)]
pub struct RetentionMetrics {
    registry: sen_platform::metrics::Metrics,
    erased: Counter,
}

/// A registry of its own (tests, and a service made outside a platform).
impl Default for RetentionMetrics {
    fn default() -> Self {
        Self::registered_in(&sen_platform::metrics::Metrics::default())
    }
}

impl RetentionMetrics {
    /// The metric, added to `registry` (the one the admin port serves); scraped at 0 from the start.
    pub fn registered_in(registry: &sen_platform::metrics::Metrics) -> Self {
        let erased = Counter::default();
        registry.register(
            "sen_pupils_retention_erased",
            "Pupils erased at the end of their retention period",
            erased.clone(),
        );
        Self { registry: registry.clone(), erased }
    }

    /// Counts one pupil erased.
    pub fn erased(&self) {
        self.erased.inc();
    }

    /// How many pupils have been erased.
    pub fn erased_count(&self) -> u64 {
        self.erased.get()
    }

    /// Every metric of the registry it is in, in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        self.registry.encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erasures_are_counted_from_zero() {
        let metrics = RetentionMetrics::default();
        assert!(metrics.encode().contains("sen_pupils_retention_erased_total 0"), "{}", metrics.encode());
        metrics.erased();
        assert!(metrics.encode().contains("sen_pupils_retention_erased_total 1"), "{}", metrics.encode());
        assert_eq!(metrics.erased_count(), 1);
    }
}
