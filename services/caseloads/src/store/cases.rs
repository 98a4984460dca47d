//! Cases: taking a case onto a professional's count and off it again (which
//! `super::allocations` begins and undoes a case with), reading one within the
//! caller's scope, reassignment, closure, activity, open cases and the term's
//! model. The sessions recorded are counted in `super::sessions`.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
    TransactionTrait,
};
use sen_platform::identity::{Scope, TenantScope};

use super::Store;
use super::sessions::check_sessions_within;
use crate::domain::{ActivityKind, CaseEvent, CaseStatus, next_case_status};
use crate::entity::{allocation_model, case, case_activity, professional};
use crate::error::{Error, Result};

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
pub(super) fn move_case(case_id: i64, from: CaseStatus, event: CaseEvent) -> Result<CaseStatus> {
    next_case_status(from, event)
        .map_err(|illegal| Error::FailedPrecondition(format!("case {case_id} is {}, not active", illegal.from)))
}

/// Takes one case onto the professional's count, refusing past capacity unless
/// overridden. One statement, so concurrent allocations cannot both pass a full
/// professional.
pub(super) async fn reserve(
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

pub(super) async fn release(db: &impl ConnectionTrait, professional_id: i32) -> Result<()> {
    professional::Entity::update_many()
        .col_expr(professional::Column::OpenCases, Expr::col(professional::Column::OpenCases).sub(1))
        .filter(professional::Column::Id.eq(professional_id))
        .filter(professional::Column::OpenCases.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

impl Store {
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

    /// Moves an active case to another professional: their capacity is taken
    /// (refused past their open cases or their sessions for the term of `today`,
    /// unless overridden, judged inside the transaction as an allocation's are),
    /// the old professional's released, in one transaction.
    pub async fn reassign(
        &self,
        tenant: &TenantScope,
        case_id: i64,
        to: i32,
        override_reason: Option<&str>,
        today: NaiveDate,
    ) -> Result<case::Model> {
        let row = self.case(tenant, case_id).await?;
        move_case(case_id, case_status(&row)?, CaseEvent::Reassign)?;
        if row.professional_id == to {
            return Ok(row);
        }
        let overridden = override_reason.is_some();
        let txn = self.db.begin().await?;
        reserve(&txn, tenant, to, overridden).await?;
        // After `reserve` wrote the new professional's row, as in `begin_allocation`,
        // so the sessions read are the latest on both engines; and before the case
        // moves, so its past sessions (the old professional's work) do not count.
        check_sessions_within(&txn, tenant, to, overridden, today).await?;
        // Guarded by what was read, so of two moves (or a move and a close) at once
        // the second fails instead of releasing the old professional twice.
        let mut moved = case::Entity::update_many()
            .col_expr(case::Column::ProfessionalId, Expr::value(to))
            .col_expr(case::Column::UpdatedAt, Expr::value(Utc::now()));
        if let Some(reason) = override_reason {
            moved = moved.col_expr(case::Column::OverrideReason, Expr::value(reason.to_owned()));
        }
        let moved = moved
            .filter(case::Column::Id.eq(row.id))
            .filter(case::Column::LaCode.eq(tenant.key()))
            .filter(case::Column::Status.eq(CaseStatus::Active.code()))
            .filter(case::Column::ProfessionalId.eq(row.professional_id))
            .exec(&txn)
            .await?;
        if moved.rows_affected == 0 {
            return Err(Error::Aborted(format!("case {case_id} was changed by someone else: read it again")));
        }
        release(&txn, row.professional_id).await?;
        txn.commit().await?;
        self.case(tenant, case_id).await
    }

    /// Closes an active case with its outcome and releases the capacity.
    pub async fn close_case(&self, tenant: &TenantScope, case_id: i64, outcome: &str) -> Result<case::Model> {
        self.close_case_at(tenant, case_id, outcome, Utc::now()).await
    }

    /// Closes a case as of `at` (the demo's history: cases closed months ago).
    pub(crate) async fn close_case_at(
        &self,
        tenant: &TenantScope,
        case_id: i64,
        outcome: &str,
        at: chrono::DateTime<Utc>,
    ) -> Result<case::Model> {
        let row = self.case(tenant, case_id).await?;
        let from = case_status(&row)?;
        let to = move_case(case_id, from, CaseEvent::Close)?;
        let txn = self.db.begin().await?;
        // Guarded by the status and professional read, so of two closes at once (or
        // a close and a reassignment) the second fails and releases nothing.
        let result = case::Entity::update_many()
            .col_expr(case::Column::Status, Expr::value(to.code()))
            .col_expr(case::Column::Outcome, Expr::value(outcome.to_owned()))
            .col_expr(case::Column::UpdatedAt, Expr::value(at))
            .filter(case::Column::Id.eq(row.id))
            .filter(case::Column::Status.eq(from.code()))
            .filter(case::Column::ProfessionalId.eq(row.professional_id))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(Error::FailedPrecondition(format!("case {case_id} was closed or reassigned by someone else")));
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
        self.insert_activity(tenant, row, activity, by, None).await
    }

    /// Records work on a case under the client's `key`: a retry with the same
    /// key and details answers the first record and writes nothing; other
    /// details (or another case) under the key are ALREADY_EXISTS. Of two
    /// records sent at once under one key, the unique index lets one in and the
    /// other answers as its retry.
    pub async fn record_activity_once(
        &self,
        tenant: &TenantScope,
        row: &case::Model,
        activity: &NewActivity,
        by: &str,
        key: &str,
    ) -> Result<case_activity::Model> {
        if let Some(first) = self.activity_by_key(tenant, key).await? {
            return same_activity(first, row, activity, key);
        }
        match self.insert_activity(tenant, row, activity, by, Some(key)).await {
            Err(Error::AlreadyExists(_)) => match self.activity_by_key(tenant, key).await? {
                Some(first) => same_activity(first, row, activity, key),
                None => Err(Error::Aborted("retry the record".into())),
            },
            saved => saved,
        }
    }

    async fn activity_by_key(&self, tenant: &TenantScope, key: &str) -> Result<Option<case_activity::Model>> {
        Ok(case_activity::Entity::find()
            .filter(case_activity::Column::LaCode.eq(tenant.key()))
            .filter(case_activity::Column::IdempotencyKey.eq(key))
            .one(&self.db)
            .await?)
    }

    async fn insert_activity(
        &self,
        tenant: &TenantScope,
        row: &case::Model,
        activity: &NewActivity,
        by: &str,
        key: Option<&str>,
    ) -> Result<case_activity::Model> {
        case_activity::ActiveModel {
            la_code: Set(tenant.key()),
            case_id: Set(row.id),
            school_urn: Set(row.school_urn),
            on: Set(activity.on),
            kind: Set(activity.kind.code().to_owned()),
            sessions: Set(i32::try_from(activity.sessions).unwrap_or(i32::MAX)),
            note: Set(activity.note.clone()),
            recorded_by: Set(by.to_owned()),
            created_at: Set(Utc::now()),
            idempotency_key: Set(key.map(str::to_owned)),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| sen_platform::error::on_unique(e, || Error::AlreadyExists(key.unwrap_or_default().to_owned())))
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

/// A retry (the same case and details under the key) answers the first record.
fn same_activity(
    first: case_activity::Model,
    row: &case::Model,
    activity: &NewActivity,
    key: &str,
) -> Result<case_activity::Model> {
    let same = first.case_id == row.id
        && first.on == activity.on
        && first.kind == activity.kind.code()
        && i64::from(first.sessions) == i64::from(activity.sessions)
        && first.note == activity.note;
    if same {
        Ok(first)
    } else {
        Err(Error::AlreadyExists(format!(
            "idempotency key '{key}' was used for another record of work (activity {} on case {}); use a new key for \
             new work",
            first.id, first.case_id
        )))
    }
}
