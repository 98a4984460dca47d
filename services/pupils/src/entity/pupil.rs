//! `pupils`: one row per pupil per tenant; the UPN is unique within the tenant.

use sea_orm::entity::prelude::*;

/// A pupil as stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pupils")]
pub struct Model {
    /// Pupil id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// Unique Pupil Number.
    pub upn: String,
    /// Legal forename.
    pub legal_forename: String,
    /// Legal surname.
    pub legal_surname: String,
    /// Preferred forename, if different.
    pub preferred_forename: Option<String>,
    /// Preferred surname, if different.
    pub preferred_surname: Option<String>,
    /// Date of birth.
    pub date_of_birth: Date,
    /// Start year of the academic year the pupil was born in (1 September
    /// cut-off); with the current academic year it gives the national curriculum
    /// year, and lets lists filter on year group in SQL.
    pub birth_cohort: i32,
    /// Census code of a year set by hand (out of cohort).
    pub nc_year_override: Option<String>,
    /// URN of the school the pupil is on roll at.
    pub school_urn: i32,
    /// N, K or E.
    pub sen_status: String,
    /// Primary need code.
    pub primary_need: Option<String>,
    /// Secondary need code.
    pub secondary_need: Option<String>,
    /// Looked-after child.
    pub looked_after: bool,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
