//! `case_activities`: work recorded on a case, in sessions (half-days).

use sea_orm::entity::prelude::*;

/// One activity.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_activities")]
pub struct Model {
    /// Activity id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The case.
    pub case_id: i32,
    /// The school (repeated for the allocation report).
    pub school_urn: i32,
    /// When.
    pub on: Date,
    /// Kind code.
    pub kind: String,
    /// Sessions used.
    pub sessions: i32,
    /// A short note (never logged).
    pub note: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// Created.
    pub created_at: DateTimeUtc,
    /// The client's key for the record, when it gave one.
    pub idempotency_key: Option<String>,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
