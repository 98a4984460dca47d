//! The sign-in area: signing in and out. In the embedded mode a page lists the
//! demo people to sign in as (no identity provider needed); in production the
//! authority's OpenID Connect provider signs people in ([`oidc_login`]:
//! `/sign-in` sends them there, `/sign-in/callback` brings them back; and
//! `/sign-in/recheck` confirms a long sign-in there again without asking the
//! person anything). Either way the sign-in ends in [`complete`], which starts
//! the session; signing out ends it in the store, so its cookie no longer works.
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
use sen_gateway::sessions::EndReason;

use self::complete::signed_in;
use self::oidc_login::ProviderLogin;
use crate::layout::{public_page, role_name, start_page};
use crate::session::{CSRF_FIELD, Session, Sessions, url_encode};
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
        .route("/sign-in/recheck", get(recheck))
        .route("/sign-out", post(sign_out))
        .layer(Extension(Arc::new(login)))
}

/// A return address on this site, or none.
///
/// Only an absolute path of this origin is taken back to after signing in: `/`
/// alone, or `/` followed by a letter or digit (every page of the site starts
/// so), made only of printable ASCII with no backslash. That refuses every
/// shape a browser reads as another host: `//host`, `/\host`, and the same
/// with a tab, newline or other control character between the slashes (which
/// browsers strip from URLs, so `/%09/host` arrives as `/\t/host` and would
/// become `//host`), as well as encoded slashes such as `/%2F/host`, which
/// some servers and proxies decode.
fn local(next: Option<&String>) -> Option<&str> {
    next.map(String::as_str).filter(|next| is_local_path(next))
}

fn is_local_path(next: &str) -> bool {
    let Some(rest) = next.strip_prefix('/') else {
        return false;
    };
    let starts_a_page = rest.chars().next().is_none_or(|c| c.is_ascii_alphanumeric());
    let printable = rest.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    starts_a_page && printable
}

/// The cookie that carries the demo sign-in form's token (a double-submitted
/// token: a page of another site can post the form but can neither read nor
/// set this cookie, so it cannot sign a visitor in as someone of its choosing).
const SIGN_IN_COOKIE: &str = "sen_sign_in";

/// A fresh random token for one sign-in form.
fn sign_in_token() -> String {
    use base64::Engine;
    use rand_core::RngCore;
    let mut bytes = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The sign-in form's token cookie in `headers`, if any.
fn sign_in_cookie(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SIGN_IN_COOKIE)
        .map(|(_, value)| value)
}

async fn sign_in_page(
    State(web): State<Arc<Web>>,
    Extension(login): Extension<Arc<Login>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    match login.as_ref() {
        Login::Provider(login) => oidc_login::start(login, local(query.get("next")), oidc_login::Prompt::Login).await,
        Login::Demo(people) => {
            let next = local(query.get("next")).unwrap_or("");
            let token = sign_in_token();
            let cookie = format!(
                "{SIGN_IN_COOKIE}={token}; Path=/sign-in; HttpOnly; SameSite=Strict; Max-Age=3600{}",
                if web.secure_cookies { "; Secure" } else { "" }
            );
            let mut tenants: Vec<String> =
                people.iter().filter_map(|p| p.grant.tenant.map(|t| t.to_string())).collect();
            tenants.dedup();
            if people.is_empty() {
                return public_page("Sign in", alone_page()).into_response();
            }
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
                                    input type="hidden" name=(CSRF_FIELD) value=(token);
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
            ([(http::header::SET_COOKIE, cookie)], public_page("Sign in", body)).into_response()
        }
    }
}

/// The sign-in page of a development gateway that runs alone (`sen serve
/// gateway` without an identity provider): it has no demo people to offer, so
/// it says how a session is opened instead.
fn alone_page() -> maud::Markup {
    html! {
        h1 class="heading-l" { "Sign in" }
        p class="body" {
            "This gateway runs alone in the development mode, with no identity provider and no demo people to sign in as. "
            "A session is opened from the command line, with the gateway's data folder:"
        }
        pre class="body" { code { "sen sessions open --role la_manager --tenant 886" } }
        p class="body" {
            "It prints the session cookie (" code { "sen_session=…" } ") to send with each request. "
            "In production, people sign in with their council account."
        }
    }
}

async fn sign_in(
    State(web): State<Arc<Web>>,
    Extension(login): Extension<Arc<Login>>,
    headers: http::HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    match login.as_ref() {
        Login::Demo(people) => {
            let sent = form.get(CSRF_FIELD).map(String::as_str).unwrap_or_default();
            let expected = sign_in_cookie(&headers).unwrap_or_default();
            if expected.is_empty() || !crate::session::constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
                let body = html! {
                    h1 class="heading-l" { "Sign in again" }
                    p class="body" {
                        "This sign-in form has expired or did not come from this site, so nobody was signed in. "
                        a class="link" href="/sign-in" { "Open the sign-in page" } " and choose again."
                    }
                };
                return (StatusCode::FORBIDDEN, public_page("Sign in again", body)).into_response();
            }
            let chosen = form.get("person").and_then(|n| n.parse::<usize>().ok()).and_then(|n| people.get(n));
            let Some(person) = chosen else {
                return (StatusCode::BAD_REQUEST, Redirect::to("/sign-in")).into_response();
            };
            let next = local(form.get("next")).unwrap_or(start_page(person.grant.role)).to_owned();
            signed_in(&web, &person.grant, Some(&person.name), &next).await
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
            oidc_login::callback(&web, login, cookie, crate::session::cookie_in(&headers), back).await
        }
        Login::Demo(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn sign_out(
    State(web): State<Arc<Web>>,
    session: Session,
    headers: http::HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = session.check_csrf(form.get(CSRF_FIELD).map(String::as_str)) {
        return refused.into_response();
    }
    let ended = match crate::session::cookie_in(&headers) {
        Some(value) => match web.sessions.check(value).await {
            Ok(Some(live)) => web.sessions.end(&live, EndReason::SignedOut).await.map(|_| ()),
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        },
        None => Ok(()),
    };
    if let Err(e) = ended {
        // The cookie stays, so that signing out can be tried again.
        tracing::error!(error = %format!("{e:#}"), "cannot end a session");
        return crate::refusals::unavailable();
    }
    tracing::info!(person = %session.caller.grant.person, "signed out");
    ([(http::header::SET_COOKIE, Sessions::sign_out(web.secure_cookies))], Redirect::to("/sign-in")).into_response()
}

/// `GET /sign-in/recheck`: a signed-in person is confirmed at the provider
/// again (no questions asked of them there) and comes back to `next`. Without a
/// live session: the sign-in page.
async fn recheck(
    State(web): State<Arc<Web>>,
    Extension(login): Extension<Arc<Login>>,
    Query(query): Query<HashMap<String, String>>,
    headers: http::HeaderMap,
) -> Response {
    let next = local(query.get("next"));
    let live = match crate::session::cookie_in(&headers) {
        Some(value) => web.sessions.check(value).await,
        None => Ok(None),
    };
    match (login.as_ref(), live) {
        (_, Err(e)) => {
            tracing::error!(error = %format!("{e:#}"), "the session store did not answer");
            crate::refusals::unavailable()
        }
        (Login::Provider(login), Ok(Some(_))) => oidc_login::start(login, next, oidc_login::Prompt::None).await,
        (Login::Demo(_), Ok(Some(_))) => Redirect::to(next.unwrap_or("/")).into_response(),
        (_, Ok(None)) => {
            let again = next.map_or_else(|| "/sign-in".to_owned(), |n| format!("/sign-in?next={}", url_encode(n)));
            Redirect::to(&again).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn a_return_address_on_this_site_is_kept() {
        for next in [
            "/",
            "/council",
            "/council/referrals?status=REFERRAL_STATUS_SUBMITTED&page=2",
            "/school/100001/pupils/42",
            "/caseload?q=a%2Fb",
        ] {
            assert!(is_local_path(next), "{next:?} is a page of this site");
        }
    }

    #[test]
    fn a_return_address_a_browser_would_take_to_another_site_is_refused() {
        for next in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/%09/evil.example",
            "/%2F/evil.example",
            "/%2f/evil.example",
            "/%5C/evil.example",
            "/ /evil.example",
            "https://evil.example",
            "evil.example",
            "/council\r\nSet-Cookie: x=1",
            "/council\\..\\evil",
            "",
        ] {
            assert!(!is_local_path(next), "{next:?} must not be followed after signing in");
        }
    }
}
