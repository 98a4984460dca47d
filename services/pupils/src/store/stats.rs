//! Register counts for the statistics. For a whole authority or one school they
//! are read from `register_tallies`, which triggers keep in the same
//! transaction as every change of a pupil (migration
//! `m20270108_000005_register_tallies`): a few thousand rows rather than every
//! pupil grouped on each request. A professional's caseload is a list of
//! pupils, not a slice of the tallies, so it is grouped from the pupils table
//! (one grouped query, never one per pupil).

use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, StatementBuilder};
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

impl RegisterCount {
    /// A tally row as a count: the tallies hold an empty need or year group
    /// where the pupils table holds none.
    fn with_none_for_empty(mut self) -> Self {
        self.primary_need = self.primary_need.filter(|need| !need.is_empty());
        self.nc_year_override = self.nc_year_override.filter(|year| !year.is_empty());
        self
    }
}

impl Store {
    /// Pupils within `scope` grouped by school, status, primary need and cohort
    /// (pupils not on the SEN register by school and status alone: their need
    /// and year are not counted).
    pub async fn register_counts(&self, scope: &Scope) -> Result<Vec<RegisterCount>> {
        let school = match scope {
            Scope::Tenant(_) => None,
            Scope::School(school) => Some(school.urn().as_i32()),
            Scope::Caseload(_) => return self.grouped_pupils(scope).await,
        };
        let tallies = Alias::new("register_tallies");
        let mut query = Query::select();
        query
            .columns(
                ["school_urn", "sen_status", "primary_need", "birth_cohort", "nc_year_override", "pupils"]
                    .map(Alias::new),
            )
            .from(tallies)
            .and_where(Expr::col(Alias::new("la_code")).eq(scope.tenant().key()))
            .and_where(Expr::col(Alias::new("pupils")).gt(0));
        if let Some(urn) = school {
            query.and_where(Expr::col(Alias::new("school_urn")).eq(urn));
        }
        let backend = self.read.get_database_backend();
        let rows = RegisterCount::find_by_statement(StatementBuilder::build(&query, &backend)).all(&self.read).await?;
        Ok(rows.into_iter().map(RegisterCount::with_none_for_empty).collect())
    }

    /// Pupils within `scope` by school and status alone (need, cohort and
    /// year group left out), for the figures without their breakdowns: the
    /// tallies summed in the database (Kent: about 1,800 rows out of 27,568)
    /// for an authority or a school; a caseload grouped from the pupils table.
    pub async fn register_totals(&self, scope: &Scope) -> Result<Vec<RegisterCount>> {
        let school = match scope {
            Scope::Tenant(_) => None,
            Scope::School(school) => Some(school.urn().as_i32()),
            Scope::Caseload(_) => return Ok(totals_of(self.grouped_pupils(scope).await?)),
        };
        let tallies = Alias::new("register_tallies");
        let mut query = Query::select();
        query
            .columns(["school_urn", "sen_status"].map(Alias::new))
            .expr_as(Expr::cust("CAST(NULL AS TEXT)"), Alias::new("primary_need"))
            .expr_as(Expr::cust("0"), Alias::new("birth_cohort"))
            .expr_as(Expr::cust("CAST(NULL AS TEXT)"), Alias::new("nc_year_override"))
            .expr_as(Expr::cust("CAST(SUM(pupils) AS BIGINT)"), Alias::new("pupils"))
            .from(tallies)
            .and_where(Expr::col(Alias::new("la_code")).eq(scope.tenant().key()))
            .and_where(Expr::col(Alias::new("pupils")).gt(0))
            .group_by_columns(["school_urn", "sen_status"].map(Alias::new));
        if let Some(urn) = school {
            query.and_where(Expr::col(Alias::new("school_urn")).eq(urn));
        }
        let backend = self.read.get_database_backend();
        Ok(RegisterCount::find_by_statement(StatementBuilder::build(&query, &backend)).all(&self.read).await?)
    }

    /// Pupils within `scope` grouped from the pupils table.
    async fn grouped_pupils(&self, scope: &Scope) -> Result<Vec<RegisterCount>> {
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

/// `counts` summed by school and status, their need, cohort and year group dropped.
fn totals_of(counts: Vec<RegisterCount>) -> Vec<RegisterCount> {
    let mut totals: std::collections::BTreeMap<(i32, String), i64> = std::collections::BTreeMap::new();
    for count in counts {
        *totals.entry((count.school_urn, count.sen_status)).or_default() += count.pupils;
    }
    totals
        .into_iter()
        .map(|((school_urn, sen_status), pupils)| RegisterCount {
            school_urn,
            sen_status,
            primary_need: None,
            birth_cohort: 0,
            nc_year_override: None,
            pupils,
        })
        .collect()
}
