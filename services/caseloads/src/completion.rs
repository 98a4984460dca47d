//! Finishing a pending allocation across services: the steps the client's
//! request takes, its retry under the same idempotency key takes again, and the
//! reconciler takes for allocations nobody came back for. One definition, so the
//! three cannot drift apart.
//!
//! The steps, each repeatable: open the professional's access to the pupil
//! (pupils service), mark the referral allocated (referrals service), confirm the
//! case here. If one fails before the referral is marked, they are undone in
//! reverse: the access is closed again and the pending case removed, which gives
//! the capacity back only if this attempt removed it. Two kinds of failure are
//! told apart at the referral: a refusal (the referral withdrawn, declined or
//! gone) means the allocation can never complete, so it is undone; no answer (the
//! link dropped, a timeout) may hide a mark that was recorded, and undoing then
//! would leave a referral allocated to a case that does not exist, so the case
//! stays pending (its capacity held, the access closed until the next attempt
//! opens it again) for a retry or the reconciler to finish.
//!
//! Only the holder of the case's claim runs the steps (`crate::store::Claim`): a
//! retry arriving while the first attempt is still undoing would otherwise
//! complete the case, then have its fresh access closed by that undo, leaving an
//! active case whose professional cannot open the pupil's record. An attempt
//! gives up after [`ATTEMPT_LIMIT`], well inside [`CLAIM_LEASE`], so it never
//! reaches another service once its claim may have passed to someone else.

use std::time::Duration;

use chrono::TimeDelta;
use sen_platform::identity::{Actor, Identity, TenantScope};

use crate::entity::case;
use crate::error::Error;
use crate::peers::Peers;
use crate::store::{AuditAction, AuditNote, Claim, Store};

/// How long one attempt may spend on the steps. Each call to another service has
/// its own deadline (30 s, `sen_platform::client`); a slower attempt stops where
/// it is and leaves the case to the next.
pub const ATTEMPT_LIMIT: Duration = Duration::from_secs(40);

/// How long a claim holds: longer than [`ATTEMPT_LIMIT`], with room for clocks
/// of replicas a few seconds apart.
pub const CLAIM_LEASE: TimeDelta = TimeDelta::seconds(60);

/// The reference a case is known by in the other services.
pub fn case_ref(row: &case::Model) -> String {
    format!("CASE-{}", row.id)
}

/// How an attempt at a pending allocation ended.
#[derive(Debug)]
pub enum Finished {
    /// The other services recorded it and the case is active.
    Completed(case::Model),
    /// It can never complete (the reason given): the access was closed, the case
    /// removed and its capacity given back by this attempt.
    Undone(Error),
    /// Neither (the reason given): the case is still pending, for the next attempt.
    LeftPending(Error),
}

/// The allocation's steps, over the service's store and its peers.
#[derive(Clone, Debug)]
pub struct Completion {
    store: Store,
    peers: Peers,
}

impl Completion {
    /// Steps over `store`, calling `peers`.
    pub fn new(store: Store, peers: Peers) -> Self {
        Self { store, peers }
    }

    /// Finishes the pending case `row` of the professional `person`, as the
    /// holder of `claim`; with `audit_as`, each outcome is written to the audit
    /// trail as that actor (the completion or undo in its own transaction). The
    /// other services record the steps as this service's own.
    pub async fn finish(
        &self,
        tenant: &TenantScope,
        row: &case::Model,
        person: &str,
        claim: &Claim,
        audit_as: Option<&Actor>,
    ) -> Finished {
        self.finish_for(tenant, row, person, claim, audit_as, None).await
    }

    /// As [`Completion::finish`], for the request of `caller` when there is one:
    /// the other services record the steps as that person's.
    pub async fn finish_for(
        &self,
        tenant: &TenantScope,
        row: &case::Model,
        person: &str,
        claim: &Claim,
        audit_as: Option<&Actor>,
        caller: Option<&Identity>,
    ) -> Finished {
        let steps = self.steps(tenant, row, person, claim, audit_as, caller);
        let finished = match tokio::time::timeout(ATTEMPT_LIMIT, steps).await {
            Ok(finished) => finished,
            // The claim is kept until it runs out: a call cut off here may still land.
            Err(_) => Finished::LeftPending(Error::Unavailable(format!(
                "the other services did not finish within {} s",
                ATTEMPT_LIMIT.as_secs()
            ))),
        };
        if let (Finished::LeftPending(reason), Some(actor)) = (&finished, audit_as) {
            let detail = reason.to_string();
            let note = AuditNote { actor, action: AuditAction::AllocationLeftPending, detail: &detail };
            if let Err(e) = self.store.audit(tenant, row, &note).await {
                tracing::warn!(case_id = row.id, error = %e, "could not audit an allocation left pending");
            }
        }
        finished
    }

    async fn steps(
        &self,
        tenant: &TenantScope,
        row: &case::Model,
        person: &str,
        claim: &Claim,
        audit_as: Option<&Actor>,
        caller: Option<&Identity>,
    ) -> Finished {
        let la = (tenant.la_code(), caller);
        let reference = case_ref(row);
        if let Err(failure) = self.peers.grant(la, row.pupil_id, person, &reference).await {
            return self.undo(tenant, row, (person, caller), claim, audit_as, failure).await;
        }
        match self.peers.mark_allocated(la, row.referral_id, person, &reference).await {
            Ok(()) => {}
            Err(refused @ (Error::FailedPrecondition(_) | Error::NotFound(_))) => {
                return self.undo(tenant, row, (person, caller), claim, audit_as, refused).await;
            }
            // The access is closed meanwhile (the next attempt opens it again), so
            // nobody reads the pupil's record on an allocation not known to be made.
            Err(no_answer) => {
                let closed = self.peers.revoke(la, row.pupil_id, person, &reference).await;
                tracing::warn!(
                    case_id = row.id,
                    error = %no_answer,
                    access_closed = closed.is_ok(),
                    "the referral may or may not be marked; the case stays pending"
                );
                return Finished::LeftPending(no_answer);
            }
        }
        let detail = format!("access opened and referral {} marked allocated ({reference})", row.referral_id);
        let note = audit_as.map(|actor| AuditNote { actor, action: AuditAction::AllocationCompleted, detail: &detail });
        match self.store.confirm_allocation(tenant, row.id, claim, note.as_ref()).await {
            Ok(row) => Finished::Completed(row),
            Err(e) => Finished::LeftPending(e),
        }
    }

    /// Closes the access, then removes the pending case, in that order: a case
    /// removed first with its access still open would give the professional a
    /// pupil's record with no case to show for it, and nothing would ever find it.
    async fn undo(
        &self,
        tenant: &TenantScope,
        row: &case::Model,
        (person, caller): (&str, Option<&Identity>),
        claim: &Claim,
        audit_as: Option<&Actor>,
        failure: Error,
    ) -> Finished {
        let detail = format!("could not be completed: {failure}");
        let note = audit_as.map(|actor| AuditNote { actor, action: AuditAction::AllocationUndone, detail: &detail });
        let undone = match self.peers.revoke((tenant.la_code(), caller), row.pupil_id, person, &case_ref(row)).await {
            Ok(()) => self.store.abandon_allocation(tenant, row, claim, note.as_ref()).await,
            Err(e) => Err(e),
        };
        match undone {
            Ok(true) => {
                tracing::warn!(case_id = row.id, error = %failure, "allocation could not be completed; undone");
                Finished::Undone(failure)
            }
            // Only an undo that removed the pending case itself may say nothing was
            // allocated: one that found it gone or no longer pending lost its claim.
            Ok(false) => {
                tracing::warn!(case_id = row.id, error = %failure, "allocation could not be completed; no longer this attempt's to undo");
                Finished::LeftPending(failure)
            }
            Err(e) => {
                tracing::warn!(case_id = row.id, error = %failure, undo_error = %e, "allocation could not be completed, nor undone");
                Finished::LeftPending(failure)
            }
        }
    }
}
