//! The caseload area, the pages of the educational psychologists and advisory
//! teachers: their own caseload with its deadlines ([`list`]), and a case's page
//! ([`case`]) with its activity log and the forms to record a visit and to close
//! the case.
//!
//! The caseloads service decides whose case is whose: a professional sees only
//! their own cases (another's answers NOT_FOUND, shown as "Page not found"); the
//! council team sees any case of their authority. A case officer may read a case
//! but not its activity (the services' policy), so their page has neither the
//! log nor the forms.

pub mod case;
pub mod list;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::Web;

/// The caseload and case routes.
pub(crate) fn routes() -> Router<Arc<Web>> {
    Router::new()
        .merge(list::routes())
        .route("/cases/{id}", get(case::case_page))
        .route("/cases/{id}/activity", post(case::record_visit))
        .route("/cases/{id}/close", post(case::close_case))
}
