//! The sign-in area: signing in and out. In the embedded mode a page lists the
//! demo people to sign in as (no identity provider needed); in production the
//! authority's OpenID Connect provider signs people in ([`oidc_login`]:
//! `/sign-in` sends them there, `/sign-in/callback` brings them back). Either way
//! the sign-in ends in [`complete`], which sets the session cookie.
//!
//! How people sign in ([`Login`]) is given to the routes when the pages are made
//! and reaches the handlers as a request extension.

pub mod complete;
pub mod oidc_login;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use http::StatusCode;
use maud::html;

use self::complete::signed_in;
use self::oidc_login::ProviderLogin;
use crate::layout::{public_page, role_name, start_page};
use crate::session::{CSRF_FIELD, Session, SessionKeys};
use crate::state::Web;

/// Someone the demo sign-in page offers (the embedded mode): each service of
/// the demo names its own.
pub use sen_platform::demo::DemoPerson;

/// How people sign in.
#[derive(Debug)]
pub enum Login {
    /// The embedded mode: pick a demo person.
    Demo(Vec<DemoPerson>),
    /// Production: the authority's OpenID Connect provider ([`oidc_login`]).
    Provider(Arc<ProviderLogin>),
}

/// The sign-in routes, signing people in with `login`.
pub(crate) fn routes(login: Login) -> Router<Arc<Web>> {
    Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-in/callback", get(callback))
        .route("/sign-out", post(sign_out))
        .layer(Extension(Arc::new(login)))
}

/// A return address on this site, or none.
fn local(next: Option<&String>) -> Option<&str> {
    next.map(String::as_str).filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
}

async fn sign_in_page(
    Extension(login): Extension<Arc<Login>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    match login.as_ref() {
        Login::Provider(login) => oidc_login::start(login, local(query.get("next"))).await,
        Login::Demo(people) => {
            let next = local(query.get("next")).unwrap_or("");
            let mut tenants: Vec<String> =
                people.iter().filter_map(|p| p.grant.tenant.map(|t| t.to_string())).collect();
            tenants.dedup();
            let body = html! {
                h1 class="heading-l" { "Sign in to the demo" }
                p class="body" {
                    "This is the embedded demonstration of the platform. Choose whom to sign in as: each sees only what their role allows. "
                    "In production, people sign in with their council account."
                }
                @for tenant in &tenants {
                    h2 class="heading-m" { "Authority " (tenant) }
                    ul class="person-list" {
                        @for (n, person) in people.iter().enumerate().filter(|(_, p)| p.grant.tenant.map(|t| t.to_string()).as_deref() == Some(tenant.as_str())) {
                            li class="person-list__item" {
                                form method="post" action="/sign-in" {
                                    input type="hidden" name="person" value=(n);
                                    input type="hidden" name="next" value=(next);
                                    button type="submit" class="button button--secondary" {
                                        "Sign in as " (person.description)
                                    }
                                    span class="hint" { (role_name(person.grant.role)) }
                                }
                            }
                        }
                    }
                }
            };
            public_page("Sign in", body).into_response()
        }
    }
}

async fn sign_in(
    State(web): State<Arc<Web>>,
    Extension(login): Extension<Arc<Login>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    match login.as_ref() {
        Login::Demo(people) => {
            let chosen = form.get("person").and_then(|n| n.parse::<usize>().ok()).and_then(|n| people.get(n));
            let Some(person) = chosen else {
                return (StatusCode::BAD_REQUEST, Redirect::to("/sign-in")).into_response();
            };
            let next = local(form.get("next")).unwrap_or(start_page(person.grant.role)).to_owned();
            signed_in(&web, &person.grant, &next)
        }
        // The provider's sign-in starts with a GET; a form posted here goes there.
        Login::Provider(_) => Redirect::to("/sign-in").into_response(),
    }
}

/// Where the provider sends people back (production only).
async fn callback(
    State(web): State<Arc<Web>>,
    Extension(login): Extension<Arc<Login>>,
    Query(back): Query<oidc_login::Callback>,
    headers: http::HeaderMap,
) -> Response {
    match login.as_ref() {
        Login::Provider(login) => {
            let cookie = headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(name, _)| *name == oidc_login::LOGIN_COOKIE)
                .map(|(_, value)| value);
            oidc_login::callback(&web, login, cookie, back).await
        }
        Login::Demo(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn sign_out(
    State(web): State<Arc<Web>>,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = session.check_csrf(form.get(CSRF_FIELD).map(String::as_str)) {
        return refused.into_response();
    }
    tracing::info!(person = %session.caller.grant.person, "signed out");
    ([(http::header::SET_COOKIE, SessionKeys::sign_out(web.secure_cookies))], Redirect::to("/sign-in")).into_response()
}
