//! The documents a referral carries: attach one (idempotent under the client's
//! key, at most [`MAX_DOCUMENTS_PER_REFERRAL`] to an open referral), list a
//! referral's without their content, and read one with it. Every function
//! reaches the referral through the caller's scope first, so a document of a
//! referral out of reach is not found exactly as a missing one is.
//!
//! Attaching writes its audit entry (`referral.attachment_added`) in the same
//! transaction; reads are audited by the caller, as every read of the service is.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use sen_platform::error::on_unique;
use sen_platform::identity::{Actor, Scope};
use sen_vocabulary::MAX_DOCUMENTS_PER_REFERRAL;

use super::{Store, load_visible, status_of, visible};
use crate::domain::NewAttachment;
use crate::entity::{audit_event, referral, referral_attachment as attachment};
use crate::error::{Error, Result};

/// A document as listed: everything but its content.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct AttachmentInfo {
    /// Attachment id.
    pub id: i32,
    /// The referral.
    pub referral_id: i32,
    /// Its name.
    pub file_name: String,
    /// Its kind's code.
    pub kind: String,
    /// Its size.
    pub size_bytes: i64,
    /// SHA-256 of its content, hex.
    pub sha256: String,
    /// Who attached it.
    pub uploaded_by: String,
    /// Their role.
    pub uploaded_by_role: String,
    /// When.
    pub uploaded_at: chrono::DateTime<Utc>,
}

impl From<&attachment::Model> for AttachmentInfo {
    fn from(row: &attachment::Model) -> Self {
        Self {
            id: row.id,
            referral_id: row.referral_id,
            file_name: row.file_name.clone(),
            kind: row.kind.clone(),
            size_bytes: row.size_bytes,
            sha256: row.sha256.clone(),
            uploaded_by: row.uploaded_by.clone(),
            uploaded_by_role: row.uploaded_by_role.clone(),
            uploaded_at: row.uploaded_at,
        }
    }
}

/// The columns of [`AttachmentInfo`], in a query that leaves the content out.
fn info_columns() -> [attachment::Column; 9] {
    use attachment::Column as C;
    [
        C::Id,
        C::ReferralId,
        C::FileName,
        C::Kind,
        C::SizeBytes,
        C::Sha256,
        C::UploadedBy,
        C::UploadedByRole,
        C::UploadedAt,
    ]
}

impl Store {
    /// Attaches `new` to referral `referral_id` under the client's `key`. A retry
    /// with the same key and file answers the first attachment and writes
    /// nothing; another file or referral under the key is ALREADY_EXISTS. A
    /// referral that has ended (declined, closed, withdrawn) or already carries
    /// the most documents is FAILED_PRECONDITION.
    pub async fn attach(
        &self,
        scope: &Scope,
        actor: &Actor,
        referral_id: i64,
        new: &NewAttachment,
        key: &str,
    ) -> Result<AttachmentInfo> {
        let row = load_visible(&self.db, scope, referral_id).await?;
        if let Some(first) = self.attachment_by_key(&row.la_code, key).await? {
            return same_upload(&first, row.id, new, key);
        }
        let txn = self.db.begin().await?;
        // The referral's row is held until commit (PostgreSQL; SQLite has one
        // writer), so two uploads at once cannot both take the last place.
        let held = referral::Entity::find()
            .filter(visible(scope))
            .filter(referral::Column::Id.eq(row.id))
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("referral {referral_id}")))?;
        let status = status_of(&held)?;
        if !status.is_open() {
            return Err(Error::FailedPrecondition(format!(
                "referral {referral_id} is {}: documents can be attached to an open referral only",
                status.name()
            )));
        }
        let count = attachment::Entity::find()
            .filter(attachment::Column::LaCode.eq(held.la_code.clone()))
            .filter(attachment::Column::ReferralId.eq(held.id))
            .count(&txn)
            .await?;
        if count >= MAX_DOCUMENTS_PER_REFERRAL as u64 {
            return Err(Error::FailedPrecondition(format!(
                "referral {referral_id} has {count} documents already, the most one referral carries; \
                 put several pages in one file"
            )));
        }
        let inserted = attachment::ActiveModel {
            la_code: Set(held.la_code.clone()),
            referral_id: Set(held.id),
            file_name: Set(new.file_name.clone()),
            kind: Set(new.kind.code().to_owned()),
            size_bytes: Set(new.size_bytes()),
            sha256: Set(new.sha256.clone()),
            content: Set(new.content.clone()),
            uploaded_by: Set(actor.person.clone()),
            uploaded_by_role: Set(actor.role.as_str().to_owned()),
            uploaded_at: Set(Utc::now()),
            idempotency_key: Set(key.to_owned()),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| on_unique(e, || Error::AlreadyExists(key.to_owned())));
        let saved = match inserted {
            Ok(saved) => saved,
            // A parallel upload under the same key won: answer as its retry.
            Err(Error::AlreadyExists(_)) => {
                drop(txn);
                return match self.attachment_by_key(&row.la_code, key).await? {
                    Some(first) => same_upload(&first, row.id, new, key),
                    None => Err(Error::Aborted("retry the upload".into())),
                };
            }
            Err(e) => return Err(e),
        };
        audit_added(&txn, actor, &saved).await?;
        txn.commit().await?;
        Ok(AttachmentInfo::from(&saved))
    }

    /// The documents of referral `referral_id`, oldest first, without content.
    pub async fn attachments(&self, scope: &Scope, referral_id: i64) -> Result<Vec<AttachmentInfo>> {
        let row = load_visible(&self.db, scope, referral_id).await?;
        Ok(attachment::Entity::find()
            .select_only()
            .columns(info_columns())
            .filter(attachment::Column::LaCode.eq(row.la_code))
            .filter(attachment::Column::ReferralId.eq(row.id))
            .order_by_asc(attachment::Column::Id)
            .into_model::<AttachmentInfo>()
            .all(&self.db)
            .await?)
    }

    /// One document of referral `referral_id`, with its content.
    pub async fn attachment(&self, scope: &Scope, referral_id: i64, id: i64) -> Result<attachment::Model> {
        let row = load_visible(&self.db, scope, referral_id).await?;
        let missing = || Error::NotFound(format!("document {id} of referral {referral_id}"));
        let id = i32::try_from(id).map_err(|_| missing())?;
        attachment::Entity::find()
            .filter(attachment::Column::LaCode.eq(row.la_code))
            .filter(attachment::Column::ReferralId.eq(row.id))
            .filter(attachment::Column::Id.eq(id))
            .one(&self.db)
            .await?
            .ok_or_else(missing)
    }

    /// The attachment stored under `key` in the tenant, without its content.
    async fn attachment_by_key(&self, la_code: &str, key: &str) -> Result<Option<AttachmentInfo>> {
        Ok(attachment::Entity::find()
            .select_only()
            .columns(info_columns())
            .filter(attachment::Column::LaCode.eq(la_code))
            .filter(attachment::Column::IdempotencyKey.eq(key))
            .into_model::<AttachmentInfo>()
            .one(&self.db)
            .await?)
    }
}

/// A retry (the same referral, name and content) answers the first upload.
fn same_upload(first: &AttachmentInfo, referral_id: i32, new: &NewAttachment, key: &str) -> Result<AttachmentInfo> {
    if first.referral_id == referral_id && first.sha256 == new.sha256 && first.file_name == new.file_name {
        Ok(first.clone())
    } else {
        Err(Error::AlreadyExists(format!(
            "idempotency key '{key}' was used for another document ({}); use a new key for a new document",
            first.id
        )))
    }
}

/// The audit entry of an attachment, in its transaction.
async fn audit_added(txn: &DatabaseTransaction, actor: &Actor, saved: &attachment::Model) -> Result<()> {
    audit_event::ActiveModel {
        la_code: Set(saved.la_code.clone()),
        person: Set(actor.person.clone()),
        role: Set(actor.role.as_str().to_owned()),
        referral_id: Set(Some(saved.referral_id)),
        action: Set("referral.attachment_added".to_owned()),
        detail: Set(format!("attachment {} ({}, {} bytes)", saved.id, saved.kind, saved.size_bytes)),
        at: Set(saved.uploaded_at),
        trace_id: Set(actor.trace_id.clone()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}
