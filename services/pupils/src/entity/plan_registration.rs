//! `plan_registrations`: each final EHC plan the referrals service has told the
//! register about, keyed by the request (`referral_id`, unique per authority),
//! with what it changed. The key makes `RegisterFinalPlan` repeatable: a retry
//! finds the row and answers its outcome, so no retry makes a second status
//! change, history entry or plan.

use sea_orm::entity::prelude::*;

/// One final plan registered.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_registrations")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The EHC needs assessment request whose final plan was issued (the key).
    pub referral_id: i64,
    /// The pupil.
    pub pupil_id: i32,
    /// The day the final plan was issued.
    pub issued_on: Date,
    /// `moved_to_e`, `already_on_plan` or `no_primary_need`.
    pub outcome: String,
    /// The pupil's status after it (N, K or E).
    pub sen_status: String,
    /// Who it was recorded for (the person who recorded the plan, or the service).
    pub recorded_by: String,
    /// When.
    pub recorded_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
