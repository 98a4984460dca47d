//! Erasure at the end of the retention period, as the pupils service takes
//! part in it: the service decides who is past their authority's period (it
//! holds the dates of birth; `crate::domain::retention` is the rule), keeps the
//! erasures begun and not finished, and deletes the pupil last, once the other
//! services have forgotten them. The caseloads service runs the passes (it is
//! the service that calls the others as itself) through two service-only
//! methods: `TakeErasures` and `ErasePupil`.
//!
//! `settings` reads each authority's period from the environment; `metrics`
//! counts the pupils erased.

pub mod metrics;
pub mod settings;

use std::sync::Arc;

use crate::domain::RetentionPolicy;
use metrics::RetentionMetrics;

/// The retention period of every authority and the counter of erasures.
#[derive(Clone, Debug, Default)]
pub struct Retention {
    /// Each authority's period.
    pub policy: RetentionPolicy,
    /// Counts the pupils erased.
    pub metrics: Arc<RetentionMetrics>,
}
