//! The pages answered instead of the one asked for, which every part of the site
//! may answer with: refused (403), not found (404), a service unavailable (503),
//! and the mapping from a service's status to one of them; and the checks every
//! handler makes first that answer with them ([`Session::require`] for the
//! role, [`Session::check_csrf`] for a form).
//!
//! They live here rather than with [`Session`] because the pages are drawn in
//! the page shell ([`crate::layout`]), which itself shows the session: the
//! session sits beneath the shell, these pages above it.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use maud::html;
use sen_platform::identity::Role;
use tonic::{Code, Status};

use crate::layout::{page, public_page};
use crate::session::Session;

/// A page answered instead of the one asked for (refused, not found, a service
/// down), so that handlers can return `PageResult` and use `?`.
#[derive(Debug)]
pub struct Refused(Box<Response>);

impl From<Response> for Refused {
    fn from(response: Response) -> Self {
        Self(Box::new(response))
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// What a page handler answers.
pub type PageResult = Result<Response, Refused>;

impl Session {
    /// Refuses (403 page) unless their role is one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Refused> {
        if roles.contains(&self.role()) { Ok(()) } else { Err(Refused::from(forbidden(self))) }
    }

    /// Refuses (403 page) a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), Refused> {
        match sent {
            Some(token) if self.csrf_matches(token) => Ok(()),
            _ => {
                tracing::warn!("a form was sent without this session's CSRF token");
                Err(Refused::from(forbidden(self)))
            }
        }
    }
}

/// 403: the person's role may not see this.
pub fn forbidden(session: &Session) -> Response {
    let body = html! {
        h1 class="heading-l" { "You cannot see this page" }
        p class="body" { "Your role does not give you access to it. If you need it for your work, ask your SEN manager." }
        p class="body" { a href="/" { "Go to your start page" } }
    };
    (StatusCode::FORBIDDEN, page(session, "No access", "", body)).into_response()
}

/// 404: nothing here, or nothing this person may see (never says which).
pub fn not_found(session: &Session) -> Response {
    let body = html! {
        h1 class="heading-l" { "Page not found" }
        p class="body" { "There is nothing at this address that you can see. Check the address, or go back and follow a link." }
        p class="body" { a href="/" { "Go to your start page" } }
    };
    (StatusCode::NOT_FOUND, page(session, "Page not found", "", body)).into_response()
}

/// 503: a service behind the page did not answer.
pub fn unavailable() -> Response {
    let body = html! {
        h1 class="heading-l" { "Sorry, there is a problem with the service" }
        p class="body" { "Part of the platform is not answering. Try again in a few minutes; nothing you sent has been lost." }
    };
    (StatusCode::SERVICE_UNAVAILABLE, public_page("Service unavailable", body)).into_response()
}

/// The page for a service's refusal or failure. Bad input is not handled here:
/// forms show it against their fields.
pub fn from_status(session: &Session, status: &Status) -> Response {
    match status.code() {
        Code::NotFound | Code::InvalidArgument => not_found(session),
        Code::PermissionDenied => forbidden(session),
        Code::Unauthenticated => axum::response::Redirect::to("/sign-in").into_response(),
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted => unavailable(),
        _ => {
            tracing::error!(code = ?status.code(), message = status.message(), "a page's service call failed");
            let body = html! {
                h1 class="heading-l" { "Sorry, there is a problem with the service" }
                p class="body" { "Try again later." }
            };
            (StatusCode::INTERNAL_SERVER_ERROR, page(session, "Problem", "", body)).into_response()
        }
    }
}
