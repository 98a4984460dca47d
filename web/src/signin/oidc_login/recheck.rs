//! The end of a re-check at the provider (`prompt=none`): the live session of
//! this browser is confirmed, or ended.
//!
//! - The provider names the same person with the same role, authority and
//!   school: the session is marked confirmed and the person goes on to the page
//!   they were loading.
//! - The same person with another role (or scope), or no role here at all: the
//!   role was changed or removed at the provider, so every session of theirs
//!   ends, as `sen sessions end` would end them. With another role they sign in
//!   afresh (and get it); with none they are told so.
//! - Anything else (the provider no longer knows them, would ask them
//!   something, cannot be reached, names someone else): this session ends and
//!   they sign in again.
//! - An answer that is not this browser's flow (a state or nonce of another
//!   tab's re-check, or forged) says nothing of the person: the session is left
//!   as it is, and a page says the check did not work (never a redirect, which
//!   could loop).

use axum::response::{IntoResponse, Redirect, Response};
use sen_gateway::sessions::EndReason;
use sen_platform::identity::Grant;

use super::{NotSignedIn, failure};
use crate::layout::start_page;
use crate::refusals;
use crate::session::url_encode;
use crate::state::Web;

/// Confirms or ends the session of `session` (the session cookie's value) by
/// the provider's answer, then goes to `next`.
pub(super) async fn finish(
    web: &Web,
    session: Option<&str>,
    outcome: Result<Grant, NotSignedIn>,
    next: Option<&str>,
) -> Response {
    let sign_in_again = || {
        let again = next.map_or_else(|| "/sign-in".to_owned(), |n| format!("/sign-in?next={}", url_encode(n)));
        Redirect::to(&again).into_response()
    };
    let live = match session {
        Some(value) => web.sessions.check(value).await,
        None => Ok(None),
    };
    let live = match live {
        Ok(Some(live)) => live,
        Ok(None) => return sign_in_again(),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the session store did not answer");
            return refusals::unavailable();
        }
    };
    if let Err(refused) = &outcome
        && refused.crossed
    {
        return failure(refused.status, refused.message, next);
    }
    let same_person = |grant: &Grant| grant.person == live.grant.person;
    let ended = match &outcome {
        Ok(grant) if *grant == live.grant => {
            return match web.sessions.confirmed(&live).await {
                Ok(_) => {
                    tracing::info!(person = %live.grant.person, "the identity provider confirmed a session");
                    Redirect::to(next.unwrap_or(start_page(live.grant.role))).into_response()
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "cannot record a confirmed session");
                    refusals::unavailable()
                }
            };
        }
        Ok(grant) if same_person(grant) => web.sessions.end_person(&live.grant, EndReason::RoleChanged).await,
        Err(refused) if refused.no_role => web.sessions.end_person(&live.grant, EndReason::RoleChanged).await,
        Ok(_) | Err(_) => web.sessions.end(&live, EndReason::RecheckFailed).await.map(u64::from),
    };
    match ended {
        Ok(count) => {
            let person = &live.grant.person;
            tracing::info!(%person, sessions = count, "a re-check at the identity provider ended sessions");
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "cannot end a session after a failed re-check");
            return refusals::unavailable();
        }
    }
    match outcome {
        Err(refused) if refused.no_role => failure(refused.status, refused.message, next),
        _ => sign_in_again(),
    }
}
