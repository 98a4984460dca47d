//! Request ids: every request carries `x-request-id` (the caller's, when it is a
//! sane one; otherwise one made here) and every response echoes it, so a caller
//! quoting an id leads an operator to the logs. tower-http's request-id layers do
//! the setting and echoing; this module makes the ids and refuses to pass on an
//! id a caller could use to inject text into logs.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::Request;
use http::HeaderValue;
use tower_http::request_id::{MakeRequestId, RequestId};

/// Header carrying the request id, taken from the caller or made here.
pub const REQUEST_ID: &str = "x-request-id";

/// Request ids: a per-process random prefix and a counter.
#[derive(Debug)]
pub struct RequestIds {
    prefix: String,
    next: AtomicU64,
}

impl Default for RequestIds {
    fn default() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or(0);
        Self { prefix: format!("{:08x}{:04x}", nanos, std::process::id() & 0xffff), next: AtomicU64::new(1) }
    }
}

impl RequestIds {
    /// The caller's id when it is a sane one, else a new one.
    pub fn for_request(&self, given: Option<&HeaderValue>) -> HeaderValue {
        if let Some(value) = given
            && is_sane(value)
        {
            return value.clone();
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n}", self.prefix)).unwrap_or(HeaderValue::from_static("unknown"))
    }
}

/// Shared by every clone of the layer: one counter per process.
#[derive(Clone, Debug, Default)]
pub struct MakeIds(std::sync::Arc<RequestIds>);

impl MakeRequestId for MakeIds {
    fn make_request_id<B>(&mut self, request: &http::Request<B>) -> Option<RequestId> {
        Some(RequestId::new(self.0.for_request(request.headers().get(REQUEST_ID))))
    }
}

/// Drops a caller's request id that is not a sane one, so the id layer makes a
/// new one in its place (it keeps any id already present).
pub fn drop_unsafe_id(mut request: Request) -> Request {
    if let Some(given) = request.headers().get(REQUEST_ID)
        && !is_sane(given)
    {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

fn is_sane(value: &HeaderValue) -> bool {
    value.len() <= 128
        && value.to_str().is_ok_and(|v| v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_request_id_is_kept_and_anything_else_replaced() {
        let ids = RequestIds::default();
        let given = HeaderValue::from_static("abc-123");
        assert_eq!(ids.for_request(Some(&given)), given);
        let odd = HeaderValue::from_static("has spaces; and=more");
        assert_ne!(ids.for_request(Some(&odd)), odd);
        assert_ne!(ids.for_request(None), ids.for_request(None));
    }

    #[test]
    fn an_unsafe_id_is_dropped_before_the_id_layer_sees_it() {
        let request = http::Request::builder()
            .header(REQUEST_ID, "has spaces; and=more")
            .body(axum::body::Body::empty())
            .unwrap();
        assert!(drop_unsafe_id(request).headers().get(REQUEST_ID).is_none());
        let kept = http::Request::builder().header(REQUEST_ID, "abc-1").body(axum::body::Body::empty()).unwrap();
        assert_eq!(drop_unsafe_id(kept).headers()[REQUEST_ID], "abc-1");
    }
}
