//! `referral_attachments`: a document a referral carries, with its content.

use sea_orm::entity::prelude::*;

/// One document.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_attachments")]
pub struct Model {
    /// Attachment id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The referral.
    pub referral_id: i32,
    /// The file's name as sent (its last part only).
    pub file_name: String,
    /// What the content is (`sen_vocabulary::DocumentKind` code).
    pub kind: String,
    /// Its size.
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// The file itself.
    #[sea_orm(column_type = "Blob")]
    pub content: Vec<u8>,
    /// Who attached it (person id).
    pub uploaded_by: String,
    /// Their role.
    pub uploaded_by_role: String,
    /// When.
    pub uploaded_at: DateTimeUtc,
    /// The client's key for the upload.
    pub idempotency_key: String,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
