//! `appeals`: a family's mediation and appeal to the First-tier Tribunal (SEND).

use sea_orm::entity::prelude::*;

/// One appeal (or the mediation before it).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appeals")]
pub struct Model {
    /// Appeal id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The pupil.
    pub pupil_id: i32,
    /// What is appealed (`domain::AppealGround` code).
    pub ground: String,
    /// Disputed plan sections, e.g. `BF`; empty for a ground other than a plan's contents.
    pub sections: String,
    /// Date of the written notice of the decision appealed.
    pub decision_on: Date,
    /// The council was told the family wishes to mediate.
    pub mediation_requested_on: Option<Date>,
    /// The mediation.
    pub mediation_on: Option<Date>,
    /// How it ended (`domain::MediationOutcome` code).
    pub mediation_outcome: Option<String>,
    /// Mediation certificate issued.
    pub certificate_issued_on: Option<Date>,
    /// Registered by the Tribunal and sent to the council.
    pub registered_on: Option<Date>,
    /// The council's response date, fixed at registration.
    pub response_due: Option<Date>,
    /// `response_due` is the date the Tribunal's directions set (not computed).
    pub response_due_given: bool,
    /// The council's response sent.
    pub response_sent_on: Option<Date>,
    /// Hearing.
    pub hearing_on: Option<Date>,
    /// The day it ended.
    pub decided_on: Option<Date>,
    /// How it ended (`domain::AppealOutcome` code).
    pub outcome: Option<String>,
    /// The key the client recorded it under.
    pub idempotency_key: String,
    /// Optimistic concurrency.
    pub version: i64,
    /// Who recorded it last.
    pub recorded_by: String,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
