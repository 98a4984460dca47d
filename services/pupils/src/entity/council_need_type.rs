//! `council_need_types`: a council's own type-of-need codes, added before the
//! platform ships a code the DfE has published; seen and used by that council only.

use sea_orm::entity::prelude::*;

/// One code a council added.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "council_need_types")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The census code, unique per authority.
    pub code: String,
    /// What it means.
    pub name: String,
    /// Broad area code, if it belongs to one.
    pub broad_area: Option<String>,
    /// Valid only with SEN support (K).
    pub sen_support_only: bool,
    /// When the DfE introduced it.
    pub added_on: Date,
    /// Who added it (person id).
    pub added_by: String,
    /// When.
    pub added_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
