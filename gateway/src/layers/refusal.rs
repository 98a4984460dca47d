//! The answers the front door gives when it turns a request away before any
//! handler runs: over a rate limit, no working place free, a body too slow or
//! too large. Each is given in the caller's own protocol ([`Face`]): a gRPC
//! status (with a `retry-after` metadata entry and a `google.rpc.RetryInfo`
//! detail when waiting helps), the JSON API's error body, or a short page for a
//! browser; the HTTP ones carry `Retry-After` when waiting helps.

use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Request, StatusCode, Version, header};
use tonic::Code;
use tonic::metadata::MetadataMap;
use tonic_types::{ErrorDetails, StatusExt};

use crate::json::ApiError;
use crate::proxy::is_grpc;

/// Which of the gateway's faces a request came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Face {
    /// A gRPC call.
    Grpc,
    /// The JSON API (`/api/...`).
    Api,
    /// The web pages (anything else).
    Page,
}

impl Face {
    /// The face `request` came to.
    pub fn of<B>(request: &Request<B>) -> Self {
        if is_grpc(request.headers()) {
            Self::Grpc
        } else if request.uri().path().starts_with("/api/") {
            Self::Api
        } else {
            Self::Page
        }
    }
}

/// Why a request was turned away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Over a rate limit or a cap on requests at once: 429 / RESOURCE_EXHAUSTED.
    TooMany {
        /// What to tell the caller.
        message: &'static str,
        /// Seconds to wait before trying again.
        retry_after: u64,
    },
    /// No working place free: 503 / UNAVAILABLE, to try again in a second.
    Busy {
        /// What to tell the caller.
        message: &'static str,
    },
    /// The body did not arrive in time: 408 / DEADLINE_EXCEEDED; an HTTP/1.1
    /// connection is closed, since the rest of the body may still come.
    SlowBody,
    /// The body is larger than this caller may send: 413 / RESOURCE_EXHAUSTED.
    TooLarge {
        /// What to tell the caller.
        message: &'static str,
    },
    /// The body broke off (the client went away or sent a malformed body): 400 / CANCELLED.
    BrokenBody,
}

impl Refusal {
    fn code(&self) -> Code {
        match self {
            Self::TooMany { .. } | Self::TooLarge { .. } => Code::ResourceExhausted,
            Self::Busy { .. } => Code::Unavailable,
            Self::SlowBody => Code::DeadlineExceeded,
            Self::BrokenBody => Code::Cancelled,
        }
    }

    fn http_status(&self) -> StatusCode {
        match self {
            Self::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::SlowBody => StatusCode::REQUEST_TIMEOUT,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BrokenBody => StatusCode::BAD_REQUEST,
        }
    }

    fn message(&self) -> &'static str {
        match self {
            Self::TooMany { message, .. } | Self::Busy { message } | Self::TooLarge { message } => message,
            Self::SlowBody => "the request was not received in time; send it again",
            Self::BrokenBody => "the request body could not be read",
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooMany { retry_after, .. } => Some(*retry_after),
            Self::Busy { .. } => Some(1),
            Self::SlowBody | Self::TooLarge { .. } | Self::BrokenBody => None,
        }
    }

    /// The answer to a request to `face` over HTTP `version`.
    pub fn answer(&self, face: Face, version: Version) -> Response {
        let retry_after = self.retry_after();
        let mut response = match face {
            Face::Grpc => grpc_answer(self.code(), self.message(), retry_after),
            Face::Api => ApiError {
                status: self.http_status(),
                code: code_name(self.code()),
                message: self.message().to_owned(),
                fields: Vec::new(),
            }
            .into_response(),
            Face::Page => page(self.http_status(), self.message()),
        };
        if face != Face::Grpc
            && let Some(seconds) = retry_after
        {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if matches!(self, Self::SlowBody | Self::BrokenBody) && version < Version::HTTP_2 {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// A trailers-only gRPC answer; when waiting helps, it says how long in a
/// `retry-after` metadata entry (seconds) and in a `google.rpc.RetryInfo` detail.
pub fn grpc_answer(code: Code, message: &str, retry_after: Option<u64>) -> Response {
    let status = match retry_after {
        Some(seconds) => {
            let mut metadata = MetadataMap::new();
            metadata.insert("retry-after", seconds.into());
            let details = ErrorDetails::with_retry_info(Some(Duration::from_secs(seconds)));
            tonic::Status::with_error_details_and_metadata(code, message, details, metadata)
        }
        None => tonic::Status::new(code, message),
    };
    status.into_http::<Body>()
}

fn code_name(code: Code) -> &'static str {
    match code {
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::Unavailable => "UNAVAILABLE",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::Cancelled => "CANCELLED",
        _ => "UNKNOWN",
    }
}

/// A page a browser shows in place of the one asked for: plain, no script or style.
fn page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Try again");
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{message}.</p></body></html>"
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn request(path: &str, grpc: bool) -> Request<()> {
        let builder = Request::builder().uri(path);
        let builder = if grpc { builder.header("content-type", "application/grpc") } else { builder };
        builder.body(()).unwrap()
    }

    #[test]
    fn the_face_is_read_from_the_content_type_and_the_path() {
        assert_eq!(Face::of(&request("/sen.v1.PupilsService/GetPupil", true)), Face::Grpc);
        assert_eq!(Face::of(&request("/api/v1/schools", false)), Face::Api);
        assert_eq!(Face::of(&request("/dashboard", false)), Face::Page);
    }

    #[tokio::test]
    async fn a_rate_refusal_says_when_to_try_again_in_every_protocol() {
        let refusal = Refusal::TooMany { message: "too many requests", retry_after: 7 };
        let grpc = refusal.answer(Face::Grpc, Version::HTTP_2);
        assert_eq!(grpc.headers()["grpc-status"], "8", "RESOURCE_EXHAUSTED");
        assert_eq!(grpc.headers()["retry-after"], "7");
        let status = tonic::Status::from_header_map(grpc.headers()).unwrap();
        assert_eq!(status.get_details_retry_info().and_then(|r| r.retry_delay), Some(Duration::from_secs(7)));

        let json = refusal.answer(Face::Api, Version::HTTP_11);
        assert_eq!(json.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(json.headers()[header::RETRY_AFTER], "7");
        let body = json.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "RESOURCE_EXHAUSTED");

        let page = refusal.answer(Face::Page, Version::HTTP_11);
        assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(page.headers()[header::RETRY_AFTER], "7");
        assert!(page.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    }

    #[test]
    fn a_slow_body_closes_an_http1_connection_and_promises_nothing() {
        let answer = Refusal::SlowBody.answer(Face::Page, Version::HTTP_11);
        assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(answer.headers()[header::CONNECTION], "close");
        assert!(answer.headers().get(header::RETRY_AFTER).is_none());
        let grpc = Refusal::SlowBody.answer(Face::Grpc, Version::HTTP_2);
        assert_eq!(grpc.headers()["grpc-status"], "4", "DEADLINE_EXCEEDED");
    }
}
