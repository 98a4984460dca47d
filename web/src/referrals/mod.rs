//! The referrals area: the list of referrals ([`list`]) with its live feed
//! ([`live`]), the referral form ([`form`]), and a referral's page ([`page`])
//! with the forms for what can be done to it ([`actions`]) and what they send
//! ([`changes`]).
//!
//! Within the area imports run one way: `changes` → `page` → `actions`.

pub mod actions;
pub mod changes;
pub mod form;
pub mod list;
pub mod live;
pub mod page;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::Web;

/// The referrals routes.
pub(crate) fn routes() -> Router<Arc<Web>> {
    Router::new()
        .merge(list::routes())
        .route("/referrals/live", get(live::live))
        .merge(form::routes())
        .route("/referrals/{id}", get(page::referral_page))
        .route("/referrals/{id}/status", post(changes::change_status))
        .route("/referrals/{id}/allocate", post(changes::allocate))
        .route("/referrals/{id}/resubmit", post(changes::resubmit))
}
