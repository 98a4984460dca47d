//! Sessions (half-days) recorded on cases, as the figures that use them count
//! them: per professional for a limit in sessions a term (and the allocation's
//! check against it, made inside its transaction), and per case and per school
//! for the time-allocation model.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect};
use sen_platform::identity::TenantScope;

use super::{Store, capacity_of};
use crate::domain::{AcademicTerm, ActivityKind, CaseStatus, check_sessions_left, counts_against_school_allocation};
use crate::entity::{case, case_activity, professional};
use crate::error::{Error, Result};

/// Sessions a school has used, by kind of work counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchoolUse {
    /// Sessions counted against the school's allocation.
    pub counted: u32,
}

/// Sessions recorded in `term` on active cases, by professional: of the one
/// given, or of all. What a limit in sessions a term counts.
async fn sessions_used_by(
    db: &impl ConnectionTrait,
    tenant: &TenantScope,
    term: AcademicTerm,
    professional_id: Option<i32>,
) -> Result<HashMap<i32, u32>> {
    let on_case =
        case_activity::Entity::belongs_to(case::Entity).from(case_activity::Column::CaseId).to(case::Column::Id).into();
    let mut query = case_activity::Entity::find()
        .select_only()
        .column(case::Column::ProfessionalId)
        .column_as(case_activity::Column::Sessions.sum(), "used")
        .join(JoinType::InnerJoin, on_case)
        .filter(case_activity::Column::LaCode.eq(tenant.key()))
        .filter(case_activity::Column::On.between(term.starts_on(), term.ends_on()))
        .filter(case::Column::LaCode.eq(tenant.key()))
        .filter(case::Column::Status.eq(CaseStatus::Active.code()));
    if let Some(id) = professional_id {
        query = query.filter(case::Column::ProfessionalId.eq(id));
    }
    let rows: Vec<(i32, i64)> = query.group_by(case::Column::ProfessionalId).into_tuple().all(db).await?;
    Ok(rows.into_iter().map(|(id, used)| (id, u32::try_from(used.max(0)).unwrap_or(u32::MAX))).collect())
}

/// Refuses, unless overridden, a professional whose sessions for the term of
/// `today` are used up, by the domain's rule on figures read through `db`.
pub(super) async fn check_sessions_within(
    db: &impl ConnectionTrait,
    tenant: &TenantScope,
    professional_id: i32,
    overridden: bool,
    today: NaiveDate,
) -> Result<()> {
    let row = professional::Entity::find_by_id(professional_id)
        .filter(professional::Column::LaCode.eq(tenant.key()))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("professional {professional_id}")))?;
    let term = AcademicTerm::containing(today);
    let used = sessions_used_by(db, tenant, term, Some(professional_id)).await?;
    check_sessions_left(&row.name, capacity_of(&row), used.get(&professional_id).copied().unwrap_or(0), overridden)
        .map_err(|refused| Error::FailedPrecondition(refused.to_string()))
}

impl Store {
    /// Sessions recorded in `term` on active cases, by professional (none recorded: absent).
    pub async fn sessions_used(&self, tenant: &TenantScope, term: AcademicTerm) -> Result<HashMap<i32, u32>> {
        sessions_used_by(&self.db, tenant, term, None).await
    }

    /// Sessions recorded between `from` and `to` (inclusive): per case, and per
    /// school counting only work that uses the school's allocation.
    pub async fn sessions_between(
        &self,
        tenant: &TenantScope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(HashMap<i32, u32>, HashMap<i32, SchoolUse>)> {
        let rows = case_activity::Entity::find()
            .filter(case_activity::Column::LaCode.eq(tenant.key()))
            .filter(case_activity::Column::On.gte(from))
            .filter(case_activity::Column::On.lte(to))
            .all(&self.db)
            .await?;
        let mut by_case: HashMap<i32, u32> = HashMap::new();
        let mut by_school: HashMap<i32, SchoolUse> = HashMap::new();
        for row in rows {
            let sessions = u32::try_from(row.sessions).unwrap_or(0);
            *by_case.entry(row.case_id).or_default() += sessions;
            if ActivityKind::parse(&row.kind).is_ok_and(counts_against_school_allocation) {
                by_school.entry(row.school_urn).or_default().counted += sessions;
            }
        }
        Ok((by_case, by_school))
    }
}
