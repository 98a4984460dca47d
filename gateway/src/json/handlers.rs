//! What each JSON route does: refuse an unknown caller (401) or a role the rule
//! does not admit (403) before reading anything else, build the request message
//! from the path, the query (GET) or the body (POST, PATCH), call the method
//! upstream as the caller, and write the answer as JSON.
//!
//! Two routes stream. A server-streaming method (watching referrals) answers
//! with server-sent events, one `data:` line of JSON per message, and an `error`
//! event if the upstream fails mid-stream. A client-streaming method whose
//! request carries a `bytes chunk` (the GIAS import) takes the raw file as the
//! body and sends it upstream in chunks of at most 64 KiB as it arrives, never
//! holding the whole file.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Query, RawPathParams, Request};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Json, RequestExt};
use bytes::BytesMut;
use futures::{Stream, StreamExt};
use http::request::Parts;
use prost_reflect::{DynamicMessage, MethodDescriptor, ReflectMessage, Value};
use tonic::Status;
use tracing::Instrument;

use super::call::{Call, Outgoing};
use super::decode::message_from_json;
use super::encode::message_to_json;
use super::error::{ApiError, FieldError};
use super::params::{merge_path, merge_query};
use crate::caller::Caller;
use crate::policy::{Rule, Verb};
use crate::upstream::Upstreams;

/// The largest JSON request body.
pub const MAX_JSON_BODY: usize = 1024 * 1024;
/// The largest file a streamed upload (the GIAS extract) may be.
pub const MAX_UPLOAD_BODY: usize = 64 * 1024 * 1024;
/// The largest piece of an upload sent upstream in one message.
pub const MAX_CHUNK: usize = 64 * 1024;
/// The field of a client-streaming request that carries the uploaded file.
pub const CHUNK_FIELD: &str = "chunk";

/// One routed method: its rule, its descriptor and where to send it.
pub struct Endpoint {
    /// Who may call it and its route.
    pub rule: &'static Rule,
    /// The method's descriptor.
    pub method: MethodDescriptor,
    /// The services behind the gateway.
    pub upstreams: Upstreams,
    /// The longest a unary call may take (`SEN_REQUEST_TIMEOUT_SECONDS`).
    pub deadline: std::time::Duration,
}

/// A unary method: path + query or body in, one JSON answer out.
pub async fn unary(endpoint: Arc<Endpoint>, request: Request) -> Response {
    let span = tracing::info_span!("json_api", method = %endpoint.rule.grpc_path());
    async move {
        let (caller, message) = match admitted_request(&endpoint, request).await {
            Ok(ready) => ready,
            Err(error) => return error.into_response(),
        };
        let answer = match Call::new(&endpoint.upstreams, &endpoint.method, &caller) {
            Ok(call) => call.within(endpoint.deadline).unary(message).await,
            Err(status) => Err(status),
        };
        match answer {
            Ok(answer) => Json(message_to_json(&answer)).into_response(),
            Err(status) => ApiError::from_status(&status).into_response(),
        }
    }
    .instrument(span)
    .await
}

/// The server-sent event name for a streamed answer: the message name in
/// snake_case without a trailing `_change` (`ReferralChange` is `referral`).
pub fn event_name(method: &MethodDescriptor) -> String {
    let output = method.output();
    let mut name = String::new();
    for (i, c) in output.name().chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_lowercase());
    }
    match name.strip_suffix("_change") {
        Some(stem) if !stem.is_empty() => stem.to_owned(),
        _ => name,
    }
}

/// A server-streaming method: each answer as a server-sent event named by
/// [`event_name`], an `error` event if the upstream fails mid-stream.
pub async fn server_stream(endpoint: Arc<Endpoint>, request: Request) -> Response {
    let span = tracing::info_span!("json_api", method = %endpoint.rule.grpc_path());
    async move {
        let (caller, message) = match admitted_request(&endpoint, request).await {
            Ok(ready) => ready,
            Err(error) => return error.into_response(),
        };
        let stream = match Call::new(&endpoint.upstreams, &endpoint.method, &caller) {
            Ok(call) => call.server_streaming(message).await,
            Err(status) => Err(status),
        };
        match stream {
            Ok(stream) => {
                Sse::new(events(stream, event_name(&endpoint.method))).keep_alive(KeepAlive::default()).into_response()
            }
            Err(status) => ApiError::from_status(&status).into_response(),
        }
    }
    .instrument(span)
    .await
}

fn events(
    stream: tonic::Streaming<DynamicMessage>,
    name: String,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    futures::stream::unfold(Some(stream), move |state| {
        let name = name.clone();
        async move {
            let mut stream = state?;
            match stream.message().await {
                Ok(Some(message)) => {
                    let data = message_to_json(&message).to_string();
                    Some((Ok(Event::default().event(name).data(data)), Some(stream)))
                }
                Ok(None) => None,
                Err(status) => {
                    let data = ApiError::from_status(&status).body().to_string();
                    Some((Ok(Event::default().event("error").data(data)), None))
                }
            }
        }
    })
}

/// A client-streaming upload: the body is the file, the query string fills the
/// request's other fields (`?dry_run=true`), and the file goes upstream in
/// chunks of at most [`MAX_CHUNK`] as it arrives.
pub async fn upload(endpoint: Arc<Endpoint>, request: Request) -> Response {
    let span = tracing::info_span!("json_api", method = %endpoint.rule.grpc_path());
    async move { upload_inner(&endpoint, request).await.unwrap_or_else(IntoResponse::into_response) }
        .instrument(span)
        .await
}

async fn upload_inner(endpoint: &Endpoint, request: Request) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let caller = admit(endpoint.rule, &parts)?;
    let declared = parts.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_UPLOAD_BODY as u64) {
        return Err(ApiError::too_large(MAX_UPLOAD_BODY));
    }
    let mut template = DynamicMessage::new(endpoint.method.input());
    merge_query(&mut template, &query_pairs(&parts)?)?;
    merge_path(&mut template, &path_pairs(&mut parts).await?)?;
    let Some(chunk_field) = template.descriptor().get_field_by_name(CHUNK_FIELD) else {
        return Err(Status::unimplemented("this method takes no upload").into());
    };
    if template.has_field(&chunk_field) {
        let field = FieldError { field: CHUNK_FIELD.into(), description: "the file is the request body".into() };
        return Err(ApiError::invalid(vec![field]));
    }
    // The limit set on this route by `DefaultBodyLimit` applies as the body streams.
    let body = Request::from_parts(parts, body).into_limited_body();
    let failure = Arc::new(Mutex::new(None));
    let messages = chunks(body, template, chunk_field, Arc::clone(&failure));
    let call = Call::new(&endpoint.upstreams, &endpoint.method, &caller)?;
    match call.client_streaming(messages).await {
        Ok(answer) => Ok(Json(message_to_json(&answer)).into_response()),
        // If the body broke off, that is the caller's error, not the upstream's.
        Err(status) => Err(failure.lock().ok().and_then(|mut slot| slot.take()).unwrap_or_else(|| status.into())),
    }
}

struct Chunker {
    body: axum::body::BodyDataStream,
    pending: BytesMut,
    template: DynamicMessage,
    chunk_field: prost_reflect::FieldDescriptor,
    sent_any: bool,
    finished: bool,
    failure: Arc<Mutex<Option<ApiError>>>,
}

impl Chunker {
    fn message(&mut self, chunk: Bytes) -> Outgoing {
        self.sent_any = true;
        let mut message = self.template.clone();
        message.set_field(&self.chunk_field, Value::Bytes(chunk));
        Ok(message)
    }
}

/// The body as request messages of at most [`MAX_CHUNK`] bytes each, at least
/// one (an empty file still says `dry_run`). Holds one chunk and one read at most.
fn chunks(
    body: Body,
    template: DynamicMessage,
    chunk_field: prost_reflect::FieldDescriptor,
    failure: Arc<Mutex<Option<ApiError>>>,
) -> impl Stream<Item = Outgoing> + Send + 'static {
    let state = Chunker {
        body: body.into_data_stream(),
        pending: BytesMut::new(),
        template,
        chunk_field,
        sent_any: false,
        finished: false,
        failure,
    };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if state.pending.len() >= MAX_CHUNK {
                let chunk = state.pending.split_to(MAX_CHUNK).freeze();
                let message = state.message(chunk);
                return Some((message, state));
            }
            if state.finished {
                if state.pending.is_empty() && state.sent_any {
                    return None;
                }
                let chunk = state.pending.split().freeze();
                let message = state.message(chunk);
                return Some((message, state));
            }
            match state.body.next().await {
                Some(Ok(bytes)) => state.pending.extend_from_slice(&bytes),
                None => state.finished = true,
                Some(Err(error)) => {
                    let refusal = if is_too_large(&error) {
                        ApiError::too_large(MAX_UPLOAD_BODY)
                    } else {
                        ApiError::malformed("the upload broke off before the end of the file")
                    };
                    if let Ok(mut slot) = state.failure.lock() {
                        *slot = Some(refusal);
                    }
                    // Stop after the error: the failed request stream is reset upstream.
                    state.finished = true;
                    state.sent_any = true;
                    state.pending.clear();
                    return Some((Err(Status::cancelled("upload broke off")), state));
                }
            }
        }
    })
}

fn is_too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The caller, admitted by the rule, and the request message built from the
/// path and the query string (GET) or the JSON body (POST, PATCH).
async fn admitted_request(endpoint: &Endpoint, request: Request) -> Result<(Caller, DynamicMessage), ApiError> {
    let (mut parts, body) = request.into_parts();
    let caller = admit(endpoint.rule, &parts)?;
    let path = path_pairs(&mut parts).await?;
    let verb = endpoint.rule.http.map(|(verb, _)| verb);
    let mut message = if verb == Some(Verb::Get) {
        let mut message = DynamicMessage::new(endpoint.method.input());
        merge_query(&mut message, &query_pairs(&parts)?)?;
        message
    } else {
        let content_type =
            parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = Bytes::from_request(Request::from_parts(parts, body), &()).await.map_err(|rejection| {
            if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(MAX_JSON_BODY)
            } else {
                ApiError::malformed("could not read the request body")
            }
        })?;
        if body.iter().all(u8::is_ascii_whitespace) {
            DynamicMessage::new(endpoint.method.input())
        } else {
            let sent = content_type.unwrap_or_default();
            if !is_json(&sent) {
                return Err(ApiError::not_json(&sent));
            }
            let json: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| ApiError::malformed(format!("the request body is not valid JSON: {e}")))?;
            message_from_json(&endpoint.method.input(), &json)?
        }
    };
    merge_path(&mut message, &path)?;
    Ok((caller, message))
}

/// Whether a `Content-Type` names JSON: `application/json` or a `+json` type,
/// with any parameters (`; charset=utf-8`).
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The authenticated caller, if the rule admits their role.
fn admit(rule: &Rule, parts: &Parts) -> Result<Caller, ApiError> {
    let Some(caller) = parts.extensions.get::<Caller>() else {
        return Err(Status::unauthenticated("this call needs a bearer token").into());
    };
    if !rule.admits(caller.grant.role) {
        let message = format!("the {} role may not call {}", caller.grant.role, rule.method);
        return Err(Status::permission_denied(message).into());
    }
    Ok(caller.clone())
}

fn query_pairs(parts: &Parts) -> Result<Vec<(String, String)>, ApiError> {
    Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|Query(pairs)| pairs)
        .map_err(|e| ApiError::malformed(format!("the query string is not readable: {e}")))
}

async fn path_pairs(parts: &mut Parts) -> Result<Vec<(String, String)>, ApiError> {
    use axum::extract::rejection::RawPathParamsRejection;
    match RawPathParams::from_request_parts(parts, &()).await {
        Ok(params) => Ok(params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()),
        Err(RawPathParamsRejection::MissingPathParams(_)) => Ok(Vec::new()),
        Err(rejection) => Err(ApiError::malformed(rejection.body_text())),
    }
}
