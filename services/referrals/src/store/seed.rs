//! Loading referrals with their history in one transaction: the embedded mode's
//! demo data, with submission dates in the past and each referral's timeline
//! following its real path through the lifecycle.

use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use sea_orm::{ActiveModelTrait, Set, TransactionTrait};
use sen_platform::identity::TenantScope;

use super::fingerprint::fingerprint;
use super::{Store, areas, ids};
use crate::domain::{
    ClockDates, NewReferral, ReceivedVia, Requester, Status, decision_due, final_plan_due, no_plan_notice_due,
};
use crate::entity::{referral, referral_event};
use crate::error::Result;

/// A referral as it stands, with how it got there.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedReferral {
    /// What was submitted.
    pub new: NewReferral,
    /// When.
    pub submitted_on: NaiveDate,
    /// The statuses it passed through after submission, with the day of each.
    pub path: Vec<(Status, NaiveDate, &'static str)>,
    /// Professional allocated.
    pub allocated_to: Option<String>,
    /// Outcome when closed.
    pub outcome: Option<String>,
    /// Clock dates (EHC needs assessment requests).
    pub clock: Option<ClockDates>,
}

/// What a seeded EHC needs assessment request records beyond a SENCO's referral:
/// who made it and how (with the day it was keyed in), the draft plan and its
/// consultation, and an exception's day and note.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeedClockExtras {
    /// Who made the request, how it came, who they are, and the day it was keyed in.
    pub requested: Option<(Requester, ReceivedVia, String, NaiveDate)>,
    /// The draft plan sent, and the last day for comments.
    pub draft_plan: Option<(NaiveDate, NaiveDate)>,
    /// The day the exception arose, and the note.
    pub exception: Option<(NaiveDate, String)>,
}

impl SeedReferral {
    /// Where it stands: the last status of its path.
    pub fn status(&self) -> Status {
        self.path.last().map_or(Status::Submitted, |step| step.0)
    }
}

impl Store {
    /// Loads referrals into the tenant in one transaction.
    pub async fn load_referrals(&self, tenant: &TenantScope, by: &str, referrals: &[SeedReferral]) -> Result<usize> {
        let plain: Vec<(SeedReferral, SeedClockExtras)> =
            referrals.iter().map(|seed| (seed.clone(), SeedClockExtras::default())).collect();
        self.load_referrals_with(tenant, by, &plain).await
    }

    /// Loads referrals, each with what its clock records beyond the referral, into
    /// the tenant in one transaction.
    pub async fn load_referrals_with(
        &self,
        tenant: &TenantScope,
        by: &str,
        referrals: &[(SeedReferral, SeedClockExtras)],
    ) -> Result<usize> {
        let txn = self.db.begin().await?;
        let now = Utc::now();
        for (n, (seed, extras)) in referrals.iter().enumerate() {
            let status = seed.status();
            // A parent's or young person's own request carries no separate consent.
            let own_request = extras.requested.as_ref().is_some_and(|r| !r.0.needs_consent());
            let keyed_in =
                extras.requested.as_ref().map_or(now, |r| r.3.and_time(NaiveTime::MIN).and_utc() + Duration::hours(11));
            let statutory = seed.new.kind.is_statutory();
            let clock = seed.clock.as_ref();
            let row = referral::ActiveModel {
                la_code: Set(tenant.key()),
                pupil_id: Set(seed.new.pupil_id),
                school_urn: Set(seed.new.school.as_i32()),
                kind: Set(seed.new.kind.code()),
                broad_areas: Set(areas(&seed.new.broad_areas)),
                concern: Set(seed.new.concern.clone()),
                tried_summary: Set(seed.new.tried.summary.clone()),
                support_cycle_ids: Set(ids(&seed.new.tried.cycles)),
                provision_ids: Set(ids(&seed.new.tried.provisions)),
                consent_given_by: Set(if own_request { String::new() } else { seed.new.consent.given_by.clone() }),
                consent_given_on: Set(if own_request { seed.submitted_on } else { seed.new.consent.given_on }),
                consent_method: Set(if own_request {
                    String::new()
                } else {
                    seed.new.consent.method.code().to_owned()
                }),
                priority: Set(seed.new.priority.code().to_owned()),
                status: Set(status.code().to_owned()),
                submitted_on: Set(seed.submitted_on),
                submitted_by: Set(by.to_owned()),
                allocated_to: Set(seed.allocated_to.clone()),
                case_ref: Set(seed.allocated_to.as_ref().map(|_| format!("DEMO-{n}"))),
                outcome: Set(seed.outcome.clone()),
                idempotency_key: Set(format!("demo-{n}")),
                fingerprint: Set(fingerprint(&seed.new)),
                decision_due: Set(statutory.then(|| decision_due(seed.submitted_on))),
                no_plan_notice_due: Set(statutory.then(|| no_plan_notice_due(seed.submitted_on))),
                final_plan_due: Set(statutory.then(|| final_plan_due(seed.submitted_on))),
                assessment_decision: Set(clock.and_then(|c| c.assessment_decision).map(|d| d.0.code().to_owned())),
                assessment_decision_on: Set(clock.and_then(|c| c.assessment_decision).map(|d| d.1)),
                plan_decision: Set(clock.and_then(|c| c.plan_decision).map(|d| d.0.code().to_owned())),
                plan_decision_on: Set(clock.and_then(|c| c.plan_decision).map(|d| d.1)),
                final_plan_issued_on: Set(clock.and_then(|c| c.final_plan_issued_on)),
                clock_exception: Set(clock.and_then(|c| c.exception).map(|e| e.code().to_owned())),
                requester: Set(extras.requested.as_ref().map(|r| r.0.code().to_owned())),
                received_via: Set(extras.requested.as_ref().map(|r| r.1.code().to_owned())),
                requester_name: Set(extras.requested.as_ref().map(|r| r.2.clone())),
                draft_plan_sent_on: Set(extras.draft_plan.map(|d| d.0)),
                consultation_ends_on: Set(extras.draft_plan.map(|d| d.1)),
                clock_exception_on: Set(extras.exception.as_ref().map(|e| e.0)),
                clock_exception_note: Set(extras.exception.as_ref().map(|e| e.1.clone())),
                version: Set(1 + seed.path.len() as i64),
                created_at: Set(keyed_in),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            // An issued plan's register change, for the register task to record (`crate::plan_issue`).
            if row.final_plan_issued_on.is_some() {
                super::register::enqueue(&txn, &row, false).await?;
            }
            let at = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc() + Duration::hours(10);
            let mut entries = vec![(None, Status::Submitted, seed.submitted_on, "senco", "submitted")];
            let mut from = Status::Submitted;
            for &(to, day, role) in &seed.path {
                entries.push((Some(from), to, day, role, to.name()));
                from = to;
            }
            for (from, to, day, role, note) in entries {
                referral_event::ActiveModel {
                    la_code: Set(tenant.key()),
                    referral_id: Set(row.id),
                    at: Set(at(day)),
                    by: Set(by.to_owned()),
                    by_role: Set(role.to_owned()),
                    from_status: Set(from.map(|s| s.code().to_owned())),
                    to_status: Set(to.code().to_owned()),
                    note: Set(note.to_owned()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
        txn.commit().await?;
        Ok(referrals.len())
    }

    /// True when no referral of any tenant is recorded.
    pub async fn is_empty(&self) -> Result<bool> {
        use sea_orm::EntityTrait;
        Ok(referral::Entity::find().one(&self.db).await?.is_none())
    }
}

impl Store {
    /// Referrals of the tenant that have been allocated (whatever became of them
    /// since), for loading the demo caseloads.
    pub async fn allocated_referrals(&self, tenant: &TenantScope) -> Result<Vec<referral::Model>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        Ok(referral::Entity::find()
            .filter(referral::Column::LaCode.eq(tenant.key()))
            .filter(referral::Column::AllocatedTo.is_not_null())
            .order_by_asc(referral::Column::Id)
            .all(&self.db)
            .await?)
    }
}
