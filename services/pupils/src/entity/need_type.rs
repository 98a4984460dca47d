//! `need_types`: the national DfE type-of-need codes, shipped by migrations, the
//! same for every council (no `la_code`: readable by all).

use sea_orm::entity::prelude::*;

/// One national code.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "need_types")]
pub struct Model {
    /// The census code, e.g. `ASD`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    /// What it means.
    pub name: String,
    /// Broad area code, none for OTH, NSA and DS.
    pub broad_area: Option<String>,
    /// Valid only with SEN support (K).
    pub sen_support_only: bool,
    /// When the DfE introduced it.
    pub added_on: Date,
    /// Census order.
    pub position: i32,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
