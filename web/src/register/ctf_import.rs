//! Importing a school's Common Transfer File (`/register/import`): the file
//! the school's management information system exports (CTF, XML) chosen with a
//! file picker, a dry run by default, and the import's report shown after:
//! pupils created, updated (and moved from another school) or unchanged, and
//! every pupil refused with its line, element and reason. A SENCO imports their
//! own school's file (the register area); the council's team any school's of
//! the authority (the pupils area). The pupils service's `ImportCtf` does the
//! work and decides; this page sends the file as it was chosen.
//!
//! The form is `multipart/form-data` with the CSRF token first (a file met
//! before a valid token is refused unread); the file may be up to the service's
//! 64 MiB, and the route's body limit is set just above it.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use super::access::EDITORS;
use crate::layout::{FieldError, csrf_field, error_for, error_summary, page};
use crate::multipart::{self, Limits};
use crate::refusals::{self, PageResult};
use crate::session::Session;
use crate::state::Web;

/// The page.
pub const PATH: &str = "/register/import";
/// The file input.
const FILE: &str = "ctf";
/// The largest file: the pupils service's limit.
const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// One file a form.
const LIMITS: Limits = Limits { file_bytes: MAX_FILE_BYTES, files: 1 };
/// The form's body: the file and the form's few values.
const FORM_BODY_LIMIT: usize = MAX_FILE_BYTES + 1024 * 1024;
/// Pieces sent to the service.
const CHUNK: usize = 1024 * 1024;

/// The route, with its body limit.
pub(super) fn routes() -> axum::Router<Arc<Web>> {
    axum::Router::new().route(PATH, get(form).post(import).layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)))
}

/// The area the page belongs to: a SENCO's register, the council's pupils.
fn area(session: &Session) -> &'static str {
    if session.role() == Role::Senco { "/register" } else { "/pupils" }
}

fn import_page(
    session: &Session,
    dry_run: bool,
    errors: &[FieldError],
    report: Option<&pb::ImportCtfResponse>,
) -> PageResult {
    let e = |id: &str| error_for(errors, id);
    let described = if e(FILE).is_some() { "ctf-hint ctf-error" } else { "ctf-hint" };
    let who = if session.role() == Role::Senco { "your school's" } else { "a school of the authority's" };
    let body = html! {
        h1 class="heading-l" { "Import a Common Transfer File" }
        (error_summary(errors))
        @if let Some(report) = report { (report_view(report)) }
        p class="body" {
            "Import " (who) " pupils and SEN register from the Common Transfer File (CTF 17 to CTF 24, XML) \
             that the school's management information system exports. Pupils are matched by UPN: new ones are \
             added, changed ones updated (a pupil on another school's roll moves, their history kept), the rest \
             left alone. If any pupil cannot be taken, nothing of the file is written."
        }
        form method="post" action=(PATH) enctype="multipart/form-data" novalidate {
            (csrf_field(session))
            div class={ "form-group" @if e(FILE).is_some() { " form-group--error" } } {
                label class="label" for=(FILE) { "The CTF file" }
                div class="hint" id="ctf-hint" { "An .xml file of up to 64 MiB" }
                @if let Some(error) = e(FILE) {
                    p class="error-message" id="ctf-error" { span class="visually-hidden" { "Error: " } (error) }
                }
                input class={ "file-upload" @if e(FILE).is_some() { " input--error" } } id=(FILE) name=(FILE)
                    type="file" accept=".xml,application/xml,text/xml" aria-describedby=(described);
            }
            div class="form-group" {
                div class="checkboxes__item" {
                    input class="checkboxes__input" id="dry_run" name="dry_run" type="checkbox" value="true" checked[dry_run];
                    label class="label checkboxes__label" for="dry_run" { "Dry run: report what would change and write nothing" }
                }
            }
            button type="submit" class="button" { "Import" }
        }
    };
    let status = if errors.is_empty() { http::StatusCode::OK } else { http::StatusCode::BAD_REQUEST };
    Ok((status, page(session, "Import a Common Transfer File", area(session), body)).into_response())
}

/// What the import did, or would do.
fn report_view(report: &pb::ImportCtfResponse) -> Markup {
    let outcome = if report.dry_run {
        "Dry run: nothing was written. This is what importing the file would do: to import it, choose the file \
         again below, untick the dry run and press Import."
    } else if report.written {
        "The file was imported."
    } else {
        "Nothing was written: correct the pupils refused below in the school's system and import the file again."
    };
    html! {
        div class="panel" id="import-report" role="status" {
            h2 class="heading-m" { "School " (report.school_urn) ", CTF " (report.ctf_version) }
            div class="notice" { p class="notice__text" { strong { (outcome) } } }
            dl class="summary-list" {
                div class="summary-list__row" { dt class="summary-list__key" { "Created" } dd class="summary-list__value" id="created" { (report.created) } }
                div class="summary-list__row" { dt class="summary-list__key" { "Updated" } dd class="summary-list__value" id="updated" { (report.updated) } }
                div class="summary-list__row" { dt class="summary-list__key" { "Unchanged" } dd class="summary-list__value" id="unchanged" { (report.unchanged) } }
                div class="summary-list__row" { dt class="summary-list__key" { "Refused" } dd class="summary-list__value" id="refused" { (report.refused.len()) } }
            }
            @if !report.refused.is_empty() {
                div class="table-wrapper" { table class="table" id="refused-pupils" {
                    caption class="table__caption" { "Pupils refused" }
                    thead { tr { th scope="col" { "Line" } th scope="col" { "UPN" } th scope="col" { "Element" } th scope="col" { "Reason" } } }
                    tbody {
                        @for refused in &report.refused {
                            tr { td { (refused.line) } td { (refused.upn) } td { (refused.element) } td { (refused.reason) } }
                        }
                    }
                } }
            }
            @if !report.changes.is_empty() {
                div class="table-wrapper" { table class="table" id="changed-pupils" {
                    caption class="table__caption" { "Pupils created or changed" }
                    thead { tr { th scope="col" { "Line" } th scope="col" { "UPN" } th scope="col" { "Change" } } }
                    tbody {
                        @for change in &report.changes {
                            tr { td { (change.line) } td { (change.upn) } td { (change_in_words(change)) } }
                        }
                    }
                } }
            }
        }
    }
}

fn change_in_words(change: &pb::CtfChange) -> String {
    let what = if change.what.is_empty() { String::new() } else { format!(": {}", change.what.join(", ")) };
    match pb::CtfChangeKind::try_from(change.kind) {
        Ok(pb::CtfChangeKind::Created) => "added to the register".to_owned(),
        Ok(pb::CtfChangeKind::Moved) => format!("moved from school {}{what}", change.moved_from_urn),
        _ => format!("updated{what}"),
    }
}

/// `GET /register/import`.
async fn form(session: Session) -> PageResult {
    session.require(EDITORS)?;
    import_page(&session, true, &[], None)
}

/// `POST /register/import`.
async fn import(State(web): State<Arc<Web>>, session: Session, form: Multipart) -> PageResult {
    session.require(EDITORS)?;
    let form = multipart::read(&session, form, LIMITS).await?;
    let dry_run = form.values.get("dry_run") == "true";
    let error = |message: &str| vec![FieldError { id: FILE.into(), message: message.into() }];
    let file = form.files.iter().find(|f| f.input == FILE);
    let problem = match file {
        _ if form.broken => Some("The file did not arrive whole: choose it and import again"),
        Some(f) if f.too_large => Some("The file is larger than 64 MiB, more than any school's CTF"),
        Some(f) if f.content.is_empty() => Some("The chosen file is empty"),
        None => Some("Choose the CTF file to import"),
        Some(_) => None,
    };
    if let Some(problem) = problem {
        return import_page(&session, dry_run, &error(problem), None);
    }
    let content = file.map(|f| f.content.clone()).unwrap_or_default();
    let pieces: Vec<pb::ImportCtfRequest> =
        content.chunks(CHUNK).map(|piece| pb::ImportCtfRequest { chunk: piece.to_vec(), dry_run }).collect();
    let backend = web.backend(&session);
    let answer = async {
        let request = backend.request(futures::stream::iter(pieces));
        backend.pupils()?.import_ctf(request).await
    }
    .await;
    match answer {
        Ok(report) => import_page(&session, dry_run, &[], Some(&report.into_inner())),
        Err(status) if matches!(status.code(), tonic::Code::InvalidArgument | tonic::Code::ResourceExhausted) => {
            let message = crate::fields::sentence(status.message());
            import_page(&session, dry_run, &error(&message), None)
        }
        Err(status) if status.code() == tonic::Code::PermissionDenied => import_page(
            &session,
            dry_run,
            &error("This file is another school's: you may import only your own school's file"),
            None,
        ),
        Err(status) => Err(refusals::from_status(&session, &status).into()),
    }
}
