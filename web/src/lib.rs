//! The web face of the platform: server-rendered pages for the council SEN team,
//! SENCOs and the EPs and advisory teachers, which the gateway mounts on its
//! front port (`sen_gateway::app` takes them as a plain router).
//!
//! Pages are HTML built on the server (maud) in the manner of the GOV.UK Design
//! System, with a little JavaScript for live updates; every page works without
//! it. Sign-in starts a session the gateway keeps, carried by a signed cookie
//! ([`session`]); every form carries a CSRF token bound to it. Pages call the
//! services with typed clients as the signed-in person ([`backend`]), so the
//! services' own scoping applies: a page shows only what its reader may see.
//!
//! One folder per area of the product, each owning its routes, forms and views:
//!
//! - [`council`]: the council team's dashboard and charts, the deadline lists,
//!   schools, SENCO compliance, the caseload balance, and the operator's authorities;
//! - [`register`]: a school's SEN register, the pupil page and the forms that
//!   change a pupil's record;
//! - [`referrals`]: the referrals list and its live feed, the referral form, and
//!   a referral's page with its decisions and allocation;
//! - [`caseload`]: a professional's caseload and a case's page;
//! - [`signin`]: signing in (demo people, or the authority's provider) and out.
//!
//! Beneath them, the parts every area builds with, none of which knows any area:
//! [`state`] (what every handler is given), [`session`], [`refusals`] (the pages
//! answered instead, and the checks that answer them), [`layout`], [`fields`],
//! [`wording`], [`lists`], [`exports`] (the lists as CSV and XLSX files),
//! [`backend`], [`lookups`] and [`people`].
//!
//! Imports run one way: this file (the router) imports the areas; an area imports
//! its own files and the shared parts, never another area; a shared part imports
//! only the shared parts beneath it; no two modules import each other.

pub mod backend;
pub mod caseload;
pub mod council;
pub mod exports;
pub mod fields;
pub mod layout;
pub mod lists;
pub mod lookups;
pub mod multipart;
pub mod people;
pub mod referrals;
pub mod refusals;
pub mod register;
pub mod session;
pub mod signin;
pub mod state;
pub mod wording;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http::HeaderValue;
use sen_gateway::Pages;
use sen_gateway::config::GatewaySettings;
use sen_gateway::signing_key::SigningKey;
use sen_gateway::upstream::Upstreams;
use sen_platform::config::{Config, Mode};

pub use crate::signin::{DemoPerson, Login};
pub use crate::state::Web;

use crate::layout::start_page;
use crate::session::Session;
use crate::signin::oidc_login::{LoginSettings, ProviderLogin};

/// Every page route, signing people in with `login`, with security headers on
/// every answer.
pub fn router(web: Arc<Web>, login: Login) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/static/{file}", get(static_file))
        .merge(signin::routes(login))
        .merge(register::routes())
        .merge(referrals::routes())
        .merge(council::routes())
        .merge(caseload::routes())
        .with_state(web)
        .layer(middleware::from_fn(security_headers))
}

/// The pages as the gateway mounts them: [`router`]'s routes, and the check of
/// the session cookie by which the gateway holds a page request to its
/// person's limits rather than a stranger's.
pub fn pages(web: Arc<Web>, login: Login) -> Pages {
    let signed = web.sessions.clone();
    // The signature alone: it decides whose allowance a request uses; the page
    // itself asks the store whether the session is live.
    let sessions: sen_gateway::layers::SessionCheck =
        Arc::new(move |headers| session::cookie_in(headers).and_then(|value| signed.grant_of(value)));
    Pages { routes: router(web, login), sessions }
}

/// The pages of the embedded mode: the demo people sign in.
pub async fn demo_pages(
    config: &Config,
    upstreams: Upstreams,
    key: &SigningKey,
    people: Vec<DemoPerson>,
) -> anyhow::Result<Pages> {
    let web = Web::from_config(config, upstreams, key, false).await?;
    Ok(pages(Arc::new(web), Login::Demo(people)))
}

/// The pages of `sen serve gateway`: when a web client of the authority's
/// identity provider is configured (`SEN_OIDC_CLIENT_ID`), people sign in
/// there. Without one, production serves no pages (`None`), while the
/// embedded (development) mode serves them with the demo sign-in and no demo
/// people of its own: this gateway runs alone, and a session is opened with
/// `sen sessions open` (for measuring or scripting the pages as any role).
pub async fn gateway_pages(
    config: &Config,
    settings: &GatewaySettings,
    upstreams: Upstreams,
    key: &SigningKey,
) -> anyhow::Result<Option<Pages>> {
    let login = match (LoginSettings::from_env(settings.oidc.as_ref())?, &settings.oidc) {
        (Some(login), Some(oidc)) => ProviderLogin::new(login, oidc, key.pem())?,
        _ if config.mode == Mode::Embedded => return demo_pages(config, upstreams, key, Vec::new()).await.map(Some),
        _ => return Ok(None),
    };
    let web = Web::from_config(config, upstreams, key, true).await?;
    Ok(Some(pages(Arc::new(web), Login::Provider(Arc::new(login)))))
}

async fn home(session: Option<Session>) -> Response {
    match session {
        Some(session) => Redirect::to(start_page(session.role())).into_response(),
        None => Redirect::to("/sign-in").into_response(),
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
    // A download sets a stricter policy of its own (a sandbox), which is kept.
    if !headers.contains_key(http::header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            http::header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    headers.insert(http::header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(http::header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(http::header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Browsers heed this only over HTTPS, so it is safe on the embedded mode's HTTP.
    headers.insert(http::header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    if !headers.contains_key(http::header::CACHE_CONTROL) {
        // Pages carry children's information: never kept by a shared or back-button cache.
        headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
