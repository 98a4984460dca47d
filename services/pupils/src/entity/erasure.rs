//! `erasures`: pupils past their authority's retention period whose erasure
//! across the services has begun and not yet finished. A row is written when a
//! pupil is found past retention and removed, with the pupil, once every service
//! has forgotten them; a row still here is an erasure to finish (the `erasing`
//! state), taken by one pass at a time through its claim.

use sea_orm::entity::prelude::*;

/// One pending erasure.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "erasures")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The pupil (unique: one erasure per pupil).
    pub pupil_id: i32,
    /// When the pupil was found past retention.
    pub begun_at: DateTimeUtc,
    /// The pass that holds it now, if any.
    pub claimed_by: Option<String>,
    /// Until when that pass holds it.
    pub claimed_until: Option<DateTimeUtc>,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
