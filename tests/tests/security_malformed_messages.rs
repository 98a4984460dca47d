//! A request whose body is not the protobuf message its method takes is the
//! caller's mistake: every service, called directly or through the gateway,
//! answers INVALID_ARGUMENT naming the message it expected, never INTERNAL (which
//! would page an operator and invite the caller to send the same bytes again).
//! A well-formed call on the same path still works.

use bytes::Bytes;
use sen_platform::identity::{AttachIdentity, Role};
use sen_platform::testing::Engine;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;
use sen_tests::raw::Raw;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;

/// Not protobuf: a varint that never ends.
const GARBAGE: [u8; 12] = [0xff; 12];

/// One method of each service, with the message it takes; an empty message is a
/// valid request to each.
const METHODS: [(&str, &str); 5] = [
    ("/sen.v1.SchoolsService/ListSchools", "sen.v1.ListSchoolsRequest"),
    ("/sen.v1.PupilsService/ListPupils", "sen.v1.ListPupilsRequest"),
    ("/sen.v1.ReferralsService/ListReferrals", "sen.v1.ListReferralsRequest"),
    ("/sen.v1.CaseloadsService/ListProfessionals", "sen.v1.ListProfessionalsRequest"),
    ("/sen.v1.GatewayService/GetOverview", "sen.v1.GetOverviewRequest"),
];

/// Sends `body` as the one message of a unary call to `path`.
async fn call<T>(channel: T, path: &str, body: &[u8]) -> Result<(), tonic::Status>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| tonic::Status::unavailable(e.into().to_string()))?;
    let path: http::uri::PathAndQuery = path.parse().expect("a method path");
    grpc.unary(tonic::Request::new(Bytes::copy_from_slice(body)), path, Raw).await.map(|_| ())
}

fn assert_refused_as_invalid(outcome: Result<(), tonic::Status>, path: &str, message: &str, via: &str) {
    let status = outcome.expect_err(&format!("{path} {via} took bytes that are not a {message}"));
    assert_eq!(status.code(), Code::InvalidArgument, "{path} {via}: {status:?}");
    assert!(
        status.message().contains(&format!("not a valid {message} message")),
        "{path} {via} names the message it expected: {}",
        status.message()
    );
}

#[tokio::test]
async fn bytes_that_are_not_the_request_message_are_refused_as_invalid_by_every_service() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let token = platform.token(Role::LaManager, Some("886"), None);
    // The gateway's own service is served inside the gateway only.
    for (path, message) in &METHODS[..4] {
        let attach = AttachIdentity::new(&token).expect("token");
        let channel = InterceptedService::new(platform.channel().await.expect("platform"), attach);
        assert_refused_as_invalid(call(channel.clone(), path, &GARBAGE).await, path, message, "directly");
        let valid = call(channel, path, &[]).await;
        assert!(valid.is_ok(), "{path} directly still answers a valid request: {valid:?}");
    }
}

#[tokio::test]
async fn bytes_that_are_not_the_request_message_are_refused_as_invalid_through_the_gateway() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let token = platform.token(Role::LaManager, Some("886"), None);
    for (path, message) in METHODS {
        let channel = gateway.bearer(&token).await.expect("gateway");
        assert_refused_as_invalid(call(channel.clone(), path, &GARBAGE).await, path, message, "through the gateway");
        let valid = call(channel, path, &[]).await;
        assert!(valid.is_ok(), "{path} through the gateway still answers a valid request: {valid:?}");
    }
}
