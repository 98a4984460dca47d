//! `referral_change_horizon`: one row (id 1) saying up to which position the
//! outbox's changes have been forgotten (see `crate::feed`).

use sea_orm::entity::prelude::*;

/// The horizon of the kept changes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_change_horizon")]
pub struct Model {
    /// Always 1: there is one horizon.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// Every change at or below this position may have been deleted; every one
    /// above it is kept.
    pub forgotten_through: i64,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
