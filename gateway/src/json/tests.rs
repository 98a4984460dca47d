//! The JSON API as a client sees it, against a fake upstream that speaks gRPC
//! frames and records what reached it.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use bytes::{Buf, Bytes};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use prost::Message;
use sen_platform::identity::{Grant, Role};
use sen_platform::ids::{LaCode, Urn};
use sen_proto::v1;
use serde_json::{Value as Json, json};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use tower::ServiceExt;

use super::{MAX_CHUNK, router};
use crate::caller::Caller;
use crate::upstream::{Upstreams, boxed};

/// What one call brought upstream.
#[derive(Clone, Debug)]
struct Sent {
    path: String,
    identity: Option<String>,
    /// The request messages, or `None` if the request body broke off.
    messages: Option<Vec<Bytes>>,
}

/// How the fake answers: messages, then the status in the trailers.
#[derive(Clone)]
struct Answer {
    messages: Vec<Vec<u8>>,
    status: Option<Status>,
}

impl Answer {
    fn message(message: impl Message) -> Self {
        Self { messages: vec![message.encode_to_vec()], status: None }
    }

    fn status(status: Status) -> Self {
        Self { messages: Vec::new(), status: Some(status) }
    }
}

struct Fake {
    sent: Arc<Mutex<Vec<Sent>>>,
    app: axum::Router,
}

impl Fake {
    /// Every sen.v1 service answered by the same fake, answering `answer`.
    fn new(answer: Answer) -> Self {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let recorder = Arc::clone(&sent);
        let service = tower::service_fn(move |request: Request<tonic::body::Body>| {
            let (sent, answer) = (Arc::clone(&recorder), answer.clone());
            async move {
                let path = request.uri().path().to_owned();
                let identity = request.headers().get("x-sen-identity").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let messages = request.into_body().collect().await.ok().map(|body| frames(body.to_bytes()));
                let broke_off = messages.is_none();
                sent.lock().unwrap().push(Sent { path, identity, messages });
                if broke_off {
                    return Ok::<_, Infallible>(Status::cancelled("request broke off").into_http());
                }
                Ok(respond(answer))
            }
        });
        let services = ["SchoolsService", "PupilsService", "ReferralsService", "CaseloadsService", "GatewayService"];
        let upstreams = Upstreams::new(services.map(|s| {
            let name: &'static str = Box::leak(format!("sen.v1.{s}").into_boxed_str());
            (name, "fake", boxed(service.clone()))
        }));
        Self { sent, app: router(upstreams) }
    }

    fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }

    async fn call(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        (parts.status, parts.headers, body.collect().await.unwrap().to_bytes())
    }

    async fn json(&self, request: Request<Body>) -> (StatusCode, Json) {
        let (status, _, body) = self.call(request).await;
        (status, serde_json::from_slice(&body).unwrap_or(Json::Null))
    }
}

/// Splits a gRPC body into its messages (1-byte flag, 4-byte length, message).
fn frames(mut body: Bytes) -> Vec<Bytes> {
    let mut messages = Vec::new();
    while body.remaining() >= 5 {
        body.advance(1);
        let length = body.get_u32() as usize;
        messages.push(body.split_to(length));
    }
    messages
}

fn respond(answer: Answer) -> http::Response<tonic::body::Body> {
    let mut frames: Vec<Result<http_body::Frame<Bytes>, Infallible>> = answer
        .messages
        .iter()
        .map(|m| {
            let mut framed = vec![0u8];
            framed.extend_from_slice(&(m.len() as u32).to_be_bytes());
            framed.extend_from_slice(m);
            Ok(http_body::Frame::data(Bytes::from(framed)))
        })
        .collect();
    let status = answer.status.unwrap_or_else(|| Status::ok(""));
    // A trailers-only answer carries the status in its headers: the same fields.
    let trailers = status.into_http::<tonic::body::Body>().into_parts().0.headers;
    frames.push(Ok(http_body::Frame::trailers(trailers)));
    let body = tonic::body::Body::new(StreamBody::new(futures::stream::iter(frames)));
    http::Response::builder().header("content-type", "application/grpc").body(body).unwrap()
}

fn caller(role: Role) -> Caller {
    let tenant = (role != Role::PlatformOperator).then(|| LaCode::parse("886").unwrap());
    let school = (role == Role::Senco).then(|| Urn::parse("100001").unwrap());
    Caller { grant: Grant { person: "p-1".into(), role, tenant, school }, internal_token: "internal-token-1".into() }
}

fn request(method: &str, uri: &str, role: Option<Role>, body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap();
    if let Some(role) = role {
        request.extensions_mut().insert(caller(role));
    }
    request
}

fn date(year: i32, month: i32, day: i32) -> Option<v1::Date> {
    Some(v1::Date { year, month, day })
}

fn referral() -> v1::Referral {
    v1::Referral {
        id: 42,
        body: Some(v1::ReferralBody { pupil_id: 7, school_urn: "100001".into(), ..Default::default() }),
        status: v1::ReferralStatus::Submitted as i32,
        submitted_on: date(2026, 9, 15),
        version: 3,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_role_not_admitted_is_refused_403_before_anything_is_sent_upstream() {
    let fake = Fake::new(Answer::message(v1::School::default()));
    let (status, body) =
        fake.json(request("POST", "/api/v1/schools", Some(Role::Senco), "{\"urn\": \"100002\"}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "PERMISSION_DENIED");
    let (status, _) = fake.json(request("GET", "/api/v1/referrals/42", Some(Role::PlatformOperator), "")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(fake.sent().is_empty());
}

#[tokio::test]
async fn a_request_without_a_caller_is_refused_401() {
    let fake = Fake::new(Answer::message(referral()));
    let (status, body) = fake.json(request("GET", "/api/v1/referrals/42", None, "")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "UNAUTHENTICATED");
    assert_eq!(body["error"]["fields"], json!([]));
    assert!(fake.sent().is_empty());
}

#[tokio::test]
async fn a_get_is_built_from_path_and_query_and_answered_as_json() {
    let fake = Fake::new(Answer::message(referral()));
    let (status, body) =
        fake.json(request("GET", "/api/v1/referrals/42?as_of=2026-11-24", Some(Role::CaseOfficer), "")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], 42);
    assert_eq!(body["status"], "REFERRAL_STATUS_SUBMITTED");
    assert_eq!(body["submitted_on"], "2026-09-15");
    assert_eq!(body["body"]["pupil_id"], 7);
    assert_eq!(body["allocated_to"], "");
    assert_eq!(body["clock"], Json::Null);

    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/sen.v1.ReferralsService/GetReferral");
    assert_eq!(sent[0].identity.as_deref(), Some("internal-token-1"));
    let messages = sent[0].messages.clone().unwrap();
    let got = v1::GetReferralRequest::decode(messages[0].clone()).unwrap();
    assert_eq!(got, v1::GetReferralRequest { id: 42, as_of: date(2026, 11, 24) });
}

#[tokio::test]
async fn a_post_body_is_sent_with_the_path_winning_over_the_body() {
    let fake = Fake::new(Answer::message(referral()));
    let body = json!({"id": 1, "version": 3, "event": "REFERRAL_EVENT_ACCEPT"}).to_string();
    let (status, _) = fake.json(request("POST", "/api/v1/referrals/7/status", Some(Role::CaseOfficer), body)).await;
    assert_eq!(status, StatusCode::OK);
    let messages = fake.sent()[0].messages.clone().unwrap();
    let got = v1::ChangeReferralStatusRequest::decode(messages[0].clone()).unwrap();
    assert_eq!((got.id, got.version, got.event), (7, 3, v1::ReferralEvent::Accept as i32));
}

#[tokio::test]
async fn an_empty_post_body_is_the_empty_message() {
    let fake = Fake::new(Answer::message(v1::SencoAppointment::default()));
    let (status, _) = fake.json(request("POST", "/api/v1/senco-appointments/5/end", Some(Role::LaManager), "")).await;
    assert_eq!(status, StatusCode::OK);
    let messages = fake.sent()[0].messages.clone().unwrap();
    assert_eq!(v1::EndSencoAppointmentRequest::decode(messages[0].clone()).unwrap().id, 5);
}

#[tokio::test]
async fn bad_json_is_400_naming_the_field_and_nothing_is_sent() {
    let fake = Fake::new(Answer::message(referral()));
    let body = json!({"referral": {"consent": {"given_on": "2026-02-30"}, "kind": 4}}).to_string();
    let (status, answer) = fake.json(request("POST", "/api/v1/referrals", Some(Role::Senco), body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["code"], "INVALID_ARGUMENT");
    let fields: Vec<&str> =
        answer["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["referral.consent.given_on", "referral.kind"]);

    let (status, answer) = fake.json(request("POST", "/api/v1/referrals", Some(Role::Senco), "{\"referral\": ")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["code"], "INVALID_ARGUMENT");

    let (status, answer) = fake.json(request("GET", "/api/v1/referrals?status=OPEN", Some(Role::Senco), "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["fields"][0]["field"], "status");
    assert!(fake.sent().is_empty());
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_415_and_nothing_is_sent() {
    let fake = Fake::new(Answer::message(referral()));
    let body = json!({"referral": {"kind": "educational_psychology"}}).to_string();
    for sent in [None, Some("application/x-www-form-urlencoded"), Some("text/plain")] {
        let mut request = request("POST", "/api/v1/referrals", Some(Role::Senco), body.clone());
        match sent {
            Some(kind) => request.headers_mut().insert("content-type", kind.parse().unwrap()),
            None => request.headers_mut().remove("content-type"),
        };
        let (status, answer) = fake.json(request).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{sent:?}");
        assert!(answer["error"]["message"].as_str().unwrap().contains("application/json"), "{answer}");
    }
    assert!(fake.sent().is_empty());

    let mut request = request("POST", "/api/v1/referrals", Some(Role::Senco), body);
    request.headers_mut().insert("content-type", "application/json; charset=utf-8".parse().unwrap());
    let (status, _) = fake.json(request).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_json_body_over_1_mib_is_413() {
    let fake = Fake::new(Answer::message(referral()));
    let body = format!("{{\"idempotency_key\": \"{}\"}}", "k".repeat(1024 * 1024));
    let (status, answer) = fake.json(request("POST", "/api/v1/referrals", Some(Role::Senco), body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer["error"]["code"], "RESOURCE_EXHAUSTED");
    assert!(fake.sent().is_empty());
}

#[tokio::test]
async fn an_upstream_bad_request_becomes_400_with_the_same_fields() {
    let mut details = ErrorDetails::new();
    details.add_bad_request_violation("referral.consent.given_on", "is required");
    let status = Status::with_error_details(
        Code::InvalidArgument,
        "invalid request: referral.consent.given_on: is required",
        details,
    );
    let fake = Fake::new(Answer::status(status));
    let (http, body) = fake.json(request("POST", "/api/v1/referrals", Some(Role::Senco), "{}")).await;
    assert_eq!(http, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["fields"], json!([{"field": "referral.consent.given_on", "description": "is required"}]));
}

#[tokio::test]
async fn an_upstream_internal_error_leaks_nothing() {
    let fake = Fake::new(Answer::status(Status::internal("relation \"referrals\" does not exist")));
    let (http, body) = fake.json(request("GET", "/api/v1/referrals/1", Some(Role::Senco), "")).await;
    assert_eq!(http, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.to_string().contains("relation"), "{body}");
}

#[tokio::test]
async fn watching_referrals_streams_events_and_ends_with_an_error_event() {
    let change =
        v1::ReferralChange { referral: Some(referral()), change: Some(v1::TimelineEntry::default()), position: 7 };
    let answer = Answer {
        messages: vec![change.encode_to_vec(), change.encode_to_vec()],
        status: Some(Status::unavailable("referrals database gone")),
    };
    let fake = Fake::new(answer);
    let (status, headers, body) = fake.call(request("GET", "/api/v1/referrals/watch", Some(Role::Senco), "")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/event-stream");
    let text = String::from_utf8(body.to_vec()).unwrap();
    let events: Vec<(&str, Json)> = text
        .split("\n\n")
        .filter_map(|block| {
            let event = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((event, serde_json::from_str(data).unwrap()))
        })
        .collect();
    assert_eq!(events.len(), 3, "{text}");
    assert_eq!(events[0].0, "referral");
    assert_eq!(events[0].1["referral"]["submitted_on"], "2026-09-15");
    assert_eq!(events[1].0, "referral");
    assert_eq!(events[2].0, "error");
    assert_eq!(events[2].1["error"]["code"], "UNAVAILABLE");
    assert!(!text.contains("database"));
    assert_eq!(fake.sent()[0].path, "/sen.v1.ReferralsService/WatchReferrals");
}

#[tokio::test]
async fn an_import_streams_the_file_upstream_in_chunks_of_at_most_64_kib() {
    let answer = v1::ImportSchoolsResponse { created: 2, other_authority_rows: 5, dry_run: true, ..Default::default() };
    let fake = Fake::new(Answer::message(answer));
    let file: Vec<u8> = (0..200 * 1024 + 1).map(|i| b"URN,Name\n"[i % 9]).collect();
    // Arrives in uneven pieces, as a network would deliver it.
    let pieces: Vec<Result<Bytes, Infallible>> = file.chunks(50_000).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let body = Body::from_stream(futures::stream::iter(pieces));
    let mut upload = request("POST", "/api/v1/schools/import?dry_run=true", Some(Role::LaManager), body);
    upload.headers_mut().insert("content-type", "text/csv".parse().unwrap());
    let (status, answer) = fake.json(upload).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["created"], 2);
    assert_eq!(answer["other_authority_rows"], 5);
    assert_eq!(answer["unchanged"], 0);

    let sent = fake.sent();
    assert_eq!(sent[0].path, "/sen.v1.SchoolsService/ImportSchools");
    let messages: Vec<v1::ImportSchoolsRequest> =
        sent[0].messages.clone().unwrap().into_iter().map(|m| v1::ImportSchoolsRequest::decode(m).unwrap()).collect();
    assert!(messages.len() >= 4);
    assert!(messages.iter().all(|m| m.chunk.len() <= MAX_CHUNK && m.dry_run));
    let joined: Vec<u8> = messages.iter().flat_map(|m| m.chunk.iter().copied()).collect();
    assert_eq!(joined, file);
}

#[tokio::test]
async fn an_upload_declared_over_64_mib_is_413_and_nothing_is_sent() {
    let fake = Fake::new(Answer::message(v1::ImportSchoolsResponse::default()));
    let mut upload = request("POST", "/api/v1/schools/import", Some(Role::LaManager), "URN\n");
    upload.headers_mut().insert("content-length", (64 * 1024 * 1024 + 1).to_string().parse().unwrap());
    let (status, answer) = fake.json(upload).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer["error"]["code"], "RESOURCE_EXHAUSTED");
    assert!(fake.sent().is_empty());
}

#[tokio::test]
async fn an_upload_growing_past_64_mib_is_413_and_its_stream_is_broken_off_upstream() {
    let fake = Fake::new(Answer::message(v1::ImportSchoolsResponse::default()));
    let mebibyte = Bytes::from(vec![b'x'; 1024 * 1024]);
    let pieces = (0..65).map(move |_| Ok::<_, Infallible>(mebibyte.clone()));
    let upload = request(
        "POST",
        "/api/v1/schools/import",
        Some(Role::LaManager),
        Body::from_stream(futures::stream::iter(pieces)),
    );
    let (status, answer) = fake.json(upload).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].messages.is_none(), "the upstream saw a complete request");
}

#[tokio::test]
async fn the_openapi_document_is_served_without_a_caller() {
    let fake = Fake::new(Answer::message(referral()));
    let (status, body) = fake.json(request("GET", "/api/v1/openapi.json", None, "")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["openapi"], "3.0.3");
}
