//! `case_access`: a professional's access to a pupil while a case is open.

use sea_orm::entity::prelude::*;

/// One grant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_access")]
pub struct Model {
    /// Grant id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The pupil.
    pub pupil_id: i32,
    /// The professional's person id.
    pub person: String,
    /// The case it belongs to.
    pub case_ref: String,
    /// Opened.
    pub granted_at: DateTimeUtc,
    /// Closed.
    pub revoked_at: Option<DateTimeUtc>,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
