//! An allocation's local half: reserve the professional's capacity and record
//! the case as pending, then confirm it or undo it once the other services have
//! answered (`crate::completion` runs the steps), each step only by the holder of
//! the case's claim (`super::claims`), and finding the case again under the
//! client's idempotency key.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use sen_platform::identity::TenantScope;

use super::audit::{AuditNote, write as write_audit};
use super::cases::{case_status, move_case, release, reserve};
use super::claims::Claim;
use super::sessions::check_sessions_within;
use super::{Store, on_unique};
use crate::domain::{CaseEvent, CaseStatus};
use crate::entity::case;
use crate::error::{Error, Result};

/// What an allocation records about the referral.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseDraft {
    /// The referral.
    pub referral_id: i64,
    /// The pupil.
    pub pupil_id: i64,
    /// The school.
    pub school_urn: i32,
    /// The referral's kind code.
    pub kind: String,
    /// When the referral was received.
    pub received_on: NaiveDate,
    /// The client's key for the allocation: a retry under it finds this case.
    pub idempotency_key: String,
}

impl Store {
    /// The case recorded under `key`, if any.
    pub async fn case_by_key(&self, tenant: &TenantScope, key: &str) -> Result<Option<case::Model>> {
        Ok(case::Entity::find()
            .filter(case::Column::LaCode.eq(tenant.key()))
            .filter(case::Column::IdempotencyKey.eq(key))
            .one(&self.db)
            .await?)
    }

    /// Reserves the professional's capacity and records the case as pending,
    /// held by `claim` for the attempt that goes on to finish it, in one
    /// transaction, refusing a professional at capacity (open cases or sessions
    /// this term) unless overridden.
    pub async fn begin_allocation(
        &self,
        tenant: &TenantScope,
        draft: &CaseDraft,
        professional_id: i32,
        override_reason: Option<&str>,
        today: NaiveDate,
        claim: &Claim,
    ) -> Result<case::Model> {
        let txn = self.db.begin().await?;
        reserve(&txn, tenant, professional_id, override_reason.is_some()).await?;
        // The sessions are read after `reserve` has written the professional's
        // row, so the check and the case are one step on both engines. On
        // PostgreSQL that UPDATE holds the row's lock to commit: an allocation
        // to the same professional, or a change of their limit, waits for it and
        // then reads what it committed (the lock a SELECT … FOR UPDATE would take,
        // which SQLite does not have). On SQLite the UPDATE makes this the
        // database's one writer, and reads in a write transaction see the latest
        // state. Read before the first write, as the api's check is, the figures
        // could be stale by the time the case is recorded. A refusal drops the
        // transaction, which rolls back the reservation.
        check_sessions_within(&txn, tenant, professional_id, override_reason.is_some(), today).await?;
        let now = Utc::now();
        let referral = draft.referral_id;
        let row = case::ActiveModel {
            la_code: Set(tenant.key()),
            referral_id: Set(draft.referral_id),
            pupil_id: Set(draft.pupil_id),
            school_urn: Set(draft.school_urn),
            kind: Set(draft.kind.clone()),
            received_on: Set(draft.received_on),
            // Advice runs its own clock from the day it is asked for (reg. 8(1)): see `advice`.
            advice_due: Set(None),
            professional_id: Set(professional_id),
            status: Set(CaseStatus::Pending.code().to_owned()),
            allocated_on: Set(today),
            outcome: Set(None),
            override_reason: Set(override_reason.map(str::to_owned)),
            idempotency_key: Set(draft.idempotency_key.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            claimed_by: Set(Some(claim.holder().to_owned())),
            claimed_until: Set(Some(claim.until())),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| on_unique(e, || Error::AlreadyExists(format!("referral {referral} already has an open case"))))?;
        txn.commit().await?;
        Ok(row)
    }

    /// Marks a pending case active once the other services have recorded it,
    /// if `claim` still holds it, with `audit`'s entry in the same transaction. A
    /// case already active (completed by an earlier attempt) is returned as it
    /// is. Otherwise INCOMPLETE: another attempt holds or removed it.
    pub async fn confirm_allocation(
        &self,
        tenant: &TenantScope,
        case_id: i32,
        claim: &Claim,
        audit: Option<&AuditNote<'_>>,
    ) -> Result<case::Model> {
        let row = self.case(tenant, i64::from(case_id)).await?;
        let to = move_case(i64::from(case_id), case_status(&row)?, CaseEvent::Confirm)?;
        if case_status(&row)? != CaseStatus::Pending {
            return Ok(row);
        }
        let txn = self.db.begin().await?;
        let confirmed = case::Entity::update_many()
            .col_expr(case::Column::Status, Expr::value(to.code()))
            .col_expr(case::Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(case::Column::ClaimedUntil, Expr::value(Option::<chrono::DateTime<Utc>>::None))
            .col_expr(case::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(case::Column::Id.eq(row.id))
            .filter(case::Column::LaCode.eq(tenant.key()))
            .filter(case::Column::Status.eq(CaseStatus::Pending.code()))
            .filter(case::Column::ClaimedBy.eq(claim.holder()))
            .exec(&txn)
            .await?;
        if confirmed.rows_affected == 0 {
            drop(txn);
            let current = self.case(tenant, i64::from(case_id)).await;
            return match current {
                Ok(row) if case_status(&row)? == CaseStatus::Active => Ok(row),
                _ => Err(Error::Incomplete(format!(
                    "the allocation of case {case_id} is being finished by another attempt: try again shortly \
                     with the same idempotency key"
                ))),
            };
        }
        if let Some(note) = audit {
            write_audit(&txn, tenant, &row, note).await?;
        }
        txn.commit().await?;
        self.case(tenant, i64::from(case_id)).await
    }

    /// Undoes a pending case that could not be completed, if `claim` still holds
    /// it: the case goes and the professional's capacity comes back, as if
    /// nothing had happened, with `audit`'s entry in the same transaction. True
    /// when this call removed it; false when it was no longer pending or no
    /// longer this attempt's (another attempt completed it, or removed it first),
    /// and then nothing is released: the capacity is the completed case's, or was
    /// given back already.
    pub async fn abandon_allocation(
        &self,
        tenant: &TenantScope,
        row: &case::Model,
        claim: &Claim,
        audit: Option<&AuditNote<'_>>,
    ) -> Result<bool> {
        let txn = self.db.begin().await?;
        let removed = case::Entity::delete_many()
            .filter(case::Column::Id.eq(row.id))
            .filter(case::Column::LaCode.eq(tenant.key()))
            .filter(case::Column::Status.eq(CaseStatus::Pending.code()))
            .filter(case::Column::ClaimedBy.eq(claim.holder()))
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if removed {
            release(&txn, row.professional_id).await?;
            if let Some(note) = audit {
                write_audit(&txn, tenant, row, note).await?;
            }
        }
        txn.commit().await?;
        Ok(removed)
    }
}
