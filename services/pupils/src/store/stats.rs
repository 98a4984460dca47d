//! Register counts for the statistics: one grouped query over the pupils table,
//! never one per pupil.

use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};
use sen_platform::identity::Scope;

use super::{Store, visible};
use crate::entity::pupil;
use crate::error::Result;

/// How many pupils share a school, status, primary need and year group.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct RegisterCount {
    /// School URN.
    pub school_urn: i32,
    /// N, K or E.
    pub sen_status: String,
    /// Primary need code.
    pub primary_need: Option<String>,
    /// Birth cohort (gives the year group).
    pub birth_cohort: i32,
    /// Year group set by hand.
    pub nc_year_override: Option<String>,
    /// Pupils.
    pub pupils: i64,
}

impl Store {
    /// Pupils within `scope` grouped by school, status, primary need and cohort.
    pub async fn register_counts(&self, scope: &Scope) -> Result<Vec<RegisterCount>> {
        Ok(pupil::Entity::find()
            .select_only()
            .column(pupil::Column::SchoolUrn)
            .column(pupil::Column::SenStatus)
            .column(pupil::Column::PrimaryNeed)
            .column(pupil::Column::BirthCohort)
            .column(pupil::Column::NcYearOverride)
            .column_as(pupil::Column::Id.count(), "pupils")
            .filter(visible(scope))
            .group_by(pupil::Column::SchoolUrn)
            .group_by(pupil::Column::SenStatus)
            .group_by(pupil::Column::PrimaryNeed)
            .group_by(pupil::Column::BirthCohort)
            .group_by(pupil::Column::NcYearOverride)
            .into_model::<RegisterCount>()
            .all(&self.read)
            .await?)
    }
}
