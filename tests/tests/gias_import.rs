//! The GIAS import over gRPC with a generated extract that looks like the real
//! download: thousands of rows of several authorities, 139 columns found by name,
//! Windows-1252 names, quoted commas, empty cells and malformed rows.

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gias::{BadRow, ExtractSpec, generate};
use sen_tests::platform::{SchoolsClient, TestPlatform};
use tonic::Code;

const CHUNK: usize = 1 << 20;

async fn import(
    client: &mut SchoolsClient,
    bytes: &[u8],
    dry_run: bool,
) -> Result<pb::ImportSchoolsResponse, tonic::Status> {
    let chunks: Vec<pb::ImportSchoolsRequest> =
        bytes.chunks(CHUNK).map(|c| pb::ImportSchoolsRequest { chunk: c.to_vec(), dry_run }).collect();
    client.import_schools(tokio_stream::iter(chunks)).await.map(tonic::Response::into_inner)
}

async fn all_schools(client: &mut SchoolsClient) -> Vec<pb::School> {
    let mut schools = Vec::new();
    let mut token = String::new();
    loop {
        let page = pb::PageRequest { page_size: 500, page_token: token };
        let request = pb::ListSchoolsRequest { page: Some(page), ..Default::default() };
        let response = client.list_schools(request).await.expect("listed").into_inner();
        schools.extend(response.schools);
        if response.next_page_token.is_empty() {
            return schools;
        }
        token = response.next_page_token;
    }
}

async fn a_generated_extract_loads_the_authoritys_rows_and_reports_the_bad_ones(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let spec = ExtractSpec {
        authorities: vec![(886, "Kent".into(), 1500), (887, "Medway".into(), 300)],
        other_rows: 3000,
        bad_rows: vec![
            BadRow::BadUrn,
            BadRow::BadPostcode,
            BadRow::BadOpenDate,
            BadRow::MissingName,
            BadRow::BadPhaseCode,
            BadRow::BadEstablishmentNumber,
            BadRow::WrongColumnCount,
            BadRow::DuplicateUrn,
        ],
        seed: 20261124,
    };
    let extract = generate(&spec);
    assert!(extract.bytes.len() > 2 * CHUNK, "the file arrives in several chunks");
    let kent: Vec<_> = extract.expected.iter().filter(|s| s.la_code == 886).collect();
    let mut manager = platform.manager("886").await;

    let dry = import(&mut manager, &extract.bytes, true).await.unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.created as usize, kent.len());
    assert!(all_schools(&mut manager).await.is_empty(), "a dry run writes nothing");

    let report = import(&mut manager, &extract.bytes, false).await.unwrap();
    assert_eq!((report.created as usize, report.updated, report.unchanged), (kent.len(), 0, 0));
    assert_eq!(report.other_authority_rows as usize, 300 + extract.other_rows);
    let mut skipped: Vec<u64> = report.skipped.iter().map(|s| s.line).collect();
    skipped.sort_unstable();
    let mut bad: Vec<u64> = extract.bad.iter().map(|(line, _)| *line).collect();
    bad.sort_unstable();
    assert_eq!(skipped, bad, "exactly the malformed rows are reported, by line: {:?}", report.skipped);
    for (line, kind) in &extract.bad {
        let reason = &report.skipped.iter().find(|s| s.line == *line).map(|s| s.reason.clone()).unwrap_or_default();
        let expected_word = match kind {
            BadRow::BadUrn | BadRow::DuplicateUrn => "URN",
            BadRow::BadPostcode => "Postcode",
            BadRow::BadOpenDate => "OpenDate",
            BadRow::MissingName => "EstablishmentName",
            BadRow::BadPhaseCode => "PhaseOfEducation (code)",
            BadRow::BadEstablishmentNumber => "EstablishmentNumber",
            BadRow::WrongColumnCount => "columns",
        };
        assert!(reason.contains(expected_word), "{kind:?} on line {line}: {reason}");
    }

    let stored = all_schools(&mut manager).await;
    assert_eq!(stored.len(), kent.len());
    for expected in &kent {
        let school = stored.iter().find(|s| s.urn == expected.urn.to_string()).expect("imported");
        assert_eq!(school.name, expected.name, "names survive Windows-1252");
        assert_eq!(school.laestab, format!("886{:04}", expected.establishment_number));
        assert_eq!(school.postcode, expected.postcode.clone().unwrap_or_default());
        assert_eq!(school.number_on_roll, expected.number_on_roll);
        assert_eq!(school.statutory_low_age, expected.low_age.map(u32::from));
        assert_eq!(school.phase, i32::from(expected.phase_code) + 1);
        assert_eq!(school.status, i32::from(expected.status_code));
        assert_eq!(school.establishment_type.as_ref().map(|t| t.code), Some(u32::from(expected.type_code)));
    }
    assert!(kent.iter().any(|s| !s.name.is_ascii()), "the extract exercised non-ASCII names");

    let again = import(&mut manager, &extract.bytes, false).await.unwrap();
    assert_eq!((again.created, again.updated, again.unchanged as usize), (0, 0, kent.len()));

    let mut medway = platform.manager("887").await;
    assert!(all_schools(&mut medway).await.is_empty(), "Kent's import never lands in Medway");
}

#[tokio::test]
async fn a_generated_extract_loads_the_authoritys_rows_and_reports_the_bad_ones_on_sqlite() {
    a_generated_extract_loads_the_authoritys_rows_and_reports_the_bad_ones(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_generated_extract_loads_the_authoritys_rows_and_reports_the_bad_ones_on_postgres() {
    a_generated_extract_loads_the_authoritys_rows_and_reports_the_bad_ones(Engine::Postgres).await;
}

#[tokio::test]
async fn a_file_without_the_needed_columns_is_refused_whole() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let mut manager = platform.manager("886").await;
    let err = import(&mut manager, b"URN,Name\r\n100001,Somewhere\r\n", false).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("LA (code)"), "{}", err.message());
    assert!(all_schools(&mut manager).await.is_empty());
}

#[tokio::test]
async fn only_a_council_manager_may_import() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let extract =
        generate(&ExtractSpec { authorities: vec![(886, "Kent".into(), 5)], other_rows: 0, bad_rows: vec![], seed: 1 });
    for (role, school) in [(Role::CaseOfficer, None), (Role::Senco, Some(100001))] {
        let mut client = platform.client(role, Some("886"), school).await;
        let err = import(&mut client, &extract.bytes, false).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{role}");
    }
    assert!(all_schools(&mut platform.manager("886").await).await.is_empty());
}
