//! `authorities`: the tenants.

use sea_orm::entity::prelude::*;

/// A registered local authority.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorities")]
pub struct Model {
    /// Three-digit DfE LA code.
    #[sea_orm(primary_key, auto_increment = false)]
    pub la_code: String,
    /// Authority name.
    pub name: String,
    /// When it was registered.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
