//! The one error body of the JSON API and the one mapping from gRPC status to
//! HTTP status.
//!
//! Every refusal or failure, whether the gateway found it (bad JSON, wrong role)
//! or a service answered it, is written as
//! `{"error": {"code": "INVALID_ARGUMENT", "message": "...", "fields": [...]}}`.
//! `code` is always a gRPC code name, so a client switches on one vocabulary
//! whichever side refused; `fields` repeats the `google.rpc.BadRequest` the
//! services attach, so a form can mark each bad input.
//!
//! The HTTP status follows the standard gRPC mapping with one deliberate choice:
//! FAILED_PRECONDITION is **409 Conflict**, not 400. This platform uses it only for
//! requests that clash with the record's current state (an illegal referral
//! transition, a school that already has a SENCO); the request itself is well
//! formed and may succeed once the state changes, which is what 409 tells a client.
//!
//! Server-side failures (5xx) never carry the upstream text: a transport error
//! names hosts and ports and an internal error may name SQL. The caller gets a
//! generic sentence for the code; the original goes to the log with the trace.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// One bad input: where it is in the request and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Path of the field in the request message, e.g. `referral.consent.given_on`.
    pub field: String,
    /// What is wrong, for a person to read.
    pub description: String,
}

/// A refusal or failure of one JSON API call, ready to be written as the error body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status answered.
    pub status: StatusCode,
    /// The gRPC code name, e.g. `INVALID_ARGUMENT`.
    pub code: &'static str,
    /// What went wrong, for a person to read.
    pub message: String,
    /// The bad fields, if the failure was bad input.
    pub fields: Vec<FieldError>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    fields: &'a [FieldError],
}

impl ApiError {
    /// Bad input found at the gateway, before anything was sent upstream.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let summary: Vec<String> = fields.iter().map(|f| format!("{}: {}", f.field, f.description)).collect();
        Self {
            status: StatusCode::BAD_REQUEST,
            code: code_name(Code::InvalidArgument),
            message: format!("invalid request: {}", summary.join("; ")),
            fields,
        }
    }

    /// Bad input that is not about one field (a body that is not JSON at all).
    pub fn malformed(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: code_name(Code::InvalidArgument),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// A body that does not say it is JSON: the API reads only `application/json`
    /// (a form post or plain text from elsewhere is refused before it is read).
    pub fn not_json(sent: &str) -> Self {
        let sent = if sent.is_empty() { "no content type".to_owned() } else { format!("'{sent}'") };
        Self {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: code_name(Code::InvalidArgument),
            message: format!("the request body must be application/json, not {sent}"),
            fields: Vec::new(),
        }
    }

    /// A request body larger than the route takes. RESOURCE_EXHAUSTED is what gRPC
    /// itself answers for a message over the size limit; 413 is the HTTP word.
    pub fn too_large(limit: usize) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: code_name(Code::ResourceExhausted),
            message: format!("the request body is larger than the {} this route takes", size_in_words(limit)),
            fields: Vec::new(),
        }
    }

    /// The error for a gRPC status, by the mapping this module documents.
    pub fn from_status(status: &Status) -> Self {
        let http = http_status(status.code());
        if http.is_server_error() {
            tracing::warn!(code = ?status.code(), message = status.message(), "upstream call failed");
            return Self {
                status: http,
                code: code_name(status.code()),
                message: generic_message(status.code()).to_owned(),
                fields: Vec::new(),
            };
        }
        let fields = status
            .get_details_bad_request()
            .map(|bad| {
                bad.field_violations
                    .into_iter()
                    .map(|v| FieldError { field: v.field, description: v.description })
                    .collect()
            })
            .unwrap_or_default();
        Self { status: http, code: code_name(status.code()), message: status.message().to_owned(), fields }
    }

    /// The error body as JSON, as written in responses and server-sent `error` events.
    pub fn body(&self) -> serde_json::Value {
        let body = Body { error: Inner { code: self.code, message: &self.message, fields: &self.fields } };
        serde_json::to_value(body).unwrap_or(serde_json::Value::Null)
    }
}

impl From<&Status> for ApiError {
    fn from(status: &Status) -> Self {
        Self::from_status(status)
    }
}

impl From<Status> for ApiError {
    fn from(status: Status) -> Self {
        Self::from_status(&status)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // The platform or a service is away for now: a client may try again shortly
            // (a write with its idempotency key, so that it is done once).
            response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            // Every 429 says when to try again; the gateway's own limits set their own wait.
            response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("1"));
        }
        response
    }
}

/// The JSON error response for a gRPC status: the HTTP status by the standard
/// mapping (FAILED_PRECONDITION as 409), the `BadRequest` field list, and for
/// server-side codes a generic message with nothing of the upstream's text.
pub fn error_response(status: &Status) -> Response {
    ApiError::from_status(status).into_response()
}

/// The HTTP status answering a gRPC code.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Ok | Code::Cancelled | Code::Unknown | Code::Internal | Code::DataLoss => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// What a caller is told for a server-side code, instead of the upstream's words.
fn generic_message(code: Code) -> &'static str {
    match code {
        Code::Unavailable => "a service this call needs is unavailable; try again shortly",
        Code::DeadlineExceeded => "the call took too long to answer; try again shortly",
        Code::Unimplemented => "this operation is not available",
        _ => "internal error; it has been logged",
    }
}

/// A body limit in words: `1 MiB`, `64 KiB`.
pub fn size_in_words(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes.is_multiple_of(MIB) { format!("{} MiB", bytes / MIB) } else { format!("{} KiB", bytes / 1024) }
}

/// The gRPC code as the `google.rpc.Code` enum spells it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tonic_types::ErrorDetails;

    async fn answered(status: &Status) -> (StatusCode, serde_json::Value) {
        let response = error_response(status);
        let code = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (code, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_bad_request_detail_becomes_400_with_the_same_field_list() {
        let mut details = ErrorDetails::new();
        details.add_bad_request_violation("referral.consent.given_on", "is required");
        details.add_bad_request_violation("referral.kind", "is not a referral kind");
        let status = Status::with_error_details(Code::InvalidArgument, "invalid request", details);
        let (http, body) = answered(&status).await;
        assert_eq!(http, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "INVALID_ARGUMENT");
        assert_eq!(body["error"]["message"], "invalid request");
        assert_eq!(
            body["error"]["fields"],
            serde_json::json!([
                {"field": "referral.consent.given_on", "description": "is required"},
                {"field": "referral.kind", "description": "is not a referral kind"},
            ])
        );
    }

    #[tokio::test]
    async fn an_error_without_details_has_an_empty_field_list() {
        let (http, body) = answered(&Status::not_found("referral 7 not found")).await;
        assert_eq!(http, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "NOT_FOUND", "message": "referral 7 not found", "fields": []}})
        );
    }

    #[test]
    fn each_grpc_code_maps_to_its_http_status() {
        let expected = [
            (Code::InvalidArgument, 400),
            (Code::OutOfRange, 400),
            (Code::FailedPrecondition, 409),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::Aborted, 409),
            (Code::PermissionDenied, 403),
            (Code::Unauthenticated, 401),
            (Code::ResourceExhausted, 429),
            (Code::Unavailable, 503),
            (Code::DeadlineExceeded, 504),
            (Code::Unimplemented, 501),
            (Code::Internal, 500),
            (Code::Unknown, 500),
            (Code::DataLoss, 500),
            (Code::Cancelled, 500),
            (Code::Ok, 500),
        ];
        for (code, http) in expected {
            assert_eq!(http_status(code).as_u16(), http, "{code:?}");
        }
    }

    #[tokio::test]
    async fn server_side_errors_leak_nothing_of_the_upstream() {
        let secret = "SELECT * FROM pupils WHERE upn = 'A123'; connect 10.0.0.7:5432";
        for code in [Code::Internal, Code::Unknown, Code::DataLoss, Code::Unavailable, Code::DeadlineExceeded] {
            let mut details = ErrorDetails::new();
            details.add_bad_request_violation("upn", secret);
            let status = Status::with_error_details(code, secret, details);
            let (http, body) = answered(&status).await;
            assert!(http.is_server_error(), "{code:?}");
            let text = body.to_string();
            assert!(!text.contains("SELECT") && !text.contains("10.0.0.7"), "{code:?} leaked: {text}");
            assert_eq!(body["error"]["fields"], serde_json::json!([]));
            assert_eq!(body["error"]["code"], code_name(code));
        }
    }
}
