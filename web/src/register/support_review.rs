//! The review that closes a support cycle (`/pupils/{id}/support-cycles/{cycle}/review`):
//! the "review" of the graduated approach's assess, plan, do, review (SEND Code
//! of Practice 6.52–6.54). The SENCO records when it was reviewed, whether the
//! outcomes sought were met, partly met or not met, and what was learned and
//! happens next, with the pupils service's `RecordSupportReview`.
//!
//! The page shows the cycle being reviewed (what it sought, what was planned)
//! beside the form. A cycle reviewed already, or one not of this pupil, is not
//! offered: the first answers with the pupil's page, the second with the 404
//! page. After the review, the pupil's page offers the next steps: a new cycle,
//! or a referral citing this one.

use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use sen_proto::v1 as pb;
use tonic::Code;

use super::access::{EDITORS, get_pupil};
use crate::fields::{self, FieldMap, Posted, add_error};
use crate::layout::{
    FieldError, back_link, csrf_field, error_for, error_summary, input_of, page, radios, summary_card, textarea,
};
use crate::refusals::{self, PageResult, Refused};
use crate::session::Session;
use crate::state::Web;
use crate::wording::long_date;

const MAP: FieldMap<'static> = &[
    ("reviewed_on", "reviewed_on", "Date of the review"),
    ("outcome", "outcome", "Outcomes"),
    ("review_notes", "review_notes", "What was learned and what happens next"),
];

/// The outcomes a review may find, as the form offers them.
const OUTCOMES: [(pb::SupportOutcome, &str, &str); 3] = [
    (pb::SupportOutcome::Met, "met", "Met: the outcomes sought were achieved"),
    (pb::SupportOutcome::PartlyMet, "partly_met", "Partly met: some progress, not all the outcomes"),
    (pb::SupportOutcome::NotMet, "not_met", "Not met: little or no progress towards them"),
];

/// The cycle `cycle_id` of pupil `id` as the reader may see it.
async fn cycle_of(
    web: &Web,
    session: &Session,
    id: i64,
    cycle_id: i64,
) -> Result<(pb::Pupil, pb::SupportCycle), Refused> {
    let pupil = get_pupil(web, session, id).await?;
    let backend = web.backend(session);
    let request = backend.request(pb::ListSupportCyclesRequest { pupil_id: id });
    let cycles = async { backend.pupils()?.list_support_cycles(request).await }
        .await
        .map_err(|status| Refused::from(refusals::from_status(session, &status)))?
        .into_inner()
        .cycles;
    let cycle =
        cycles.into_iter().find(|c| c.id == cycle_id).ok_or_else(|| Refused::from(refusals::not_found(session)))?;
    Ok((pupil, cycle))
}

fn review_page(
    session: &Session,
    pupil: &pb::Pupil,
    cycle: &pb::SupportCycle,
    values: &Posted,
    errors: &[FieldError],
) -> PageResult {
    let e = |id: &str| error_for(errors, id);
    let outcomes: Vec<(String, String)> =
        OUTCOMES.iter().map(|(_, code, text)| ((*code).to_owned(), (*text).to_owned())).collect();
    let form: Markup = html! {
        form method="post" action={ "/pupils/" (pupil.id) "/support-cycles/" (cycle.id) "/review" } novalidate {
            (csrf_field(session))
            (input_of("date", "reviewed_on", "Date of the review", Some("The review meeting, or when the school looked at the evidence"), values.get("reviewed_on"), e("reviewed_on")))
            (radios("outcome", "outcome", "Were the outcomes sought met?", &outcomes, values.get("outcome"), e("outcome")))
            (textarea("review_notes", "What was learned and what happens next", Some("Optional. The evidence, the pupil's and parents' views, and the next step: another cycle, a change of provision, or a referral"), values.get("review_notes"), e("review_notes")))
            button type="submit" class="button" { "Record the review" }
        }
    };
    let body = html! {
        (back_link(&format!("/pupils/{}", pupil.id), "Back to the pupil"))
        span class="caption" { (fields::pupil_name(pupil)) }
        h1 class="heading-l" { "Review a support cycle" }
        (error_summary(errors))
        (summary_card("The cycle", &[
            ("Started", html! { (long_date(cycle.started_on.as_ref())) }),
            ("Outcomes sought", html! { (cycle.outcomes_sought) }),
            ("Planned provision", html! { (cycle.planned_provision) }),
            ("Review due", html! { (long_date(cycle.review_due.as_ref())) }),
        ]))
        (form)
    };
    let status = if errors.is_empty() { http::StatusCode::OK } else { http::StatusCode::BAD_REQUEST };
    Ok((status, page(session, "Review a support cycle", "/register", body)).into_response())
}

/// `GET /pupils/{id}/support-cycles/{cycle}/review`.
pub(super) async fn review_form(
    State(web): State<Arc<Web>>,
    session: Session,
    Path((id, cycle_id)): Path<(i64, i64)>,
) -> PageResult {
    session.require(EDITORS)?;
    let (pupil, cycle) = cycle_of(&web, &session, id, cycle_id).await?;
    if cycle.reviewed_on.is_some() {
        return Ok(Redirect::to(&format!("/pupils/{id}")).into_response());
    }
    review_page(&session, &pupil, &cycle, &Posted::default(), &[])
}

/// `POST /pupils/{id}/support-cycles/{cycle}/review`.
pub(super) async fn record_review(
    State(web): State<Arc<Web>>,
    session: Session,
    Path((id, cycle_id)): Path<(i64, i64)>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    session.require(EDITORS)?;
    let values = Posted(posted);
    session.check_csrf(values.csrf())?;
    let (pupil, cycle) = cycle_of(&web, &session, id, cycle_id).await?;
    let mut errors = Vec::new();
    let reviewed_on = fields::date_from(values.get("reviewed_on"), "reviewed_on", "Date of the review", &mut errors);
    if reviewed_on.is_none() && values.get("reviewed_on").trim().is_empty() {
        add_error(&mut errors, "reviewed_on", "Enter the date of the review");
    }
    let outcome = OUTCOMES.iter().find(|(_, code, _)| *code == values.get("outcome")).map(|(o, _, _)| *o);
    if outcome.is_none() {
        add_error(&mut errors, "outcome", "Choose whether the outcomes sought were met");
    }
    if errors.is_empty() {
        let request = pb::RecordSupportReviewRequest {
            cycle_id,
            reviewed_on,
            outcome: outcome.map_or(0, |o| o as i32),
            review_notes: values.get("review_notes").to_owned(),
        };
        let backend = web.backend(&session);
        match async { backend.pupils()?.record_support_review(backend.request(request)).await }.await {
            Ok(_) => return Ok(Redirect::to(&format!("/pupils/{id}?done=reviewed#support-cycles")).into_response()),
            Err(status) => match fields::field_errors(&status, MAP, "reviewed_on") {
                Some(found) => found.into_iter().for_each(|e| add_error(&mut errors, &e.id, e.message)),
                None if status.code() == Code::FailedPrecondition => {
                    add_error(&mut errors, "reviewed_on", fields::sentence(status.message()));
                }
                None => return Err(refusals::from_status(&session, &status).into()),
            },
        }
    }
    let order = ["reviewed_on", "outcome", "review_notes"];
    errors.sort_by_key(|e| order.iter().position(|id| *id == e.id).unwrap_or(order.len()));
    review_page(&session, &pupil, &cycle, &values, &errors)
}
