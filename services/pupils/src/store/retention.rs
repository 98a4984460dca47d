//! Erasure at the end of the retention period, as the pupils service keeps it:
//! which pupils are past their authority's period (`crate::domain::retention`),
//! the erasures begun and not finished (`erasures`: the pupil's `erasing`
//! state), the claim one pass holds on each, and the last step, which deletes
//! the pupil and every record of them here and writes the audit entry.
//!
//! Marking, listing and taking are the service's own work across authorities (a
//! pass of the retention job), so they take an optional tenant rather than a
//! caller's scope, read only each pupil's tenant, id and date of birth, and
//! return ids only; the erasure itself goes through the tenant's scope.
//!
//! Taking is one conditional `UPDATE … WHERE claimed_until IS NULL OR
//! claimed_until < now` per erasure, as the caseloads service claims a pending
//! allocation: of two passes (two replicas) exactly one gets each erasure, on
//! either engine. The erasure's last step is conditional on the holder, so a pass
//! that outlived its claim changes nothing here.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, NullOrdering, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use sen_platform::identity::TenantScope;

use super::{Actor, Store};
use crate::domain::{RetentionPolicy, is_past_retention, latest_birth_past};
use crate::entity::{
    annual_review, audit_event, case_access, ehcp, erasure, provision, pupil, pupil_history, support_cycle,
};
use crate::error::{Error, Result};

/// Who erases, in the audit trail: the retention rule, whichever service carried it out.
pub const RETENTION_ACTOR: &str = "pupils-retention";

/// The audit action of an erasure.
pub const ERASED: &str = "pupil.erased";

/// Why a pupil whose erasure has begun takes no new case.
pub const ERASING: &str =
    "the pupil's records are being erased at the end of their retention period: no case can be allocated";

/// One pupil due for erasure: its tenant and id, nothing else.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DueErasure {
    /// The tenant's LA code, as stored.
    pub la_code: String,
    /// The pupil.
    pub pupil_id: i64,
}

/// What an erasure removed here, by table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// The pupil row (1, or 0 when it was gone already).
    pub pupils: u64,
    /// Register history entries.
    pub history: u64,
    /// SEN support cycles.
    pub support_cycles: u64,
    /// Provision.
    pub provision: u64,
    /// EHC plans.
    pub ehcps: u64,
    /// Annual reviews.
    pub annual_reviews: u64,
    /// Case access grants.
    pub access_grants: u64,
}

impl std::fmt::Display for Removed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pupils: {} pupil, {} history, {} support cycles, {} provision, {} EHCPs, {} annual reviews, {} access grants",
            self.pupils,
            self.history,
            self.support_cycles,
            self.provision,
            self.ehcps,
            self.annual_reviews,
            self.access_grants
        )
    }
}

impl Store {
    /// Marks every pupil past retention on `today` (in `tenant`, or in every
    /// tenant) as due for erasure, at `now`; returns how many were newly marked.
    pub async fn mark_erasures_due(
        &self,
        tenant: Option<&str>,
        policy: &RetentionPolicy,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut marked = 0;
        for la_code in self.tenants_with_pupils(tenant).await? {
            let due = self.past_retention(&la_code, policy, today, true).await?;
            for batch in due.chunks(500) {
                let rows = batch.iter().map(|&pupil_id| erasure::ActiveModel {
                    la_code: Set(la_code.clone()),
                    pupil_id: Set(pupil_id),
                    begun_at: Set(now),
                    claimed_by: Set(None),
                    claimed_until: Set(None),
                    ..Default::default()
                });
                // Another pass may have marked some meanwhile: one erasure per pupil.
                let conflict = OnConflict::column(erasure::Column::PupilId).do_nothing().to_owned();
                let inserted = erasure::Entity::insert_many(rows)
                    .on_conflict(conflict)
                    .do_nothing()
                    .exec_without_returning(&self.db)
                    .await?;
                if let sea_orm::TryInsertResult::Inserted(n) = inserted {
                    marked += n;
                }
            }
        }
        Ok(marked)
    }

    /// What a pass would erase, written nowhere: the erasures begun and not
    /// finished, then the pupils past retention on `today` not yet marked, in
    /// `tenant` or every tenant, at most `limit`, ordered by tenant and pupil.
    pub async fn erasures_due(
        &self,
        tenant: Option<&str>,
        policy: &RetentionPolicy,
        today: NaiveDate,
        limit: u64,
    ) -> Result<Vec<DueErasure>> {
        let mut due = Vec::new();
        for la_code in self.tenants_with_pupils(tenant).await? {
            let begun: Vec<i32> = erasure::Entity::find()
                .select_only()
                .column(erasure::Column::PupilId)
                .filter(erasure::Column::LaCode.eq(la_code.clone()))
                .into_tuple()
                .all(&self.read)
                .await?;
            let unmarked = self.past_retention(&la_code, policy, today, false).await?;
            let mut ids: Vec<i32> = begun.into_iter().chain(unmarked).collect();
            ids.sort_unstable();
            ids.dedup();
            due.extend(ids.into_iter().map(|id| DueErasure { la_code: la_code.clone(), pupil_id: i64::from(id) }));
            if due.len() as u64 >= limit {
                break;
            }
        }
        due.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(due)
    }

    /// Takes up to `limit` erasures begun and not held at `now` (in `tenant` or
    /// every tenant) for `holder` until `now + lease`: those never taken first,
    /// then those whose last claim ran out longest ago. Returns those taken.
    pub async fn take_erasures(
        &self,
        tenant: Option<&str>,
        holder: &str,
        now: DateTime<Utc>,
        lease: TimeDelta,
        limit: u64,
    ) -> Result<Vec<DueErasure>> {
        let mut listed = erasure::Entity::find().filter(unclaimed(now));
        if let Some(la_code) = tenant {
            listed = listed.filter(erasure::Column::LaCode.eq(la_code));
        }
        let candidates: Vec<(i32, String, i32)> = listed
            .select_only()
            .column(erasure::Column::Id)
            .column(erasure::Column::LaCode)
            .column(erasure::Column::PupilId)
            .order_by_with_nulls(erasure::Column::ClaimedUntil, Order::Asc, NullOrdering::First)
            .order_by_asc(erasure::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut taken = Vec::new();
        for (id, la_code, pupil_id) in candidates {
            // Listed is not taken: another pass may have claimed it since.
            let claimed = erasure::Entity::update_many()
                .col_expr(erasure::Column::ClaimedBy, Expr::value(holder.to_owned()))
                .col_expr(erasure::Column::ClaimedUntil, Expr::value(now + lease))
                .filter(erasure::Column::Id.eq(id))
                .filter(unclaimed(now))
                .exec(&self.db)
                .await?;
            if claimed.rows_affected == 1 {
                taken.push(DueErasure { la_code, pupil_id: i64::from(pupil_id) });
            }
        }
        Ok(taken)
    }

    /// The erasure's last step: deletes the pupil `pupil_id`, due for erasure and
    /// taken by `holder`, with every record of them here (keeping the audit
    /// trail, which holds the pupil's id only), ends the erasure and writes its
    /// audit entry (`pupils-retention`, what was removed here and, as
    /// `removed_elsewhere` says, in the other services), in one transaction.
    /// `None` when the pupil was erased already, so a retry is harmless.
    pub async fn erase_pupil(
        &self,
        tenant: &TenantScope,
        actor: &Actor,
        pupil_id: i64,
        holder: &str,
        removed_elsewhere: &str,
    ) -> Result<Option<Removed>> {
        let not_found = || Error::NotFound(format!("pupil {pupil_id}"));
        let id = i32::try_from(pupil_id).map_err(|_| not_found())?;
        let la_code = tenant.key();
        let txn = self.db.begin().await?;
        let pending = erasure::Entity::find()
            .filter(erasure::Column::LaCode.eq(la_code.clone()))
            .filter(erasure::Column::PupilId.eq(id))
            .one(&txn)
            .await?;
        let Some(pending) = pending else {
            let exists = pupil::Entity::find()
                .filter(pupil::Column::LaCode.eq(la_code.clone()))
                .filter(pupil::Column::Id.eq(id))
                .one(&txn)
                .await?
                .is_some();
            return if exists {
                Err(Error::FailedPrecondition(format!("pupil {pupil_id} is not due for erasure")))
            } else {
                Ok(None)
            };
        };
        if pending.claimed_by.as_deref() != Some(holder) {
            return Err(Error::FailedPrecondition(format!(
                "the erasure of pupil {pupil_id} is not held by this pass; it is left to the holder"
            )));
        }
        // Before the pupil row, which the appeals refer to.
        super::appeals::forget(&txn, &la_code, id).await?;
        let removed = Removed {
            history: delete_of(
                &txn,
                pupil_history::Entity,
                pupil_history::Column::LaCode,
                pupil_history::Column::PupilId,
                &la_code,
                id,
            )
            .await?,
            support_cycles: delete_of(
                &txn,
                support_cycle::Entity,
                support_cycle::Column::LaCode,
                support_cycle::Column::PupilId,
                &la_code,
                id,
            )
            .await?,
            provision: delete_of(
                &txn,
                provision::Entity,
                provision::Column::LaCode,
                provision::Column::PupilId,
                &la_code,
                id,
            )
            .await?,
            annual_reviews: delete_of(
                &txn,
                annual_review::Entity,
                annual_review::Column::LaCode,
                annual_review::Column::PupilId,
                &la_code,
                id,
            )
            .await?,
            ehcps: delete_of(&txn, ehcp::Entity, ehcp::Column::LaCode, ehcp::Column::PupilId, &la_code, id).await?,
            access_grants: delete_of(
                &txn,
                case_access::Entity,
                case_access::Column::LaCode,
                case_access::Column::PupilId,
                &la_code,
                id,
            )
            .await?,
            pupils: delete_of(&txn, pupil::Entity, pupil::Column::LaCode, pupil::Column::Id, &la_code, id).await?,
        };
        super::plan_register::forget(&txn, &la_code, id).await?;
        erasure::Entity::delete_by_id(pending.id).exec(&txn).await?;
        let detail =
            if removed_elsewhere.is_empty() { removed.to_string() } else { format!("{removed}; {removed_elsewhere}") };
        let entry = audit_event::ActiveModel {
            la_code: Set(la_code),
            person: Set(RETENTION_ACTOR.to_owned()),
            role: Set(actor.role.as_str().to_owned()),
            pupil_id: Set(Some(id)),
            action: Set(ERASED.to_owned()),
            detail: Set(Some(format!("{detail} (carried out by {})", actor.person))),
            at: Set(Utc::now()),
            trace_id: Set(actor.trace_id.clone()),
            ..Default::default()
        };
        audit_event::Entity::insert(entry).exec(&txn).await?;
        txn.commit().await?;
        Ok(Some(removed))
    }

    /// Refuses a new access to a pupil whose erasure has begun: a case allocated
    /// now would outlive the records it is about. Read inside the grant's
    /// transaction; a mark committed just after it does no harm, since the pass
    /// forgets the cases (the pending case is written before its grant is asked
    /// for) and the grants (last step) only after marking.
    pub(super) async fn refuse_while_erasing<C: ConnectionTrait>(db: &C, la_code: &str, pupil_id: i32) -> Result<()> {
        let pending = erasure::Entity::find()
            .filter(erasure::Column::LaCode.eq(la_code))
            .filter(erasure::Column::PupilId.eq(pupil_id))
            .one(db)
            .await?;
        match pending {
            Some(_) => Err(Error::FailedPrecondition(ERASING.to_owned())),
            None => Ok(()),
        }
    }

    /// The tenants with any pupil (or only `tenant`).
    async fn tenants_with_pupils(&self, tenant: Option<&str>) -> Result<Vec<String>> {
        if let Some(la_code) = tenant {
            return Ok(vec![la_code.to_owned()]);
        }
        Ok(pupil::Entity::find()
            .select_only()
            .column(pupil::Column::LaCode)
            .distinct()
            .order_by_asc(pupil::Column::LaCode)
            .into_tuple()
            .all(&self.read)
            .await?)
    }

    /// The pupils of `la_code` past its period on `today`; with `unmarked`, only
    /// those whose erasure has not begun.
    async fn past_retention(
        &self,
        la_code: &str,
        policy: &RetentionPolicy,
        today: NaiveDate,
        unmarked: bool,
    ) -> Result<Vec<i32>> {
        let years = policy.years_for(la_code);
        let mut candidates = pupil::Entity::find()
            .select_only()
            .column(pupil::Column::Id)
            .column(pupil::Column::DateOfBirth)
            .filter(pupil::Column::LaCode.eq(la_code))
            .filter(pupil::Column::DateOfBirth.lte(latest_birth_past(years, today)));
        if unmarked {
            candidates = candidates
                .filter(pupil::Column::Id.not_in_subquery(
                    Query::select().column(erasure::Column::PupilId).from(erasure::Entity).to_owned(),
                ));
        }
        let rows: Vec<(i32, NaiveDate)> = candidates.order_by_asc(pupil::Column::Id).into_tuple().all(&self.db).await?;
        Ok(rows.into_iter().filter(|(_, born)| is_past_retention(*born, years, today)).map(|(id, _)| id).collect())
    }
}

/// Erasures nobody holds at `now`.
fn unclaimed(now: DateTime<Utc>) -> Condition {
    Condition::any().add(erasure::Column::ClaimedUntil.is_null()).add(erasure::Column::ClaimedUntil.lt(now))
}

/// Deletes the rows of `entity` of pupil `id` in `la_code`; how many.
async fn delete_of<E, C>(db: &C, _entity: E, tenant: E::Column, pupil: E::Column, la_code: &str, id: i32) -> Result<u64>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let deleted = E::delete_many().filter(tenant.eq(la_code)).filter(pupil.eq(id)).exec(db).await?;
    Ok(deleted.rows_affected)
}
