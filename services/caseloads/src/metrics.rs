//! The caseloads service's own Prometheus metrics, in the process's registry,
//! which the admin port serves as `GET /metrics`: what the allocation reconciler
//! did, by outcome, and its passes.
//!
//! | metric | labels | counts |
//! | --- | --- | --- |
//! | `sen_caseloads_reconciled_allocations_total` | `outcome`: `completed`, `undone`, `failed` | pending allocations the reconciler acted on |
//! | `sen_caseloads_reconcile_passes_total` | `result`: `ok`, `failed` | reconciler passes (`failed`: the database could not be read) |

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PassLabels {
    result: &'static str,
}

/// The outcomes the reconciler counts, each present from the start (at 0).
pub const OUTCOMES: [&str; 3] = ["completed", "undone", "failed"];

/// The service's metrics, registered in the process's registry.
#[derive(Debug)]
pub struct Metrics {
    registry: sen_platform::metrics::Metrics,
    reconciled: Family<OutcomeLabels, Counter>,
    passes: Family<PassLabels, Counter>,
}

/// A registry of its own (tests, and a reconciler made outside a service).
impl Default for Metrics {
    fn default() -> Self {
        Self::registered_in(&sen_platform::metrics::Metrics::default())
    }
}

impl Metrics {
    /// The service's metrics, added to `registry` (the one the admin port serves).
    pub fn registered_in(registry: &sen_platform::metrics::Metrics) -> Self {
        let reconciled = Family::<OutcomeLabels, Counter>::default();
        let passes = Family::<PassLabels, Counter>::default();
        registry.register(
            "sen_caseloads_reconciled_allocations",
            "Pending allocations the reconciler completed, undid, or failed to finish",
            reconciled.clone(),
        );
        registry.register("sen_caseloads_reconcile_passes", "Passes of the allocation reconciler", passes.clone());
        // Made now, so each series is scraped (at 0) before anything happens.
        for outcome in OUTCOMES {
            drop(reconciled.get_or_create(&OutcomeLabels { outcome }));
        }
        for result in ["ok", "failed"] {
            drop(passes.get_or_create(&PassLabels { result }));
        }
        Self { registry: registry.clone(), reconciled, passes }
    }
}

impl Metrics {
    /// Counts one allocation the reconciler acted on, by `outcome` (one of [`OUTCOMES`]).
    pub fn reconciled(&self, outcome: &'static str) {
        self.reconciled.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// How many allocations the reconciler has acted on with `outcome`.
    pub fn reconciled_count(&self, outcome: &'static str) -> u64 {
        self.reconciled.get_or_create(&OutcomeLabels { outcome }).get()
    }

    /// Counts a pass: `ok`, or `failed` when it could not list its work.
    pub fn pass(&self, ok: bool) {
        self.passes.get_or_create(&PassLabels { result: if ok { "ok" } else { "failed" } }).inc();
    }

    /// Every metric of the registry they are in, in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        self.registry.encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_is_exposed_from_the_start_and_counts_up() {
        let metrics = Metrics::default();
        let text = metrics.encode();
        for outcome in OUTCOMES {
            assert!(
                text.contains(&format!("sen_caseloads_reconciled_allocations_total{{outcome=\"{outcome}\"}} 0")),
                "{text}"
            );
        }
        metrics.reconciled("undone");
        metrics.pass(true);
        let text = metrics.encode();
        assert!(text.contains("sen_caseloads_reconciled_allocations_total{outcome=\"undone\"} 1"), "{text}");
        assert!(text.contains("sen_caseloads_reconcile_passes_total{result=\"ok\"} 1"), "{text}");
        assert_eq!(metrics.reconciled_count("undone"), 1);
    }
}
