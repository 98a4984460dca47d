//! What the statutory steps' forms send ([`super::steps`]): the decision
//! whether to assess, the decision whether to issue a plan, the draft plan sent
//! for consultation, the final plan, and an exception with its date and note. The form is checked here first (a choice made, a real date),
//! then the referrals service checks the step against the request's clock.
//! Every problem comes back on the page against its field, with what was typed;
//! a request someone else changed meanwhile (ABORTED), or that has moved past
//! the step (FAILED_PRECONDITION), is shown as it is now with a notice. Nothing
//! is recorded unless every check passes.

use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect};
use sen_proto::v1 as pb;
use tonic::Code;

use super::actions::Extra;
use super::page::render;
use super::steps::{ASSESSMENT_CHOICES, EXCEPTIONS, PLAN_CHOICES, RECORDERS, Step};
use crate::backend::Backend;
use crate::fields::{self, Posted};
use crate::layout::FieldError;
use crate::refusals::{self, PageResult};
use crate::session::Session;
use crate::state::Web;

/// `POST /referrals/{id}/assessment-decision`.
pub(super) async fn assessment(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    record(&web, session, id, Posted(posted), Step::Assessment).await
}

/// `POST /referrals/{id}/plan-decision`.
pub(super) async fn plan(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    record(&web, session, id, Posted(posted), Step::Plan).await
}

/// `POST /referrals/{id}/final-plan`.
pub(super) async fn final_plan(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    record(&web, session, id, Posted(posted), Step::FinalPlan).await
}

/// `POST /referrals/{id}/draft-plan`.
pub(super) async fn draft_plan(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    record(&web, session, id, Posted(posted), Step::DraftPlan).await
}

/// `POST /referrals/{id}/clock-exception`.
pub(super) async fn exception(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    record(&web, session, id, Posted(posted), Step::Exception).await
}

/// What a step's form asks the service to record, once its fields are read.
enum Recording {
    Assessment(pb::RecordAssessmentDecisionRequest),
    Plan(pb::RecordPlanDecisionRequest),
    FinalPlan(pb::RecordFinalPlanIssuedRequest),
    DraftPlan(pb::RecordDraftPlanSentRequest),
    Exception(pb::RecordClockExceptionRequest),
}

async fn record(web: &Web, session: Session, id: i64, posted: Posted, step: Step) -> PageResult {
    session.require(RECORDERS)?;
    session.check_csrf(posted.csrf())?;
    let (choice, date, second) = (step.choice_id(), step.date_id(), step.second_id());
    let typed: Vec<(String, String)> = [choice, date, second]
        .into_iter()
        .filter(|id| !id.is_empty())
        .map(|id| (id.to_owned(), posted.get(id).to_owned()))
        .collect();
    // A garbled version is sent as 0, which the service finds stale: nothing is recorded.
    let version = Some(posted.get("version").trim().parse::<i64>().unwrap_or(0));
    let recording = match read(&posted, step, id, version) {
        Ok(recording) => recording,
        Err(errors) => return render(web, &session, id, Extra { errors, typed, ..Extra::default() }).await,
    };
    let done = match &recording {
        Recording::Assessment(_) => "assessment",
        Recording::Plan(_) => "plan",
        Recording::FinalPlan(_) => "final_plan",
        Recording::DraftPlan(_) => "draft_plan",
        Recording::Exception(r) if r.exception.is_empty() => "exception_cleared",
        Recording::Exception(_) => "exception",
    };
    let backend = web.backend(&session);
    match send(&backend, recording).await {
        Ok(()) => Ok(Redirect::to(&format!("/referrals/{id}?done={done}")).into_response()),
        Err(status) if matches!(status.code(), Code::Aborted | Code::FailedPrecondition) => {
            let notice = if status.code() == Code::Aborted {
                "Someone else changed this request while you were looking at it. It is shown as it is now: \
                 record the step again if it is still needed."
                    .to_owned()
            } else {
                format!("This step cannot be recorded now: {}. The request is shown as it is now.", status.message())
            };
            render(web, &session, id, Extra { notice: Some(notice), typed, ..Extra::default() }).await
        }
        Err(status) if status.code() == Code::InvalidArgument => {
            let map: &[(&str, &str, &str)] = match step {
                Step::Assessment | Step::Plan => {
                    &[("decision", choice, "The decision"), ("decided_on", date, "Date of the decision")]
                }
                Step::FinalPlan => &[("issued_on", date, "Date the final plan was issued")],
                Step::DraftPlan => &[
                    ("sent_on", date, "Date the draft plan was sent"),
                    ("consultation_ends_on", second, "Last day for comments"),
                ],
                Step::Exception => &[
                    ("exception", choice, "Exception"),
                    ("exception_on", date, "Date it arose"),
                    ("note", second, "Note"),
                ],
            };
            let fallback = if date.is_empty() || step == Step::Exception { choice } else { date };
            let errors = fields::field_errors(&status, map, fallback).unwrap_or_else(|| {
                vec![FieldError { id: fallback.to_owned(), message: fields::sentence(status.message()) }]
            });
            render(web, &session, id, Extra { errors, typed, ..Extra::default() }).await
        }
        Err(status) => Err(refusals::from_status(&session, &status).into()),
    }
}

/// The step's request from the form, or every problem with its fields.
fn read(posted: &Posted, step: Step, id: i64, version: Option<i64>) -> Result<Recording, Vec<FieldError>> {
    let mut errors = Vec::new();
    let (choice, date) = (step.choice_id(), step.date_id());
    let mut chosen = |choices: &[(&str, &str)], missing: &str| {
        let value = posted.get(choice).trim();
        if choices.iter().any(|(code, _)| *code == value) {
            value.to_owned()
        } else {
            fields::add_error(&mut errors, choice, missing);
            String::new()
        }
    };
    let recording = match step {
        Step::Assessment => {
            let decision = chosen(&ASSESSMENT_CHOICES, "Choose whether the council will carry out an assessment");
            let decided_on = day(posted, date, "the date of the decision", &mut errors);
            Recording::Assessment(pb::RecordAssessmentDecisionRequest { id, decision, decided_on, version })
        }
        Step::Plan => {
            let decision = chosen(&PLAN_CHOICES, "Choose whether the council will issue an EHC plan");
            let decided_on = day(posted, date, "the date of the decision", &mut errors);
            Recording::Plan(pb::RecordPlanDecisionRequest { id, decision, decided_on, version })
        }
        Step::FinalPlan => {
            let issued_on = day(posted, date, "the date the final plan was issued", &mut errors);
            Recording::FinalPlan(pb::RecordFinalPlanIssuedRequest { id, issued_on, version })
        }
        Step::DraftPlan => {
            let sent_on = day(posted, date, "the date the draft plan was sent", &mut errors);
            let ends = step.second_id();
            let consultation_ends_on = if posted.get(ends).trim().is_empty() {
                None
            } else {
                fields::date_from(posted.get(ends), ends, "Last day for comments", &mut errors)
            };
            Recording::DraftPlan(pb::RecordDraftPlanSentRequest { id, sent_on, consultation_ends_on, version })
        }
        Step::Exception => {
            let value = posted.get(choice).trim();
            if !value.is_empty() && !EXCEPTIONS.iter().any(|(code, _)| *code == value) {
                fields::add_error(&mut errors, choice, "Choose an exception from the list, or None");
            }
            let exception_on = if posted.get(date).trim().is_empty() || value.is_empty() {
                None
            } else {
                fields::date_from(posted.get(date), date, "Date it arose", &mut errors)
            };
            let note = if value.is_empty() { String::new() } else { posted.get(step.second_id()).trim().to_owned() };
            Recording::Exception(pb::RecordClockExceptionRequest {
                id,
                exception: value.to_owned(),
                version,
                exception_on,
                note,
            })
        }
    };
    if errors.is_empty() { Ok(recording) } else { Err(errors) }
}

/// A required date input: "Enter …" when empty, or the date as the service takes it.
fn day(posted: &Posted, id: &str, what: &str, errors: &mut Vec<FieldError>) -> Option<pb::Date> {
    let value = posted.get(id);
    if value.trim().is_empty() {
        fields::add_error(errors, id, format!("Enter {what}"));
        return None;
    }
    fields::date_from(value, id, &fields::sentence(what.trim_start_matches("the ")), errors)
}

/// Records the step as the signed-in person.
async fn send(backend: &Backend, recording: Recording) -> Result<(), tonic::Status> {
    let mut referrals = backend.referrals()?;
    match recording {
        Recording::Assessment(r) => referrals.record_assessment_decision(backend.request(r)).await.map(drop),
        Recording::Plan(r) => referrals.record_plan_decision(backend.request(r)).await.map(drop),
        Recording::FinalPlan(r) => referrals.record_final_plan_issued(backend.request(r)).await.map(drop),
        Recording::DraftPlan(r) => referrals.record_draft_plan_sent(backend.request(r)).await.map(drop),
        Recording::Exception(r) => referrals.record_clock_exception(backend.request(r)).await.map(drop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted(pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn a_decision_needs_a_choice_and_a_real_date_and_names_both() {
        let errors = match read(&posted(&[("assessment-decided_on", "31/2/2026")]), Step::Assessment, 1, Some(3)) {
            Err(errors) => errors,
            Ok(_) => panic!("refused"),
        };
        let ids: Vec<&str> = errors.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["assessment-decision", "assessment-decided_on"]);
        assert!(errors[1].message.contains("real date"), "{errors:?}");
        let empty = read(&posted(&[]), Step::FinalPlan, 1, Some(3));
        assert!(matches!(empty, Err(e) if e[0].message == "Enter the date the final plan was issued"));
    }

    #[test]
    fn a_complete_form_becomes_the_services_request_with_the_version_read() {
        let form = posted(&[("plan-decision", "issue"), ("plan-decided_on", "2026-11-24")]);
        match read(&form, Step::Plan, 7, Some(4)) {
            Ok(Recording::Plan(r)) => {
                assert_eq!((r.id, r.decision.as_str(), r.version), (7, "issue", Some(4)));
                assert_eq!(r.decided_on, Some(pb::Date { year: 2026, month: 11, day: 24 }));
            }
            _ => panic!("a plan decision"),
        }
        assert!(
            matches!(read(&posted(&[]), Step::Exception, 7, Some(4)), Ok(Recording::Exception(r)) if r.exception.is_empty())
        );
        assert!(read(&posted(&[("clock-exception", "holiday")]), Step::Exception, 7, Some(4)).is_err());
    }

    #[test]
    fn a_draft_plan_without_a_last_day_leaves_the_15_days_to_the_service() {
        let form = posted(&[("draft-plan-sent_on", "2027-03-02"), ("draft-plan-consultation_ends_on", " ")]);
        match read(&form, Step::DraftPlan, 7, Some(4)) {
            Ok(Recording::DraftPlan(r)) => {
                assert_eq!(r.sent_on, Some(pb::Date { year: 2027, month: 3, day: 2 }));
                assert_eq!(r.consultation_ends_on, None);
            }
            _ => panic!("a draft plan"),
        }
        let bad = posted(&[("draft-plan-sent_on", "2027-03-02"), ("draft-plan-consultation_ends_on", "30/2/2027")]);
        assert!(
            matches!(read(&bad, Step::DraftPlan, 7, Some(4)), Err(e) if e[0].id == "draft-plan-consultation_ends_on")
        );
    }

    #[test]
    fn an_exception_carries_its_date_and_note_and_clearing_sends_neither() {
        let form = posted(&[
            ("clock-exception", "absent_from_area"),
            ("clock-exception-on", "2027-01-04"),
            ("clock-exception-note", "Family abroad until 8 February"),
        ]);
        match read(&form, Step::Exception, 7, Some(4)) {
            Ok(Recording::Exception(r)) => {
                assert_eq!(r.exception_on, Some(pb::Date { year: 2027, month: 1, day: 4 }));
                assert_eq!(r.note, "Family abroad until 8 February");
            }
            _ => panic!("an exception"),
        }
        let cleared = posted(&[("clock-exception", ""), ("clock-exception-note", "left over")]);
        assert!(
            matches!(read(&cleared, Step::Exception, 7, Some(4)), Ok(Recording::Exception(r)) if r.note.is_empty() && r.exception_on.is_none())
        );
    }
}
