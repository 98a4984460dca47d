//! What the referral page's forms send ([`super::actions`]): a lifecycle move,
//! a returned referral sent back, and the SEN manager's allocation. A change
//! made meanwhile by someone else (ABORTED) shows the page as it is now with a
//! notice; a refusal about the fields shows them again with the errors and what
//! was typed.

use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use tonic::Code;

use super::actions::{Extra, RESUBMIT_CONCERN, RESUBMIT_NOTE, RESUBMIT_TRIED, SUBMITTERS, move_named};
use super::page::{READERS, render};
use crate::fields::{self, Posted};
use crate::layout::FieldError;
use crate::refusals::{self, PageResult};
use crate::session::Session;
use crate::state::Web;

/// `POST /referrals/{id}/resubmit`: a returned referral sent back with more information.
pub(super) async fn resubmit(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    session.require(SUBMITTERS)?;
    let posted = Posted(posted);
    session.check_csrf(posted.csrf())?;
    let backend = web.backend(&session);
    // The support cycles and provision the referral cites stay as they were.
    let cited =
        async { backend.referrals()?.get_referral(backend.request(pb::GetReferralRequest { id, as_of: None })).await }
            .await
            .map_err(|status| refusals::from_status(&session, &status))?
            .into_inner()
            .body
            .and_then(|b| b.graduated_approach)
            .unwrap_or_default();
    let (concern, tried, note) = (
        posted.get(RESUBMIT_CONCERN).to_owned(),
        posted.get(RESUBMIT_TRIED).to_owned(),
        posted.get(RESUBMIT_NOTE).to_owned(),
    );
    let request = pb::ResubmitReferralRequest {
        id,
        version: posted.get("version").parse().unwrap_or(0),
        concern: concern.clone(),
        graduated_approach: Some(pb::GraduatedApproach { summary: tried.clone(), ..cited }),
        note: note.clone(),
    };
    let typed = vec![
        (RESUBMIT_CONCERN.to_owned(), concern),
        (RESUBMIT_TRIED.to_owned(), tried),
        (RESUBMIT_NOTE.to_owned(), note),
    ];
    match async { backend.referrals()?.resubmit_referral(backend.request(request)).await }.await {
        Ok(_) => Ok(Redirect::to(&format!("/referrals/{id}?done=resubmitted")).into_response()),
        Err(status) if status.code() == Code::Aborted => {
            let notice = "Someone else changed this referral while you were looking at it. It is shown as it is now.";
            render(&web, &session, id, Extra { notice: Some(notice.into()), typed, ..Extra::default() }).await
        }
        Err(status) if matches!(status.code(), Code::InvalidArgument | Code::FailedPrecondition) => {
            let map = [
                ("concern", RESUBMIT_CONCERN, "Concern"),
                ("graduated_approach", RESUBMIT_TRIED, "What the school has tried"),
                ("note", RESUBMIT_NOTE, "What you have added"),
            ];
            let errors = match fields::field_errors(&status, &map, RESUBMIT_NOTE) {
                Some(errors) => errors,
                None => vec![FieldError { id: RESUBMIT_NOTE.into(), message: fields::sentence(status.message()) }],
            };
            render(&web, &session, id, Extra { errors, typed, ..Extra::default() }).await
        }
        Err(status) => Err(refusals::from_status(&session, &status).into()),
    }
}

/// `POST /referrals/{id}/status`: a lifecycle move.
pub(super) async fn change_status(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    session.require(READERS)?;
    let posted = Posted(posted);
    session.check_csrf(posted.csrf())?;
    let event = posted.get("event");
    let Some(m) = move_named(event) else {
        return Err(refusals::not_found(&session).into());
    };
    let note_id = format!("note-{}", m.event);
    let note = posted.get(&note_id).to_owned();
    let request = pb::ChangeReferralStatusRequest {
        id,
        version: posted.get("version").parse().unwrap_or(0),
        event: m.value as i32,
        note: note.clone(),
    };
    let backend = web.backend(&session);
    let typed = vec![(note_id.clone(), note)];
    match async { backend.referrals()?.change_referral_status(backend.request(request)).await }.await {
        Ok(_) => Ok(Redirect::to(&format!("/referrals/{id}?done=status")).into_response()),
        Err(status) if status.code() == Code::Aborted => {
            let notice = "Someone else changed this referral while you were looking at it. It is shown as it is now; decide again if you still need to.";
            render(&web, &session, id, Extra { notice: Some(notice.into()), typed, ..Extra::default() }).await
        }
        Err(status) if matches!(status.code(), Code::InvalidArgument | Code::FailedPrecondition) => {
            let label = m.note.unwrap_or("The change");
            let errors = match fields::field_errors(&status, &[("note", &note_id, label)], &note_id) {
                Some(errors) => errors,
                None => vec![FieldError { id: note_id.clone(), message: fields::sentence(status.message()) }],
            };
            render(&web, &session, id, Extra { errors, typed, ..Extra::default() }).await
        }
        Err(status) => Err(refusals::from_status(&session, &status).into()),
    }
}

/// `POST /referrals/{id}/allocate`: the SEN manager allocates to one professional.
pub(super) async fn allocate(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    session.require(&[Role::LaManager])?;
    let posted = Posted(posted);
    session.check_csrf(posted.csrf())?;
    let professional_id = posted.get("professional_id").parse::<i64>().unwrap_or(0);
    let reason_id = format!("override_reason-{professional_id}");
    let override_reason = posted.get(&reason_id).to_owned();
    let request = pb::AllocateCaseRequest {
        referral_id: id,
        professional_id,
        idempotency_key: posted.get("idempotency_key").to_owned(),
        override_reason: override_reason.clone(),
    };
    let backend = web.backend(&session);
    match async { backend.caseloads()?.allocate_case(backend.request(request)).await }.await {
        Ok(case) => {
            Ok(Redirect::to(&format!("/referrals/{id}?done=allocated&case={}", case.into_inner().id)).into_response())
        }
        Err(status)
            if matches!(status.code(), Code::InvalidArgument | Code::FailedPrecondition | Code::AlreadyExists) =>
        {
            let name = posted.get("professional_name");
            let errors = match fields::field_errors(
                &status,
                &[("override_reason", &reason_id, "Reason for allocating over capacity")],
                &reason_id,
            ) {
                Some(errors) => errors,
                None => vec![FieldError {
                    id: reason_id.clone(),
                    message: format!("Could not allocate to {name}: {}", status.message()),
                }],
            };
            let typed = vec![(reason_id, override_reason)];
            render(&web, &session, id, Extra { errors, typed, ..Extra::default() }).await
        }
        Err(status) => Err(refusals::from_status(&session, &status).into()),
    }
}
