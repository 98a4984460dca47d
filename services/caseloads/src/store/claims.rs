//! Claims on pending cases: which one attempt at finishing an allocation (the
//! client's request, its retry, or a reconciler pass on any replica) may run the
//! allocation's steps now.
//!
//! A claim is a holder and an expiry on the case row, taken by one conditional
//! `UPDATE … WHERE status = 'pending' AND (claimed_until IS NULL OR claimed_until
//! < now)`. The database applies it to the row once: on PostgreSQL the second of
//! two such updates waits for the first's row lock, then re-reads the row and no
//! longer matches; on SQLite the statement runs alone. So of two attempts, one
//! takes the case and the other is told so, on either engine. The case's last
//! local steps (confirm, undo) are conditional on the claim's holder as well, so
//! an attempt that outlived its claim can change nothing here. An attempt keeps
//! its steps within the claim's lease (see `crate::completion`), so it cannot
//! reach the other services after its claim ran out either.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, NullOrdering};
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect};
use sen_platform::identity::TenantScope;

use super::Store;
use crate::domain::CaseStatus;
use crate::entity::case;
use crate::error::Result;

/// One attempt's hold on a pending case: who (unique to the attempt) and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    holder: String,
    until: DateTime<Utc>,
}

impl Claim {
    /// A fresh attempt's claim by `who` (`request`, `reconciler`), made at `now`
    /// and lasting `lease`. The holder carries a random part, so no two attempts
    /// anywhere share one.
    pub fn new(who: &str, now: DateTime<Utc>, lease: TimeDelta) -> Self {
        use rand_core::RngCore;
        let holder = format!("{who}:{:016x}", rand_core::OsRng.next_u64());
        Self { holder, until: now + lease }
    }

    /// Who holds it, as stored in `claimed_by`.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// When it runs out.
    pub fn until(&self) -> DateTime<Utc> {
        self.until
    }
}

/// A pending allocation the reconciler is due to finish: its tenant and case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingAllocation {
    /// The tenant's LA code, as stored.
    pub la_code: String,
    /// The case.
    pub case_id: i32,
}

/// Cases still pending whose claim, if any, has run out at `now`.
fn unclaimed_pending(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(case::Column::Status.eq(CaseStatus::Pending.code()))
        .add(Condition::any().add(case::Column::ClaimedUntil.is_null()).add(case::Column::ClaimedUntil.lt(now)))
}

impl Store {
    /// Takes the pending case `case_id` for `claim`, unless another attempt's
    /// claim still holds at `now`. True when this attempt now holds it; false
    /// when another does, or the case is no longer pending.
    pub async fn claim_pending(
        &self,
        tenant: &TenantScope,
        case_id: i32,
        claim: &Claim,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let taken = case::Entity::update_many()
            .col_expr(case::Column::ClaimedBy, Expr::value(claim.holder.clone()))
            .col_expr(case::Column::ClaimedUntil, Expr::value(claim.until))
            .filter(case::Column::Id.eq(case_id))
            .filter(case::Column::LaCode.eq(tenant.key()))
            .filter(unclaimed_pending(now))
            .exec(&self.db)
            .await?;
        Ok(taken.rows_affected == 1)
    }

    /// Lets go of `claim` on a case left pending, so that the next attempt (the
    /// client's retry) need not wait for it to run out. Nothing if it is not held.
    pub async fn release_claim(&self, tenant: &TenantScope, case_id: i32, claim: &Claim) -> Result<()> {
        case::Entity::update_many()
            .col_expr(case::Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(case::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(case::Column::Id.eq(case_id))
            .filter(case::Column::LaCode.eq(tenant.key()))
            .filter(case::Column::Status.eq(CaseStatus::Pending.code()))
            .filter(case::Column::ClaimedBy.eq(claim.holder.clone()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The reconciler's work: allocations of every tenant begun before
    /// `begun_before`, still pending and not held by a claim at `now`, at most
    /// `limit`: those nobody holds (the client's attempt let go), then those
    /// whose last claim ran out longest ago, each oldest first.
    ///
    /// The one query here that is not scoped to a tenant, because the service
    /// itself, not a caller, finishes what callers left: it reads only each
    /// case's tenant and id, and everything done to a case afterwards goes through
    /// that tenant's scope. Listed is not taken: the reconciler claims each case
    /// before acting on it, so another replica listing the same case skips it.
    pub async fn pending_allocations_due(
        &self,
        begun_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<PendingAllocation>> {
        let rows: Vec<(String, i32)> = case::Entity::find()
            .select_only()
            .column(case::Column::LaCode)
            .column(case::Column::Id)
            .filter(unclaimed_pending(now))
            .filter(case::Column::CreatedAt.lt(begun_before))
            // Never tried first, then those tried longest ago, so a batch of
            // allocations whose peers stay down does not starve the rest.
            .order_by_with_nulls(case::Column::ClaimedUntil, Order::Asc, NullOrdering::First)
            .order_by_asc(case::Column::CreatedAt)
            .order_by_asc(case::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|(la_code, case_id)| PendingAllocation { la_code, case_id }).collect())
    }
}
