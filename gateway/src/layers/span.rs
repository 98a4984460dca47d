//! The span each request runs in: named after its route (never after an id),
//! carrying the request id, and the root of a trace of the platform's own. A
//! caller's W3C trace context is only linked to it, never continued: the trace
//! id is written into audit entries, and a caller must not choose it
//! (`sen_platform::telemetry`). tower-http's `TraceLayer` opens it around the
//! request and its body; this module only says what it holds.

use axum::extract::Request;
use tracing::Span;

use crate::layers::request_id::REQUEST_ID;
use crate::layers::route::Route;

/// The span of one request.
pub fn request_span(request: &Request) -> Span {
    let route = Route::of(request).label;
    let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let span = tracing::info_span!(
        "gateway",
        otel.kind = "server",
        otel.name = %route,
        http.request.method = %request.method(),
        request_id = %id,
    );
    sen_platform::telemetry::external_request_span_links(&span, request.headers());
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_is_named_after_the_route_not_the_record() {
        let request = http::Request::builder()
            .uri("/api/v1/pupils/12345")
            .header(REQUEST_ID, "abc-1")
            .body(axum::body::Body::empty())
            .unwrap();
        // Without a subscriber the span is disabled, but building it must not need one.
        let span = request_span(&request);
        assert!(span.is_disabled() || span.metadata().is_some_and(|m| m.name() == "gateway"));
        assert_eq!(Route::of(&request).label, "/api/v1/pupils/{id}");
    }
}
