//! `pupil_history`: every addition, SEN status or need change and school move.

use sea_orm::entity::prelude::*;

/// One history entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pupil_history")]
pub struct Model {
    /// Entry id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The pupil.
    pub pupil_id: i32,
    /// `added`, `sen_status` or `school_move`.
    pub kind: String,
    /// When the change took effect.
    pub effective_on: Date,
    /// Status from this entry.
    pub sen_status: String,
    /// Primary need from this entry.
    pub primary_need: Option<String>,
    /// Secondary need from this entry.
    pub secondary_need: Option<String>,
    /// School from this entry.
    pub school_urn: i32,
    /// Why.
    pub reason: String,
    /// Who (person id).
    pub changed_by: String,
    /// Their role.
    pub changed_by_role: String,
    /// When it was recorded.
    pub recorded_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
