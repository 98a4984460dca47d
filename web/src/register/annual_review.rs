//! Recording an EHC plan's annual review (`/pupils/{id}/annual-reviews/new`),
//! for the council's SEN team (as `RecordAnnualReview`): the meeting, the
//! report, the council's decision (SEN and Disability Regulations 2014, reg.
//! 20(10)), and what it led to: the day the proposed amendments were sent and
//! the day the amended plan was issued (reg. 22), or why the plan ceases (the
//! SEN2 reason), the day it did and the status the pupil moves to (K or N).
//!
//! Recording again for the same meeting updates that review, so the form opens
//! filled in for a meeting already recorded (`?meeting=YYYY-MM-DD`, linked from
//! each review on the pupil's page) and the team adds the dates as they happen.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use tonic::Code;

use super::access::get_pupil;
use super::review_outcome::cease_reason_options;
use crate::fields::{self, FieldMap, Posted, add_error};
use crate::layout::{FieldError, back_link, csrf_field, error_for, error_summary, input_of, page, radios, select};
use crate::refusals::{self, PageResult, Refused};
use crate::session::Session;
use crate::state::Web;
use crate::wording::iso_date;

/// Who records annual reviews (as `RecordAnnualReview`).
pub const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];

const MAP: FieldMap<'static> = &[
    ("meeting_on", "meeting_on", "Date of the review meeting"),
    ("report_sent_on", "report_sent_on", "Date the review report was sent"),
    ("decision", "decision", "Decision"),
    ("decision_on", "decision_on", "Date of the decision"),
    ("amendments_proposed_on", "amendments_proposed_on", "Date the proposed amendments were sent"),
    ("amended_plan_issued_on", "amended_plan_issued_on", "Date the amended plan was issued"),
    ("cease_reason", "cease_reason", "Reason for ceasing the plan"),
    ("ceased_on", "ceased_on", "Date the plan ceased"),
    ("ceased_to", "ceased_to", "The pupil's SEN status now"),
];

/// The decisions as the form offers them.
const DECISIONS: [(pb::ReviewDecision, &str, &str); 4] = [
    (pb::ReviewDecision::Unspecified, "", "Not decided yet"),
    (pb::ReviewDecision::Maintain, "maintain", "Keep the plan as it is"),
    (pb::ReviewDecision::Amend, "amend", "Amend the plan"),
    (pb::ReviewDecision::Cease, "cease", "Cease the plan"),
];

/// The statuses a pupil may move to when the plan ceases.
const CEASED_TO: [(pb::SenProvision, &str, &str); 3] = [
    (pb::SenProvision::Unspecified, "", "The plan has not ceased yet"),
    (pb::SenProvision::SenSupport, "K", "SEN support (K)"),
    (pb::SenProvision::NoSen, "N", "No special educational needs (N)"),
];

fn options<T>(choices: &[(T, &str, &str)]) -> Vec<(String, String)> {
    choices.iter().map(|(_, code, text)| ((*code).to_owned(), (*text).to_owned())).collect()
}

fn form_page(session: &Session, pupil: &pb::Pupil, values: &Posted, errors: &[FieldError]) -> PageResult {
    let e = |id: &str| error_for(errors, id);
    let v = |id: &str| values.get(id).to_owned();
    let date = |id: &str, label: &str, hint: &str| input_of("date", id, label, Some(hint), &v(id), e(id));
    let form: Markup = html! {
        form method="post" action={ "/pupils/" (pupil.id) "/annual-reviews/new" } novalidate {
            (csrf_field(session))
            (date("meeting_on", "Date of the review meeting", "Recording again for a meeting already recorded updates it"))
            (date("report_sent_on", "Date the review report was sent", "Optional. Due within 2 weeks of the meeting"))
            (radios("decision", "decision", "The council's decision", &options(&DECISIONS), values.get("decision"), e("decision")))
            (date("decision_on", "Date of the decision", "Required with a decision. Due within 4 weeks of the meeting (reg. 20(10))"))
            h2 class="heading-m" { "Amending the plan" }
            (date("amendments_proposed_on", "Date the proposed amendments were sent", "The amended plan is due 8 weeks after this (reg. 22(3)), and at the latest 12 weeks after the meeting"))
            (date("amended_plan_issued_on", "Date the amended plan was issued", "Optional until it is issued"))
            h2 class="heading-m" { "Ceasing the plan" }
            (select("cease_reason", "Reason for ceasing the plan", &cease_reason_options(), values.get("cease_reason"), e("cease_reason")))
            (date("ceased_on", "Date the plan ceased", "Leave empty while the time to appeal runs: the plan stays until it ceases"))
            (radios("ceased_to", "ceased_to", "The pupil's SEN status once the plan has ceased", &options(&CEASED_TO), values.get("ceased_to"), e("ceased_to")))
            button type="submit" class="button" { "Record the review" }
        }
    };
    let body = html! {
        (back_link(&format!("/pupils/{}", pupil.id), "Back to the pupil"))
        span class="caption" { (fields::pupil_name(pupil)) }
        h1 class="heading-l" { "Record an annual review" }
        (error_summary(errors))
        (form)
    };
    let status = if errors.is_empty() { http::StatusCode::OK } else { http::StatusCode::BAD_REQUEST };
    Ok((status, page(session, "Record an annual review", "/register", body)).into_response())
}

/// The form's values for a review already recorded.
fn values_of(review: &pb::AnnualReview) -> Posted {
    let decision = DECISIONS.iter().find(|(d, _, _)| *d as i32 == review.decision).map_or("", |(_, code, _)| code);
    let ceased_to = CEASED_TO.iter().find(|(s, _, _)| *s as i32 == review.ceased_to).map_or("", |(_, code, _)| code);
    let reason = if review.cease_reason == 0 { String::new() } else { review.cease_reason.to_string() };
    Posted(vec![
        ("meeting_on".into(), iso_date(review.meeting_on.as_ref())),
        ("report_sent_on".into(), iso_date(review.report_sent_on.as_ref())),
        ("decision".into(), decision.to_owned()),
        ("decision_on".into(), iso_date(review.decision_on.as_ref())),
        ("amendments_proposed_on".into(), iso_date(review.amendments_proposed_on.as_ref())),
        ("amended_plan_issued_on".into(), iso_date(review.amended_plan_issued_on.as_ref())),
        ("cease_reason".into(), reason),
        ("ceased_on".into(), iso_date(review.ceased_on.as_ref())),
        ("ceased_to".into(), ceased_to.to_owned()),
    ])
}

/// `GET /pupils/{id}/annual-reviews/new`, filled in for `?meeting=` when it was recorded.
pub(super) async fn review_form(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult {
    session.require(TEAM)?;
    let pupil = get_pupil(&web, &session, id).await?;
    let mut values = Posted::default();
    if let Some(meeting) = query.get("meeting").filter(|m| !m.is_empty()) {
        let backend = web.backend(&session);
        let request = backend.request(pb::ListAnnualReviewsRequest { pupil_id: id, as_of: None });
        let reviews = async { backend.pupils()?.list_annual_reviews(request).await }
            .await
            .map_err(|status| Refused::from(refusals::from_status(&session, &status)))?
            .into_inner()
            .reviews;
        if let Some(review) = reviews.iter().find(|r| iso_date(r.meeting_on.as_ref()) == *meeting) {
            values = values_of(review);
        }
    }
    form_page(&session, &pupil, &values, &[])
}

/// `POST /pupils/{id}/annual-reviews/new`.
pub(super) async fn record_review(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    session.require(TEAM)?;
    let values = Posted(posted);
    session.check_csrf(values.csrf())?;
    let pupil = get_pupil(&web, &session, id).await?;
    let mut errors = Vec::new();
    let mut day = |field: &str| {
        let label = MAP.iter().find(|(p, _, _)| *p == field).map_or(field, |(_, _, l)| l);
        fields::date_from(values.get(field), field, label, &mut errors)
    };
    let (meeting_on, report_sent_on, decision_on) = (day("meeting_on"), day("report_sent_on"), day("decision_on"));
    let (amendments_proposed_on, amended_plan_issued_on) =
        (day("amendments_proposed_on"), day("amended_plan_issued_on"));
    let ceased_on = day("ceased_on");
    if meeting_on.is_none() && values.get("meeting_on").trim().is_empty() {
        add_error(&mut errors, "meeting_on", "Enter the date of the review meeting");
    }
    let decision = DECISIONS.iter().find(|(_, code, _)| *code == values.get("decision")).map(|(d, _, _)| *d);
    if decision.is_none() {
        add_error(&mut errors, "decision", "Choose the council's decision");
    }
    let ceased_to = CEASED_TO.iter().find(|(_, code, _)| *code == values.get("ceased_to")).map(|(s, _, _)| *s);
    if ceased_to.is_none() {
        add_error(&mut errors, "ceased_to", "Choose the pupil's SEN status");
    }
    let cease_reason = match values.get("cease_reason").trim() {
        "" => Some(0),
        code => code.parse::<i32>().ok(),
    };
    if cease_reason.is_none() {
        add_error(&mut errors, "cease_reason", "Choose a reason from the list");
    }
    if errors.is_empty() {
        let request = pb::RecordAnnualReviewRequest {
            pupil_id: id,
            meeting_on,
            report_sent_on,
            decision: decision.map_or(0, |d| d as i32),
            decision_on,
            amendments_proposed_on,
            amended_plan_issued_on,
            cease_reason: cease_reason.unwrap_or(0),
            ceased_on,
            ceased_to: ceased_to.map_or(0, |s| s as i32),
        };
        let backend = web.backend(&session);
        match async { backend.pupils()?.record_annual_review(backend.request(request)).await }.await {
            Ok(_) => return Ok(Redirect::to(&format!("/pupils/{id}#annual-reviews")).into_response()),
            Err(status) => match fields::field_errors(&status, MAP, "meeting_on") {
                Some(found) => found.into_iter().for_each(|e| add_error(&mut errors, &e.id, e.message)),
                None if status.code() == Code::FailedPrecondition => {
                    add_error(&mut errors, "meeting_on", fields::sentence(status.message()));
                }
                None => return Err(refusals::from_status(&session, &status).into()),
            },
        }
    }
    let order: Vec<&str> = MAP.iter().map(|(_, id, _)| *id).collect();
    errors.sort_by_key(|e| order.iter().position(|id| *id == e.id).unwrap_or(order.len()));
    form_page(&session, &pupil, &values, &errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_review_fills_the_form_in() {
        let review = pb::AnnualReview {
            meeting_on: Some(pb::Date { year: 2026, month: 6, day: 1 }),
            decision: pb::ReviewDecision::Cease as i32,
            cease_reason: 5,
            ceased_to: pb::SenProvision::NoSen as i32,
            ..Default::default()
        };
        let values = values_of(&review);
        assert_eq!(
            (values.get("meeting_on"), values.get("decision"), values.get("cease_reason"), values.get("ceased_to")),
            ("2026-06-01", "cease", "5", "N")
        );
    }
}
