//! A school's Common Transfer File into the register over gRPC: the sample file
//! in tests/data/ctf (CTF 24, fictional pupils) imported by a council manager
//! and by the school's SENCO, on SQLite and PostgreSQL: what a dry run reports
//! and leaves unwritten, what an import writes (pupils, needs, SEN history, the
//! plan record, the audit), that a second import changes nothing, that one bad
//! pupil leaves the whole file unwritten, that a pupil in another school's file
//! moves with their history, and who may import which school's file. The XML
//! attacks and oversized uploads are refused without harm.

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::pupils_service_client::PupilsServiceClient;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{PupilsClient, TestPlatform};
use tonic::Code;

const SAMPLE: &str = include_str!("../data/ctf/northmoor_primary_ctf24.xml");
const CHUNK: usize = 64 * 1024;

/// The sample, moved into the test platform's authority 886.
fn sample() -> String {
    SAMPLE.replace("<LEA>990</LEA>", "<LEA>886</LEA>")
}

/// The sample as school `urn`'s file, holding only the pupils `upns`.
fn file_of(urn: u32, upns: &[&str]) -> String {
    let text = sample().replace("<URN>100001</URN>", &format!("<URN>{urn}</URN>"));
    let start = text.find("<CTFpupilData>").unwrap_or(0) + "<CTFpupilData>".len();
    let end = text.find("</CTFpupilData>").unwrap_or(text.len());
    let kept: String = text[start..end]
        .split("</Pupil>")
        .filter(|pupil| upns.iter().any(|upn| pupil.contains(upn)))
        .map(|pupil| format!("{pupil}</Pupil>"))
        .collect();
    format!("{}{kept}\n  {}", &text[..start], &text[end..])
}

async fn import(client: &mut PupilsClient, file: &str, dry_run: bool) -> Result<pb::ImportCtfResponse, tonic::Status> {
    let messages: Vec<pb::ImportCtfRequest> =
        file.as_bytes().chunks(CHUNK).map(|c| pb::ImportCtfRequest { chunk: c.to_vec(), dry_run }).collect();
    client.import_ctf(tokio_stream::iter(messages)).await.map(tonic::Response::into_inner)
}

async fn register(client: &mut PupilsClient) -> Vec<pb::Pupil> {
    let request = pb::ListPupilsRequest {
        page: Some(pb::PageRequest { page_size: 100, ..Default::default() }),
        ..Default::default()
    };
    client.list_pupils(request).await.expect("listed").into_inner().pupils
}

async fn platform_with_schools(engine: Engine) -> TestPlatform {
    let platform = TestPlatform::start(engine).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 400).await;
    platform.school_886(100002, "2002", pb::Phase::Primary, (4, 11), 300).await;
    platform.school_of("887", 200001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    platform
}

/// The import audit entries' details, oldest first, read from the pupils database.
async fn import_audits(platform: &TestPlatform) -> Vec<String> {
    let url = &platform.database_urls()[1];
    let db = Database::connect(url.as_str()).await.expect("pupils database");
    let sql = "SELECT person, detail FROM audit_events WHERE action = 'pupils.ctf_import' ORDER BY id";
    // PostgreSQL keeps each authority's rows behind a wall: read as authority 886.
    let txn = db.begin().await.expect("transaction");
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SELECT set_config('sen.tenant', '886', true)").await.expect("wall");
    }
    let rows = txn.query_all(Statement::from_string(db.get_database_backend(), sql)).await.expect("read");
    txn.commit().await.expect("read");
    rows.iter()
        .map(|row| {
            let person: String = row.try_get("", "person").expect("person");
            let detail: Option<String> = row.try_get("", "detail").expect("detail");
            format!("{person}: {}", detail.unwrap_or_default())
        })
        .collect()
}

async fn a_schools_file_is_dry_run_imported_and_imported_again_without_change(engine: Engine) {
    let platform = platform_with_schools(engine).await;
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    let file = sample();

    let dry = import(&mut manager, &file, true).await.expect("dry run");
    assert!(dry.dry_run && !dry.written);
    assert_eq!((dry.created, dry.updated, dry.unchanged), (5, 0, 0));
    assert_eq!((dry.school_urn.as_str(), dry.ctf_version.as_str()), ("100001", "24.0"));
    assert_eq!(dry.changes.len(), 5, "the dry run lists what would change");
    assert!(register(&mut manager).await.is_empty(), "a dry run writes nothing");

    let report = import(&mut manager, &file, false).await.expect("imported");
    assert!(report.written && report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!((report.created, report.updated, report.unchanged), (5, 0, 0));
    let pupils = register(&mut manager).await;
    assert_eq!(pupils.len(), 5);
    let toby = pupils.iter().find(|p| p.upn == "X990200198002").expect("Toby");
    assert_eq!(toby.sen_status, pb::SenProvision::EhcPlan as i32);
    assert_eq!((toby.primary_need_code.as_str(), toby.secondary_need_code.as_str()), ("ASD", "SLCN"));
    assert_eq!(toby.preferred_forename, "Toby");
    assert!(toby.school_urn == "100001");
    let plan = manager
        .get_ehcp(pb::GetEhcpRequest { pupil_id: toby.id, ..Default::default() })
        .await
        .expect("plan opened")
        .into_inner();
    assert_eq!(plan.issued_on, Some(pb::Date { year: 2022, month: 3, day: 14 }), "from the day E began");
    let history = manager
        .list_pupil_history(pb::ListPupilHistoryRequest { pupil_id: toby.id })
        .await
        .expect("history")
        .into_inner()
        .entries;
    let days: Vec<(i32, String)> = history
        .iter()
        .filter(|e| e.kind == pb::HistoryKind::SenStatus as i32)
        .map(|e| {
            (
                e.sen_status,
                e.effective_on.map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default(),
            )
        })
        .collect();
    assert!(days.contains(&(pb::SenProvision::SenSupport as i32, "2020-09-08".into())), "{days:?}");
    assert!(days.contains(&(pb::SenProvision::EhcPlan as i32, "2022-03-14".into())), "{days:?}");
    let reuben = pupils.iter().find(|p| p.upn == "A990200198004").expect("Reuben");
    assert!(reuben.looked_after && reuben.sen_status == pb::SenProvision::NoSen as i32);
    let georgie = pupils.iter().find(|p| p.upn == "P990200198005").expect("Georgie");
    assert!(georgie.nc_year_out_of_cohort && georgie.nc_year == "4", "{georgie:?}");

    let again = import(&mut manager, &file, false).await.expect("imported again");
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 5), "{:?}", again.changes);
    let history_again = manager
        .list_pupil_history(pb::ListPupilHistoryRequest { pupil_id: toby.id })
        .await
        .expect("history")
        .into_inner()
        .entries;
    assert_eq!(history_again.len(), history.len(), "a second import adds no history");

    let audits = import_audits(&platform).await;
    assert_eq!(audits.len(), 3, "{audits:?}");
    assert!(audits[0].ends_with("school 100001, CTF 24.0: created 5, updated 0, unchanged 0, refused 0, dry run"));
    assert!(audits[1].ends_with("school 100001, CTF 24.0: created 5, updated 0, unchanged 0, refused 0"));
    assert!(audits[2].contains("unchanged 5"));
}

#[tokio::test]
async fn a_schools_file_is_dry_run_imported_and_imported_again_without_change_on_sqlite() {
    a_schools_file_is_dry_run_imported_and_imported_again_without_change(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_schools_file_is_dry_run_imported_and_imported_again_without_change_on_postgres() {
    a_schools_file_is_dry_run_imported_and_imported_again_without_change(Engine::Postgres).await;
}

async fn one_refused_pupil_leaves_the_whole_file_unwritten(engine: Engine) {
    let platform = platform_with_schools(engine).await;
    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(100001)).await;
    let bad = sample().replace("<DOB>2018-01-30</DOB>", "<DOB>30/01/2018</DOB>");
    let report = import(&mut senco, &bad, false).await.expect("answered with a report");
    assert!(!report.written);
    assert_eq!(report.refused.len(), 1);
    let refused = &report.refused[0];
    assert_eq!((refused.upn.as_str(), refused.element.as_str()), ("A990200198004", "Pupil/DOB"));
    assert!(refused.line > 90 && refused.reason.contains("30/01/2018"), "{refused:?}");
    assert!(register(&mut senco).await.is_empty(), "no pupil of the file is written");
    assert!(import_audits(&platform).await[0].ends_with("refused 1, nothing written"));
}

#[tokio::test]
async fn one_refused_pupil_leaves_the_whole_file_unwritten_on_sqlite() {
    one_refused_pupil_leaves_the_whole_file_unwritten(Engine::Sqlite).await;
}

#[tokio::test]
async fn one_refused_pupil_leaves_the_whole_file_unwritten_on_postgres() {
    one_refused_pupil_leaves_the_whole_file_unwritten(Engine::Postgres).await;
}

async fn a_pupil_in_another_schools_file_moves_with_their_history(engine: Engine) {
    let platform = platform_with_schools(engine).await;
    let mut first = platform.pupils(Role::Senco, Some("886"), Some(100001)).await;
    import(&mut first, &sample(), false).await.expect("imported");
    let marnie = register(&mut first).await.into_iter().find(|p| p.upn == "H990200198001").expect("Marnie");

    // The next school's SENCO cannot take her on a UPN with another date of birth.
    let mut next = platform.pupils(Role::Senco, Some("886"), Some(100002)).await;
    let wrong = file_of(100002, &["H990200198001"]).replace("2017-03-14", "2017-03-15");
    let refused = import(&mut next, &wrong, false).await.expect("report");
    assert!(!refused.written && refused.refused.len() == 1, "{refused:?}");
    assert!(!refused.refused[0].reason.contains("100001"), "the other school is not named");

    let moved = import(&mut next, &file_of(100002, &["H990200198001"]), false).await.expect("moved");
    assert!(moved.written, "{moved:?}");
    assert_eq!(moved.updated, 1);
    assert_eq!(moved.changes[0].kind, pb::CtfChangeKind::Moved as i32);
    assert_eq!(moved.changes[0].moved_from_urn, "100001");
    let now = register(&mut next).await;
    assert_eq!(now.iter().map(|p| p.id).collect::<Vec<_>>(), [marnie.id], "the same record, now at 100002");
    assert!(register(&mut first).await.iter().all(|p| p.id != marnie.id), "the old school no longer sees her");
    let history = next
        .list_pupil_history(pb::ListPupilHistoryRequest { pupil_id: marnie.id })
        .await
        .expect("history")
        .into_inner()
        .entries;
    assert!(history.iter().any(|e| e.kind == pb::HistoryKind::SchoolMove as i32 && e.school_urn == "100002"));
    assert!(
        history.iter().any(|e| e.kind == pb::HistoryKind::Added as i32 && e.school_urn == "100001"),
        "history kept"
    );
}

#[tokio::test]
async fn a_pupil_in_another_schools_file_moves_with_their_history_on_sqlite() {
    a_pupil_in_another_schools_file_moves_with_their_history(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_pupil_in_another_schools_file_moves_with_their_history_on_postgres() {
    a_pupil_in_another_schools_file_moves_with_their_history(Engine::Postgres).await;
}

async fn only_the_schools_own_people_and_the_council_import_its_file(engine: Engine) {
    let platform = platform_with_schools(engine).await;
    let file = sample();
    // Another school's SENCO.
    let mut other_senco = platform.pupils(Role::Senco, Some("886"), Some(100002)).await;
    let err = import(&mut other_senco, &file, false).await.expect_err("not their school");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    // Another authority's manager: the file's LEA and school are not theirs.
    let mut medway = platform.pupils(Role::LaManager, Some("887"), None).await;
    let err = import(&mut medway, &file, false).await.expect_err("not their authority");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("LEA"), "{}", err.message());
    let medway_file = file.replace("<LEA>886</LEA>", "<LEA>887</LEA>");
    let err = import(&mut medway, &medway_file, false).await.expect_err("not a school of theirs");
    assert!(err.message().contains("100001"), "{}", err.message());
    // Roles with no part in the register's changes.
    for role in [Role::EducationalPsychologist, Role::AdvisoryTeacher, Role::PlatformOperator] {
        let tenant = (role != Role::PlatformOperator).then_some("886");
        let mut client = platform.pupils(role, tenant, None).await;
        let err = import(&mut client, &file, true).await.expect_err("refused");
        assert_eq!(err.code(), Code::PermissionDenied, "{role}");
    }
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    assert!(register(&mut manager).await.is_empty(), "nothing was written");
    // The school's own SENCO and a case officer may.
    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(100001)).await;
    assert_eq!(import(&mut senco, &file, true).await.expect("own school").created, 5);
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    assert_eq!(import(&mut officer, &file, true).await.expect("any school of the authority").created, 5);
}

#[tokio::test]
async fn only_the_schools_own_people_and_the_council_import_its_file_on_sqlite() {
    only_the_schools_own_people_and_the_council_import_its_file(Engine::Sqlite).await;
}

#[tokio::test]
async fn only_the_schools_own_people_and_the_council_import_its_file_on_postgres() {
    only_the_schools_own_people_and_the_council_import_its_file(Engine::Postgres).await;
}

#[tokio::test]
async fn external_entities_and_entity_expansion_are_refused_without_being_read() {
    let platform = platform_with_schools(Engine::Sqlite).await;
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    let xxe = sample()
        .replacen("<CTfile>", "<!DOCTYPE CTfile [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<CTfile>", 1)
        .replace("<Surname>Quillfeather</Surname>", "<Surname>&x;</Surname>");
    let err = import(&mut manager, &xxe, false).await.expect_err("refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("DOCTYPE"), "{}", err.message());
    assert!(!err.message().contains("root:"), "nothing of the entity is read");
    let entities: String =
        (1..10).map(|i| format!("<!ENTITY l{i} \"{}\">", format!("&l{};", i - 1).repeat(10))).collect();
    let laughs = sample()
        .replacen("<CTfile>", &format!("<!DOCTYPE CTfile [<!ENTITY l0 \"lol\">{entities}]>\n<CTfile>"), 1)
        .replace("<Surname>Quillfeather</Surname>", "<Surname>&l9;</Surname>");
    let err = import(&mut manager, &laughs, false).await.expect_err("refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    let undeclared = sample().replace("<Surname>Quillfeather</Surname>", "<Surname>&l9;</Surname>");
    let err = import(&mut manager, &undeclared, false).await.expect_err("refused");
    assert!(err.message().contains("&l9;"), "{}", err.message());
    assert!(register(&mut manager).await.is_empty());
    // The service still answers.
    assert_eq!(import(&mut manager, &sample(), true).await.expect("still serving").created, 5);
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_as_too_large_directly_and_through_the_gateway() {
    let platform = platform_with_schools(Engine::Sqlite).await;
    let limit = sen_pupils::api::MAX_CTF_BYTES;
    let piece = vec![b' '; 1 << 20];
    let pieces = move |count: usize| {
        let piece = piece.clone();
        tokio_stream::iter((0..count).map(move |_| pb::ImportCtfRequest { chunk: piece.clone(), dry_run: false }))
    };
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    let err = manager.import_ctf(pieces(limit / (1 << 20) + 1)).await.expect_err("too large");
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("64 MiB"), "{}", err.message());

    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let token = platform.token(Role::LaManager, Some("886"), None);
    let mut via_gateway = PupilsServiceClient::new(gateway.bearer(&token).await.expect("gateway"));
    let err = via_gateway.import_ctf(pieces(limit / (1 << 20) + 2)).await.expect_err("too large");
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(register(&mut manager).await.is_empty(), "nothing written");
    assert_eq!(import(&mut manager, &sample(), true).await.expect("still serving").created, 5);
}

async fn the_json_api_takes_the_file_as_the_body(engine: Engine) {
    let platform = platform_with_schools(engine).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let token = platform.token(Role::Senco, Some("886"), Some(100001));
    let client = reqwest::Client::new();
    let answer = client
        .post(format!("{}/api/v1/pupils/import-ctf?dry_run=true", gateway.url()))
        .bearer_auth(&token)
        .body(sample())
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), 200);
    let report: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(report["created"], 5, "{report}");
    assert_eq!(report["dry_run"], true);
    let too_big = client
        .post(format!("{}/api/v1/pupils/import-ctf", gateway.url()))
        .bearer_auth(&token)
        .body(vec![b' '; sen_pupils::api::MAX_CTF_BYTES + 1])
        .send()
        .await
        .expect("answered");
    assert_eq!(too_big.status(), 413);
}

/// Posts the import form from `client`'s page: the CSRF token first, then the file.
async fn post_import(gateway: &TestGateway, client: &reqwest::Client, file: &str, dry_run: bool) -> reqwest::Response {
    let csrf = gateway.csrf(client, "/register/import").await;
    let mut form = reqwest::multipart::Form::new().text("csrf", csrf);
    if dry_run {
        form = form.text("dry_run", "true");
    }
    let part = reqwest::multipart::Part::bytes(file.as_bytes().to_vec()).file_name("ctf.xml");
    form = form.part("ctf", part);
    client.post(format!("{}/register/import", gateway.url())).multipart(form).send().await.expect("answer")
}

async fn a_senco_imports_their_schools_file_on_the_page_and_sees_the_report(engine: Engine) {
    let platform = platform_with_schools(engine).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let senco = gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let page = senco.get(format!("{}/register/import", gateway.url())).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap_or_default();
    assert!(html.contains("type=\"file\"") && html.contains("name=\"dry_run\""), "{html}");

    let dry = post_import(&gateway, &senco, &sample(), true).await;
    assert_eq!(dry.status(), 200);
    let html = dry.text().await.unwrap_or_default();
    assert!(html.contains("Dry run: nothing was written"), "{html}");
    assert!(html.contains("id=\"created\">5<"), "{html}");
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    assert!(register(&mut manager).await.is_empty());

    let imported = post_import(&gateway, &senco, &sample(), false).await;
    let html = imported.text().await.unwrap_or_default();
    assert!(html.contains("The file was imported."), "{html}");
    assert_eq!(register(&mut manager).await.len(), 5);
    let listed = senco.get(format!("{}/register", gateway.url())).send().await.expect("register");
    assert!(listed.text().await.unwrap_or_default().contains("Quillfeather"), "the pupils are on the register");

    let bad = sample().replace("<DOB>2018-01-30</DOB>", "<DOB>2018-13-30</DOB>");
    let html = post_import(&gateway, &senco, &bad, false).await.text().await.unwrap_or_default();
    assert!(html.contains("Nothing was written") && html.contains("Pupil/DOB"), "{html}");

    let other = post_import(&gateway, &senco, &sample().replace("<URN>100001</URN>", "<URN>100002</URN>"), false).await;
    assert_eq!(other.status(), 400);
    assert!(other.text().await.unwrap_or_default().contains("another school"));
}

#[tokio::test]
async fn the_import_page_refuses_a_form_without_its_token_and_people_with_no_part() {
    let platform = platform_with_schools(Engine::Sqlite).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let senco = gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let form = reqwest::multipart::Form::new()
        .part("ctf", reqwest::multipart::Part::bytes(sample().into_bytes()).file_name("ctf.xml"));
    let forged = senco.post(format!("{}/register/import", gateway.url())).multipart(form).send().await.expect("answer");
    assert_eq!(forged.status(), 403);
    let ep = gateway.web_client(Role::EducationalPsychologist, Some("886"), None).await;
    let page = ep.get(format!("{}/register/import", gateway.url())).send().await.expect("page");
    assert_eq!(page.status(), 403);
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    assert!(register(&mut manager).await.is_empty());
}

sen_platform::on_both_engines!(
    the_json_api_takes_the_file_as_the_body,
    a_senco_imports_their_schools_file_on_the_page_and_sees_the_report,
);
