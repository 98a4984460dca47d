//! A pupil's appeals to the First-tier Tribunal (SEND), for the council SEN
//! team only: the section of the pupil page listing them with their dates and
//! stage, and the form that records an appeal (`/pupils/{id}/appeals/new`) or
//! moves one on (`/pupils/{id}/appeals/{appeal}/edit`) with the pupils service's
//! `RecordAppeal` and `UpdateAppeal`.
//!
//! A SENCO or a professional never sees this section: an appeal is the family's
//! legal dispute with the council, not part of the school's record of the pupil.

use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use tonic::Code;

use super::access::get_pupil;
use crate::council::appeals::{ground_name, next_date, outcome_name, stage_tag};
use crate::fields::{self, FieldMap, Posted, add_error};
use crate::layout::{FieldError, back_link, checkboxes, csrf_field, error_for, error_summary, input_of, page, select};
use crate::refusals::{self, PageResult, Refused};
use crate::session::Session;
use crate::state::Web;
use crate::wording::long_date;

/// Who sees and records appeals (as the pupils service's appeal methods).
pub const APPEAL_TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];

/// The date inputs of the form: input id (the service's field under `appeal.`), label and hint.
const DATES: [(&str, &str, &str); 9] = [
    (
        "decision_on",
        "Date of the decision notice",
        "The date of the council's letter telling the family of the decision",
    ),
    ("mediation_requested_on", "Family asked to mediate on", "Leave blank if the family did not choose mediation"),
    ("mediation_on", "Mediation held on", ""),
    ("certificate_issued_on", "Mediation certificate issued on", ""),
    (
        "registered_on",
        "Registered by the Tribunal on",
        "The day the Tribunal registered the appeal and sent it to the council",
    ),
    (
        "response_due_on",
        "Response due (as the Tribunal set it)",
        "Leave blank to count 30 working days from registration",
    ),
    ("response_sent_on", "Council's response sent on", ""),
    ("hearing_on", "Hearing on", ""),
    ("decided_on", "Ended on", "The decision, the withdrawal or the concession"),
];

const MAP: FieldMap<'static> = &[
    ("appeal.ground", "ground", "What is appealed"),
    ("appeal.sections", "sections", "Sections disputed"),
    ("appeal.decision_on", "decision_on", "Date of the decision notice"),
    ("appeal.mediation_requested_on", "mediation_requested_on", "Family asked to mediate on"),
    ("appeal.mediation_on", "mediation_on", "Mediation held on"),
    ("appeal.mediation_outcome", "mediation_outcome", "Mediation outcome"),
    ("appeal.certificate_issued_on", "certificate_issued_on", "Mediation certificate issued on"),
    ("appeal.registered_on", "registered_on", "Registered on"),
    ("appeal.response_due_on", "response_due_on", "Response due"),
    ("appeal.response_sent_on", "response_sent_on", "Response sent on"),
    ("appeal.hearing_on", "hearing_on", "Hearing on"),
    ("appeal.decided_on", "decided_on", "Ended on"),
    ("appeal.outcome", "outcome", "Outcome"),
    ("version", "decision_on", "The appeal"),
];

fn options(pairs: &[(i32, &str)], none: &str) -> Vec<(String, String)> {
    std::iter::once((String::new(), none.to_owned()))
        .chain(pairs.iter().map(|(v, t)| (v.to_string(), (*t).to_owned())))
        .collect()
}

fn ground_options() -> Vec<(String, String)> {
    use pb::AppealGround as G;
    options(
        &[
            (G::RefusalToAssess as i32, "Refusal to assess"),
            (G::RefusalToIssue as i32, "Refusal to issue a plan"),
            (G::FinalPlan as i32, "Contents of the final plan"),
            (G::AmendedPlan as i32, "Contents of an amended plan"),
            (G::Cessation as i32, "Ceasing the plan"),
        ],
        "Choose what is appealed",
    )
}

fn mediation_options() -> Vec<(String, String)> {
    use pb::MediationOutcome as M;
    options(
        &[
            (M::Resolved as i32, "Resolved"),
            (M::PartlyResolved as i32, "Partly resolved"),
            (M::NotResolved as i32, "Not resolved"),
        ],
        "Not held yet",
    )
}

fn outcome_options() -> Vec<(String, String)> {
    use pb::AppealOutcome as O;
    options(
        &[
            (O::Upheld as i32, "Upheld"),
            (O::PartlyUpheld as i32, "Partly upheld"),
            (O::Dismissed as i32, "Dismissed"),
            (O::Withdrawn as i32, "Withdrawn by the family"),
            (O::Conceded as i32, "Conceded by the council"),
        ],
        "Not ended",
    )
}

fn section_options() -> Vec<(String, String)> {
    vec![
        ((pb::PlanSection::B as i32).to_string(), "B: special educational needs".to_owned()),
        ((pb::PlanSection::F as i32).to_string(), "F: special educational provision".to_owned()),
        ((pb::PlanSection::I as i32).to_string(), "I: the placement".to_owned()),
    ]
}

/// A pupil's appeals, for the pupil page (empty for a reader outside the team).
pub async fn appeals_of(web: &Web, session: &Session, pupil_id: i64) -> Option<Vec<pb::Appeal>> {
    if !APPEAL_TEAM.contains(&session.role()) {
        return None;
    }
    let backend = web.backend(session);
    let request = backend.request(pb::ListAppealsRequest { pupil_id, as_of: None });
    let answer = async { backend.pupils()?.list_appeals(request).await }.await.ok()?;
    Some(answer.into_inner().appeals)
}

/// The pupil page's section: every appeal with its dates and stage.
pub fn appeals_section(pupil_id: i64, appeals: &[pb::Appeal]) -> Markup {
    html! {
        h2 class="heading-m" id="appeals" { "Appeals to the Tribunal" }
        a class="button button--secondary" href={ "/pupils/" (pupil_id) "/appeals/new" } { "Record an appeal" }
        @if appeals.is_empty() { p class="body" { "No mediation or appeal is recorded." } } @else {
            div class="table-wrapper" { table class="table" {
                caption class="visually-hidden" { "Appeals" }
                thead { tr {
                    th scope="col" { "Appealed" } th scope="col" { "Decision" } th scope="col" { "Mediation" }
                    th scope="col" { "Registered" } th scope="col" { "Hearing" } th scope="col" { "Stage" }
                    th scope="col" { "Next date" } th scope="col" { span class="visually-hidden" { "Change" } }
                } }
                tbody { @for a in appeals {
                    @let f = a.appeal.clone().unwrap_or_default();
                    tr {
                        td { (ground_name(&f)) }
                        td { (long_date(f.decision_on.as_ref())) }
                        td {
                            @if f.mediation_on.is_some() { (long_date(f.mediation_on.as_ref())) }
                            @else if f.mediation_requested_on.is_some() { "Due by " (long_date(a.mediation_due.as_ref())) }
                            @else { "Not chosen" }
                        }
                        td { @if f.registered_on.is_some() { (long_date(f.registered_on.as_ref())) br; span class="secondary" { "Response due " (long_date(a.response_due.as_ref())) } } @else { "Appeal by " (long_date(a.appeal_deadline.as_ref())) } }
                        td { @if f.hearing_on.is_some() { (long_date(f.hearing_on.as_ref())) } @else { "Not listed" } }
                        td { (stage_tag(a.stage)) @if f.outcome != 0 { br; (outcome_name(f.outcome)) " " (long_date(f.decided_on.as_ref())) } }
                        td { (next_date(a)) }
                        td { a href={ "/pupils/" (pupil_id) "/appeals/" (a.id) "/edit" } { "Update" } }
                    }
                } }
            } }
        }
    }
}

/// The form's values for a stored appeal.
fn posted_from(appeal: &pb::Appeal) -> Posted {
    let f = appeal.appeal.clone().unwrap_or_default();
    let iso = |d: &Option<pb::Date>| crate::wording::iso_date(d.as_ref());
    let mut values = vec![
        ("ground".to_owned(), f.ground.to_string()),
        (
            "mediation_outcome".to_owned(),
            if f.mediation_outcome == 0 { String::new() } else { f.mediation_outcome.to_string() },
        ),
        ("outcome".to_owned(), if f.outcome == 0 { String::new() } else { f.outcome.to_string() }),
        ("version".to_owned(), appeal.version.to_string()),
    ];
    values.extend(f.sections.iter().map(|s| ("sections".to_owned(), s.to_string())));
    let dates = [
        ("decision_on", &f.decision_on),
        ("mediation_requested_on", &f.mediation_requested_on),
        ("mediation_on", &f.mediation_on),
        ("certificate_issued_on", &f.certificate_issued_on),
        ("registered_on", &f.registered_on),
        ("response_due_on", &f.response_due_on),
        ("response_sent_on", &f.response_sent_on),
        ("hearing_on", &f.hearing_on),
        ("decided_on", &f.decided_on),
    ];
    values.extend(dates.iter().map(|(id, d)| ((*id).to_owned(), iso(d))));
    Posted(values)
}

fn form_page(
    session: &Session,
    pupil: &pb::Pupil,
    appeal_id: Option<i64>,
    values: &Posted,
    errors: &[FieldError],
) -> PageResult {
    let e = |id: &str| error_for(errors, id);
    let action = match appeal_id {
        Some(a) => format!("/pupils/{}/appeals/{a}/edit", pupil.id),
        None => format!("/pupils/{}/appeals/new", pupil.id),
    };
    let title = if appeal_id.is_some() { "Update an appeal" } else { "Record an appeal" };
    let key = if values.get("idempotency_key").is_empty() {
        fields::new_key()
    } else {
        values.get("idempotency_key").to_owned()
    };
    let body = html! {
        (back_link(&format!("/pupils/{}#appeals", pupil.id), "Back to the pupil"))
        span class="caption" { (fields::pupil_name(pupil)) }
        h1 class="heading-l" { (title) }
        (error_summary(errors))
        form method="post" action=(action) novalidate {
            (csrf_field(session))
            input type="hidden" name="idempotency_key" value=(key);
            input type="hidden" name="version" value=(values.get("version"));
            (select("ground", "What is appealed", &ground_options(), values.get("ground"), e("ground")))
            (checkboxes("sections", "sections", "Sections of the plan disputed (for an appeal against a plan's contents)", &section_options(), &values.all("sections"), e("sections")))
            @for (id, label, hint) in &DATES {
                (input_of("date", id, label, (!hint.is_empty()).then_some(*hint), values.get(id), e(id)))
                @if *id == "mediation_on" { (select("mediation_outcome", "Mediation outcome", &mediation_options(), values.get("mediation_outcome"), e("mediation_outcome"))) }
            }
            (select("outcome", "Outcome", &outcome_options(), values.get("outcome"), e("outcome")))
            button type="submit" class="button" { (title) }
        }
    };
    let status = if errors.is_empty() { http::StatusCode::OK } else { http::StatusCode::BAD_REQUEST };
    Ok((status, page(session, title, "/register", body)).into_response())
}

/// The stored appeal `appeal_id` of pupil `id`, or the 404 page.
async fn stored_appeal(web: &Web, session: &Session, id: i64, appeal_id: i64) -> Result<pb::Appeal, Refused> {
    let backend = web.backend(session);
    let request = backend.request(pb::ListAppealsRequest { pupil_id: id, as_of: None });
    let appeals = async { backend.pupils()?.list_appeals(request).await }
        .await
        .map_err(|status| Refused::from(refusals::from_status(session, &status)))?
        .into_inner()
        .appeals;
    appeals.into_iter().find(|a| a.id == appeal_id).ok_or_else(|| Refused::from(refusals::not_found(session)))
}

/// `GET /pupils/{id}/appeals/new`.
pub(super) async fn new_form(State(web): State<Arc<Web>>, session: Session, Path(id): Path<i64>) -> PageResult {
    session.require(APPEAL_TEAM)?;
    let pupil = get_pupil(&web, &session, id).await?;
    form_page(&session, &pupil, None, &Posted::default(), &[])
}

/// `GET /pupils/{id}/appeals/{appeal}/edit`.
pub(super) async fn edit_form(
    State(web): State<Arc<Web>>,
    session: Session,
    Path((id, appeal_id)): Path<(i64, i64)>,
) -> PageResult {
    session.require(APPEAL_TEAM)?;
    let pupil = get_pupil(&web, &session, id).await?;
    let appeal = stored_appeal(&web, &session, id, appeal_id).await?;
    form_page(&session, &pupil, Some(appeal_id), &posted_from(&appeal), &[])
}

/// The appeal's fields as posted (bad dates named in `errors`).
fn fields_from(values: &Posted, errors: &mut Vec<FieldError>) -> pb::AppealFields {
    let mut day = |id: &str, label: &str| fields::date_from(values.get(id), id, label, errors);
    let number = |id: &str| values.get(id).parse::<i32>().unwrap_or(0);
    pb::AppealFields {
        ground: number("ground"),
        sections: values.all("sections").iter().filter_map(|s| s.parse().ok()).collect(),
        decision_on: day("decision_on", "Date of the decision notice"),
        mediation_requested_on: day("mediation_requested_on", "Family asked to mediate on"),
        mediation_on: day("mediation_on", "Mediation held on"),
        mediation_outcome: number("mediation_outcome"),
        certificate_issued_on: day("certificate_issued_on", "Mediation certificate issued on"),
        registered_on: day("registered_on", "Registered on"),
        response_due_on: day("response_due_on", "Response due"),
        response_sent_on: day("response_sent_on", "Response sent on"),
        hearing_on: day("hearing_on", "Hearing on"),
        decided_on: day("decided_on", "Ended on"),
        outcome: number("outcome"),
    }
}

async fn save(web: Arc<Web>, session: Session, id: i64, appeal_id: Option<i64>, values: Posted) -> PageResult {
    session.require(APPEAL_TEAM)?;
    session.check_csrf(values.csrf())?;
    let pupil = get_pupil(&web, &session, id).await?;
    let mut errors = Vec::new();
    let appeal = fields_from(&values, &mut errors);
    if errors.is_empty() {
        let backend = web.backend(&session);
        let answer = match appeal_id {
            Some(appeal_id) => {
                let version = values.get("version").parse().unwrap_or(0);
                let request = backend.request(pb::UpdateAppealRequest { id: appeal_id, version, appeal: Some(appeal) });
                async { backend.pupils()?.update_appeal(request).await }.await
            }
            None => {
                let key = values.get("idempotency_key").to_owned();
                let request = backend.request(pb::RecordAppealRequest {
                    pupil_id: id,
                    appeal: Some(appeal),
                    idempotency_key: key,
                });
                async { backend.pupils()?.record_appeal(request).await }.await
            }
        };
        match answer {
            Ok(_) => return Ok(Redirect::to(&format!("/pupils/{id}#appeals")).into_response()),
            Err(status) => match fields::field_errors(&status, MAP, "decision_on") {
                Some(found) => found.into_iter().for_each(|e| add_error(&mut errors, &e.id, e.message)),
                None if matches!(status.code(), Code::Aborted | Code::AlreadyExists) => {
                    add_error(&mut errors, "decision_on", fields::sentence(status.message()));
                }
                None => return Err(refusals::from_status(&session, &status).into()),
            },
        }
    }
    form_page(&session, &pupil, appeal_id, &values, &errors)
}

/// `POST /pupils/{id}/appeals/new`.
pub(super) async fn record(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    save(web, session, id, None, Posted(posted)).await
}

/// `POST /pupils/{id}/appeals/{appeal}/edit`.
pub(super) async fn update(
    State(web): State<Arc<Web>>,
    session: Session,
    Path((id, appeal_id)): Path<(i64, i64)>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    save(web, session, id, Some(appeal_id), Posted(posted)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_appeal_fills_the_form_it_is_updated_with() {
        let appeal = pb::Appeal {
            id: 4,
            version: 3,
            appeal: Some(pb::AppealFields {
                ground: pb::AppealGround::FinalPlan as i32,
                sections: vec![pb::PlanSection::F as i32],
                decision_on: Some(pb::Date { year: 2028, month: 2, day: 29 }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let values = posted_from(&appeal);
        assert_eq!(values.get("decision_on"), "2028-02-29");
        assert_eq!(values.get("version"), "3");
        assert_eq!(values.all("sections"), vec![(pb::PlanSection::F as i32).to_string()]);
        let mut errors = Vec::new();
        let fields = fields_from(&values, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(fields, appeal.appeal.unwrap_or_default());
    }
}
