//! The referrals area: the list of referrals ([`list`]) with its live feed
//! ([`live`]), the referral form ([`form`]), and a referral's page ([`page`])
//! with the forms for what can be done to it ([`actions`]) and what they send
//! ([`changes`]); and, for an EHC needs assessment request, its statutory
//! steps beside its clock ([`steps`]) and what their forms send
//! ([`step_changes`]). A case officer records a request that reached the
//! council some other way ([`request_form`]). The advice asked for in the
//! assessment, with its own 6-week clocks, is shown and recorded on the page
//! ([`advice`]), its forms sent by [`advice_changes`].
//!
//! A referral's documents are listed and attached on its page
//! ([`attachments`]), sent and downloaded by [`uploads`]; the referral form
//! finds its pupil by name or UPN and cites their support ([`form_pupil`]).
//!
//! Within the area imports run one way: `changes`, `step_changes`,
//! `advice_changes` and `uploads` → `page` → `steps`, `advice` and
//! `attachments` → `actions`; `form` → `form_pupil` and
//! `attachments`; `request_form` → `form_pupil` and `steps`.

pub mod actions;
pub mod advice;
pub mod advice_changes;
pub mod attachments;
pub mod changes;
pub mod form;
pub mod form_pupil;
pub mod list;
pub mod live;
pub mod page;
mod register;
pub mod request_form;
pub mod step_changes;
pub mod steps;
pub mod uploads;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::Web;

/// The referrals routes.
pub(crate) fn routes() -> Router<Arc<Web>> {
    Router::new()
        .merge(list::routes())
        .route("/referrals/live", get(live::live))
        .merge(form::routes())
        .merge(request_form::routes())
        .route("/referrals/{id}", get(page::referral_page))
        .route("/referrals/{id}/status", post(changes::change_status))
        .route("/referrals/{id}/allocate", post(changes::allocate))
        .route("/referrals/{id}/resubmit", post(changes::resubmit))
        .route(
            "/referrals/{id}/attachments",
            post(uploads::attach).layer(DefaultBodyLimit::max(attachments::FORM_BODY_LIMIT)),
        )
        .route("/referrals/{id}/attachments/{attachment_id}", get(uploads::download))
        .route("/referrals/{id}/assessment-decision", post(step_changes::assessment))
        .route("/referrals/{id}/plan-decision", post(step_changes::plan))
        .route("/referrals/{id}/final-plan", post(step_changes::final_plan))
        .route("/referrals/{id}/draft-plan", post(step_changes::draft_plan))
        .route("/referrals/{id}/clock-exception", post(step_changes::exception))
        .route("/referrals/{id}/advice", post(advice_changes::ask))
        .route("/referrals/{id}/advice/{advice_id}/received", post(advice_changes::received))
}
