//! `register_changes`: the SEN register's side of each final EHC plan issued,
//! written in the transaction that records the issue date, so the step across
//! services is never lost: `pending` until the pupils service has recorded it,
//! then `done`, `already_on_plan` or `not_made` (see `crate::plan_issue`).

use sea_orm::entity::prelude::*;

/// One register change.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "register_changes")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The EHC needs assessment request (unique: one change per request).
    pub referral_id: i32,
    /// The pupil.
    pub pupil_id: i64,
    /// The day the final plan was issued.
    pub issued_on: Date,
    /// `pending`, `done`, `already_on_plan` or `not_made`.
    pub state: String,
    /// Why it was not made, or the last failure while pending.
    pub note: Option<String>,
    /// Attempts made so far.
    pub attempts: i32,
    /// The attempt that holds it now (`live` or a replica's background task).
    pub claimed_by: Option<String>,
    /// Until when that attempt holds it.
    pub claimed_until: Option<DateTimeUtc>,
    /// When the plan's issue was recorded.
    pub created_at: DateTimeUtc,
    /// When it was finished.
    pub finished_at: Option<DateTimeUtc>,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
