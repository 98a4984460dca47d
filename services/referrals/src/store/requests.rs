//! Requests for an EHC needs assessment recorded by the council as it received
//! them, by any route (s. 36(1) Children and Families Act 2014; reg. 4(1)): the
//! clock's day 0 is the day received, whatever day they are keyed in. Recording
//! is idempotent by the client's key, like a SENCO's submission, and refused while
//! the pupil has another open request (the partial unique index of migration
//! 000003 settles a race).

use chrono::Utc;
use ring::digest::{SHA256, digest};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use sen_platform::error::on_unique;
use sen_platform::identity::{Actor, Scope, TenantScope};

use super::{Store, areas, status_of};
use crate::domain::{
    Priority, RecordedRequest, ReferralKind, Status, decision_due, final_plan_due, no_plan_notice_due,
};
use crate::entity::{referral, referral_event};
use crate::error::{Error, Result};

/// The prefix of a recorded request's fingerprint (a SENCO's submission's is `v2:`).
const RECORDED: &str = "r1:";

impl Store {
    /// Records `request` under the client's `key`, with its timeline entry. A retry
    /// with the same key and request returns the first and no new entry; another
    /// request under the key is ALREADY_EXISTS; a second open request for the
    /// pupil is FAILED_PRECONDITION naming the open one.
    pub async fn record_request(
        &self,
        scope: &Scope,
        actor: &Actor,
        request: &RecordedRequest,
        key: &str,
    ) -> Result<(referral::Model, Option<referral_event::Model>)> {
        if !scope.reaches(request.school) {
            return Err(Error::NotFound(format!("school {}", request.school)));
        }
        if let Some(first) = self.recorded_by_key(scope.tenant(), key).await? {
            return same(first, request, key).map(|row| (row, None));
        }
        self.no_open_request_for(scope.tenant(), request.pupil_id).await?;
        let txn = self.db.begin().await?;
        let now = Utc::now();
        let received = request.received_on;
        let model = referral::ActiveModel {
            la_code: Set(scope.tenant().key()),
            pupil_id: Set(request.pupil_id),
            school_urn: Set(request.school.as_i32()),
            kind: Set(ReferralKind::EhcNeedsAssessment.code()),
            broad_areas: Set(areas(&request.broad_areas)),
            concern: Set(request.concern.clone()),
            tried_summary: Set(request.tried.clone()),
            support_cycle_ids: Set(String::new()),
            provision_ids: Set(String::new()),
            // A parent's or young person's own request carries no separate consent:
            // stored empty, and answered without one.
            consent_given_by: Set(request.consent.as_ref().map(|c| c.given_by.clone()).unwrap_or_default()),
            consent_given_on: Set(request.consent.as_ref().map_or(received, |c| c.given_on)),
            consent_method: Set(request.consent.as_ref().map(|c| c.method.code().to_owned()).unwrap_or_default()),
            priority: Set(Priority::Routine.code().to_owned()),
            status: Set(Status::Submitted.code().to_owned()),
            // The day received is the day the clock starts (reg. 4(1)).
            submitted_on: Set(received),
            submitted_by: Set(actor.person.clone()),
            idempotency_key: Set(key.to_owned()),
            fingerprint: Set(fingerprint(request)),
            decision_due: Set(Some(decision_due(received))),
            no_plan_notice_due: Set(Some(no_plan_notice_due(received))),
            final_plan_due: Set(Some(final_plan_due(received))),
            requester: Set(Some(request.requester.code().to_owned())),
            received_via: Set(Some(request.received_via.code().to_owned())),
            requester_name: Set(Some(request.requester_name.clone())),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let inserted = model.insert(&txn).await.map_err(|e| on_unique(e, || Error::AlreadyExists(key.to_owned())));
        let row = match inserted {
            Ok(row) => row,
            Err(Error::AlreadyExists(_)) => {
                drop(txn);
                if let Some(first) = self.recorded_by_key(scope.tenant(), key).await? {
                    return same(first, request, key).map(|row| (row, None));
                }
                self.no_open_request_for(scope.tenant(), request.pupil_id).await?;
                return Err(Error::Aborted("retry recording the request".into()));
            }
            Err(e) => return Err(e),
        };
        let note = format!(
            "request received on {received} from the {} ({}) by {}",
            request.requester.name(),
            request.requester_name,
            request.received_via.name()
        );
        let entry = self.record(&txn, &row, actor, None, Status::Submitted, &note).await?;
        txn.commit().await?;
        self.committed(&row, &entry);
        Ok((row, Some(entry)))
    }

    async fn recorded_by_key(&self, tenant: &TenantScope, key: &str) -> Result<Option<referral::Model>> {
        Ok(referral::Entity::find()
            .filter(referral::Column::LaCode.eq(tenant.key()))
            .filter(referral::Column::IdempotencyKey.eq(key))
            .one(&self.db)
            .await?)
    }

    /// FAILED_PRECONDITION naming the pupil's open EHC needs assessment request, if any.
    async fn no_open_request_for(&self, tenant: &TenantScope, pupil_id: i64) -> Result<()> {
        let open = referral::Entity::find()
            .filter(referral::Column::LaCode.eq(tenant.key()))
            .filter(referral::Column::PupilId.eq(pupil_id))
            .filter(referral::Column::Kind.eq(ReferralKind::EhcNeedsAssessment.code()))
            .filter(referral::Column::Status.is_in(Status::ALL.into_iter().filter(|s| s.is_open()).map(Status::code)))
            .one(&self.db)
            .await?;
        match open {
            None => Ok(()),
            Some(open) => Err(Error::FailedPrecondition(format!(
                "referral {} is an open EHC needs assessment request for this pupil ({}); another can be made once it has ended",
                open.id,
                status_of(&open)?.name()
            ))),
        }
    }
}

/// The first request recorded under `key` if `request` is the same, else ALREADY_EXISTS.
fn same(first: referral::Model, request: &RecordedRequest, key: &str) -> Result<referral::Model> {
    if first.fingerprint == fingerprint(request) {
        Ok(first)
    } else {
        Err(Error::AlreadyExists(format!(
            "idempotency key '{key}' was used for a different request ({}); use a new key for a new request",
            first.id
        )))
    }
}

/// SHA-256 of every field of the request in a fixed order, each written as its
/// length and then its bytes, so no field's text can run into the next.
fn fingerprint(request: &RecordedRequest) -> String {
    let mut body = Vec::new();
    let mut text = |s: &str| {
        body.extend_from_slice(&(s.len() as u64).to_be_bytes());
        body.extend_from_slice(s.as_bytes());
    };
    text(&request.pupil_id.to_string());
    text(&request.school.to_string());
    text(&request.received_on.to_string());
    text(request.requester.code());
    text(request.received_via.code());
    text(&request.requester_name);
    text(&areas(&request.broad_areas));
    text(&request.concern);
    text(&request.tried);
    match &request.consent {
        None => text(""),
        Some(consent) => {
            text("consent");
            text(&consent.given_by);
            text(&consent.given_on.to_string());
            text(consent.method.code());
        }
    }
    let hash = digest(&SHA256, &body);
    let hex: String = hash.as_ref().iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{RECORDED}{hex}")
}
