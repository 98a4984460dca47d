//! What the referral page's documents do ([`super::attachments`]): attaching
//! documents (`POST /referrals/{id}/attachments`, a multipart form with the
//! CSRF token first) and downloading one (`GET
//! /referrals/{id}/attachments/{attachment_id}`).
//!
//! A wrong file shows the page again with the problem against the file input
//! and nothing attached. A download is served as an attachment of its kind's
//! type (never the type a sender declared), unsniffable, in a sandbox, so a
//! document cannot run as a page of the site; only those who may read the
//! referral get it, and the service records the read.

use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, header};
use sen_proto::v1 as pb;
use tonic::Code;

use super::actions::Extra;
use super::attachments::{DOCUMENTS, LIMITS, checked_documents, send_documents};
use super::page::{READERS, render};
use crate::fields::new_key;
use crate::layout::FieldError;
use crate::multipart;
use crate::refusals::{self, PageResult};
use crate::session::Session;
use crate::state::Web;

/// `POST /referrals/{id}/attachments`.
pub(super) async fn attach(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    form: Multipart,
) -> PageResult {
    session.require(READERS)?;
    let form = multipart::read(&session, form, LIMITS).await?;
    let mut errors = Vec::new();
    let documents = checked_documents(&form, &mut errors);
    if errors.is_empty() && documents.is_empty() {
        errors.push(FieldError { id: DOCUMENTS.into(), message: "Choose one or more documents to attach".into() });
    }
    if !errors.is_empty() {
        return render(&web, &session, id, Extra { errors, ..Extra::default() }).await;
    }
    let backend = web.backend(&session);
    let failed = send_documents(&backend, id, documents, &new_key()).await;
    if failed.is_empty() {
        return Ok(Redirect::to(&format!("/referrals/{id}?done=attached#documents-heading")).into_response());
    }
    let message = format!("Not attached: {}", failed.join(". "));
    render(&web, &session, id, Extra { errors: vec![FieldError { id: DOCUMENTS.into(), message }], ..Extra::default() })
        .await
}

/// `GET /referrals/{id}/attachments/{attachment_id}`.
pub(super) async fn download(
    State(web): State<Arc<Web>>,
    session: Session,
    Path((id, attachment_id)): Path<(i64, i64)>,
) -> PageResult {
    session.require(READERS)?;
    let backend = web.backend(&session);
    let request = backend.request(pb::GetReferralAttachmentRequest { referral_id: id, attachment_id });
    let answer = async { backend.referrals()?.get_referral_attachment(request).await }.await;
    let document = match answer {
        Ok(document) => document.into_inner(),
        Err(status) if status.code() == Code::NotFound => return Err(refusals::not_found(&session).into()),
        Err(status) => return Err(refusals::from_status(&session, &status).into()),
    };
    let about = document.attachment.unwrap_or_default();
    Ok(served(&about, document.content))
}

/// A document as a download: its kind's type, its name, never run or sniffed.
fn served(about: &pb::ReferralAttachment, content: Vec<u8>) -> Response {
    let media_type = if about.media_type.is_empty() { "application/octet-stream" } else { &about.media_type };
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_DISPOSITION, disposition(&about.file_name));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    response
}

/// `attachment; filename="…"; filename*=UTF-8''…`: an ASCII fallback with
/// anything unsafe replaced, and the name itself percent-encoded.
fn disposition(name: &str) -> HeaderValue {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or(HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_keeps_its_name_safely_and_is_never_a_page() {
        let about = pb::ReferralAttachment {
            file_name: "Rapport \"final\" é.pdf".into(),
            media_type: "application/pdf".into(),
            ..Default::default()
        };
        let response = served(&about, b"%PDF-1.7".to_vec());
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
        let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(disposition.starts_with("attachment; filename=\"Rapport _final_ _.pdf\""), "{disposition}");
        assert!(disposition.contains("filename*=UTF-8''Rapport%20%22final%22%20%C3%A9.pdf"), "{disposition}");
        assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().starts_with("sandbox"));
    }
}
