//! Issuing a final EHC plan changes the SEN register: one step across the
//! referrals and pupils services, all or nothing in the end.
//!
//! Once the council issues the final plan it maintains it (Children and
//! Families Act 2014 s.37(1); SEND Regulations 2014 reg. 13(2)), and the pupil
//! is recorded as E from the day it was issued, the plan's annual-review cycle
//! running from that day (s.44(1) of the Act; CoP 9.166). So `RecordFinalPlanIssued`
//! records the issue date and, in the same transaction, a pending **register
//! change** (`register_changes`, `crate::store`): the outbox row that makes the
//! step durable. Then the request itself asks the pupils service to record it
//! (`RegisterFinalPlan`, as this service acting for the person who recorded the
//! plan, so the pupil's history names them) and records the outcome. If the
//! pupils service does not answer, the change stays pending and the caller is
//! told so; the background task ([`PlanIssue::pass`], on every replica, every
//! [`running::EVERY`]) finishes it as the service itself once its claim has run
//! out. The pupils service keys the registration by the request, so a retry
//! after a lost answer finds it recorded and changes nothing twice: the pupil
//! moves to E, with one history entry and one plan, exactly once.
//!
//! How a change ends:
//!
//! | the pupils service answers | the change is | the request's timeline says |
//! | --- | --- | --- |
//! | `moved_to_e` | done | the pupil is now E from the issue day, their EHCP opened |
//! | `already_on_plan` | already_on_plan | nothing changed (they were E already) |
//! | `no_primary_need` | not_made | the council records the status with the need by hand |
//! | NOT_FOUND (left the authority, or erased) | not_made | the pupil is no longer on the register |
//! | FAILED_PRECONDITION, INVALID_ARGUMENT | not_made | the pupils service's reason |
//! | no answer, or anything else | pending | (nothing yet; the next attempt tries again) |
//!
//! A decision not to issue records no change, so the pupil stays as they were.

mod running;

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use sen_platform::dates::to_proto;
use sen_platform::identity::{Actor, DevIssuer, Grant, Identity, Role, TenantScope};
use sen_platform::ids::LaCode;
use sen_proto::v1 as pb;
use tonic::Code;

pub use running::{EVERY, Running};

use crate::entity::register_change;
use crate::error::{Error, Result};
use crate::pupils::Pupils;
use crate::store::{ChangeEnd, ChangeState, LIVE, PendingChange, Store};

/// How long one attempt may spend: within the claim (`crate::store::CLAIM_LEASE`).
pub const ATTEMPT_LIMIT: Duration = Duration::from_secs(40);

/// The most changes one pass takes on, per replica.
pub const BATCH: u64 = 100;

/// Who the background task acts as, in the timeline and its service tokens'
/// audit: the service itself (no person's token outlives their request).
pub const ACTOR: &str = "referrals-register";

/// What one attempt at a change did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Finished, in this state.
    Finished(ChangeState),
    /// Still pending (why).
    LeftPending(String),
    /// Another attempt finished it or holds it.
    NotOurs,
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Changes finished (done, already on a plan, or not made).
    pub finished: u32,
    /// Changes still pending after their attempt.
    pub left_pending: u32,
}

/// The register change's steps, for the request that records the plan and for
/// the background task alike.
#[derive(Clone)]
pub struct PlanIssue {
    store: Store,
    pupils: Pupils,
    /// A key made at start and never written or sent anywhere: it only lets the
    /// background task hold a tenant's scope, which every store function takes
    /// and only a verified identity can make. Calls to the pupils service carry
    /// the service's own identity.
    scopes: std::sync::Arc<std::sync::OnceLock<DevIssuer>>,
    /// This replica's name in the claims it takes.
    replica: String,
}

impl std::fmt::Debug for PlanIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanIssue").field("replica", &self.replica).finish_non_exhaustive()
    }
}

impl PlanIssue {
    /// The steps over `store`, asking `pupils` (which must act as this service).
    pub fn new(store: Store, pupils: Pupils) -> Self {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let replica = format!("replica-{}-{nanos}", std::process::id());
        Self { store, pupils, scopes: Default::default(), replica }
    }

    /// The request's own attempt, right after it recorded the plan of
    /// `referral_id`, for `caller`: the change as it then stands.
    pub async fn after_issue(&self, caller: &Identity, referral_id: i64) -> Result<Option<register_change::Model>> {
        let tenant = caller.tenant_scope()?;
        let Some(change) = self.store.register_change(&tenant, referral_id).await? else { return Ok(None) };
        if change.state == ChangeState::Pending.code() && change.claimed_by.as_deref() == Some(LIVE) {
            let attempt = self.attempt(&tenant, &change, LIVE, Some(caller), &caller.actor()).await;
            tracing::info!(referral_id, ?attempt, "the register's side of a final plan");
        }
        self.store.register_change(&tenant, referral_id).await
    }

    /// One attempt at `change`, held by `holder`, calling the pupils service for
    /// `caller` when there is one, the timeline entry written as `actor`.
    pub async fn attempt(
        &self,
        tenant: &TenantScope,
        change: &register_change::Model,
        holder: &str,
        caller: Option<&Identity>,
        actor: &Actor,
    ) -> Attempt {
        let request = pb::RegisterFinalPlanRequest {
            pupil_id: change.pupil_id,
            referral_id: i64::from(change.referral_id),
            issued_on: Some(to_proto(change.issued_on)),
        };
        let call = async {
            let first = self.pupils.register_final_plan((tenant.la_code(), caller), request).await;
            match first {
                // Another attempt registered it at the same moment: asked again, the
                // pupils service answers its outcome.
                Ok(Err(status)) if status.code() == Code::Aborted => {
                    self.pupils.register_final_plan((tenant.la_code(), caller), request).await
                }
                answer => answer,
            }
        };
        let answer = match tokio::time::timeout(ATTEMPT_LIMIT, call).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => return self.left_pending(tenant, change, holder, &e.to_string()).await,
            Err(_) => {
                let why = format!("the pupils service did not answer within {} s", ATTEMPT_LIMIT.as_secs());
                return self.left_pending(tenant, change, holder, &why).await;
            }
        };
        let end = match end_of(answer) {
            Ok(end) => end,
            Err(why) => return self.left_pending(tenant, change, holder, &why).await,
        };
        match self.store.finish_register_change(tenant, actor, change.id, holder, &end).await {
            Ok(true) => Attempt::Finished(end.state),
            Ok(false) => Attempt::NotOurs,
            // The pupils service has recorded it: the next attempt finds it so.
            Err(e) => Attempt::LeftPending(e.to_string()),
        }
    }

    async fn left_pending(
        &self,
        tenant: &TenantScope,
        change: &register_change::Model,
        holder: &str,
        why: &str,
    ) -> Attempt {
        tracing::warn!(referral_id = change.referral_id, reason = why, "the register change stays pending");
        if let Err(e) = self.store.note_register_change_failed(tenant, change.id, holder, why).await {
            tracing::warn!(referral_id = change.referral_id, error = %e, "could not note a register change's failure");
        }
        Attempt::LeftPending(why.to_owned())
    }

    /// One pass, begun at `now`: every pending change nobody holds, as the
    /// service itself, in every council.
    pub async fn pass(&self, now: DateTime<Utc>) -> Result<PassReport> {
        sen_platform::walls::across_tenants(self.pass_across_councils(now, &|| true)).await
    }

    async fn pass_across_councils(&self, now: DateTime<Utc>, go_on: &(dyn Fn() -> bool + Sync)) -> Result<PassReport> {
        let started = Instant::now();
        let due = self.store.pending_register_changes(now, BATCH).await?;
        let mut report = PassReport::default();
        for pending in due {
            if !go_on() {
                break;
            }
            // Claims at the time of each change, so a long pass never takes one that has run out.
            let at = now + TimeDelta::from_std(started.elapsed()).unwrap_or(TimeDelta::zero());
            match self.finish_one(&pending, at).await {
                Ok(Attempt::Finished(_)) => report.finished += 1,
                Ok(Attempt::LeftPending(_)) => report.left_pending += 1,
                Ok(Attempt::NotOurs) => {}
                Err(e) => {
                    tracing::warn!(change = pending.id, error = %e, "the register task could not act on a change");
                    report.left_pending += 1;
                }
            }
        }
        Ok(report)
    }

    async fn finish_one(&self, pending: &PendingChange, now: DateTime<Utc>) -> Result<Attempt> {
        let identity = self.identity_in(&pending.la_code)?;
        let tenant = identity.tenant_scope()?;
        let Some(change) = self.store.claim_register_change(&tenant, pending.id, &self.replica, now).await? else {
            return Ok(Attempt::NotOurs);
        };
        let attempt = self.attempt(&tenant, &change, &self.replica, None, &identity.actor()).await;
        if let Attempt::Finished(state) = &attempt {
            tracing::info!(
                referral_id = change.referral_id,
                state = state.code(),
                "the register task finished a change"
            );
        }
        Ok(attempt)
    }

    /// The service itself, verified, within the tenant `la_code`.
    fn identity_in(&self, la_code: &str) -> Result<Identity> {
        let la = LaCode::parse(la_code).map_err(|e| Error::Corrupt(format!("a register change's tenant: {e}")))?;
        let grant = Grant { person: ACTOR.to_owned(), role: Role::Service, tenant: Some(la), school: None };
        let scopes = match self.scopes.get() {
            Some(scopes) => scopes,
            None => {
                let made =
                    DevIssuer::generate().map_err(|e| Error::Corrupt(format!("the register task's key: {e}")))?;
                self.scopes.get_or_init(|| made)
            }
        };
        let token = scopes
            .signer
            .mint(&grant, Duration::from_secs(60))
            .map_err(|e| Error::Corrupt(format!("the register task's identity: {e}")))?;
        scopes.verifier.verify(&token).map_err(|e| Error::Corrupt(format!("the register task's identity: {e}")))
    }
}

/// How the pupils service's answer ends a change, or why it stays pending.
pub fn end_of(
    answer: std::result::Result<pb::RegisterFinalPlanResponse, tonic::Status>,
) -> std::result::Result<ChangeEnd, String> {
    let not_made = |why: String| Ok(ChangeEnd { state: ChangeState::NotMade, note: Some(why) });
    match answer {
        Ok(done) => match done.outcome.as_str() {
            "moved_to_e" => Ok(ChangeEnd { state: ChangeState::Done, note: None }),
            "already_on_plan" => Ok(ChangeEnd { state: ChangeState::AlreadyOnPlan, note: None }),
            "no_primary_need" => not_made(
                "the pupil has no primary need the census accepts with E (they are N, or NSA): record their status \
                 and primary need on the register by hand"
                    .to_owned(),
            ),
            other => Err(format!("the pupils service answered an outcome this service does not know: {other}")),
        },
        Err(status) => match status.code() {
            Code::NotFound => not_made(
                "the pupil is no longer on the authority's register (they left the authority, or their records were \
                 erased)"
                    .to_owned(),
            ),
            Code::FailedPrecondition | Code::InvalidArgument => {
                not_made(format!("the pupils service refused it: {}", status.message()))
            }
            code => Err(format!("pupils service: {code:?} {}", status.message())),
        },
    }
}

/// A change as the caller sees it on the referral.
pub fn to_proto_change(change: &register_change::Model) -> pb::RegisterChange {
    pb::RegisterChange {
        state: change.state.clone(),
        note: change.note.clone().unwrap_or_default(),
        finished_at: change.finished_at.map(|at| at.to_rfc3339()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(outcome: &str) -> std::result::Result<pb::RegisterFinalPlanResponse, tonic::Status> {
        Ok(pb::RegisterFinalPlanResponse { outcome: outcome.into(), sen_status: "E".into(), recorded_now: true })
    }

    #[test]
    fn the_pupils_services_outcomes_end_the_change() {
        assert_eq!(end_of(answer("moved_to_e")).map(|e| e.state), Ok(ChangeState::Done));
        assert_eq!(end_of(answer("already_on_plan")).map(|e| e.state), Ok(ChangeState::AlreadyOnPlan));
        let by_hand = end_of(answer("no_primary_need")).unwrap();
        assert_eq!(by_hand.state, ChangeState::NotMade);
        assert!(by_hand.note.unwrap().contains("by hand"));
    }

    #[test]
    fn a_pupil_who_left_or_was_erased_ends_the_change_rather_than_retrying() {
        let gone = end_of(Err(tonic::Status::not_found("pupil 7"))).unwrap();
        assert_eq!(gone.state, ChangeState::NotMade);
        assert!(gone.note.unwrap().contains("no longer on the authority's register"));
        let erasing = end_of(Err(tonic::Status::failed_precondition("being erased"))).unwrap();
        assert_eq!(erasing.state, ChangeState::NotMade);
    }

    #[test]
    fn no_answer_leaves_the_change_pending() {
        for code in [Code::Unavailable, Code::DeadlineExceeded, Code::Aborted, Code::Unauthenticated, Code::Internal] {
            assert!(end_of(Err(tonic::Status::new(code, "down"))).is_err(), "{code:?}");
        }
        assert!(end_of(answer("something_new")).is_err());
    }
}
