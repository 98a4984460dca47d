//! A case's page (`/cases/{id}`): its summary, its activity log, and the forms
//! to record a visit and to close the case. Every form's problems show at once
//! against their fields, with what was typed kept; nothing is written while
//! anything is bad.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use http::StatusCode;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use sen_vocabulary::ActivityKind;
use tonic::Status;

use super::list::PROFESSIONALS;
use crate::fields::{FieldMap, date_from, field_errors, sentence};
use crate::layout::{
    FieldError, Tone, back_link, banner, csrf_field, error_for, error_summary, input_of, page, select, summary_card,
    tag, textarea,
};
use crate::people::People;
use crate::refusals::{self, PageResult, Refused};
use crate::session::{CSRF_FIELD, Session};
use crate::state::Web;
use crate::wording::{advice_state_tag, kind_name, long_date, pupil_link};

/// Who may read a case (`GetCase`).
const CASE_READERS: &[Role] =
    &[Role::LaManager, Role::CaseOfficer, Role::EducationalPsychologist, Role::AdvisoryTeacher];
/// Who may read a case's activity, record a visit and close it.
const CASE_WORKERS: &[Role] = &[Role::LaManager, Role::EducationalPsychologist, Role::AdvisoryTeacher];

/// A kind of recorded activity as the page names it: the vocabulary's name as
/// a sentence, but "Report" for report writing, as the page has always said.
fn activity_label(kind: ActivityKind) -> String {
    match kind {
        ActivityKind::Report => "Report".to_owned(),
        other => sentence(other.name()),
    }
}

/// What was typed into the forms of a case page, and what is wrong with it.
#[derive(Default)]
struct Forms {
    visit: HashMap<String, String>,
    visit_errors: Vec<FieldError>,
    close: HashMap<String, String>,
    close_errors: Vec<FieldError>,
}

pub(super) async fn case_page(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    session.require(CASE_READERS)?;
    let done = match query.get("done").map(String::as_str) {
        Some("visit") => Some("Visit recorded"),
        Some("closed") => Some("Case closed"),
        _ => None,
    };
    render_case(&web, &session, id, Forms::default(), done, StatusCode::OK).await
}

async fn render_case(
    web: &Web,
    session: &Session,
    id: i64,
    forms: Forms,
    done: Option<&str>,
    status: StatusCode,
) -> PageResult {
    let backend = web.backend(session);
    let mut client = backend.caseloads().map_err(|s| refusals::from_status(session, &s))?;
    let case = client
        .get_case(backend.request(pb::GetCaseRequest { case_id: id }))
        .await
        .map_err(|s| refusals::from_status(session, &s))?
        .into_inner();
    let works = CASE_WORKERS.contains(&session.role());
    let activity = if works {
        client
            .list_case_activity(backend.request(pb::ListCaseActivityRequest { case_id: id }))
            .await
            .map_err(|s| refusals::from_status(session, &s))?
            .into_inner()
            .activity
    } else {
        Vec::new()
    };
    let people = People::look_up(&backend, session, None).await;
    let active = case.status == "active";
    let title = format!("Case {}", case.id);
    let back = if PROFESSIONALS.contains(&session.role()) {
        ("/caseload", "Back to my caseload")
    } else {
        ("/referrals", "Back to referrals")
    };
    let status_tag = if active { tag("Active", Tone::Blue) } else { tag("Closed", Tone::Grey) };
    let rows = [
        ("Status", status_tag),
        ("Pupil", html! { (pupil_link(case.pupil_id, &case.pupil_name)) }),
        ("School", html! { @if case.school_name.is_empty() { "URN " (case.school_urn) } @else { (case.school_name) } }),
        ("Kind", html! { (kind_name(&case.kind)) }),
        ("Referral", html! { a href={ "/referrals/" (case.referral_id) } { "Referral " (case.referral_id) } }),
        ("Professional", html! { (case.professional_name) }),
        ("Allocated on", html! { (long_date(case.allocated_on.as_ref())) }),
        (
            "Advice due",
            html! {
                @if case.advice_state == "not_requested" { (advice_state_tag(&case.advice_state)) }
                @else if case.advice_due.is_some() {
                    (long_date(case.advice_due.as_ref())) " " (advice_state_tag(&case.advice_state)) br;
                    span class="secondary" { "6 weeks from the day the psychological advice was asked for" }
                }
                @else { "No statutory deadline" }
            },
        ),
        ("Sessions used", html! { (case.sessions_used) }),
        ("Outcome", html! { @if case.outcome.is_empty() { "Not closed yet" } @else { (case.outcome) } }),
    ];
    let body = html! {
        (back_link(back.0, back.1))
        @if let Some(done) = done { (banner(done)) }
        h1 class="heading-l" { (title) }
        (summary_card("Case summary", &rows))
        @if works {
            h2 class="heading-m" { "Activity" }
            @if activity.is_empty() {
                p class="body" { "No visits or other activity recorded yet." }
            } @else {
                div class="table-wrapper" {
                    table class="table" {
                        caption { "Activity recorded on case " (case.id) ", oldest first" }
                        thead { tr {
                            th scope="col" { "Date" } th scope="col" { "Kind" }
                            th scope="col" class="numeric" { "Sessions" } th scope="col" { "Note" } th scope="col" { "Recorded by" }
                        } }
                        tbody {
                            @for a in &activity {
                                tr {
                                    td { (long_date(a.on.as_ref())) }
                                    td { (activity_name(&a.kind)) }
                                    td class="numeric" { (a.sessions) }
                                    td { (a.note) }
                                    td { (people.recorder(&a.recorded_by)) }
                                }
                            }
                        }
                    }
                }
            }
            @if active {
                (visit_form(session, case.id, &forms.visit, &forms.visit_errors))
                (close_form(session, case.id, &forms.close, &forms.close_errors))
            }
        }
    };
    Ok((status, page(session, &title, if back.0 == "/caseload" { "/caseload" } else { "" }, body)).into_response())
}

fn visit_form(session: &Session, id: i64, values: &HashMap<String, String>, errors: &[FieldError]) -> Markup {
    let value = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let kinds: Vec<(String, String)> = std::iter::once(("".to_owned(), "Choose the kind of visit".to_owned()))
        .chain(ActivityKind::ALL.map(|kind| (kind.code().to_owned(), activity_label(kind))))
        .collect();
    html! {
        section class="case-form" aria-labelledby="record-visit-title" {
            h2 class="heading-m" id="record-visit-title" { "Record a visit" }
            (error_summary(errors))
            form method="post" action={ "/cases/" (id) "/activity" } novalidate {
                (csrf_field(session))
                // One key per form shown: sending it twice records the visit once.
                input type="hidden" name="idempotency_key" value=(match value("idempotency_key") { "" => crate::fields::new_key(), key => key.to_owned() });
                (input_of("date", "on", "Date of the visit", None, value("on"), error_for(errors, "on")))
                (select("kind", "Kind of visit", &kinds, value("kind"), error_for(errors, "kind")))
                (input_of("number", "sessions", "Sessions used", Some("Half-days, from 1"), value("sessions"), error_for(errors, "sessions")))
                (textarea("note", "Note", Some("Optional. A short note for the case record; at most 500 characters."), value("note"), error_for(errors, "note")))
                button type="submit" class="button" { "Record visit" }
            }
        }
    }
}

fn close_form(session: &Session, id: i64, values: &HashMap<String, String>, errors: &[FieldError]) -> Markup {
    let value = values.get("outcome").map(String::as_str).unwrap_or("");
    html! {
        section class="case-form" aria-labelledby="close-case-title" {
            h2 class="heading-m" id="close-case-title" { "Close the case" }
            (error_summary(errors))
            form method="post" action={ "/cases/" (id) "/close" } novalidate {
                (csrf_field(session))
                (textarea("outcome", "Outcome", Some("What was done and what happens next. Closing ends your access to the pupil's record."), value, error_for(errors, "outcome")))
                button type="submit" class="button button--warning" { "Close case" }
            }
        }
    }
}

pub(super) async fn record_visit(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    session.require(CASE_WORKERS)?;
    session.check_csrf(form.get(CSRF_FIELD).map(String::as_str))?;
    let field = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or("");
    let mut errors = Vec::new();
    let on = date_from(field("on"), "on", "Date of the visit", &mut errors);
    if on.is_none() && field("on").is_empty() {
        errors.push(error("on", "Enter the date of the visit"));
    }
    if ActivityKind::parse(field("kind")).is_err() {
        errors.push(error("kind", "Choose the kind of visit"));
    }
    // A value that is no whole number is sent as 0, which the service refuses too:
    // so nothing is written while anything is bad, and its other findings still show.
    let sessions = match field("sessions").parse::<u32>() {
        Ok(n) => n,
        Err(_) => {
            errors.push(error("sessions", "Enter the sessions used as a whole number, for example 2"));
            0
        }
    };
    let request = pb::RecordCaseActivityRequest {
        case_id: id,
        on,
        kind: field("kind").to_owned(),
        sessions,
        note: field("note").to_owned(),
        idempotency_key: field("idempotency_key").to_owned(),
    };
    let backend = web.backend(&session);
    let client = backend.caseloads().map_err(|s| refusals::from_status(&session, &s))?;
    let result = client.clone().record_case_activity(backend.request(request)).await;
    match result {
        Ok(_) if errors.is_empty() => Ok(Redirect::to(&format!("/cases/{id}?done=visit")).into_response()),
        Ok(_) => Err(refusals::unavailable().into()),
        Err(status) => {
            let errors = merge(errors, bad_fields(&session, &status, VISIT_FIELDS)?);
            let forms = Forms { visit: form, visit_errors: errors, ..Forms::default() };
            render_case(&web, &session, id, forms, None, StatusCode::BAD_REQUEST).await
        }
    }
}

pub(super) async fn close_case(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    session.require(CASE_WORKERS)?;
    session.check_csrf(form.get(CSRF_FIELD).map(String::as_str))?;
    let outcome = form.get("outcome").map(|v| v.trim()).unwrap_or("").to_owned();
    if outcome.is_empty() {
        let forms = Forms {
            close: form,
            close_errors: vec![error("outcome", "Enter the outcome of the case")],
            ..Forms::default()
        };
        return render_case(&web, &session, id, forms, None, StatusCode::BAD_REQUEST).await;
    }
    let backend = web.backend(&session);
    let mut client = backend.caseloads().map_err(|s| refusals::from_status(&session, &s))?;
    match client.close_case(backend.request(pb::CloseCaseRequest { case_id: id, outcome })).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?done=closed")).into_response()),
        Err(status) => {
            let errors = bad_fields(&session, &status, &[("outcome", "outcome", "Outcome")])?;
            let forms = Forms { close: form, close_errors: errors, ..Forms::default() };
            render_case(&web, &session, id, forms, None, StatusCode::BAD_REQUEST).await
        }
    }
}

const VISIT_FIELDS: FieldMap<'static> = &[
    ("on", "on", "Date of the visit"),
    ("kind", "kind", "Kind of visit"),
    ("sessions", "sessions", "Sessions used"),
    ("note", "note", "Note"),
];

/// An activity kind as people say it (the code itself when it names none).
fn activity_name(code: &str) -> String {
    ActivityKind::ALL.into_iter().find(|kind| kind.code() == code).map_or_else(|| code.to_owned(), activity_label)
}

fn error(id: &str, message: &str) -> FieldError {
    FieldError { id: id.to_owned(), message: message.to_owned() }
}

/// The service's field violations against the form's inputs; any other failure
/// is answered with its page.
fn bad_fields(session: &Session, status: &Status, map: FieldMap<'_>) -> Result<Vec<FieldError>, Refused> {
    field_errors(status, map, map[0].1).ok_or_else(|| Refused::from(refusals::from_status(session, status)))
}

/// The page's own findings first, then the service's for the other fields.
fn merge(mut own: Vec<FieldError>, service: Vec<FieldError>) -> Vec<FieldError> {
    for found in service {
        if !own.iter().any(|e| e.id == found.id) {
            own.push(found);
        }
    }
    let order = |e: &FieldError| VISIT_FIELDS.iter().position(|(_, id, _)| *id == e.id).unwrap_or(usize::MAX);
    own.sort_by_key(order);
    own
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_kinds_read_as_people_say_them() {
        assert_eq!(activity_name("statutory_advice"), "Statutory advice");
        assert_eq!(activity_name("unknown"), "unknown");
    }

    #[test]
    fn the_pages_own_finding_for_a_field_wins_over_the_services() {
        let merged = merge(
            vec![error("sessions", "Enter the sessions used as a whole number")],
            vec![error("sessions", "0 sessions"), error("on", "Date of the visit is in the future")],
        );
        assert_eq!(merged.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["on", "sessions"]);
        assert_eq!(merged[1].message, "Enter the sessions used as a whole number");
    }
}
