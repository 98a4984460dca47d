//! The reconciler: finishes allocations that were left pending because nobody
//! came back for them (the pupils or referrals service did not answer, the
//! client gave up, the replica was stopped mid-way), so a professional's capacity
//! is never held for ever by a case that will never start.
//!
//! Every pass (each [`settings::ReconcileSettings::every`], on every replica)
//! lists the pending cases begun more than [`PENDING_BOUND`] ago whose claim, if
//! any, has run out, at most [`BATCH`] of them, oldest first. For each, it takes
//! the case's claim (`crate::store::Claim`: one conditional update, so of several
//! replicas exactly one gets it) and runs the very steps a client's retry runs
//! (`crate::completion`): an allocation whose peers now answer is completed; one
//! that can no longer complete (the referral withdrawn, the pupil gone, access
//! refused) is undone, giving the capacity back only if this undo removed the
//! case; one whose peers still do not answer stays pending and is tried again
//! once its claim has run out. The bound is far above anything a live attempt
//! takes (`crate::completion::ATTEMPT_LIMIT`, 40 s), so the reconciler never
//! races a client's own call, and leaves the client time to retry first.
//!
//! Each allocation acted on is logged (case, referral, professional and tenant;
//! never a pupil), written to the service's audit trail as the service itself
//! (person `caseloads-reconciler`, role `service`: `allocation.completed`,
//! `allocation.undone`, `allocation.left_pending`), and counted in
//! `sen_caseloads_reconciled_allocations_total{outcome}` (`crate::metrics`).
//! [`Reconciler::pass`] runs one pass, for tests and tools; `running` runs them
//! on an interval and stops between two allocations when asked.

mod running;
pub mod settings;

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use sen_platform::identity::{DevIssuer, Grant, Identity, Role};
use sen_platform::ids::LaCode;
use tracing::Instrument;

pub use running::{Now, Running, system_now};

use crate::completion::{CLAIM_LEASE, Completion, Finished};
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::peers::Peers;
use crate::store::{Claim, PendingAllocation, Store};

/// How old a pending allocation must be before the reconciler finishes it.
pub const PENDING_BOUND: TimeDelta = TimeDelta::minutes(5);

/// The most pending allocations one pass takes on, per replica.
pub const BATCH: u64 = 100;

/// The person the reconciler acts as, in the audit trail and its service tokens.
pub const ACTOR: &str = "caseloads-reconciler";

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Allocations completed.
    pub completed: u32,
    /// Allocations undone (their capacity given back).
    pub undone: u32,
    /// Allocations it could neither complete nor undo; they stay pending.
    pub failed: u32,
}

impl PassReport {
    /// Whether the pass acted on nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The reconciler of one replica.
#[derive(Clone)]
pub struct Reconciler {
    store: Store,
    completion: Completion,
    /// A key made at start and never written or sent anywhere: it only lets the
    /// reconciler hold a tenant's scope, which every store function takes and
    /// only a verified identity can make, for the system work it does in each
    /// tenant. Calls to the other services carry the service's own identity.
    scopes: DevIssuer,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciler").finish_non_exhaustive()
    }
}

impl Reconciler {
    /// A reconciler over `store`, finishing allocations with `peers`, counting in `metrics`.
    pub fn new(store: Store, peers: Peers, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        let scopes = DevIssuer::generate().map_err(|e| anyhow::anyhow!("the reconciler's in-process key: {e}"))?;
        Ok(Self { completion: Completion::new(store.clone(), peers), store, scopes, metrics })
    }

    /// The metrics it counts in.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// One pass, begun at `now`: acts on every pending allocation due.
    pub async fn pass(&self, now: DateTime<Utc>) -> Result<PassReport> {
        self.pass_while(now, &|| true).await
    }

    /// One pass, begun at `now`, taking on no further allocation once `go_on` says no.
    async fn pass_while(&self, now: DateTime<Utc>, go_on: &(dyn Fn() -> bool + Sync)) -> Result<PassReport> {
        // Unfinished allocations are looked for, and finished, in every council.
        sen_platform::walls::across_tenants(self.pass_across_councils(now, go_on)).await
    }

    async fn pass_across_councils(&self, now: DateTime<Utc>, go_on: &(dyn Fn() -> bool + Sync)) -> Result<PassReport> {
        let started = Instant::now();
        let due = match self.store.pending_allocations_due(now - PENDING_BOUND, now, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                self.metrics.pass(false);
                return Err(e);
            }
        };
        let mut report = PassReport::default();
        for pending in due {
            if !go_on() {
                break;
            }
            // Claims are made at the time of each case, not of the pass's start, so
            // a long pass never makes claims that have already run out.
            let at = now + TimeDelta::from_std(started.elapsed()).unwrap_or(TimeDelta::zero());
            let span =
                tracing::info_span!("reconcile_allocation", case_id = pending.case_id, la_code = %pending.la_code);
            match self.reconcile(&pending, at).instrument(span).await {
                Some(Outcome::Completed) => report.completed += 1,
                Some(Outcome::Undone) => report.undone += 1,
                Some(Outcome::Failed) => report.failed += 1,
                None => {}
            }
        }
        self.metrics.pass(true);
        Ok(report)
    }

    /// Claims and finishes one pending allocation; `None` when another attempt
    /// holds it (or it is finished already), so this replica leaves it alone.
    async fn reconcile(&self, pending: &PendingAllocation, now: DateTime<Utc>) -> Option<Outcome> {
        let outcome = match self.try_reconcile(pending, now).await {
            Ok(None) => return None,
            Ok(Some(outcome)) => outcome,
            Err(e) => {
                tracing::warn!(case_id = pending.case_id, error = %e, "the reconciler could not act on a pending allocation");
                Outcome::Failed
            }
        };
        self.metrics.reconciled(outcome.code());
        Some(outcome)
    }

    async fn try_reconcile(&self, pending: &PendingAllocation, now: DateTime<Utc>) -> Result<Option<Outcome>> {
        let identity = self.identity_in(&pending.la_code)?;
        let tenant = identity.tenant_scope()?;
        let claim = Claim::new("reconciler", now, CLAIM_LEASE);
        if !self.store.claim_pending(&tenant, pending.case_id, &claim, now).await? {
            return Ok(None);
        }
        // Read after the claim: what the case is now, not when it was listed.
        let row = self.store.case(&tenant, i64::from(pending.case_id)).await?;
        let professional = self.store.professional(&tenant, i64::from(row.professional_id)).await?;
        let actor = identity.actor();
        let ids = (row.id, row.referral_id, row.professional_id);
        let outcome = match self.completion.finish(&tenant, &row, &professional.person, &claim, Some(&actor)).await {
            Finished::Completed(_) => {
                tracing::info!(
                    case_id = ids.0,
                    referral_id = ids.1,
                    professional_id = ids.2,
                    "the reconciler completed a pending allocation"
                );
                Outcome::Completed
            }
            Finished::Undone(reason) => {
                tracing::warn!(
                    case_id = ids.0,
                    referral_id = ids.1,
                    professional_id = ids.2,
                    %reason,
                    "the reconciler undid a pending allocation that can no longer complete"
                );
                Outcome::Undone
            }
            // The claim is kept until it runs out: the next try waits that long.
            Finished::LeftPending(reason) => {
                tracing::warn!(
                    case_id = ids.0,
                    referral_id = ids.1,
                    professional_id = ids.2,
                    %reason,
                    "the reconciler could not finish a pending allocation; it stays pending"
                );
                Outcome::Failed
            }
        };
        Ok(Some(outcome))
    }

    /// The service itself, verified, within the tenant `la_code`.
    fn identity_in(&self, la_code: &str) -> Result<Identity> {
        let la = LaCode::parse(la_code).map_err(|e| Error::Corrupt(format!("a case's tenant: {e}")))?;
        let grant = Grant { person: ACTOR.to_owned(), role: Role::Service, tenant: Some(la), school: None };
        let token = self
            .scopes
            .signer
            .mint(&grant, std::time::Duration::from_secs(60))
            .map_err(|e| Error::Corrupt(format!("the reconciler's identity: {e}")))?;
        self.scopes.verifier.verify(&token).map_err(|e| Error::Corrupt(format!("the reconciler's identity: {e}")))
    }
}

/// What the reconciler did with one allocation, as its metric counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Completed,
    Undone,
    Failed,
}

impl Outcome {
    fn code(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Undone => "undone",
            Self::Failed => "failed",
        }
    }
}
