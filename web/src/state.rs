//! What every page handler is given ([`Web`]): where the services answer, the
//! signer of each request's internal identity token, the sessions, and whether
//! cookies are marked `Secure`; and how a handler gets the signed-in person of
//! its request ([`Session`] as an extractor), which asks the session store on
//! every request.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Redirect, Response};
use http::request::Parts;
use sen_gateway::caller::Caller;
use sen_gateway::sessions::{self, SessionSettings};
use sen_gateway::signing_key::SigningKey;
use sen_gateway::upstream::Upstreams;
use sen_platform::config::{Config, Mode};
use sen_platform::identity::IdentitySigner;

use crate::backend::Backend;
use crate::refusals;
use crate::session::{self, Recheck, Session, Sessions, cookie, csrf_of, url_encode};

/// What the pages need.
#[derive(Debug)]
pub struct Web {
    /// The services (and the gateway's own).
    pub upstreams: Upstreams,
    /// Mints the internal identity token of each page request.
    pub internal: IdentitySigner,
    /// Makes, checks and ends sessions.
    pub sessions: Sessions,
    /// Whether cookies are marked `Secure` (TLS or production).
    pub secure_cookies: bool,
}

impl Web {
    /// The pages' state as configured: internal tokens signed with the gateway's
    /// key; sessions in the configured store, their cookies signed with the
    /// session keys made from the same key (and the previous keys still
    /// accepted), re-checked at the provider when `provider` signs people in;
    /// cookies marked `Secure` when the gateway serves TLS or runs in production.
    pub async fn from_config(
        config: &Config,
        upstreams: Upstreams,
        key: &SigningKey,
        provider: bool,
    ) -> anyhow::Result<Self> {
        let settings = SessionSettings::from_env(config)?;
        let keys = sessions::key_set(key, &settings)?;
        let store = sessions::open(config, &settings, &keys, session::now()).await?;
        Ok(Self {
            upstreams,
            internal: key.signer().clone(),
            sessions: Sessions::new(keys, store, provider.then_some(settings.recheck)),
            secure_cookies: config.tls.is_some() || config.mode == Mode::Production,
        })
    }

    /// The services as `session` calls them.
    pub fn backend(&self, session: &Session) -> Backend {
        Backend::new(self.upstreams.clone(), session.caller.clone())
    }
}

/// Where a request goes instead of its page.
enum Away {
    /// Not signed in (or the session has ended): the sign-in page.
    SignIn,
    /// Signed in, but due to be confirmed at the identity provider first.
    Recheck,
    /// An answer already made (the store or the token signer failed).
    Answer(Response),
}

/// This site's address of the request, to come back to.
fn here(parts: &Parts) -> String {
    let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let next = if next.starts_with('/') && !next.starts_with("//") { next } else { "/" };
    url_encode(next)
}

async fn session_of(parts: &Parts, web: &Web) -> Result<Session, Away> {
    let Some(value) = cookie(parts) else { return Err(Away::SignIn) };
    let live = match web.sessions.check(value).await {
        Ok(Some(live)) => live,
        Ok(None) => return Err(Away::SignIn),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the session store did not answer");
            return Err(Away::Answer(refusals::unavailable()));
        }
    };
    let reading = parts.method == http::Method::GET || parts.method == http::Method::HEAD;
    match web.sessions.recheck(&live, session::now()) {
        Recheck::Due if reading => return Err(Away::Recheck),
        Recheck::Overdue => return Err(Away::Recheck),
        Recheck::Due | Recheck::NotDue => {}
    }
    let internal_token = web.internal.mint(&live.grant, Duration::from_secs(300)).map_err(|e| {
        tracing::error!(error = %e, "cannot mint an internal identity token");
        Away::Answer(refusals::unavailable())
    })?;
    Ok(Session { csrf: csrf_of(value), caller: Caller { grant: live.grant, internal_token }, name: live.name })
}

/// Where a page request that must first be confirmed at the provider goes: a
/// page load comes back to itself; a form (whose content cannot be carried
/// through the provider) to the start.
fn to_recheck(parts: &Parts) -> Response {
    let reading = parts.method == http::Method::GET || parts.method == http::Method::HEAD;
    let next = if reading { here(parts) } else { "/".to_owned() };
    Redirect::to(&format!("/sign-in/recheck?next={next}")).into_response()
}

impl FromRequestParts<Arc<Web>> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Self, Response> {
        match session_of(parts, web).await {
            Ok(session) => Ok(session),
            Err(Away::SignIn) => Err(Redirect::to(&format!("/sign-in?next={}", here(parts))).into_response()),
            Err(Away::Recheck) => Err(to_recheck(parts)),
            Err(Away::Answer(response)) => Err(response),
        }
    }
}

impl OptionalFromRequestParts<Arc<Web>> for Session {
    type Rejection = Response;

    /// `None` when nobody is signed in; a session due to be confirmed still goes
    /// by the provider first.
    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Option<Self>, Response> {
        match session_of(parts, web).await {
            Ok(session) => Ok(Some(session)),
            Err(Away::SignIn) => Ok(None),
            Err(Away::Recheck) => Err(to_recheck(parts)),
            Err(Away::Answer(response)) => Err(response),
        }
    }
}
