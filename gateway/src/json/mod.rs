//! The JSON API under `/api/v1/…`: every routed method of the `sen.v1` services
//! (and the gateway's own `GatewayService`), transcoded through the protobuf
//! descriptors the way grpc-gateway does, plus the OpenAPI document describing it.
//!
//! Nothing here knows a message type: [`crate::policy::RULES`] gives each
//! method's route and admitted roles, the descriptors give its fields, and the
//! call goes upstream as dynamic protobuf through [`Upstreams`] with the
//! caller's internal identity token, exactly as the gRPC proxy would send it.
//! The authentication layer in front leaves a [`crate::caller::Caller`] in the
//! request's extensions; without one a route answers 401, with a role its rule
//! does not admit 403, before any input is read or anything is sent upstream.
//!
//! Conventions: proto field names, lowerCamelCase accepted on input, every field
//! written with defaults (absent messages and optionals as `null`), enums by
//! name, 64-bit integers as JSON numbers, `sen.v1.Date` as `"YYYY-MM-DD"` in
//! bodies, answers and query strings alike. Errors have one shape and one status
//! mapping ([`error_response`]): FAILED_PRECONDITION is 409, server-side
//! failures say nothing of the upstream's words.

mod call;
mod decode;
mod descriptors;
mod encode;
mod error;
mod handlers;
mod openapi;
mod params;
mod schema;
mod value;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::routing::{MethodFilter, MethodRouter, get, on};

pub use decode::message_from_json;
pub use encode::message_to_json;
pub use error::{ApiError, FieldError, error_response, http_status};
pub use handlers::{MAX_CHUNK, MAX_JSON_BODY, MAX_UPLOAD_BODY};
pub use openapi::openapi;

use crate::policy::{RULES, Verb};
use crate::upstream::Upstreams;
use handlers::Endpoint;

/// Where the OpenAPI document is served, to anyone (it holds no data).
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// The JSON API: one route per policy rule with an HTTP route, and
/// [`OPENAPI_PATH`]. Expects the authentication layer to have put a
/// [`crate::caller::Caller`] into each request's extensions.
///
/// # Panics
///
/// At start-up, if a rule names a method the descriptors do not have (the
/// policy tests prevent this).
pub fn router(upstreams: Upstreams) -> Router {
    router_within(upstreams, DEFAULT_DEADLINE)
}

/// The longest a unary call may take when the gateway is not told otherwise.
pub const DEFAULT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// As [`router`], each unary call given at most `deadline` to answer (the
/// gateway's `SEN_REQUEST_TIMEOUT_SECONDS`), which the service is told too.
pub fn router_within(upstreams: Upstreams, deadline: std::time::Duration) -> Router {
    let mut router = Router::new();
    for rule in RULES {
        let Some((verb, path)) = rule.http else { continue };
        let method = descriptors::method(rule)
            .unwrap_or_else(|| panic!("policy rule {} names a method sen.v1 does not have", rule.grpc_path()));
        let endpoint = Arc::new(Endpoint { rule, method, upstreams: upstreams.clone(), deadline });
        let filter = match verb {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Patch => MethodFilter::PATCH,
        };
        let route: MethodRouter = match (endpoint.method.is_client_streaming(), endpoint.method.is_server_streaming()) {
            (false, false) => on(filter, move |request: Request| handlers::unary(Arc::clone(&endpoint), request))
                .layer(DefaultBodyLimit::max(MAX_JSON_BODY)),
            (false, true) => {
                on(filter, move |request: Request| handlers::server_stream(Arc::clone(&endpoint), request))
                    .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
            }
            (true, false) => on(filter, move |request: Request| handlers::upload(Arc::clone(&endpoint), request))
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)),
            (true, true) => {
                tracing::warn!(method = %rule.grpc_path(), "bidirectional streaming has no JSON form; route left out");
                continue;
            }
        };
        router = router.route(path, route);
    }
    let document = Arc::new(openapi());
    router
        .route(OPENAPI_PATH, get(move || async move { axum::Json(document.as_ref().clone()) }))
        .layer(axum::middleware::map_response(private_answer))
}

/// Every answer may carry children's records: no browser or proxy cache keeps
/// it, and no browser reads it as anything but what its content type says.
async fn private_answer(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    headers.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    headers.insert(http::header::X_CONTENT_TYPE_OPTIONS, http::HeaderValue::from_static("nosniff"));
    response
}
