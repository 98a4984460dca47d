//! A service's own Prometheus metrics: one registry per process that every
//! service in it registers into ([`crate::service::Wiring::metrics`]), served
//! as `GET /metrics` on the admin port beside the health checks
//! ([`crate::serve`]), so a scrape of a `sen serve` pod sees what its service
//! counted.

use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::registry::{Metric, Registry};

/// The process's metrics registry, shared by the services it runs.
#[derive(Clone, Default)]
pub struct Metrics(Arc<Mutex<Registry>>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Adds `metric` under `name` (without its `_total` suffix for counters).
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).register(name, help, metric);
    }

    /// Everything registered, in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        let registry = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if prometheus_client::encoding::text::encode(&mut text, &registry).is_err() {
            tracing::error!("the metrics could not be encoded");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::metrics::counter::Counter;

    use super::*;

    #[test]
    fn what_a_service_counts_is_in_the_exposition() {
        let metrics = Metrics::default();
        let passes = Counter::<u64>::default();
        metrics.register("sen_example_passes", "Passes of an example", passes.clone());
        passes.inc();
        let text = metrics.encode();
        assert!(text.contains("sen_example_passes_total 1"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
