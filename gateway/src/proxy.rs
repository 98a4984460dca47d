//! The transparent gRPC proxy: a `sen.v1` call goes to the service owning it
//! byte for byte (no decoding or re-encoding), with the caller's identity
//! replaced by the internal token, the trace context carried on, and the
//! deadline capped.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Request};
use tonic::Code;
use tower::ServiceExt;

use crate::caller::Caller;
use crate::policy;
use crate::upstream::Upstreams;

/// The largest request a unary or server-streaming gRPC call may send.
pub const MAX_UNARY_BODY: usize = 4 * 1024 * 1024;
/// The largest upload a client-streaming call (the GIAS import) may send.
pub const MAX_STREAMED_BODY: usize = 64 * 1024 * 1024;

/// Which side of each method streams, from the descriptors.
#[derive(Clone, Copy, Debug, Default)]
pub struct Shape {
    /// The client sends a stream.
    pub client_streaming: bool,
    /// The server answers with a stream.
    pub server_streaming: bool,
}

static SHAPES: LazyLock<HashMap<String, Shape>> = LazyLock::new(|| {
    let Ok(pool) = prost_reflect::DescriptorPool::decode(sen_proto::FILE_DESCRIPTOR_SET) else {
        return HashMap::new();
    };
    pool.services()
        .flat_map(|service| {
            service
                .methods()
                .map(|m| {
                    let shape =
                        Shape { client_streaming: m.is_client_streaming(), server_streaming: m.is_server_streaming() };
                    (format!("/{}/{}", service.full_name(), m.name()), shape)
                })
                .collect::<Vec<_>>()
        })
        .collect()
});

/// Whether either side of the method at `path` streams.
pub fn shape(path: &str) -> Shape {
    SHAPES.get(path).copied().unwrap_or_default()
}

/// A gRPC answer carrying only a status (a "trailers-only" response).
pub fn status_response(code: Code, message: &str) -> Response {
    tonic::Status::new(code, message).into_http::<Body>()
}

/// Whether the request is a gRPC call.
pub fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// What the proxy needs besides the request.
#[derive(Clone, Debug)]
pub struct Proxy {
    /// Where each service answers.
    pub upstreams: Upstreams,
    /// The longest a unary call may take; the caller's own deadline is kept when shorter.
    pub timeout: Duration,
}

impl Proxy {
    /// Forwards an authenticated gRPC call, or refuses it.
    pub async fn forward(self: Arc<Self>, caller: &Caller, mut request: Request<Body>) -> Response {
        let path = request.uri().path().to_owned();
        let Some(rule) = policy::for_grpc_path(&path) else {
            return if path.starts_with("/sen.") {
                status_response(Code::PermissionDenied, "this method is not open through the gateway")
            } else {
                status_response(Code::Unimplemented, "no such method")
            };
        };
        if !rule.admits(caller.grant.role) {
            return status_response(
                Code::PermissionDenied,
                &format!("the {} role may not call {}", caller.grant.role, rule.method),
            );
        }
        let Some(upstream) = self.upstreams.route(rule.service) else {
            return status_response(Code::Unimplemented, "no such service");
        };
        let part = self.upstreams.part(rule.service).unwrap_or("the");
        let shape = shape(&path);
        if let Err(message) = pass_on(request.headers_mut(), &caller.internal_token) {
            return status_response(Code::Internal, message);
        }
        let streaming = shape.client_streaming || shape.server_streaming;
        if !streaming {
            cap_deadline(request.headers_mut(), self.timeout);
        }
        let limit = if shape.client_streaming { MAX_STREAMED_BODY } else { MAX_UNARY_BODY };
        let over_limit = Arc::new(AtomicBool::new(false));
        let request = request.map(|body| tonic::body::Body::new(Capped::new(body, limit, over_limit.clone())));
        // A server stream answers its headers at once and then runs as long as the
        // caller listens; an upload is answered once it is all read; unary calls get the cap.
        let wait = if shape.client_streaming {
            Duration::from_secs(600)
        } else if shape.server_streaming {
            Duration::from_secs(30)
        } else {
            self.timeout
        };
        let answer = tokio::time::timeout(wait, upstream.oneshot(request)).await;
        // Cutting the upload off resets the call upstream, which would otherwise
        // read as the service being lost: the caller is told the limit instead.
        if over_limit.load(Ordering::Acquire) {
            return status_response(
                Code::ResourceExhausted,
                &format!("the request is larger than the {} MiB the gateway accepts for {}", limit >> 20, rule.method),
            );
        }
        match answer {
            Ok(Ok(response)) => response.map(Body::new),
            // The channel's own time limit ran out: the call may still be running
            // there, so it is not a refusal to retry at once.
            Ok(Err(e)) if timed_out(&e) => {
                status_response(Code::DeadlineExceeded, &format!("the {part} service did not answer in time"))
            }
            Ok(Err(e)) => {
                tracing::warn!(service = rule.service, error = %e, "upstream call failed");
                status_response(Code::Unavailable, &format!("the {part} service is unavailable"))
            }
            Err(_) => status_response(Code::DeadlineExceeded, &format!("the {part} service did not answer in time")),
        }
    }
}

/// A request body cut off past `limit` bytes, remembering in `over` that it was.
struct Capped {
    inner: http_body_util::Limited<Body>,
    over: Arc<AtomicBool>,
}

impl Capped {
    fn new(body: Body, limit: usize, over: Arc<AtomicBool>) -> Self {
        Self { inner: http_body_util::Limited::new(body, limit), over }
    }
}

impl http_body::Body for Capped {
    type Data = bytes::Bytes;
    type Error = tower::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let frame = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Err(error))) = &frame
            && error.is::<http_body_util::LengthLimitError>()
        {
            self.over.store(true, Ordering::Release);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `error`, or an error it was caused by, is a channel's time limit running out.
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<tonic::TimeoutExpired>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Removes everything a caller might use to speak for someone else and adds the
/// internal identity and the current trace context.
pub fn pass_on(headers: &mut HeaderMap, internal_token: &str) -> Result<(), &'static str> {
    let forged: Vec<http::HeaderName> = headers
        .keys()
        .filter(|name| {
            let name = name.as_str();
            name.starts_with("x-sen-") || name == "authorization" || name == "cookie" || name == "traceparent"
        })
        .cloned()
        .collect();
    for name in forged {
        headers.remove(&name);
    }
    let token = HeaderValue::from_str(internal_token).map_err(|_| "the internal token cannot be sent")?;
    headers.insert(sen_platform::identity::IDENTITY_METADATA_KEY, token);
    let mut metadata = tonic::metadata::MetadataMap::from_headers(std::mem::take(headers));
    sen_platform::telemetry::inject_trace_context(&mut metadata);
    *headers = metadata.into_headers();
    Ok(())
}

/// Sets `grpc-timeout` to the caller's deadline or `cap`, whichever is sooner.
fn cap_deadline(headers: &mut HeaderMap, cap: Duration) {
    let asked = headers.get("grpc-timeout").and_then(|v| v.to_str().ok()).and_then(parse_grpc_timeout);
    let deadline = asked.map_or(cap, |asked| asked.min(cap));
    if let Ok(value) = HeaderValue::from_str(&format!("{}m", deadline.as_millis().max(1))) {
        headers.insert("grpc-timeout", value);
    }
}

/// Reads a `grpc-timeout` value (`<digits><unit>`, units H M S m u n).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_channel_time_limit_is_told_apart_from_a_lost_service() {
        let late: tower::BoxError = Box::new(tonic::TimeoutExpired(()));
        assert!(super::timed_out(late.as_ref()));
        let refused: tower::BoxError = Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(!super::timed_out(refused.as_ref()));
    }

    use super::*;

    #[test]
    fn forged_identity_and_credentials_are_not_passed_on() {
        let mut headers = HeaderMap::new();
        headers.insert("x-sen-identity", HeaderValue::from_static("forged"));
        headers.insert("x-sen-anything", HeaderValue::from_static("forged"));
        headers.insert("authorization", HeaderValue::from_static("Bearer outside"));
        headers.insert("cookie", HeaderValue::from_static("session=1"));
        headers.insert("content-type", HeaderValue::from_static("application/grpc"));
        pass_on(&mut headers, "internal").unwrap();
        assert_eq!(headers.get("x-sen-identity").unwrap(), "internal");
        assert_eq!(headers.get_all("x-sen-identity").iter().count(), 1);
        assert!(headers.get("x-sen-anything").is_none());
        assert!(headers.get("authorization").is_none());
        assert!(headers.get("cookie").is_none());
        assert_eq!(headers.get("content-type").unwrap(), "application/grpc");
    }

    #[test]
    fn the_callers_deadline_is_kept_when_sooner_and_capped_when_later() {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-timeout", HeaderValue::from_static("2S"));
        cap_deadline(&mut headers, Duration::from_secs(30));
        assert_eq!(headers.get("grpc-timeout").unwrap(), "2000m");
        headers.insert("grpc-timeout", HeaderValue::from_static("5M"));
        cap_deadline(&mut headers, Duration::from_secs(30));
        assert_eq!(headers.get("grpc-timeout").unwrap(), "30000m");
        headers.remove("grpc-timeout");
        cap_deadline(&mut headers, Duration::from_secs(30));
        assert_eq!(headers.get("grpc-timeout").unwrap(), "30000m");
    }

    #[test]
    fn grpc_timeouts_are_read_in_every_unit_and_nonsense_is_ignored() {
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("10u"), Some(Duration::from_micros(10)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("12x"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
    }

    #[test]
    fn the_streaming_methods_are_known_from_the_descriptors() {
        assert!(shape("/sen.v1.ReferralsService/WatchReferrals").server_streaming);
        assert!(shape("/sen.v1.SchoolsService/ImportSchools").client_streaming);
        let unary = shape("/sen.v1.PupilsService/GetPupil");
        assert!(!unary.client_streaming && !unary.server_streaming);
    }
}
