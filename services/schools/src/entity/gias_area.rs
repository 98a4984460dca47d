//! `gias_areas`: which authority's area GIAS places each URN in, as learnt from
//! the imports that loaded the school. One row per URN, across all tenants: the
//! first authority to import a URN from GIAS holds it, and no other authority may
//! then add that URN by hand or by import.

use sea_orm::entity::prelude::*;

/// A URN and the authority whose area it lies in.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gias_areas")]
pub struct Model {
    /// GIAS URN.
    #[sea_orm(primary_key, auto_increment = false)]
    pub urn: i32,
    /// The authority that imported it, whose area GIAS placed it in.
    pub la_code: String,
    /// When the import recorded it.
    pub recorded_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
