//! The live feed of the referrals list (`/referrals/live`): a server-sent-events
//! relay of `WatchReferrals` for the signed-in person.
//!
//! Each change is an event `referral` whose data is the referral's id only (the
//! page fetches itself again to show it, so nothing the person may not see is
//! ever in an event) and whose id is the change's position. The stream opens
//! with an event carrying only the position the watch begins after, so the
//! browser knows where it is before any change comes. When the stream drops,
//! the browser's `EventSource` reconnects by itself and sends the last id as
//! `Last-Event-ID`; the watch resumes after it and the changes missed meanwhile
//! arrive first, in order, none twice. If that position can no longer be
//! resumed from (older than the changes kept, or not one the service gave),
//! the watch starts afresh and its first event is `reload`: the page fetches
//! itself again, which shows whatever it missed.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::StreamExt;
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use tonic::{Code, Status, Streaming};

use crate::backend::Backend;
use crate::refusals::{PageResult, from_status};
use crate::session::Session;
use crate::state::Web;

/// Who may watch referrals (as `WatchReferrals`).
const WATCHERS: &[Role] =
    &[Role::LaManager, Role::CaseOfficer, Role::Senco, Role::EducationalPsychologist, Role::AdvisoryTeacher];

/// Where the browser says it got to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resume {
    /// A first connection.
    Fresh,
    /// A reconnection after this position.
    After(i64),
    /// A reconnection with an id that is not a position.
    Unusable,
}

impl Resume {
    fn from_headers(headers: &HeaderMap) -> Self {
        match headers.get("last-event-id").map(|v| v.to_str().map(|s| s.trim().parse::<i64>())) {
            None => Resume::Fresh,
            Some(Ok(Ok(after))) => Resume::After(after),
            Some(_) => Resume::Unusable,
        }
    }
}

/// Relays the caller's `WatchReferrals` stream as server-sent events, resuming
/// after the browser's `Last-Event-ID`.
pub async fn live(State(web): State<Arc<Web>>, session: Session, headers: HeaderMap) -> PageResult {
    session.require(WATCHERS)?;
    let backend = web.backend(&session);
    let (watching, reload) = match Resume::from_headers(&headers) {
        Resume::Fresh => (watch(&backend, None).await, false),
        Resume::After(after) => match watch(&backend, Some(after)).await {
            Err(status) if cannot_resume(&status) => (watch(&backend, None).await, true),
            resumed => (resumed, false),
        },
        Resume::Unusable => (watch(&backend, None).await, true),
    };
    let (begins, stream) = watching.map_err(|s| from_status(&session, &s))?;
    let first = opening(begins, reload);
    let changes = futures::stream::unfold(stream, |mut stream| async move {
        // The stream ends on any failure, and the browser reconnects with the last id.
        let change = stream.message().await.ok()??;
        let id = change.referral.map(|r| r.id).unwrap_or_default();
        let event = Event::default().event("referral").data(id.to_string()).id(change.position.to_string());
        Some((event, stream))
    });
    let events = futures::stream::iter(first).chain(changes).map(Ok::<_, Infallible>);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}

/// The events the stream opens with: `reload` when the page must fetch itself
/// again; and the position the watch begins after, as the id to resume from.
fn opening(begins: Option<i64>, reload: bool) -> Option<Event> {
    let event = if reload {
        // With data, so the page acts on it.
        Event::default().event("reload").data("reload")
    } else {
        // An id alone: the browser keeps it for reconnecting, and nothing fires.
        Event::default()
    };
    match begins {
        Some(position) => Some(event.id(position.to_string())),
        None => reload.then_some(event),
    }
}

/// A position the service will not resume from: the page reloads instead.
fn cannot_resume(status: &Status) -> bool {
    matches!(status.code(), Code::DataLoss | Code::InvalidArgument)
}

/// Opens a watch as the signed-in person, after `after` or from now: the position
/// it begins after (if the service said), and the stream.
async fn watch(backend: &Backend, after: Option<i64>) -> Result<(Option<i64>, Streaming<pb::ReferralChange>), Status> {
    let mut request = backend.request(pb::WatchReferralsRequest { after_position: after });
    // A watch lasts as long as the page is open: no call deadline.
    request.metadata_mut().remove("grpc-timeout");
    let response = backend.referrals()?.watch_referrals(request).await?;
    let begins = response
        .metadata()
        .get(sen_proto::WATCH_POSITION_METADATA)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    Ok((begins, response.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(id: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("last-event-id", id.parse().unwrap());
        headers
    }

    #[test]
    fn the_browser_resumes_after_the_position_it_sends_as_last_event_id() {
        assert_eq!(Resume::from_headers(&HeaderMap::new()), Resume::Fresh);
        assert_eq!(Resume::from_headers(&with("42")), Resume::After(42));
        assert_eq!(Resume::from_headers(&with(" 7 ")), Resume::After(7));
        assert_eq!(Resume::from_headers(&with("abc")), Resume::Unusable);
    }

    #[test]
    fn only_a_position_the_service_refuses_makes_the_page_reload() {
        assert!(cannot_resume(&Status::data_loss("no longer kept")));
        assert!(cannot_resume(&Status::invalid_argument("after_position")));
        assert!(!cannot_resume(&Status::unavailable("down")), "that is a refusal to show, not a reload");
    }

    #[test]
    fn the_stream_opens_with_the_position_to_resume_from_and_a_reload_when_one_is_due() {
        let text = |event: Option<Event>| event.map(|e| format!("{e:?}")).unwrap_or_default();
        assert!(text(opening(Some(12), false)).contains("id: 12"));
        assert!(!text(opening(Some(12), false)).contains("event: "), "nothing fires");
        let reload = text(opening(Some(12), true));
        assert!(reload.contains("event: reload") && reload.contains("data: reload") && reload.contains("id: 12"));
        assert!(opening(None, false).is_none());
        assert!(text(opening(None, true)).contains("event: reload"));
    }
}
