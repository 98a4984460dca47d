//! What the advice forms send ([`super::advice`]): advice asked for, and the
//! day it came in. The form is checked here first (a choice made, a real date),
//! then the caseloads service checks the dates against the request (not before
//! it was received, not in the future; received not before asked). Every
//! problem comes back on the page against its field, with what was typed;
//! nothing is recorded unless every check passes. A form sent twice records
//! once: the service answers the same record again with the first.

use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect};
use sen_proto::v1 as pb;
use tonic::Code;

use super::actions::Extra;
use super::advice::{ASKED_ID, FROM_ID, KIND_ID, KINDS, PROFESSIONAL_ID, RECORDERS, received_id};
use super::page::render;
use crate::fields::{self, Posted};
use crate::layout::FieldError;
use crate::refusals::{self, PageResult};
use crate::session::Session;
use crate::state::Web;

/// `POST /referrals/{id}/advice`: advice asked for.
pub(super) async fn ask(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    session.require(RECORDERS)?;
    let posted = Posted(posted);
    session.check_csrf(posted.csrf())?;
    let typed = typed(&posted, &[KIND_ID, FROM_ID, PROFESSIONAL_ID, ASKED_ID]);
    let request = match read_ask(&posted, id) {
        Ok(request) => request,
        Err(errors) => return render(&web, &session, id, Extra { errors, typed, ..Extra::default() }).await,
    };
    let backend = web.backend(&session);
    let sent = async { backend.caseloads()?.record_advice_request(backend.request(request)).await }.await;
    let map: fields::FieldMap<'_> = &[
        ("kind", KIND_ID, "Advice asked for"),
        ("from_whom", FROM_ID, "Who was asked"),
        ("asked_on", ASKED_ID, "Date asked"),
        ("referral_id", KIND_ID, "The request"),
    ];
    answer(&web, session, id, sent.map(drop), "advice_asked", (map, KIND_ID), typed).await
}

/// `POST /referrals/{id}/advice/{advice_id}/received`: the day advice came in.
pub(super) async fn received(
    State(web): State<Arc<Web>>,
    session: Session,
    Path((id, advice_id)): Path<(i64, i64)>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    session.require(RECORDERS)?;
    let posted = Posted(posted);
    session.check_csrf(posted.csrf())?;
    let input = received_id(advice_id);
    let typed = typed(&posted, &[&input]);
    let mut errors = Vec::new();
    let received_on = required_date(&posted, &input, "the date the advice was received", &mut errors);
    if !errors.is_empty() {
        return render(&web, &session, id, Extra { errors, typed, ..Extra::default() }).await;
    }
    let backend = web.backend(&session);
    let request = pb::RecordAdviceReceivedRequest { id: advice_id, received_on };
    let sent = async { backend.caseloads()?.record_advice_received(backend.request(request)).await }.await;
    let map: fields::FieldMap<'_> = &[("received_on", &input, "Date received"), ("id", &input, "The advice")];
    answer(&web, session, id, sent.map(drop), "advice_received", (map, &input), typed).await
}

/// The page after the service answered: back to the request with a banner, or
/// the request with the problem against its field, or a notice when the record
/// cannot be made as it stands.
async fn answer(
    web: &Web,
    session: Session,
    id: i64,
    sent: Result<(), tonic::Status>,
    done: &str,
    (map, fallback): (fields::FieldMap<'_>, &str),
    typed: Vec<(String, String)>,
) -> PageResult {
    match sent {
        Ok(()) => Ok(Redirect::to(&format!("/referrals/{id}?done={done}#advice-heading")).into_response()),
        Err(status) if matches!(status.code(), Code::AlreadyExists | Code::FailedPrecondition | Code::Aborted) => {
            let notice = format!("This advice cannot be recorded as it stands: {}.", status.message());
            render(web, &session, id, Extra { notice: Some(notice), typed, ..Extra::default() }).await
        }
        Err(status) if status.code() == Code::InvalidArgument => {
            let errors = fields::field_errors(&status, map, fallback).unwrap_or_else(|| {
                vec![FieldError { id: fallback.to_owned(), message: fields::sentence(status.message()) }]
            });
            render(web, &session, id, Extra { errors, typed, ..Extra::default() }).await
        }
        Err(status) => Err(refusals::from_status(&session, &status).into()),
    }
}

fn typed(posted: &Posted, ids: &[&str]) -> Vec<(String, String)> {
    ids.iter().map(|id| ((*id).to_owned(), posted.get(id).to_owned())).collect()
}

/// The advice request from the form, or every problem with its fields.
fn read_ask(posted: &Posted, referral_id: i64) -> Result<pb::RecordAdviceRequestRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let kind = posted.get(KIND_ID).trim();
    if !KINDS.iter().any(|(code, _)| *code == kind) {
        fields::add_error(&mut errors, KIND_ID, "Choose the advice asked for");
    }
    let professional = posted.get(PROFESSIONAL_ID).trim();
    let professional_id = if professional.is_empty() { Some(0) } else { professional.parse::<i64>().ok() };
    if professional_id.is_none() {
        fields::add_error(&mut errors, PROFESSIONAL_ID, "Choose a professional from the list, or someone else");
    }
    let from_whom = posted.get(FROM_ID).trim().to_owned();
    if professional_id == Some(0) && from_whom.is_empty() {
        fields::add_error(&mut errors, FROM_ID, "Enter who was asked, or choose one of the service's professionals");
    }
    let asked_on = required_date(posted, ASKED_ID, "the date the advice was asked for", &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(pb::RecordAdviceRequestRequest {
        referral_id,
        kind: kind.to_owned(),
        from_whom,
        professional_id: professional_id.unwrap_or(0),
        asked_on,
    })
}

/// A required date input: "Enter …" when empty, or the date as the service takes it.
fn required_date(posted: &Posted, id: &str, what: &str, errors: &mut Vec<FieldError>) -> Option<pb::Date> {
    let value = posted.get(id);
    if value.trim().is_empty() {
        fields::add_error(errors, id, format!("Enter {what}"));
        return None;
    }
    fields::date_from(value, id, &fields::sentence(what.trim_start_matches("the ")), errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted(pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn advice_asked_for_needs_its_kind_whom_and_a_real_date_and_names_each() {
        let errors = read_ask(&posted(&[(ASKED_ID, "30/2/2027")]), 7).expect_err("refused");
        let ids: Vec<&str> = errors.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, [KIND_ID, FROM_ID, ASKED_ID]);
        assert!(errors[2].message.contains("real date"), "{errors:?}");
    }

    #[test]
    fn advice_asked_of_a_professional_needs_no_name_and_becomes_the_services_request() {
        let form = posted(&[(KIND_ID, "psychological"), (PROFESSIONAL_ID, "4"), (ASKED_ID, "29/2/2028")]);
        let request = read_ask(&form, 7).expect("complete");
        assert_eq!((request.referral_id, request.kind.as_str(), request.professional_id), (7, "psychological", 4));
        assert_eq!(request.asked_on, Some(pb::Date { year: 2028, month: 2, day: 29 }));
        let named = posted(&[(KIND_ID, "health"), (FROM_ID, " Community paediatrician "), (ASKED_ID, "2027-01-04")]);
        assert_eq!(read_ask(&named, 7).expect("complete").from_whom, "Community paediatrician");
    }
}
