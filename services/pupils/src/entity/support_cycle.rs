//! `support_cycles`: assess-plan-do-review cycles of SEN support.

use sea_orm::entity::prelude::*;

/// One cycle.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "support_cycles")]
pub struct Model {
    /// Cycle id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The pupil.
    pub pupil_id: i32,
    /// When the cycle began.
    pub started_on: Date,
    /// Outcomes sought.
    pub outcomes_sought: String,
    /// Provision planned.
    pub planned_provision: String,
    /// When it is to be reviewed.
    pub review_due: Date,
    /// When it was reviewed.
    pub reviewed_on: Option<Date>,
    /// `met`, `partly_met` or `not_met`.
    pub outcome: Option<String>,
    /// Review notes.
    pub review_notes: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// Created.
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
