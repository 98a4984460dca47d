//! The web: server-rendered pages for the council SEN team, SENCOs and the EPs
//! and advisory teachers, served by the gateway from the same port.
//!
//! Pages are HTML built on the server (maud) in the manner of the GOV.UK Design
//! System, with a little JavaScript for live updates; every page works without
//! it. Sign-in makes a signed session cookie ([`session`]); every form carries a
//! CSRF token bound to it. Pages call the services with typed clients as the
//! signed-in person ([`backend`]), so the services' own scoping applies: a page
//! shows only what its reader may see.

pub mod authorities;
pub mod backend;
pub mod caseload;
pub mod charts;
pub mod council;
pub mod dashboard;
pub mod fields;
pub mod layout;
pub mod lists;
pub mod oidc_login;
pub mod pages;
pub mod professionals;
pub mod pupil;
pub mod pupil_changes;
pub mod pupil_form;
pub mod referral;
pub mod referral_actions;
pub mod referral_form;
pub mod referral_list;
pub mod register;
pub mod schools;
pub mod senco_compliance;
pub mod session;
pub mod signin;
pub mod wording;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http::HeaderValue;
use sen_platform::identity::{IdentitySigner, Role};

use crate::upstream::Upstreams;
use crate::web::backend::Backend;
use crate::web::session::{Session, SessionKeys};

/// What the pages need.
#[derive(Debug)]
pub struct Web {
    /// The services (and the gateway's own).
    pub upstreams: Upstreams,
    /// Mints the internal identity token of each page request.
    pub internal: IdentitySigner,
    /// Signs and checks session cookies.
    pub sessions: SessionKeys,
    /// How people sign in.
    pub login: signin::Login,
    /// Whether cookies are marked `Secure` (TLS or production).
    pub secure_cookies: bool,
}

impl Web {
    /// The services as `session` calls them.
    pub fn backend(&self, session: &Session) -> Backend {
        Backend::new(self.upstreams.clone(), session.caller.clone())
    }
}

/// Every page route, with security headers on every answer.
pub fn router(web: Arc<Web>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/static/{file}", get(static_file))
        .merge(signin::routes())
        .merge(register::routes())
        .merge(pupil::routes())
        .merge(referral_form::routes())
        .merge(referral::routes())
        .merge(referral_list::routes())
        .merge(dashboard::routes())
        .merge(council::routes())
        .merge(schools::routes())
        .merge(senco_compliance::routes())
        .merge(professionals::routes())
        .merge(authorities::routes())
        .merge(caseload::routes())
        .with_state(web)
        .layer(middleware::from_fn(security_headers))
}

/// Where each role starts.
pub fn start_page(role: Role) -> &'static str {
    match role {
        Role::LaManager | Role::CaseOfficer => "/dashboard",
        Role::Senco => "/school",
        Role::EducationalPsychologist | Role::AdvisoryTeacher => "/caseload",
        Role::PlatformOperator | Role::Service => "/authorities",
    }
}

async fn home(session: Option<Session>) -> Response {
    match session {
        Some(session) => Redirect::to(start_page(session.role())).into_response(),
        None => Redirect::to("/sign-in").into_response(),
    }
}

impl axum::extract::OptionalFromRequestParts<Arc<Web>> for Session {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        web: &Arc<Web>,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(<Session as axum::extract::FromRequestParts<Arc<Web>>>::from_request_parts(parts, web).await.ok())
    }
}

/// The stylesheets and scripts, compiled into the binary (no build step, no
/// download at run time).
const STATIC: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("static/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("static/app.js")),
];

async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match STATIC.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => {
            ([(http::header::CONTENT_TYPE, *content_type), (http::header::CACHE_CONTROL, "public, max-age=300")], *body)
                .into_response()
        }
        None => http::StatusCode::NOT_FOUND.into_response(),
    }
}

/// Headers that keep pages from being framed, sniffed or fed outside scripts.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(http::header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(http::header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(http::header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(http::header::CACHE_CONTROL) {
        // Pages carry children's information: never kept by a shared or back-button cache.
        headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
