//! `audit_events`: what the caseloads service did to an allocation by itself (the
//! reconciler completing or undoing one), as whom, and when.

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
    /// Who acted: a person id, or the service's own name.
    pub person: String,
    /// Their role.
    pub role: String,
    /// The case concerned.
    pub case_id: Option<i32>,
    /// Its referral (referrals service id).
    pub referral_id: Option<i64>,
    /// What was done, e.g. `allocation.reconciled.completed`.
    pub action: String,
    /// Why, in the service's words (ids and statuses, never a pupil's name).
    pub detail: String,
    /// When.
    pub at: DateTimeUtc,
    /// Trace of the work, to find its logs.
    pub trace_id: Option<String>,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
