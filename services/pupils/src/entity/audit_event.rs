//! `audit_events`: who read or changed which pupil's record, and when; and
//! which requests the service refused.

use sea_orm::entity::prelude::*;

/// One event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// Event id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// Person id.
    pub person: String,
    /// Their role.
    pub role: String,
    /// The pupil concerned.
    pub pupil_id: Option<i32>,
    /// What was done, e.g. `pupil.read`, `refused.not_found`.
    pub action: String,
    /// More about it: the method a refused request asked for (never its body).
    pub detail: Option<String>,
    /// When.
    pub at: DateTimeUtc,
    /// Trace of the request.
    pub trace_id: Option<String>,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
