//! The referral form (`/referrals/new`): a SENCO (for a pupil on their school's
//! roll) or a case officer asks the council for educational psychology, an
//! advisory teacher or an EHC needs assessment, with the areas of need, the
//! concern, what the school has tried (in words, and the pupil's support
//! cycles and provision cited from their record), the parents' consent, and
//! documents that help the council understand the pupil.
//!
//! The pupil is found by name or UPN ([`super::form_pupil`]). Every error shows
//! at once against its field and everything typed is kept (chosen files cannot
//! be: browsers never send them back, so the form says to choose them again).
//! A document that is empty, too large or not a PDF, Word document, JPEG or
//! PNG by its content stops the whole form: nothing is sent until it is put
//! right. The form carries an idempotency key made when it is first shown, so
//! a double submit (or a retry after a lost answer) makes one referral and
//! attaches each document once.
//!
//! When the pupil already has an open referral of the kind asked for, the
//! referrals service asks first: the form comes back naming it, with a box to
//! tick to send this one as well (councils would rather the school added to
//! the open one). A second open EHC needs assessment request is refused.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use sen_vocabulary::{BroadArea, ConsentMethod, Priority};
use tonic::Code;
use tonic_types::StatusExt;

use super::attachments::{DOCUMENTS, FORM_BODY_LIMIT, LIMITS, checked_documents, documents_input, send_documents};
use super::form_pupil::{self, CYCLES, Chosen, Matches, PROVISION, PUPIL, SEARCH};
use crate::fields::{self, FieldMap, Posted, add_error};
use crate::layout::{FieldError, checkboxes, csrf_field, error_for, error_summary, input_of, page, select, textarea};
use crate::multipart;
use crate::refusals::{self, PageResult};
use crate::session::Session;
use crate::state::Web;
use crate::wording;

/// Who may make a referral.
const SUBMITTERS: &[Role] = &[Role::Senco, Role::CaseOfficer];
/// The box that sends a referral although one of its kind is open for the pupil.
const CONFIRM: &str = "confirm_duplicate";
/// The precondition the referrals service names an open referral of the kind by.
const OPEN_REFERRAL: &str = "OPEN_REFERRAL";

/// How parents' consent may be recorded, as the form offers it.
fn consent_label(method: ConsentMethod) -> &'static str {
    match method {
        ConsentMethod::SignedForm => "Signed consent form",
        ConsentMethod::Email => "Email from the parent or carer",
        ConsentMethod::Verbal => "Said to a member of staff, who recorded it",
        ConsentMethod::Letter => "Letter from the parent or carer",
    }
}

/// The form's inputs, in the order they appear (the error summary follows it).
const ORDER: [&str; 14] = [
    SEARCH,
    PUPIL,
    "kind",
    "broad_areas",
    "concern",
    "graduated_approach",
    CYCLES,
    PROVISION,
    "consent_given_by",
    "consent_given_on",
    "consent_method",
    "priority",
    DOCUMENTS,
    CONFIRM,
];

const MAP: FieldMap<'static> = &[
    ("referral", PUPIL, "Referral"),
    ("referral.pupil_id", PUPIL, "Pupil"),
    ("referral.school_urn", PUPIL, "Pupil's school"),
    ("referral.kind", "kind", "Service asked for"),
    ("referral.broad_areas", "broad_areas", "Areas of need"),
    ("referral.concern", "concern", "Concern"),
    ("referral.graduated_approach", "graduated_approach", "What the school has tried"),
    ("referral.graduated_approach.summary", "graduated_approach", "What the school has tried"),
    ("referral.graduated_approach.support_cycle_ids", CYCLES, "Support cycles cited"),
    ("referral.graduated_approach.provision_ids", PROVISION, "Provision cited"),
    ("referral.consent", "consent_given_by", "Parental consent"),
    ("referral.consent.given_by", "consent_given_by", "Who gave consent"),
    ("referral.consent.given_on", "consent_given_on", "Date consent was given"),
    ("referral.consent.method", "consent_method", "How consent was given"),
    ("referral.priority", "priority", "Priority"),
];

pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/referrals/new", get(new_referral).post(submit).layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)))
}

/// Every kind of referral, as `(code, name)` select options after a blank one.
fn kinds() -> Vec<(String, String)> {
    std::iter::once((String::new(), "Choose a service".to_owned())).chain(wording::kind_options()).collect()
}

/// What the form shows besides the values typed.
#[derive(Default)]
struct Shown {
    chosen: Option<Chosen>,
    matches: Option<Matches>,
    errors: Vec<FieldError>,
    /// Files were chosen and must be chosen again.
    files_lost: bool,
    /// The open referral of the kind the service named: (id, its words).
    open_referral: Option<(i64, String)>,
}

fn form(session: &Session, values: &Posted, shown: &Shown) -> Markup {
    let errors = &shown.errors;
    let e = |id: &str| error_for(errors, id);
    let areas: Vec<(String, String)> =
        BroadArea::ALL.iter().map(|a| (a.code().to_owned(), fields::sentence(a.name()))).collect();
    let methods: Vec<(String, String)> =
        ConsentMethod::ALL.iter().map(|m| (m.code().to_owned(), consent_label(*m).to_owned())).collect();
    // A priority's code is one word, which the form shows as its name.
    let priorities: Vec<(String, String)> =
        Priority::ALL.iter().map(|p| (p.code().to_owned(), fields::sentence(p.code()))).collect();
    let method = match values.get("consent_method") {
        "" => ConsentMethod::SignedForm.code(),
        method => method,
    };
    let priority = match values.get("priority") {
        "" => Priority::Routine.code(),
        priority => priority,
    };
    html! {
        (error_summary(errors))
        form method="post" action="/referrals/new" enctype="multipart/form-data" novalidate {
            (csrf_field(session))
            input type="hidden" name="idempotency_key" value=(values.get("idempotency_key"));
            (form_pupil::pupil_part(session, values, shown.chosen.as_ref(), shown.matches.as_ref(), errors))
            (select("kind", "Service asked for", &kinds(), values.get("kind"), e("kind")))
            (checkboxes("broad_areas", "broad_areas", "Areas of need", &areas, &values.all("broad_areas"), e("broad_areas")))
            (textarea("concern", "Concern", Some("What worries you, in your own words"), values.get("concern"), e("concern")))
            (textarea("graduated_approach", "What the school has tried", Some("The support cycles and provision so far, and what came of them"), values.get("graduated_approach"), e("graduated_approach")))
            @if let Some(chosen) = &shown.chosen { (form_pupil::cited_part(chosen, values, errors)) }
            fieldset class="fieldset" {
                legend class="fieldset__legend" { "Parental consent" }
                (input_of("text", "consent_given_by", "Who gave consent", Some("For example, Mother, Sarah Khan"), values.get("consent_given_by"), e("consent_given_by")))
                (input_of("date", "consent_given_on", "Date consent was given", Some("Within the last 12 months"), values.get("consent_given_on"), e("consent_given_on")))
                (select("consent_method", "How consent was given", &methods, method, e("consent_method")))
            }
            (select("priority", "Priority", &priorities, priority, e("priority")))
            (documents_input("Documents", e(DOCUMENTS)))
            @if shown.files_lost {
                p class="body inset" { "Choose your documents again: browsers do not keep chosen files when a form comes back." }
            }
            @if let Some((id, said)) = &shown.open_referral {
                div class={ "form-group" @if e(CONFIRM).is_some() { " form-group--error" } } {
                    div class="inset" {
                        p class="body" { (said) " " a href={ "/referrals/" (id) } { "Open referral " (id) } "." }
                    }
                    div class="checkboxes__item" {
                        input class="checkboxes__input" id=(CONFIRM) name=(CONFIRM) type="checkbox" value="yes";
                        label class="checkboxes__label" for=(CONFIRM) { "Send this referral as well" }
                    }
                }
            }
            button type="submit" class="button" { "Send referral" }
        }
    }
}

fn render(session: &Session, values: &Posted, shown: Shown) -> PageResult {
    if session.role() == Role::Senco && session.caller.grant.school.is_none() {
        return Err(refusals::not_found(session).into());
    }
    let body = html! {
        h1 class="heading-l" { "Make a referral" }
        p class="body" { "Ask the council for educational psychology, an advisory teacher, or an EHC needs assessment. Parents must have given consent." }
        (form(session, values, &shown))
    };
    let status = if shown.errors.is_empty() { http::StatusCode::OK } else { http::StatusCode::BAD_REQUEST };
    Ok((status, page(session, "Make a referral", "/referrals/new", body)).into_response())
}

async fn new_referral(
    State(web): State<Arc<Web>>,
    session: Session,
    Query(prefill): Query<form_pupil::Prefill>,
) -> PageResult {
    session.require(SUBMITTERS)?;
    let values = Posted(vec![("idempotency_key".into(), fields::new_key())]);
    let shown = Shown { chosen: prefill.chosen(&web, &session).await?, ..Shown::default() };
    render(&session, &values, shown)
}

/// The referral as the service takes it, with the problems the web sees itself.
fn body(session: &Session, values: &Posted, chosen: Option<&Chosen>, errors: &mut Vec<FieldError>) -> pb::ReferralBody {
    let (pupil_id, school_urn) = match (chosen, session.role(), session.caller.grant.school) {
        (Some(chosen), Role::Senco, Some(urn)) => (chosen.pupil.id, urn.to_string()),
        (Some(chosen), _, _) => (chosen.pupil.id, chosen.pupil.school_urn.clone()),
        (None, _, _) => (0, String::new()),
    };
    let support_cycle_ids = form_pupil::ticked_ids(values, CYCLES, errors);
    let provision_ids = form_pupil::ticked_ids(values, PROVISION, errors);
    pb::ReferralBody {
        pupil_id,
        school_urn,
        kind: values.get("kind").to_owned(),
        broad_areas: values.all("broad_areas"),
        concern: values.get("concern").to_owned(),
        graduated_approach: Some(pb::GraduatedApproach {
            summary: values.get("graduated_approach").to_owned(),
            support_cycle_ids,
            provision_ids,
        }),
        consent: Some(pb::ParentalConsent {
            given_by: values.get("consent_given_by").to_owned(),
            given_on: fields::date_from(
                values.get("consent_given_on"),
                "consent_given_on",
                "Date consent was given",
                errors,
            ),
            method: values.get("consent_method").to_owned(),
        }),
        priority: values.get("priority").to_owned(),
    }
}

async fn submit(State(web): State<Arc<Web>>, session: Session, sent: Multipart) -> PageResult {
    session.require(SUBMITTERS)?;
    let sent = multipart::read(&session, sent, LIMITS).await?;
    let mut values = sent.values.clone();
    if values.get("idempotency_key").is_empty() {
        values.0.push(("idempotency_key".into(), fields::new_key()));
    }
    let backend = web.backend(&session);
    let mut shown = Shown { files_lost: !sent.files.is_empty() || sent.broken, ..Shown::default() };
    if let Ok(id) = values.get(PUPIL).trim().parse::<i64>() {
        shown.chosen = form_pupil::chosen(&backend, id).await.map_err(|s| refusals::from_status(&session, &s))?;
    }
    if values.get("action") == "choose" && shown.chosen.is_some() {
        return render(&session, &values, shown);
    }
    let choosing = values.get("action") == "choose";
    if choosing || values.get("action") == "find" || (shown.chosen.is_none() && !values.get(SEARCH).trim().is_empty()) {
        match form_pupil::search_problem(values.get(SEARCH)) {
            Some(problem) => add_error(&mut shown.errors, SEARCH, problem),
            None => {
                let found = form_pupil::search(&backend, &session, values.get(SEARCH)).await;
                shown.matches = Some(found.map_err(|s| refusals::from_status(&session, &s))?);
            }
        }
        if values.get("action") == "find" {
            shown.chosen = None;
            return render(&session, &values, shown);
        }
        if choosing {
            add_error(&mut shown.errors, PUPIL, "Choose the pupil from the list");
            return render(&session, &values, shown);
        }
    }
    let mut errors = Vec::new();
    let documents = checked_documents(&sent, &mut errors);
    let referral = body(&session, &values, shown.chosen.as_ref(), &mut errors);
    // A date, number or document the web cannot take: ask nothing of the service yet.
    let unreadable = !errors.is_empty();
    if shown.chosen.is_none() {
        let at = if shown.matches.as_ref().is_some_and(|m| !m.pupils.is_empty()) { PUPIL } else { SEARCH };
        add_error(&mut errors, at, "Choose the pupil: find them by name or UPN");
    }
    // The referrals service refuses any referral without who gave consent; say it
    // in the words of the form, whatever else the service reports first.
    if values.get("consent_given_by").trim().is_empty() {
        add_error(&mut errors, "consent_given_by", "Enter who gave parental consent");
    }
    if !unreadable {
        let key = values.get("idempotency_key").to_owned();
        let request = pb::SubmitReferralRequest {
            referral: Some(referral),
            idempotency_key: key.clone(),
            confirm_duplicate: values.ticked(CONFIRM),
        };
        match async { backend.referrals()?.submit_referral(backend.request(request)).await }.await {
            Ok(made) => {
                let id = made.into_inner().id;
                let failed = send_documents(&backend, id, documents, &format!("{key}-document")).await;
                let done = if failed.is_empty() { "submitted" } else { "submitted_without_documents" };
                return Ok(Redirect::to(&format!("/referrals/{id}?done={done}")).into_response());
            }
            Err(status) => match fields::field_errors(&status, MAP, PUPIL) {
                Some(found) => found.into_iter().for_each(|e| add_error(&mut errors, &e.id, e.message)),
                None if status.code() == Code::AlreadyExists => {
                    // This form's key already made a referral with other details.
                    values.0.retain(|(n, _)| n != "idempotency_key");
                    values.0.push(("idempotency_key".into(), fields::new_key()));
                    add_error(
                        &mut errors,
                        PUPIL,
                        "A referral was already sent from this form. Check your referrals; to send another, check the details and send again",
                    );
                }
                None if status.code() == Code::FailedPrecondition => match open_referral(&status) {
                    Some(id) => {
                        let said = fields::sentence(status.message().split(". Add to").next().unwrap_or_default());
                        add_error(
                            &mut errors,
                            CONFIRM,
                            format!(
                                "This pupil already has an open referral of this kind (referral {id}). Add to that one, or tick ‘Send this referral as well’"
                            ),
                        );
                        shown.open_referral = Some((id, format!("{said}.")));
                    }
                    None => add_error(&mut errors, PUPIL, fields::sentence(status.message())),
                },
                None => return Err(refusals::from_status(&session, &status).into()),
            },
        }
    }
    errors.sort_by_key(|e| ORDER.iter().position(|id| *id == e.id).unwrap_or(ORDER.len()));
    shown.errors.extend(errors);
    render(&session, &values, shown)
}

/// The open referral a refusal names as a `google.rpc.PreconditionFailure`.
fn open_referral(status: &tonic::Status) -> Option<i64> {
    let details = status.get_error_details();
    details
        .precondition_failure()?
        .violations
        .iter()
        .find(|v| v.r#type == OPEN_REFERRAL)
        .and_then(|v| v.subject.strip_prefix("referrals/")?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::ErrorDetails;

    #[test]
    fn the_open_referral_is_read_from_the_refusal() {
        let mut details = ErrorDetails::new();
        details.add_precondition_failure_violation(OPEN_REFERRAL, "referrals/42", "open");
        let status = tonic::Status::with_error_details(Code::FailedPrecondition, "open", details);
        assert_eq!(open_referral(&status), Some(42));
        assert_eq!(open_referral(&tonic::Status::failed_precondition("another")), None);
    }
}
