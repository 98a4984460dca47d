//! A referral's documents on its page: the list, each a download, and the
//! form that attaches more while the referral is open; and what the referral
//! form and that form share: the file input, the check of each chosen file
//! (its kind told from its content, its size, how many) before anything is
//! sent, and sending them to the referrals service as an upload each.
//!
//! The service judges every file again and keeps the last word; the check here
//! only lets a person hear about a wrong file before anything is stored.

use maud::{Markup, html};
use sen_proto::v1 as pb;
use sen_vocabulary::{
    DocumentKind, MAX_DOCUMENT_BYTES, MAX_DOCUMENTS_PER_REFERRAL, check_document, document_kinds_in_words,
    document_name, size_in_words,
};

use super::actions::Extra;
use crate::backend::Backend;
use crate::fields::{add_error, long_time};
use crate::layout::{FieldError, csrf_field, error_for};
use crate::multipart::{Limits, SentFile, SentForm};
use crate::session::Session;
use crate::wording::is_open;

/// The file input's id and name, on the referral form and the referral page.
pub const DOCUMENTS: &str = "documents";
/// The most documents one form sends at once.
pub const DOCUMENTS_PER_FORM: usize = 5;
/// What one form with files may carry.
pub const LIMITS: Limits = Limits { file_bytes: MAX_DOCUMENT_BYTES, files: DOCUMENTS_PER_FORM };
/// The largest body a form with files may be: its files and its fields.
pub const FORM_BODY_LIMIT: usize = DOCUMENTS_PER_FORM * (MAX_DOCUMENT_BYTES + 64 * 1024) + 1024 * 1024;
/// The piece of a file sent in one message of an upload.
const CHUNK: usize = 1024 * 1024;

/// The hint under every document input.
pub fn documents_hint() -> String {
    format!(
        "Optional. A {}, up to {} each; up to {DOCUMENTS_PER_FORM} at a time and {MAX_DOCUMENTS_PER_REFERRAL} on a referral. \
         Reports, assessments and letters that help the council understand the pupil's needs.",
        document_kinds_in_words(),
        size_in_words(MAX_DOCUMENT_BYTES),
    )
}

/// The file input for documents, with its hint and error. Browsers offer the
/// kinds taken first; the content decides.
pub fn documents_input(label: &str, error: Option<&str>) -> Markup {
    let accept = ".pdf,.docx,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png,\
                  application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    let described = if error.is_some() { "documents-hint documents-error" } else { "documents-hint" };
    html! {
        div class={ "form-group" @if error.is_some() { " form-group--error" } } {
            label class="label" for=(DOCUMENTS) { (label) }
            div class="hint" id="documents-hint" { (documents_hint()) }
            @if let Some(error) = error {
                p class="error-message" id="documents-error" { span class="visually-hidden" { "Error: " } (error) }
            }
            input class={ "file-upload" @if error.is_some() { " input--error" } } id=(DOCUMENTS) name=(DOCUMENTS)
                type="file" multiple accept=(accept) aria-describedby=(described);
        }
    }
}

/// A chosen file that passed the page's check.
#[derive(Clone, Debug)]
pub struct Document {
    /// Its name as kept.
    pub name: String,
    /// Its content.
    pub content: Vec<u8>,
}

/// The files of `form` from the documents input, each checked; every problem
/// goes against the input, one message naming the file.
pub fn checked_documents(form: &SentForm, errors: &mut Vec<FieldError>) -> Vec<Document> {
    if form.broken {
        add_error(
            errors,
            DOCUMENTS,
            format!(
                "The documents could not be read whole: choose them again (at most {DOCUMENTS_PER_FORM}, up to {} each)",
                size_in_words(MAX_DOCUMENT_BYTES)
            ),
        );
        return Vec::new();
    }
    if form.too_many {
        add_error(errors, DOCUMENTS, format!("Choose at most {DOCUMENTS_PER_FORM} documents at a time"));
        return Vec::new();
    }
    let mut documents = Vec::new();
    let mut problems = Vec::new();
    for file in form.files.iter().filter(|f| f.input == DOCUMENTS) {
        match check_file(file) {
            Ok(document) => documents.push(document),
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        add_error(errors, DOCUMENTS, problems.join(". "));
        return Vec::new();
    }
    documents
}

fn check_file(file: &SentFile) -> Result<Document, String> {
    let shown =
        if file.name.trim().is_empty() { "A document".to_owned() } else { format!("‘{}’", file.name.trim()) };
    let name = document_name(&file.name).map_err(|why| format!("{shown}: its name {why}"))?;
    if file.too_large {
        return Err(format!(
            "{shown} is larger than {}, the most a document may be",
            size_in_words(MAX_DOCUMENT_BYTES)
        ));
    }
    check_document(&file.content).map_err(|why| format!("{shown} {why}"))?;
    Ok(Document { name, content: file.content.clone() })
}

/// Sends each document to referral `id`, the n-th under `key_base`-n, so a
/// form sent twice attaches each once. Answers the names that could not be
/// attached, with why.
pub async fn send_documents(backend: &Backend, id: i64, documents: Vec<Document>, key_base: &str) -> Vec<String> {
    let mut failed = Vec::new();
    for (n, document) in documents.into_iter().enumerate() {
        let name = document.name.clone();
        let key = format!("{key_base}-{n}");
        let pieces: Vec<pb::UploadReferralAttachmentRequest> = if document.content.is_empty() {
            vec![upload_head(id, &document.name, &key, Vec::new())]
        } else {
            document
                .content
                .chunks(CHUNK)
                .enumerate()
                .map(|(i, piece)| {
                    if i == 0 {
                        upload_head(id, &document.name, &key, piece.to_vec())
                    } else {
                        pb::UploadReferralAttachmentRequest { chunk: piece.to_vec(), ..Default::default() }
                    }
                })
                .collect()
        };
        let answer = async {
            let request = backend.request(futures::stream::iter(pieces));
            backend.referrals()?.upload_referral_attachment(request).await
        }
        .await;
        if let Err(status) = answer {
            tracing::warn!(code = ?status.code(), referral_id = id, "a document was not attached");
            failed.push(format!("‘{name}’: {}", crate::fields::sentence(status.message())));
        }
    }
    failed
}

fn upload_head(id: i64, name: &str, key: &str, chunk: Vec<u8>) -> pb::UploadReferralAttachmentRequest {
    pb::UploadReferralAttachmentRequest {
        referral_id: id,
        file_name: name.to_owned(),
        idempotency_key: key.to_owned(),
        chunk,
    }
}

/// The referral's documents, or why they cannot be shown.
pub async fn fetch(backend: &Backend, id: i64) -> Result<Vec<pb::ReferralAttachment>, String> {
    let request = backend.request(pb::ListReferralAttachmentsRequest { referral_id: id });
    match async { backend.referrals()?.list_referral_attachments(request).await }.await {
        Ok(answer) => Ok(answer.into_inner().attachments),
        Err(status) => {
            tracing::warn!(code = ?status.code(), "a referral's documents could not be listed");
            Err("The documents are not available just now. Try again in a few minutes.".to_owned())
        }
    }
}

/// Who attached a document, in words.
fn attached_by(role: &str) -> &'static str {
    match role {
        "senco" => "the school's SENCO",
        "la_manager" => "the SEN manager",
        "case_officer" => "a SEN case officer",
        "educational_psychologist" => "the educational psychologist",
        "advisory_teacher" => "the advisory teacher",
        _ => "the council",
    }
}

/// The documents section of the referral page: the list, and the form to
/// attach more while the referral is open and has room.
pub fn section(
    session: &Session,
    referral: &pb::Referral,
    documents: &Result<Vec<pb::ReferralAttachment>, String>,
    extra: &Extra,
) -> Markup {
    let open = is_open(referral.status);
    let room = documents.as_ref().map_or(0, |d| MAX_DOCUMENTS_PER_REFERRAL.saturating_sub(d.len()));
    html! {
        h2 class="heading-m" id="documents-heading" { "Documents" }
        @match documents {
            Err(why) => p class="body" { (why) },
            Ok(list) if list.is_empty() => p class="body" { "No documents attached." },
            Ok(list) => {
                div class="table-wrapper" {
                    table class="table" {
                        caption class="visually-hidden" { "Documents attached to referral " (referral.id) }
                        thead { tr { th scope="col" { "Document" } th scope="col" { "Kind" } th scope="col" class="numeric" { "Size" } th scope="col" { "Attached" } } }
                        tbody {
                            @for d in list {
                                tr {
                                    td { a href={ "/referrals/" (referral.id) "/attachments/" (d.id) } download=(d.file_name) { (d.file_name) } }
                                    td { (DocumentKind::parse(&d.kind).map_or("Document", DocumentKind::name)) }
                                    td class="numeric" { (size_in_words(usize::try_from(d.size_bytes).unwrap_or(0))) }
                                    td { (long_time(&d.uploaded_at)) ", by " (attached_by(&d.uploaded_by_role)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if open && room > 0 && documents.is_ok() {
            form method="post" action={ "/referrals/" (referral.id) "/attachments" } enctype="multipart/form-data" novalidate class="case-form" {
                (csrf_field(session))
                (documents_input("Attach documents", error_for(&extra.errors, DOCUMENTS)))
                button type="submit" class="button button--secondary" { "Attach documents" }
            }
        } @else if open && documents.is_ok() {
            p class="body" { "This referral carries " (MAX_DOCUMENTS_PER_REFERRAL) " documents, the most it can." }
        }
    }
}
