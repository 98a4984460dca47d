//! The register area: a school's SEN register ([`list`]), the pupil page
//! ([`pupil`]), adding and editing a pupil ([`pupil_form`]), and the forms that
//! change a pupil's SEN record ([`pupil_changes`]) and review a support cycle
//! ([`support_review`]), importing a school's Common Transfer File
//! ([`ctf_import`]), a pupil's appeals to the Tribunal ([`appeals`]), the
//! record of an EHC plan's annual review and what it led to ([`annual_review`],
//! [`review_outcome`]), all built on who may see
//! and change what ([`access`]).

pub mod access;
pub mod annual_review;
pub mod appeals;
pub mod ctf_import;
pub mod list;
pub mod pupil;
pub mod pupil_changes;
pub mod pupil_form;
pub mod review_outcome;
pub mod support_review;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::state::Web;

/// The register and pupil routes.
pub(crate) fn routes() -> Router<Arc<Web>> {
    Router::new()
        .merge(list::routes())
        .merge(ctf_import::routes())
        .route("/register/new", get(pupil_form::new_pupil).post(pupil_form::create_pupil))
        .route("/pupils/{id}", get(pupil::pupil_page))
        .route("/pupils/{id}/appeals/new", get(appeals::new_form).post(appeals::record))
        .route("/pupils/{id}/appeals/{appeal}/edit", get(appeals::edit_form).post(appeals::update))
        .route("/pupils/{id}/edit", get(pupil_form::edit_pupil).post(pupil_form::update_pupil))
        .route("/pupils/{id}/status", get(pupil_changes::status_form).post(pupil_changes::change_status))
        .route("/pupils/{id}/support-cycles/new", get(pupil_changes::cycle_form).post(pupil_changes::add_cycle))
        .route(
            "/pupils/{id}/support-cycles/{cycle}/review",
            get(support_review::review_form).post(support_review::record_review),
        )
        .route("/pupils/{id}/provision/new", get(pupil_changes::provision_form).post(pupil_changes::add_provision))
        .route("/pupils/{id}/annual-reviews/new", get(annual_review::review_form).post(annual_review::record_review))
}
