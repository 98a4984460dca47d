//! `referral_events`: the timeline of every change to a referral.

use sea_orm::entity::prelude::*;

/// One change.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_events")]
pub struct Model {
    /// Event id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The referral.
    pub referral_id: i32,
    /// When.
    pub at: DateTimeUtc,
    /// Who (person id).
    pub by: String,
    /// Their role.
    pub by_role: String,
    /// Status before (none for the submission).
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: String,
    /// Note: reason, outcome, what is needed, or what was recorded.
    pub note: String,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
