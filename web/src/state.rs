//! What every page handler is given ([`Web`]): where the services answer, the
//! signer of each request's internal identity token, the session keys, and
//! whether cookies are marked `Secure`; and how a handler gets the signed-in
//! person of its request ([`Session`] as an extractor).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Redirect, Response};
use http::request::Parts;
use sen_gateway::caller::Caller;
use sen_gateway::signing_key::SigningKey;
use sen_gateway::upstream::Upstreams;
use sen_platform::config::{Config, Mode};
use sen_platform::identity::IdentitySigner;

use crate::backend::Backend;
use crate::refusals;
use crate::session::{Session, SessionKeys, cookie, csrf_of, url_encode};

/// What the pages need.
#[derive(Debug)]
pub struct Web {
    /// The services (and the gateway's own).
    pub upstreams: Upstreams,
    /// Mints the internal identity token of each page request.
    pub internal: IdentitySigner,
    /// Signs and checks session cookies.
    pub sessions: SessionKeys,
    /// Whether cookies are marked `Secure` (TLS or production).
    pub secure_cookies: bool,
}

impl Web {
    /// The pages' state as configured: internal tokens signed with the gateway's
    /// key, session cookies with keys made from the same key, and cookies marked
    /// `Secure` when the gateway serves TLS or runs in production.
    pub fn from_config(config: &Config, upstreams: Upstreams, key: &SigningKey) -> anyhow::Result<Self> {
        Ok(Self {
            upstreams,
            internal: key.signer().clone(),
            sessions: SessionKeys::from_pem(key.pem()).map_err(anyhow::Error::msg)?,
            secure_cookies: config.tls.is_some() || config.mode == Mode::Production,
        })
    }

    /// The services as `session` calls them.
    pub fn backend(&self, session: &Session) -> Backend {
        Backend::new(self.upstreams.clone(), session.caller.clone())
    }
}

impl FromRequestParts<Arc<Web>> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Self, Response> {
        let to_sign_in = || {
            let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let next = if next.starts_with('/') && !next.starts_with("//") { next } else { "/" };
            let encoded: String = url_encode(next);
            Redirect::to(&format!("/sign-in?next={encoded}")).into_response()
        };
        let Some(value) = cookie(parts) else { return Err(to_sign_in()) };
        let Some(grant) = web.sessions.check(value) else { return Err(to_sign_in()) };
        let internal_token = web.internal.mint(&grant, Duration::from_secs(300)).map_err(|e| {
            tracing::error!(error = %e, "cannot mint an internal identity token");
            refusals::unavailable()
        })?;
        Ok(Session { csrf: csrf_of(value), caller: Caller { grant, internal_token } })
    }
}

impl OptionalFromRequestParts<Arc<Web>> for Session {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Option<Self>, Self::Rejection> {
        Ok(<Session as FromRequestParts<Arc<Web>>>::from_request_parts(parts, web).await.ok())
    }
}
