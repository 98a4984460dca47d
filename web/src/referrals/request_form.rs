//! The form a case officer records a request for an EHC needs assessment with
//! (`/ehc-requests/new`), however it reached the council: a parent's letter, a
//! young person's email, a request from health or social care, or an open case
//! migrated from the council's earlier system. The clock runs from the day the
//! council received it, which may be before the day it is keyed in but not after
//! (s. 36(1) Children and Families Act 2014; reg. 4(1)).
//!
//! A request made by anyone but the parent or young person records their
//! agreement (CoP 9.8-9.9); a parent's or young person's own request carries no
//! separate consent, and the form sends none for it. The pupil is found by name
//! or UPN ([`super::form_pupil`]). Every error shows at once against its field,
//! everything typed is kept, and the form carries an idempotency key made when it
//! is first shown, so a double submit records one request. A second open request
//! for the pupil is refused naming the open one.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use sen_vocabulary::{BroadArea, ConsentMethod};
use tonic::Code;

use super::form_pupil::{self, Chosen, Matches, PUPIL, SEARCH};
use super::steps::{REQUESTERS, ROUTES};
use crate::fields::{self, FieldMap, Posted, add_error};
use crate::layout::{
    FieldError, checkboxes, csrf_field, error_for, error_summary, input_of, page, radios, select, textarea,
};
use crate::refusals::{self, PageResult};
use crate::session::Session;
use crate::state::Web;

/// Who records requests (as `RecordEhcRequest`).
pub const RECORDERS: &[Role] = &[Role::LaManager, Role::CaseOfficer];

/// The form's inputs, in the order they appear (the error summary follows it).
const ORDER: [&str; 13] = [
    SEARCH,
    PUPIL,
    "received_on",
    "requester",
    "requester_name",
    "received_via",
    "broad_areas",
    "concern",
    "graduated_approach",
    "consent_given_by",
    "consent_given_on",
    "consent_method",
    "idempotency_key",
];

const MAP: FieldMap<'static> = &[
    ("pupil_id", PUPIL, "Pupil"),
    ("school_urn", PUPIL, "Pupil's school"),
    ("received_on", "received_on", "Date the council received the request"),
    ("requester", "requester", "Who made the request"),
    ("requester_name", "requester_name", "Name of who made it"),
    ("received_via", "received_via", "How it came"),
    ("broad_areas", "broad_areas", "Areas of need"),
    ("concern", "concern", "What the request says"),
    ("graduated_approach", "graduated_approach", "What the school or setting has tried"),
    ("consent", "consent_given_by", "Agreement of the parent or young person"),
    ("consent.given_by", "consent_given_by", "Who agreed"),
    ("consent.given_on", "consent_given_on", "Date they agreed"),
    ("consent.method", "consent_method", "How they agreed"),
];

pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/ehc-requests/new", get(new_request).post(record))
}

/// The routes a case officer records a request by (the referral form records its own).
fn routes_offered() -> Vec<(String, String)> {
    std::iter::once((String::new(), "Choose how it came".to_owned()))
        .chain(
            ROUTES.iter().filter(|(c, _)| *c != "referral_form").map(|(c, w)| ((*c).to_owned(), fields::sentence(w))),
        )
        .collect()
}

/// Whether a request by `requester` records the parent's or young person's agreement.
fn needs_consent(requester: &str) -> bool {
    !matches!(requester, "parent" | "young_person" | "")
}

#[derive(Default)]
struct Shown {
    chosen: Option<Chosen>,
    matches: Option<Matches>,
    errors: Vec<FieldError>,
}

fn form(session: &Session, values: &Posted, shown: &Shown) -> Markup {
    let errors = &shown.errors;
    let e = |id: &str| error_for(errors, id);
    let areas: Vec<(String, String)> =
        BroadArea::ALL.iter().map(|a| (a.code().to_owned(), fields::sentence(a.name()))).collect();
    let requesters: Vec<(String, String)> =
        REQUESTERS.iter().map(|(c, w)| ((*c).to_owned(), fields::sentence(w))).collect();
    let methods: Vec<(String, String)> = ConsentMethod::ALL
        .iter()
        .map(|m| (m.code().to_owned(), fields::sentence(&m.code().replace('_', " "))))
        .collect();
    html! {
        (error_summary(errors))
        form method="post" action="/ehc-requests/new" novalidate {
            (csrf_field(session))
            input type="hidden" name="idempotency_key" value=(values.get("idempotency_key"));
            (form_pupil::pupil_part(session, values, shown.chosen.as_ref(), shown.matches.as_ref(), errors))
            (input_of("date", "received_on", "Date the council received the request", Some("The clock starts on this day: the date on the letter's stamp or the email, not today if it came earlier"), values.get("received_on"), e("received_on")))
            (radios("requester", "requester", "Who made the request?", &requesters, values.get("requester"), e("requester")))
            (input_of("text", "requester_name", "Name of who made it", Some("For example, Mother, Sarah Khan; or Dr Okafor, community paediatrics"), values.get("requester_name"), e("requester_name")))
            (select("received_via", "How it came", &routes_offered(), values.get("received_via"), e("received_via")))
            (checkboxes("broad_areas", "broad_areas", "Areas of need", &areas, &values.all("broad_areas"), e("broad_areas")))
            (textarea("concern", "What the request says", Some("In brief, in the requester's words where you can"), values.get("concern"), e("concern")))
            (textarea("graduated_approach", "What the school or setting has tried (optional)", None, values.get("graduated_approach"), e("graduated_approach")))
            fieldset class="fieldset" {
                legend class="fieldset__legend" { "Agreement of the parent or young person" }
                p class="body" { "Only for a request made by someone else (a school, health, social care or other). Leave blank for a parent's or young person's own request." }
                (input_of("text", "consent_given_by", "Who agreed", Some("For example, Mother, Sarah Khan"), values.get("consent_given_by"), e("consent_given_by")))
                (input_of("date", "consent_given_on", "Date they agreed", Some("Within the last 12 months"), values.get("consent_given_on"), e("consent_given_on")))
                (select("consent_method", "How they agreed", &methods, values.get("consent_method"), e("consent_method")))
            }
            button type="submit" class="button" { "Record the request" }
        }
    }
}

fn render(session: &Session, values: &Posted, shown: Shown) -> PageResult {
    let body = html! {
        h1 class="heading-l" { "Record a request for an EHC needs assessment" }
        p class="body" { "For a request that reached the council by letter, email, telephone, its online form or in person, or a case carried over from an earlier system. A school's referral through this platform records itself." }
        (form(session, values, &shown))
    };
    let status = if shown.errors.is_empty() { http::StatusCode::OK } else { http::StatusCode::BAD_REQUEST };
    Ok((status, page(session, "Record a request", "/ehc-requests/new", body)).into_response())
}

async fn new_request(
    State(web): State<Arc<Web>>,
    session: Session,
    Query(prefill): Query<form_pupil::Prefill>,
) -> PageResult {
    session.require(RECORDERS)?;
    let values = Posted(vec![("idempotency_key".into(), fields::new_key())]);
    let shown = Shown { chosen: prefill.chosen(&web, &session).await?, ..Shown::default() };
    render(&session, &values, shown)
}

/// The service's request from the form; unreadable dates go into `errors`.
fn request(values: &Posted, chosen: Option<&Chosen>, errors: &mut Vec<FieldError>) -> pb::RecordEhcRequestRequest {
    let requester = values.get("requester").trim().to_owned();
    let consent_typed = ["consent_given_by", "consent_given_on"].iter().any(|id| !values.get(id).trim().is_empty());
    let consent = (needs_consent(&requester) || consent_typed).then(|| pb::ParentalConsent {
        given_by: values.get("consent_given_by").to_owned(),
        given_on: fields::date_from(values.get("consent_given_on"), "consent_given_on", "Date they agreed", errors),
        method: values.get("consent_method").to_owned(),
    });
    let received_on =
        fields::date_from(values.get("received_on"), "received_on", "Date the council received the request", errors);
    pb::RecordEhcRequestRequest {
        pupil_id: chosen.map_or(0, |c| c.pupil.id),
        school_urn: chosen.map(|c| c.pupil.school_urn.clone()).unwrap_or_default(),
        received_on,
        requester,
        received_via: values.get("received_via").to_owned(),
        requester_name: values.get("requester_name").to_owned(),
        broad_areas: values.all("broad_areas"),
        concern: values.get("concern").to_owned(),
        consent,
        idempotency_key: values.get("idempotency_key").to_owned(),
        graduated_approach: values.get("graduated_approach").to_owned(),
    }
}

async fn record(
    State(web): State<Arc<Web>>,
    session: Session,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    session.require(RECORDERS)?;
    let mut values = Posted(posted);
    session.check_csrf(values.csrf())?;
    if values.get("idempotency_key").is_empty() {
        values.0.push(("idempotency_key".into(), fields::new_key()));
    }
    let backend = web.backend(&session);
    let mut shown = Shown::default();
    if let Ok(id) = values.get(PUPIL).trim().parse::<i64>() {
        shown.chosen = form_pupil::chosen(&backend, id).await.map_err(|s| refusals::from_status(&session, &s))?;
    }
    let action = values.get("action").to_owned();
    if action == "choose" && shown.chosen.is_some() {
        return render(&session, &values, shown);
    }
    if action == "choose" || action == "find" || (shown.chosen.is_none() && !values.get(SEARCH).trim().is_empty()) {
        match form_pupil::search_problem(values.get(SEARCH)) {
            Some(problem) => add_error(&mut shown.errors, SEARCH, problem),
            None => {
                let found = form_pupil::search(&backend, &session, values.get(SEARCH)).await;
                shown.matches = Some(found.map_err(|s| refusals::from_status(&session, &s))?);
            }
        }
        if action == "find" {
            shown.chosen = None;
            return render(&session, &values, shown);
        }
        if action == "choose" {
            add_error(&mut shown.errors, PUPIL, "Choose the pupil from the list");
            return render(&session, &values, shown);
        }
    }
    let mut errors = Vec::new();
    let request = request(&values, shown.chosen.as_ref(), &mut errors);
    if shown.chosen.is_none() {
        let at = if shown.matches.as_ref().is_some_and(|m| !m.pupils.is_empty()) { PUPIL } else { SEARCH };
        add_error(&mut errors, at, "Choose the pupil: find them by name or UPN");
    }
    if values.get("received_on").trim().is_empty() {
        add_error(&mut errors, "received_on", "Enter the date the council received the request");
    }
    if errors.is_empty() {
        match async { backend.referrals()?.record_ehc_request(backend.request(request)).await }.await {
            Ok(recorded) => {
                let id = recorded.into_inner().id;
                return Ok(Redirect::to(&format!("/referrals/{id}?done=request_recorded")).into_response());
            }
            Err(status) => match fields::field_errors(&status, MAP, PUPIL) {
                Some(found) => found.into_iter().for_each(|e| add_error(&mut errors, &e.id, e.message)),
                None if status.code() == Code::AlreadyExists => {
                    values.0.retain(|(n, _)| n != "idempotency_key");
                    values.0.push(("idempotency_key".into(), fields::new_key()));
                    add_error(
                        &mut errors,
                        PUPIL,
                        "A request was already recorded from this form. Check the pupil's requests; to record another, check the details and send again",
                    );
                }
                None if status.code() == Code::FailedPrecondition => {
                    add_error(&mut errors, PUPIL, fields::sentence(status.message()));
                }
                None => return Err(refusals::from_status(&session, &status).into()),
            },
        }
    }
    errors.sort_by_key(|e| ORDER.iter().position(|id| *id == e.id).unwrap_or(ORDER.len()));
    shown.errors.extend(errors);
    render(&session, &values, shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted(pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn a_parents_own_request_sends_no_consent_and_a_schools_does() {
        let chosen = Chosen {
            pupil: pb::Pupil { id: 5, school_urn: "100001".into(), ..Default::default() },
            ..Default::default()
        };
        let mut errors = Vec::new();
        let parent = posted(&[("requester", "parent"), ("received_on", "2027-01-04"), ("received_via", "letter")]);
        let sent = request(&parent, Some(&chosen), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((sent.pupil_id, sent.school_urn.as_str(), sent.consent), (5, "100001", None));
        assert_eq!(sent.received_on, Some(pb::Date { year: 2027, month: 1, day: 4 }));
        let school = posted(&[("requester", "health"), ("consent_given_by", "Father"), ("consent_method", "email")]);
        let sent = request(&school, Some(&chosen), &mut errors);
        assert_eq!(sent.consent.map(|c| c.given_by), Some("Father".to_owned()));
    }

    #[test]
    fn the_referral_form_is_not_a_route_a_case_officer_records() {
        assert!(routes_offered().iter().all(|(code, _)| code != "referral_form"));
        assert!(routes_offered().iter().any(|(code, _)| code == "migrated"));
    }
}
