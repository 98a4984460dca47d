//! `ehcps`: one EHCP record per pupil who has (or had) status E.

use sea_orm::entity::prelude::*;

/// A pupil's EHCP.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ehcps")]
pub struct Model {
    /// Record id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The pupil (unique).
    pub pupil_id: i32,
    /// When the plan was issued.
    pub issued_on: Date,
    /// The setting it names.
    pub named_setting: String,
    /// `active` or `ceased`.
    pub status: String,
    /// When it ceased.
    pub ceased_on: Option<Date>,
    /// Why it ceased.
    pub ceased_reason: Option<String>,
    /// Last annual review meeting.
    pub last_review_on: Option<Date>,
    /// Next review due: 12 months after the last review or issue, recomputed by
    /// the domain rule on every write so lists can filter on it in SQL.
    pub next_review_due: Date,
    /// Calendar year (of the 1 September move) of the transfer the decision
    /// below is for; none for a post-16 move, which has its own date.
    pub transfer_year: Option<i32>,
    /// Next setting named for the transfer.
    pub next_setting: Option<String>,
    /// When the amended plan naming it was issued.
    pub amended_plan_issued_on: Option<Date>,
    /// A Year 11 pupil stays in their school's own sixth form: no transfer.
    pub staying_in_sixth_form: bool,
    /// The day of a recorded move between post-16 institutions (reg. 18(2)).
    pub post16_move_on: Option<Date>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
