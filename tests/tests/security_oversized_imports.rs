//! An upload larger than the platform accepts is refused as RESOURCE_EXHAUSTED
//! with a message naming the limit, directly and through the gateway; the
//! gateway cutting an upload off is not reported as a service being down
//! (UNAVAILABLE), which would invite the caller to send it all again. Nothing
//! of a refused upload is written.

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use sen_schools::api::MAX_IMPORT_BYTES;
use sen_schools::gias::MAX_ROWS;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{SchoolsClient, TestPlatform};
use tonic::Code;

/// The start of a GIAS extract, every needed column named.
const HEADER: &str = "URN,LA (code),EstablishmentNumber,EstablishmentName,TypeOfEstablishment (code),TypeOfEstablishment (name),EstablishmentTypeGroup (name),EstablishmentStatus (code),OpenDate,CloseDate,PhaseOfEducation (code),StatutoryLowAge,StatutoryHighAge,NumberOfPupils,Postcode\n";

/// Pieces of `size` bytes, `count` of them: a file too big to be any extract.
fn chunks(size: usize, count: usize) -> impl tokio_stream::Stream<Item = pb::ImportSchoolsRequest> + Send + 'static {
    let piece = vec![b'x'; size];
    tokio_stream::iter((0..count).map(move |_| pb::ImportSchoolsRequest { chunk: piece.clone(), dry_run: false }))
}

/// An extract of one row more than an import accepts (short rows of another authority).
fn too_many_rows() -> Vec<u8> {
    let mut file = HEADER.as_bytes().to_vec();
    file.extend(b"100001,887\n".repeat(MAX_ROWS + 1));
    file
}

async fn nothing_imported(platform: &TestPlatform) {
    let listed = platform.manager("886").await.list_schools(pb::ListSchoolsRequest::default()).await;
    assert!(listed.expect("listed").into_inner().schools.is_empty(), "a refused upload writes nothing");
}

fn assert_exhausted(outcome: Result<tonic::Response<pb::ImportSchoolsResponse>, tonic::Status>, limit: &str) {
    let status = outcome.expect_err("an oversized upload is refused");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains(limit), "the refusal names the limit ({limit}): {}", status.message());
}

#[tokio::test]
async fn an_upload_over_the_gateways_limit_is_refused_as_too_large_not_as_unavailable() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let token = platform.token(Role::LaManager, Some("886"), None);
    let mut importer = SchoolsServiceClient::new(gateway.bearer(&token).await.expect("gateway"));
    let limit = sen_gateway::proxy::MAX_STREAMED_BODY;
    let outcome = importer.import_schools(chunks(1 << 20, (limit >> 20) + 1)).await;
    assert_exhausted(outcome, &format!("{} MiB", limit >> 20));
    nothing_imported(&platform).await;
}

#[tokio::test]
async fn an_upload_over_the_services_limit_is_refused_as_too_large() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let mut importer: SchoolsClient = platform.manager("886").await;
    let piece = 4 << 20;
    let outcome = importer.import_schools(chunks(piece, MAX_IMPORT_BYTES / piece + 1)).await;
    assert_exhausted(outcome, &format!("{} MiB", MAX_IMPORT_BYTES >> 20));
    nothing_imported(&platform).await;
}

#[tokio::test]
async fn an_extract_of_more_rows_than_any_real_one_is_refused_as_too_large_directly_and_through_the_gateway() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let token = platform.token(Role::LaManager, Some("886"), None);
    let file = too_many_rows();
    let upload = || tokio_stream::iter(vec![pb::ImportSchoolsRequest { chunk: file.clone(), dry_run: false }]);

    let direct = platform.manager("886").await.import_schools(upload()).await;
    assert_exhausted(direct, &format!("{MAX_ROWS} rows"));
    let mut via_gateway = SchoolsServiceClient::new(gateway.bearer(&token).await.expect("gateway"));
    assert_exhausted(via_gateway.import_schools(upload()).await, &format!("{MAX_ROWS} rows"));
    nothing_imported(&platform).await;
}
