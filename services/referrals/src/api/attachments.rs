//! The documents of a referral over the wire: `UploadReferralAttachment` (a
//! client stream: the first message names the referral, the file and the key,
//! every message carries the next piece), `ListReferralAttachments` and
//! `GetReferralAttachment`. Who may call them is whoever may read the referral
//! (`READERS`); the store narrows it to the referrals in their scope.
//!
//! An upload is read only up to one byte past the limit, so a sender cannot
//! make the service hold more than 10 MiB; a file that is too large, empty or
//! not a PDF, Word document, JPEG or PNG by its content is INVALID_ARGUMENT
//! naming `chunk`, and nothing is stored.

use chrono::SecondsFormat;
use sen_platform::error::FieldViolations;
use sen_platform::fields::{AllChecked, field, text};
use sen_platform::identity::Identity;
use sen_proto::v1 as pb;
use sen_vocabulary::{DocumentKind, MAX_DOCUMENT_BYTES, size_in_words};
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

use super::{READERS, ReferralsApi};
use crate::domain::NewAttachment;
use crate::store::{AttachmentInfo, ReadAction};

type Reply<T> = Result<Response<T>, Status>;

/// The request fields an upload's problems are named by.
const REFERRAL: &str = "referral_id";
const NAME: &str = "file_name";
const KEY: &str = "idempotency_key";
const CONTENT: &str = "chunk";

/// A document's description on the wire.
pub fn attachment_to_proto(info: &AttachmentInfo) -> pb::ReferralAttachment {
    pb::ReferralAttachment {
        id: i64::from(info.id),
        referral_id: i64::from(info.referral_id),
        file_name: info.file_name.clone(),
        kind: info.kind.clone(),
        media_type: DocumentKind::parse(&info.kind).map(DocumentKind::media_type).unwrap_or_default().to_owned(),
        size_bytes: info.size_bytes,
        sha256: info.sha256.clone(),
        uploaded_by: info.uploaded_by.clone(),
        uploaded_by_role: info.uploaded_by_role.clone(),
        uploaded_at: info.uploaded_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

/// What the first message of an upload says, and the whole file.
struct Upload {
    referral_id: i64,
    file_name: String,
    key: String,
    content: Vec<u8>,
    /// More than the limit was sent (reading stopped there).
    too_large: bool,
}

/// Reads the upload's messages, keeping at most one byte past the limit.
async fn read_upload(mut stream: Streaming<pb::UploadReferralAttachmentRequest>) -> Result<Upload, Status> {
    let mut upload: Option<Upload> = None;
    while let Some(message) = stream.next().await {
        let message = message?;
        let upload = upload.get_or_insert_with(|| Upload {
            referral_id: message.referral_id,
            file_name: message.file_name.clone(),
            key: message.idempotency_key.clone(),
            content: Vec::new(),
            too_large: false,
        });
        let room = (MAX_DOCUMENT_BYTES + 1).saturating_sub(upload.content.len());
        upload.content.extend_from_slice(&message.chunk[..message.chunk.len().min(room)]);
        if upload.content.len() > MAX_DOCUMENT_BYTES {
            upload.too_large = true;
            break;
        }
    }
    upload.ok_or_else(|| FieldViolations::one(REFERRAL, "is required: the upload sent no message").into())
}

impl ReferralsApi {
    /// `UploadReferralAttachment`.
    pub(super) async fn upload_attachment(
        &self,
        request: Request<Streaming<pb::UploadReferralAttachmentRequest>>,
    ) -> Reply<pb::ReferralAttachment> {
        let who = Identity::caller(&request, READERS)?;
        let scope = who.scope()?;
        let upload = read_upload(request.into_inner()).await?;
        let referral_id = field(
            REFERRAL,
            if upload.referral_id < 1 { Err("is required".to_owned()) } else { Ok(upload.referral_id) },
        );
        let key = text(&upload.key, KEY, 200);
        let new = if upload.too_large {
            let mut violations = FieldViolations::one(
                CONTENT,
                format!("is larger than {}, the most a document may be", size_in_words(MAX_DOCUMENT_BYTES)),
            );
            if let Err(name) = sen_vocabulary::document_name(&upload.file_name) {
                violations.add(NAME, name);
            }
            Err(violations)
        } else {
            NewAttachment::check(&upload.file_name, upload.content, NAME, CONTENT)
        };
        let (referral_id, key, new) = (referral_id, key, new).all()?;
        let saved = self.store.attach(&scope, &who.actor(), referral_id, &new, &key).await?;
        tracing::info!(referral_id, attachment_id = saved.id, kind = %saved.kind, "document attached");
        Ok(Response::new(attachment_to_proto(&saved)))
    }

    /// `ListReferralAttachments`.
    pub(super) async fn list_attachments(
        &self,
        request: Request<pb::ListReferralAttachmentsRequest>,
    ) -> Reply<pb::ListReferralAttachmentsResponse> {
        let who = Identity::caller(&request, READERS)?;
        let scope = who.scope()?;
        let referral_id = request.get_ref().referral_id;
        let rows = self.store.attachments(&scope, referral_id).await?;
        if let Some(first) = rows.first() {
            let detail = rows.iter().map(|r| r.id.to_string()).collect::<Vec<_>>().join(",");
            self.store
                .audit_reads(&scope, &who.actor(), &[first.referral_id], ReadAction::AttachmentList, &detail)
                .await?;
        }
        Ok(Response::new(pb::ListReferralAttachmentsResponse {
            attachments: rows.iter().map(attachment_to_proto).collect(),
        }))
    }

    /// `GetReferralAttachment`.
    pub(super) async fn get_attachment(
        &self,
        request: Request<pb::GetReferralAttachmentRequest>,
    ) -> Reply<pb::ReferralAttachmentContent> {
        let who = Identity::caller(&request, READERS)?;
        let scope = who.scope()?;
        let req = request.get_ref();
        let row = self.store.attachment(&scope, req.referral_id, req.attachment_id).await?;
        let detail = format!("attachment {}", row.id);
        self.store.audit_reads(&scope, &who.actor(), &[row.referral_id], ReadAction::AttachmentRead, &detail).await?;
        let attachment = attachment_to_proto(&AttachmentInfo::from(&row));
        Ok(Response::new(pb::ReferralAttachmentContent { attachment: Some(attachment), content: row.content }))
    }
}
