//! `professionals`: the EP and advisory teaching services' staff.

use sea_orm::entity::prelude::*;

/// A professional as stored.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "professionals")]
pub struct Model {
    /// Professional id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The person id their identity tokens carry (unique in the tenant).
    pub person: String,
    /// Name.
    pub name: String,
    /// Role code.
    pub role: String,
    /// Full-time equivalent.
    pub fte: f64,
    /// open_cases or sessions_per_term.
    pub capacity_kind: String,
    /// The capacity's amount.
    pub capacity: i32,
    /// Taking work.
    pub active: bool,
    /// Open cases, kept with every allocation and closure so a capacity check and
    /// the allocation are one conditional update.
    pub open_cases: i32,
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
