//! `annual_reviews`: EHCP annual review meetings and their steps.

use sea_orm::entity::prelude::*;

/// One review.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "annual_reviews")]
pub struct Model {
    /// Review id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The pupil.
    pub pupil_id: i32,
    /// Meeting date (unique per pupil).
    pub meeting_on: Date,
    /// Report sent.
    pub report_sent_on: Option<Date>,
    /// `maintain`, `amend` or `cease`.
    pub decision: Option<String>,
    /// Decision date.
    pub decision_on: Option<Date>,
    /// Who recorded it last.
    pub recorded_by: String,
    /// Created.
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
