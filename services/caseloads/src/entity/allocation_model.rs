//! `allocation_models`: each term's time-allocation model.

use sea_orm::entity::prelude::*;

/// A term's model.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "allocation_models")]
pub struct Model {
    /// Model id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// Term code, e.g. 2026-autumn (unique in the tenant).
    pub term: String,
    /// Sessions available across the service.
    pub sessions_available: i32,
    /// Sessions every school gets first.
    pub base_per_school: i32,
    /// Weight of number on roll.
    pub weight_roll: i32,
    /// Weight of pupils on SEN support.
    pub weight_support: i32,
    /// Weight of pupils with an EHC plan.
    pub weight_ehcp: i32,
    /// Last set.
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
