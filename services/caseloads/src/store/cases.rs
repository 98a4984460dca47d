//! Cases: the allocation's local half (reserve capacity and record the case,
//! then confirm or undo it once the other services have answered), reading one
//! within the caller's scope, reassignment, closure, activity, open cases and
//! the term's model. The sessions recorded are counted in `super::sessions`.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
    TransactionTrait,
};
use sen_platform::identity::{Scope, TenantScope};

use super::sessions::check_sessions_within;
use super::{Store, on_unique};
use crate::domain::{ActivityKind, CaseEvent, CaseStatus, next_case_status};
use crate::entity::{allocation_model, case, case_activity, professional};
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
    /// EHC advice due, for statutory work.
    pub advice_due: Option<NaiveDate>,
}

/// Work done on a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewActivity {
    /// When.
    pub on: NaiveDate,
    /// Kind.
    pub kind: ActivityKind,
    /// Sessions used.
    pub sessions: u32,
    /// A short note.
    pub note: String,
}

/// A case's stored status.
pub fn case_status(row: &case::Model) -> Result<CaseStatus> {
    CaseStatus::parse(&row.status).map_err(|e| Error::Corrupt(format!("case {}: {e}", row.id)))
}

/// The status `event` moves a case of status `from` to; FAILED_PRECONDITION
/// otherwise, saying the case is not active (every move but a confirmation
/// needs an active case).
fn move_case(case_id: i64, from: CaseStatus, event: CaseEvent) -> Result<CaseStatus> {
    next_case_status(from, event)
        .map_err(|illegal| Error::FailedPrecondition(format!("case {case_id} is {}, not active", illegal.from)))
}

/// Takes one case onto the professional's count, refusing past capacity unless
/// overridden. One statement, so concurrent allocations cannot both pass a full
/// professional.
async fn reserve(
    db: &impl ConnectionTrait,
    tenant: &TenantScope,
    professional_id: i32,
    override_capacity: bool,
) -> Result<()> {
    let result = professional::Entity::update_many()
        .col_expr(professional::Column::OpenCases, Expr::col(professional::Column::OpenCases).add(1))
        .filter(professional::Column::Id.eq(professional_id))
        .filter(professional::Column::LaCode.eq(tenant.key()))
        .filter(professional::Column::Active.eq(true))
        .filter(
            sea_orm::Condition::any()
                .add(Expr::value(override_capacity))
                .add(professional::Column::CapacityKind.ne("open_cases"))
                .add(Expr::col(professional::Column::OpenCases).lt(Expr::col(professional::Column::Capacity))),
        )
        .exec(db)
        .await?;
    if result.rows_affected == 1 {
        return Ok(());
    }
    let row = professional::Entity::find_by_id(professional_id)
        .filter(professional::Column::LaCode.eq(tenant.key()))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("professional {professional_id}")))?;
    if !row.active {
        return Err(Error::FailedPrecondition(format!("{} is not taking work", row.name)));
    }
    Err(Error::FailedPrecondition(format!(
        "{} is at capacity ({} of {} open cases): give an override reason to allocate anyway",
        row.name, row.open_cases, row.capacity
    )))
}

async fn release(db: &impl ConnectionTrait, professional_id: i32) -> Result<()> {
    professional::Entity::update_many()
        .col_expr(professional::Column::OpenCases, Expr::col(professional::Column::OpenCases).sub(1))
        .filter(professional::Column::Id.eq(professional_id))
        .filter(professional::Column::OpenCases.gt(0))
        .exec(db)
        .await?;
    Ok(())
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

    /// Reserves the professional's capacity and records the case as pending, in
    /// one transaction, refusing a professional at capacity (open cases or
    /// sessions this term) unless overridden.
    pub async fn begin_allocation(
        &self,
        tenant: &TenantScope,
        draft: &CaseDraft,
        professional_id: i32,
        override_reason: Option<&str>,
        key: &str,
        today: NaiveDate,
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
            advice_due: Set(draft.advice_due),
            professional_id: Set(professional_id),
            status: Set(CaseStatus::Pending.code().to_owned()),
            allocated_on: Set(today),
            outcome: Set(None),
            override_reason: Set(override_reason.map(str::to_owned)),
            idempotency_key: Set(key.to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| on_unique(e, || Error::AlreadyExists(format!("referral {referral} already has an open case"))))?;
        txn.commit().await?;
        Ok(row)
    }

    /// Marks a pending case active once the other services have recorded it.
    pub async fn confirm_allocation(&self, tenant: &TenantScope, case_id: i32) -> Result<case::Model> {
        let row = self.case(tenant, i64::from(case_id)).await?;
        let status = move_case(i64::from(case_id), case_status(&row)?, CaseEvent::Confirm)?;
        let mut model: case::ActiveModel = row.into();
        model.status = Set(status.code().to_owned());
        model.updated_at = Set(Utc::now());
        Ok(model.update(&self.db).await?)
    }

    /// Undoes a pending case that could not be completed: the case goes and the
    /// professional's capacity comes back, as if nothing had happened. True when
    /// this call removed it; false when it was no longer pending (a retry
    /// completed it, or another undo removed it first), and then nothing is
    /// released: the capacity is the completed case's, or was given back already.
    pub async fn abandon_allocation(&self, tenant: &TenantScope, row: &case::Model) -> Result<bool> {
        let txn = self.db.begin().await?;
        let removed = case::Entity::delete_many()
            .filter(case::Column::Id.eq(row.id))
            .filter(case::Column::LaCode.eq(tenant.key()))
            .filter(case::Column::Status.eq(CaseStatus::Pending.code()))
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if removed {
            release(&txn, row.professional_id).await?;
        }
        txn.commit().await?;
        Ok(removed)
    }

    /// One case of the tenant.
    pub async fn case(&self, tenant: &TenantScope, id: i64) -> Result<case::Model> {
        let row_id = i32::try_from(id).map_err(|_| Error::NotFound(format!("case {id}")))?;
        case::Entity::find_by_id(row_id)
            .filter(case::Column::LaCode.eq(tenant.key()))
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("case {id}")))
    }

    /// One case within `scope`, with its professional: any case of the tenant for
    /// the council team, only their own for a professional (another's answers not
    /// found, as a missing one does, in the same query), and only a case at their
    /// school for a SENCO.
    pub async fn case_within(&self, scope: &Scope, id: i64) -> Result<(case::Model, professional::Model)> {
        let not_found = || Error::NotFound(format!("case {id}"));
        let row_id = i32::try_from(id).map_err(|_| not_found())?;
        let tenant = scope.tenant();
        let mut query = case::Entity::find_by_id(row_id).filter(case::Column::LaCode.eq(tenant.key()));
        match scope {
            Scope::Tenant(_) => {}
            Scope::School(school) => query = query.filter(case::Column::SchoolUrn.eq(school.urn().as_i32())),
            Scope::Caseload(caseload) => {
                let own = professional::Entity::find()
                    .select_only()
                    .column(professional::Column::Id)
                    .filter(professional::Column::LaCode.eq(tenant.key()))
                    .filter(professional::Column::Person.eq(caseload.person()))
                    .into_query();
                query = query.filter(case::Column::ProfessionalId.in_subquery(own));
            }
        }
        let row = query.one(&self.db).await?.ok_or_else(not_found)?;
        let owner = self.professional(tenant, i64::from(row.professional_id)).await?;
        Ok((row, owner))
    }

    /// Moves an active case to another professional: their capacity is taken, the
    /// old professional's released, in one transaction.
    pub async fn reassign(
        &self,
        tenant: &TenantScope,
        case_id: i64,
        to: i32,
        override_reason: Option<&str>,
    ) -> Result<case::Model> {
        let row = self.case(tenant, case_id).await?;
        move_case(case_id, case_status(&row)?, CaseEvent::Reassign)?;
        if row.professional_id == to {
            return Ok(row);
        }
        let txn = self.db.begin().await?;
        reserve(&txn, tenant, to, override_reason.is_some()).await?;
        release(&txn, row.professional_id).await?;
        let mut model: case::ActiveModel = row.into();
        model.professional_id = Set(to);
        if let Some(reason) = override_reason {
            model.override_reason = Set(Some(reason.to_owned()));
        }
        model.updated_at = Set(Utc::now());
        let row = model.update(&txn).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Closes an active case with its outcome and releases the capacity.
    pub async fn close_case(&self, tenant: &TenantScope, case_id: i64, outcome: &str) -> Result<case::Model> {
        let row = self.case(tenant, case_id).await?;
        let from = case_status(&row)?;
        let to = move_case(case_id, from, CaseEvent::Close)?;
        let txn = self.db.begin().await?;
        // Guarded by the status read, so of two closes at once the second fails.
        let result = case::Entity::update_many()
            .col_expr(case::Column::Status, Expr::value(to.code()))
            .col_expr(case::Column::Outcome, Expr::value(outcome.to_owned()))
            .col_expr(case::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(case::Column::Id.eq(row.id))
            .filter(case::Column::Status.eq(from.code()))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(Error::FailedPrecondition(format!("case {case_id} was closed by someone else")));
        }
        release(&txn, row.professional_id).await?;
        txn.commit().await?;
        self.case(tenant, case_id).await
    }

    /// Records work on a case.
    pub async fn record_activity(
        &self,
        tenant: &TenantScope,
        row: &case::Model,
        activity: &NewActivity,
        by: &str,
    ) -> Result<case_activity::Model> {
        Ok(case_activity::ActiveModel {
            la_code: Set(tenant.key()),
            case_id: Set(row.id),
            school_urn: Set(row.school_urn),
            on: Set(activity.on),
            kind: Set(activity.kind.code().to_owned()),
            sessions: Set(i32::try_from(activity.sessions).unwrap_or(i32::MAX)),
            note: Set(activity.note.clone()),
            recorded_by: Set(by.to_owned()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await?)
    }

    /// A case's activity, oldest first.
    pub async fn activity(&self, tenant: &TenantScope, case_id: i32) -> Result<Vec<case_activity::Model>> {
        Ok(case_activity::Entity::find()
            .filter(case_activity::Column::LaCode.eq(tenant.key()))
            .filter(case_activity::Column::CaseId.eq(case_id))
            .order_by_asc(case_activity::Column::On)
            .order_by_asc(case_activity::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Open (active) cases of one professional, or of all when `None`.
    pub async fn open_cases(&self, tenant: &TenantScope, professional_id: Option<i32>) -> Result<Vec<case::Model>> {
        let mut query = case::Entity::find()
            .filter(case::Column::LaCode.eq(tenant.key()))
            .filter(case::Column::Status.eq(CaseStatus::Active.code()));
        if let Some(id) = professional_id {
            query = query.filter(case::Column::ProfessionalId.eq(id));
        }
        Ok(query.order_by_asc(case::Column::AllocatedOn).order_by_asc(case::Column::Id).all(&self.db).await?)
    }

    /// Sets the term's model.
    pub async fn set_model(
        &self,
        tenant: &TenantScope,
        model: allocation_model::Model,
    ) -> Result<allocation_model::Model> {
        let existing = self.model(tenant, &model.term).await?;
        let mut active: allocation_model::ActiveModel = match existing {
            Some(row) => row.into(),
            None => allocation_model::ActiveModel {
                la_code: Set(tenant.key()),
                term: Set(model.term.clone()),
                ..Default::default()
            },
        };
        active.sessions_available = Set(model.sessions_available);
        active.base_per_school = Set(model.base_per_school);
        active.weight_roll = Set(model.weight_roll);
        active.weight_support = Set(model.weight_support);
        active.weight_ehcp = Set(model.weight_ehcp);
        active.updated_at = Set(Utc::now());
        let saved = active.save(&self.db).await?;
        self.model(tenant, &model.term).await?.ok_or_else(|| Error::Corrupt(format!("model {saved:?} vanished")))
    }

    /// The term's model, if set.
    pub async fn model(&self, tenant: &TenantScope, term: &str) -> Result<Option<allocation_model::Model>> {
        Ok(allocation_model::Entity::find()
            .filter(allocation_model::Column::LaCode.eq(tenant.key()))
            .filter(allocation_model::Column::Term.eq(term))
            .one(&self.db)
            .await?)
    }
}
