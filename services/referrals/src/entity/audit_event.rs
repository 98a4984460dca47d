//! `audit_events`: who read which referral, and which requests the service refused.

use sea_orm::entity::prelude::*;

/// One event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// Event id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Tenant (`-` for a refused caller without one).
    pub la_code: String,
    /// Person id (`-` when a refused caller's identity did not verify).
    pub person: String,
    /// Their role.
    pub role: String,
    /// The referral concerned.
    pub referral_id: Option<i32>,
    /// What was done, e.g. `referral.read`, `refused.not_found`.
    pub action: String,
    /// More about it: the method refused, the changes a watcher was sent (never a child's name).
    pub detail: String,
    /// When.
    pub at: DateTimeUtc,
    /// The platform's trace of the request.
    pub trace_id: Option<String>,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
