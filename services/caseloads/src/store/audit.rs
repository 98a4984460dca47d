//! The caseloads service's audit trail: what was done to an allocation, by whom
//! (a person, or the service itself as the `service` role), when and under which
//! trace; who read which case and its activity (visits, notes, outcomes: a
//! child's casework) and which requests for advice; and which requests the service refused. The reconciler
//! writes an entry for each allocation it acts on, in the same transaction as
//! the change when there is one. A read's entries are committed, by group
//! commit with other reads' ([`GroupCommit`]), before it is answered.
//! Refusals come from the platform's trail ([`RefusalLog`]), already limited
//! per caller. Entries name cases, referrals and statuses, never a pupil.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sen_platform::audit::{GroupCommit, RefusalLog, RefusalRows};
use sen_platform::identity::{Actor, TenantScope};

use super::Store;
use crate::entity::{advice_request, audit_event, case};
use crate::error::Result;

/// What an audit entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A pending allocation was completed: access opened, referral marked, case active.
    AllocationCompleted,
    /// A pending allocation was undone: access closed, case removed, capacity given back.
    AllocationUndone,
    /// An attempt could neither complete nor undo it; it stays pending for the next.
    AllocationLeftPending,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 3] = [Self::AllocationCompleted, Self::AllocationUndone, Self::AllocationLeftPending];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::AllocationCompleted => "allocation.completed",
            Self::AllocationUndone => "allocation.undone",
            Self::AllocationLeftPending => "allocation.left_pending",
        }
    }
}

/// The writer of reads' (and refusals') audit entries.
pub(super) type Audits = GroupCommit<audit_event::ActiveModel>;

/// What a read of cases was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadAction {
    /// One case (`GetCase`).
    Case,
    /// A case's activity: visits, notes, outcomes (`ListCaseActivity`).
    Activity,
    /// A professional's own open cases (`GetMyCaseload`).
    Caseload,
    /// Advice asked for on EHC needs assessment requests (`ListAdviceRequests`).
    Advice,
}

impl ReadAction {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Case => "case.read",
            Self::Activity => "case.activity_read",
            Self::Caseload => "case.caseload_read",
            Self::Advice => "advice.read",
        }
    }
}

/// An entry to write about a case: who acted, what, and why.
#[derive(Clone, Copy, Debug)]
pub struct AuditNote<'a> {
    /// Who acted.
    pub actor: &'a Actor,
    /// What was done.
    pub action: AuditAction,
    /// Why, in the service's words.
    pub detail: &'a str,
}

/// Writes `note` about `row` through `db` (the change's own transaction, when it has one).
pub(super) async fn write(
    db: &impl ConnectionTrait,
    tenant: &TenantScope,
    row: &case::Model,
    note: &AuditNote<'_>,
) -> Result<()> {
    audit_event::ActiveModel {
        la_code: Set(tenant.key()),
        person: Set(note.actor.person.clone()),
        role: Set(note.actor.role.as_str().to_owned()),
        case_id: Set(Some(row.id)),
        referral_id: Set(Some(row.referral_id)),
        action: Set(note.action.code().to_owned()),
        detail: Set(note.detail.chars().take(1000).collect()),
        at: Set(Utc::now()),
        trace_id: Set(note.actor.trace_id.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

impl Store {
    /// Records that `actor` read `cases` (`action`), returning once the entries
    /// are committed: a read is answered only after this succeeds.
    pub async fn audit_reads(
        &self,
        tenant: &TenantScope,
        actor: &Actor,
        cases: &[&case::Model],
        action: ReadAction,
    ) -> Result<()> {
        let at = Utc::now();
        let entries = cases
            .iter()
            .map(|row| audit_event::ActiveModel {
                la_code: Set(tenant.key()),
                person: Set(actor.person.clone()),
                role: Set(actor.role.as_str().to_owned()),
                case_id: Set(Some(row.id)),
                referral_id: Set(Some(row.referral_id)),
                action: Set(action.code().to_owned()),
                detail: Set(String::new()),
                at: Set(at),
                trace_id: Set(actor.trace_id.clone()),
                ..Default::default()
            })
            .collect();
        Ok(self.audits.record(entries).await?)
    }

    /// Records that `actor` read the requests for advice `rows` as `action`: one
    /// entry each, naming its EHC needs assessment request (the referral) and,
    /// as the detail, the advice request's id; committed before the read is
    /// answered, as [`Self::audit_reads`]'s.
    pub async fn audit_advice_reads(
        &self,
        tenant: &TenantScope,
        actor: &Actor,
        rows: &[&advice_request::Model],
        action: ReadAction,
    ) -> Result<()> {
        let at = Utc::now();
        let entries = rows
            .iter()
            .map(|row| audit_event::ActiveModel {
                la_code: Set(tenant.key()),
                person: Set(actor.person.clone()),
                role: Set(actor.role.as_str().to_owned()),
                case_id: Set(None),
                referral_id: Set(Some(row.referral_id)),
                action: Set(action.code().to_owned()),
                detail: Set(format!("advice_request {}", row.id)),
                at: Set(at),
                trace_id: Set(actor.trace_id.clone()),
                ..Default::default()
            })
            .collect();
        Ok(self.audits.record(entries).await?)
    }

    /// Where the service's refusal trail writes: this store's audit entries.
    pub fn refusal_log(&self) -> Arc<dyn RefusalLog> {
        Arc::new(RefusalRows::new(self.audits.clone(), |record| audit_event::ActiveModel {
            la_code: Set(record.tenant_key()),
            person: Set(record.person()),
            role: Set(record.role()),
            case_id: Set(None),
            referral_id: Set(None),
            action: Set(record.action()),
            detail: Set(record.detail()),
            at: Set(record.at()),
            trace_id: Set(record.trace_id()),
            ..Default::default()
        }))
    }

    /// Writes `note` about `row`, on its own.
    pub async fn audit(&self, tenant: &TenantScope, row: &case::Model, note: &AuditNote<'_>) -> Result<()> {
        write(&self.db, tenant, row, note).await
    }

    /// The tenant's audit entries, oldest first.
    pub async fn audit_events(&self, tenant: &TenantScope) -> Result<Vec<audit_event::Model>> {
        Ok(audit_event::Entity::find()
            .filter(audit_event::Column::LaCode.eq(tenant.key()))
            .order_by_asc(audit_event::Column::Id)
            .all(&self.db)
            .await?)
    }
}
