//! The outbox of the SEN register's side of final EHC plans (`register_changes`,
//! `crate::plan_issue`): a pending change written in the transaction that
//! records the plan's issue date, claimed by one attempt at a time, and finished
//! once with its outcome and a timeline entry on the request.
//!
//! A change is held by its **claim** (`claimed_by`, `claimed_until`), taken by one
//! conditional update (`… WHERE state = 'pending' AND (claimed_until IS NULL OR
//! claimed_until < now)`), so of two replicas exactly one works on it; it is
//! written held by [`LIVE`] for [`CLAIM_LEASE`], so the request that recorded the
//! plan makes the first attempt and no background task races it. Finishing is
//! conditional on the holder and on the change still being pending, so it is
//! recorded once whoever finishes.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, NullOrdering, Order};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use sen_platform::identity::{Actor, TenantScope};

use super::{Store, status_of};
use crate::entity::{referral, register_change};
use crate::error::{Error, Result};

/// The holder of a change written with its plan: the request that recorded it.
pub const LIVE: &str = "live";

/// How long a claim holds: longer than an attempt (`crate::plan_issue::ATTEMPT_LIMIT`).
pub const CLAIM_LEASE: TimeDelta = TimeDelta::seconds(60);

/// A change's state, as stored and as the caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeState {
    /// Waiting for the pupils service.
    Pending,
    /// The pupil moved to E, their EHCP opened.
    Done,
    /// The pupil was on E already: nothing changed.
    AlreadyOnPlan,
    /// It cannot be made (the note says why).
    NotMade,
}

impl ChangeState {
    /// Its code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::AlreadyOnPlan => "already_on_plan",
            Self::NotMade => "not_made",
        }
    }
}

/// How a change ended, for [`Store::finish_register_change`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeEnd {
    /// Done, already on a plan, or not made.
    pub state: ChangeState,
    /// Why not made (none otherwise).
    pub note: Option<String>,
}

/// A change as the background task lists it: its tenant and id, nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingChange {
    /// Row id.
    pub id: i32,
    /// Tenant.
    pub la_code: String,
}

/// Writes the pending change for `row`'s final plan in the transaction that
/// records the issue date: held by [`LIVE`] when the request makes the first
/// attempt itself, else (the demo data) left to the background task.
pub(super) async fn enqueue(db: &impl ConnectionTrait, row: &referral::Model, live: bool) -> Result<()> {
    let Some(issued_on) = row.final_plan_issued_on else {
        return Err(Error::Corrupt(format!("referral {}: a register change with no plan issued", row.id)));
    };
    let now = Utc::now();
    register_change::ActiveModel {
        la_code: Set(row.la_code.clone()),
        referral_id: Set(row.id),
        pupil_id: Set(row.pupil_id),
        issued_on: Set(issued_on),
        state: Set(ChangeState::Pending.code().to_owned()),
        note: Set(None),
        attempts: Set(0),
        claimed_by: Set(live.then(|| LIVE.to_owned())),
        claimed_until: Set(live.then_some(now + CLAIM_LEASE)),
        created_at: Set(now),
        finished_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Forgets a pupil's changes (their erasure at the end of retention), in `db`'s transaction.
pub(super) async fn forget(db: &impl ConnectionTrait, la_code: &str, pupil_id: i64) -> Result<u64> {
    Ok(register_change::Entity::delete_many()
        .filter(register_change::Column::LaCode.eq(la_code))
        .filter(register_change::Column::PupilId.eq(pupil_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Pending and held by nobody at `now`.
fn unclaimed_pending(now: DateTime<Utc>) -> Condition {
    Condition::all().add(register_change::Column::State.eq(ChangeState::Pending.code())).add(
        Condition::any()
            .add(register_change::Column::ClaimedUntil.is_null())
            .add(register_change::Column::ClaimedUntil.lt(now)),
    )
}

impl Store {
    /// The register change of referral `referral_id` in `tenant`, if its plan was issued.
    pub async fn register_change(
        &self,
        tenant: &TenantScope,
        referral_id: i64,
    ) -> Result<Option<register_change::Model>> {
        let Ok(id) = i32::try_from(referral_id) else { return Ok(None) };
        Ok(register_change::Entity::find()
            .filter(register_change::Column::LaCode.eq(tenant.key()))
            .filter(register_change::Column::ReferralId.eq(id))
            .one(&self.db)
            .await?)
    }

    /// The background task's work: changes of every tenant still pending and held
    /// by nobody at `now`, at most `limit`, those never held after the request's
    /// own attempt first, then those tried longest ago. The one query here not
    /// scoped to a tenant: it reads each change's tenant and id only, and all
    /// that is done to a change afterwards goes through that tenant's scope.
    pub async fn pending_register_changes(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<PendingChange>> {
        let rows: Vec<(i32, String)> = register_change::Entity::find()
            .select_only()
            .column(register_change::Column::Id)
            .column(register_change::Column::LaCode)
            .filter(unclaimed_pending(now))
            .order_by_with_nulls(register_change::Column::ClaimedUntil, Order::Asc, NullOrdering::First)
            .order_by_asc(register_change::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|(id, la_code)| PendingChange { id, la_code }).collect())
    }

    /// Takes change `id` for `holder` until `now` + [`CLAIM_LEASE`], if it is
    /// pending and nobody holds it; the change as taken, or none.
    pub async fn claim_register_change(
        &self,
        tenant: &TenantScope,
        id: i32,
        holder: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<register_change::Model>> {
        let taken = register_change::Entity::update_many()
            .col_expr(register_change::Column::ClaimedBy, Expr::value(holder.to_owned()))
            .col_expr(register_change::Column::ClaimedUntil, Expr::value(now + CLAIM_LEASE))
            .filter(register_change::Column::Id.eq(id))
            .filter(register_change::Column::LaCode.eq(tenant.key()))
            .filter(unclaimed_pending(now))
            .exec(&self.db)
            .await?;
        if taken.rows_affected != 1 {
            return Ok(None);
        }
        Ok(register_change::Entity::find_by_id(id)
            .filter(register_change::Column::LaCode.eq(tenant.key()))
            .one(&self.db)
            .await?)
    }

    /// Records that `holder`'s attempt at change `id` failed with `reason`; it
    /// stays pending, its claim running out for the next attempt.
    pub async fn note_register_change_failed(
        &self,
        tenant: &TenantScope,
        id: i32,
        holder: &str,
        reason: &str,
    ) -> Result<()> {
        register_change::Entity::update_many()
            .col_expr(register_change::Column::Note, Expr::value(reason.to_owned()))
            .col_expr(register_change::Column::Attempts, Expr::col(register_change::Column::Attempts).add(1))
            .filter(register_change::Column::Id.eq(id))
            .filter(register_change::Column::LaCode.eq(tenant.key()))
            .filter(register_change::Column::State.eq(ChangeState::Pending.code()))
            .filter(register_change::Column::ClaimedBy.eq(holder))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Finishes change `id` as `end`, if it is still pending and held by
    /// `holder`, with a timeline entry on its request by `actor` saying what the
    /// register now says, in one transaction. False when it was not this
    /// attempt's to finish (finished already, or its claim passed on).
    pub async fn finish_register_change(
        &self,
        tenant: &TenantScope,
        actor: &Actor,
        id: i32,
        holder: &str,
        end: &ChangeEnd,
    ) -> Result<bool> {
        let txn = self.db.begin().await?;
        let finished = register_change::Entity::update_many()
            .col_expr(register_change::Column::State, Expr::value(end.state.code()))
            .col_expr(register_change::Column::Note, Expr::value(end.note.clone()))
            .col_expr(register_change::Column::Attempts, Expr::col(register_change::Column::Attempts).add(1))
            .col_expr(register_change::Column::FinishedAt, Expr::value(Some(Utc::now())))
            .col_expr(register_change::Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(register_change::Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(register_change::Column::Id.eq(id))
            .filter(register_change::Column::LaCode.eq(tenant.key()))
            .filter(register_change::Column::State.eq(ChangeState::Pending.code()))
            .filter(register_change::Column::ClaimedBy.eq(holder))
            .exec(&txn)
            .await?;
        if finished.rows_affected != 1 {
            return Ok(false);
        }
        let change = register_change::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::Corrupt(format!("register change {id} went while it was finished")))?;
        let row = referral::Entity::find_by_id(change.referral_id)
            .filter(referral::Column::LaCode.eq(tenant.key()))
            .one(&txn)
            .await?
            .ok_or_else(|| Error::Corrupt(format!("register change {id}: referral {} is gone", change.referral_id)))?;
        let note = match (end.state, &end.note) {
            (ChangeState::Done, _) => format!(
                "SEN register updated: the pupil is now E (EHC plan) from {}, their EHCP opened with the annual-review cycle from that day",
                change.issued_on
            ),
            (ChangeState::AlreadyOnPlan, _) => {
                "SEN register: the pupil was already E (EHC plan); nothing changed".to_owned()
            }
            (_, Some(why)) => format!("SEN register not changed: {why}"),
            (_, None) => "SEN register not changed".to_owned(),
        };
        let status = status_of(&row)?;
        let entry = self.record(&txn, &row, actor, Some(status), status, &note).await?;
        txn.commit().await?;
        self.committed(&row, &entry);
        Ok(true)
    }
}
