//! `referral_changes`: the outbox through which committed changes reach
//! watchers, on every replica, and from which a resuming watcher is given what
//! it missed (see `crate::feed`).

use sea_orm::entity::prelude::*;

/// One committed change, as watchers receive it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_changes")]
pub struct Model {
    /// Change id: its position in the feed, increasing in the order changes commit.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Tenant.
    pub la_code: String,
    /// The referral's school.
    pub school_urn: i32,
    /// The professional it is allocated to, if any.
    pub allocated_to: Option<String>,
    /// The encoded `sen.v1.ReferralChange`.
    pub message: Vec<u8>,
    /// When it was written.
    pub created_at: DateTimeUtc,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
