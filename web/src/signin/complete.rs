//! The end of every sign-in, demo or provider: the session cookie set for the
//! person and the browser sent on to where they were going.

use axum::response::{IntoResponse, Redirect, Response};
use sen_platform::identity::Grant;

use crate::refusals;
use crate::state::Web;

/// Sets the session cookie for `grant` and goes to `next`.
pub fn signed_in(web: &Web, grant: &Grant, next: &str) -> Response {
    match web.sessions.sign_in(grant, web.secure_cookies) {
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
