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
    /// When the plan and its proposed amendments were sent (reg. 22(2)(a)).
    pub amendments_proposed_on: Option<Date>,
    /// When the amended plan was issued.
    pub amended_plan_issued_on: Option<Date>,
    /// When the amended plan is due (a decision to amend only): recomputed by
    /// the domain rule on every write, so the late list filters on it in SQL.
    pub amended_plan_due: Option<Date>,
    /// Why the plan ceased: the SEN2 CeaseReason code, 1–9.
    pub cease_reason: Option<i16>,
    /// When the plan ceased.
    pub ceased_on: Option<Date>,
    /// The status the pupil moved to when it did: `K` or `N`.
    pub ceased_to: Option<String>,
    /// Who recorded it last.
    pub recorded_by: String,
    /// Created.
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
