//! `provisions`: what is provided for a pupil, by whom, how much.

use sea_orm::entity::prelude::*;

/// One provision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provisions")]
pub struct Model {
    /// Provision id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The pupil.
    pub pupil_id: i32,
    /// What.
    pub provision_type: String,
    /// Who provides it.
    pub provider: String,
    /// Minutes a week (hours are stored as whole minutes, never as a float).
    pub minutes_per_week: i32,
    /// From.
    pub start_on: Date,
    /// Until.
    pub end_on: Option<Date>,
    /// Who recorded it.
    pub recorded_by: String,
    /// Created.
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
