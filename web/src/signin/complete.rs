//! The end of every sign-in, demo or provider: a session started in the store,
//! its cookie set, and the browser sent on to where they were going.

use axum::response::{IntoResponse, Redirect, Response};
use sen_platform::identity::Grant;

use crate::refusals;
use crate::state::Web;

/// Starts a session for `grant` (the person called `name`, when known), sets
/// its cookie and goes to `next`.
pub async fn signed_in(web: &Web, grant: &Grant, name: Option<&str>, next: &str) -> Response {
    match web.sessions.sign_in_named(grant, name, web.secure_cookies).await {
        Ok(cookie) => {
            tracing::info!(person = %grant.person, role = %grant.role, "signed in");
            ([(http::header::SET_COOKIE, cookie)], Redirect::to(next)).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot make a session");
            refusals::unavailable()
        }
    }
}
