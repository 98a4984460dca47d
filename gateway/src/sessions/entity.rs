//! The `web_sessions` table as sea-orm sees it.

use sea_orm::entity::prelude::*;

/// One sign-in.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "web_sessions")]
pub struct Model {
    /// SHA-256 of the session id, base64url: the id itself is never stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_digest: String,
    /// The person (the identity provider's subject).
    pub person: String,
    /// Their role, as `Role::as_str` writes it.
    pub role: String,
    /// Their authority's LA code.
    pub tenant: Option<String>,
    /// Their school's URN (SENCOs).
    pub school: Option<String>,
    /// The id of the key that signed the session's cookie.
    pub key_id: String,
    /// When they signed in (Unix seconds).
    pub created_at: i64,
    /// When the session ends unless ended sooner (Unix seconds).
    pub expires_at: i64,
    /// When the identity provider last confirmed the person and role (Unix seconds).
    pub checked_at: i64,
    /// When the session was ended, if it was.
    pub ended_at: Option<i64>,
    /// Why it was ended.
    pub ended_reason: Option<String>,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
