//! The council's lists as files people open in a spreadsheet, over HTTP
//! through the real gateway and services, on SQLite and PostgreSQL: each list
//! page downloads as CSV and XLSX at its own address with its filters applied
//! (a header row, the rows the page selects, names rather than ids, dates as
//! ISO dates in CSV and as Excel dates in XLSX); a list naming pupils only for
//! the council's SEN team (others are refused and see no link); another
//! authority's people get none of the council's rows; and every download is
//! recorded in the gateway's session store (who, which list, its filters, the
//! format, how many rows).

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use reqwest::{Client, StatusCode};
use sen_gateway::sessions::SessionStore;
use sen_platform::config::PoolConfig;
use sen_platform::identity::Role;
use sen_platform::ids::LaCode;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;

const PUPILS_HEADER: &str = "Pupil id,UPN,Legal forename,Legal surname,Preferred name,Date of birth,School URN,School,Year,SEN status,Primary need,Secondary need";
const REGISTER_HEADER: &str = "Pupil id,UPN,Legal forename,Legal surname,Preferred name,Date of birth,Year,SEN status,Primary need,Secondary need,Looked after";

struct World {
    platform: TestPlatform,
    gateway: TestGateway,
}

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

/// Adds a pupil to `urn` of `tenant` as a case officer would.
async fn pupil(
    platform: &TestPlatform,
    (tenant, urn, serial): (&str, u32, u32),
    name: (&str, &str),
    born: Option<pb::Date>,
    status: pb::SenProvision,
) {
    let upn = sen_pupils::domain::Upn::from_body(&format!("{tenant}300125{serial:03}")).expect("a UPN");
    let request = pb::CreatePupilRequest {
        pupil: Some(pb::PupilFields {
            upn: upn.as_str().into(),
            legal_forename: name.0.into(),
            legal_surname: name.1.into(),
            date_of_birth: born,
            school_urn: urn.to_string(),
            ..Default::default()
        }),
        sen_status: status as i32,
        primary_need_code: if status == pb::SenProvision::NoSen { "" } else { "ASD" }.into(),
        ehcp: (status == pb::SenProvision::EhcPlan)
            .then(|| pb::EhcpFields { issued_on: date(2025, 9, 1), named_setting: "Its own school".into() }),
        ..Default::default()
    };
    let mut officer = platform.pupils(Role::CaseOfficer, Some(tenant), None).await;
    officer.create_pupil(request).await.expect("the pupil");
}

/// Authority 886: Ada Zephyr (E, born 10 January 2016) and Ben Young (K) at
/// School 2001 (100001), Cara Xu (E) at School 2002 (100002); authority 887:
/// Eve Vance (E) at School 2001 of 887 (200001).
async fn world(engine: Engine) -> World {
    use pb::SenProvision as Sen;
    let platform = TestPlatform::start(engine).await.expect("platform");
    for (urn, estab) in [(100001, "2001"), (100002, "2002")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 200).await;
    }
    platform.school_of("887", 200001, "2001", pb::Phase::Primary, (4, 11), 100).await;
    pupil(&platform, ("886", 100001, 1), ("Ada", "Zephyr"), date(2016, 1, 10), Sen::EhcPlan).await;
    pupil(&platform, ("886", 100001, 2), ("Ben", "Young"), date(2017, 2, 2), Sen::SenSupport).await;
    pupil(&platform, ("886", 100002, 3), ("Cara", "Xu"), date(2016, 3, 3), Sen::EhcPlan).await;
    pupil(&platform, ("887", 200001, 5), ("Eve", "Vance"), date(2016, 1, 10), Sen::EhcPlan).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    World { platform, gateway }
}

impl World {
    async fn get(&self, client: &Client, path: &str) -> (StatusCode, Option<String>, Vec<u8>) {
        let response = client.get(format!("{}{path}", self.gateway.url())).send().await.expect("answer");
        let status = response.status();
        let kind = response.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        (status, kind, response.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
    }

    /// A CSV file's text, without its byte order mark, having checked it is one.
    async fn csv(&self, client: &Client, list: &str) -> String {
        let path = with_format(list, "csv");
        let (status, kind, body) = self.get(client, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&body));
        assert_eq!(kind.as_deref(), Some("text/csv; charset=utf-8"), "{path}");
        let text = String::from_utf8(body).expect("UTF-8");
        text.strip_prefix('\u{feff}').expect("a byte order mark, for Excel").to_owned()
    }

    /// An XLSX file's first sheet, having checked it opens.
    async fn xlsx(&self, client: &Client, list: &str) -> calamine::Range<Data> {
        let path = with_format(list, "xlsx");
        let (status, kind, body) = self.get(client, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&body));
        assert_eq!(kind.as_deref(), Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(body)).expect("the file opens as a workbook");
        workbook.worksheet_range_at(0).expect("a sheet").expect("readable")
    }

    async fn exports(&self, tenant: &str) -> Vec<sen_gateway::sessions::ExportRecord> {
        let store = SessionStore::connect(self.gateway.session_store(), &PoolConfig::default()).await.expect("store");
        store.exports(LaCode::parse(tenant).ok()).await.expect("the record")
    }
}

/// The address of `list`'s file in `format`.
fn with_format(list: &str, format: &str) -> String {
    format!("{list}{}format={format}", if list.contains('?') { '&' } else { '?' })
}

/// Row `row` of `range` as text, cells joined by commas.
fn line(range: &calamine::Range<Data>, row: usize) -> String {
    (0..range.width())
        .map(|col| range.get((row, col)).map(|d| d.to_string()).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(",")
}

async fn the_council_downloads_its_pupils_with_the_filters_applied_as_csv_and_xlsx(engine: Engine) {
    let w = world(engine).await;
    let officer = w.gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    let (_, _, page) = w.get(&officer, "/pupils?status=E").await;
    let page = String::from_utf8(page).expect("a page");
    assert!(page.contains("href=\"/pupils?status=E&amp;format=csv\"") && page.contains(">Download CSV<"), "{page}");
    assert!(page.contains("href=\"/pupils?status=E&amp;format=xlsx\"") && page.contains(">Download XLSX<"), "{page}");

    let csv = w.csv(&officer, "/pupils?status=E").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.first().copied(), Some(PUPILS_HEADER));
    assert_eq!(lines.len(), 3, "a header and the two pupils with a plan, not Ben (K): {csv}");
    let ada = lines.iter().find(|l| l.contains("Zephyr")).expect("Ada's row");
    assert!(ada.contains(",Ada,Zephyr,Ada Zephyr,2016-01-10,100001,School 2001,"), "names and an ISO date: {ada}");
    assert!(!csv.contains("Young") && !csv.contains("Vance"), "filtered, and only the authority's own: {csv}");

    let sheet = w.xlsx(&officer, "/pupils?status=E&school=100001").await;
    assert_eq!(line(&sheet, 0), PUPILS_HEADER);
    assert_eq!(sheet.height(), 2, "one pupil with a plan at School 2001");
    assert!(line(&sheet, 1).contains("Zephyr") && line(&sheet, 1).contains("School 2001"));
    match sheet.get((1, 5)) {
        Some(Data::DateTime(born)) => {
            let days = NaiveDate::from_ymd_opt(2016, 1, 10).unwrap() - NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
            assert_eq!(born.as_f64(), days.num_days() as f64, "10 January 2016, as an Excel date");
        }
        other => panic!("the date of birth is a date cell, not {other:?}"),
    }
    assert!(matches!(sheet.get((1, 0)), Some(Data::Float(_))), "the id is a number");

    let recorded = w.exports("886").await;
    assert_eq!(recorded.len(), 2, "each download recorded: {recorded:?}");
    let xlsx = &recorded[0];
    assert_eq!(
        (xlsx.list.as_str(), xlsx.format.as_str(), xlsx.filters.as_str()),
        ("pupils", "xlsx", "status=E&school=100001")
    );
    assert_eq!(
        (xlsx.grant.role, xlsx.grant.person.as_str(), xlsx.rows),
        (Role::CaseOfficer, "test-case_officer", Some(1))
    );
    assert_eq!((recorded[1].format.as_str(), recorded[1].rows), ("csv", Some(2)));
    w.platform.stop().await.expect("stops");
}

async fn a_schools_register_downloads_with_its_filters_for_the_council(engine: Engine) {
    let w = world(engine).await;
    let manager = w.gateway.web_client(Role::LaManager, Some("886"), None).await;
    let csv = w.csv(&manager, "/register?school=100001").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.first().copied(), Some(REGISTER_HEADER));
    assert_eq!(lines.len(), 3, "Ada and Ben, by name: {csv}");
    assert!(lines[1].contains("Young") && lines[2].contains("Zephyr"), "in name order: {csv}");
    assert!(lines[2].contains(",Ada,Zephyr,Ada Zephyr,2016-01-10,") && lines[2].ends_with(",No"), "{csv}");
    let csv = w.csv(&manager, "/register?school=100001&sen_status=K").await;
    assert_eq!(csv.lines().count(), 2, "Ben only: {csv}");
    let sheet = w.xlsx(&manager, "/register?school=100001&sen_status=E").await;
    assert_eq!((line(&sheet, 0).as_str(), sheet.height()), (REGISTER_HEADER, 2));
    assert!(matches!(sheet.get((1, 5)), Some(Data::DateTime(_))), "the date of birth is a date cell");
    let recorded = w.exports("886").await;
    assert_eq!(
        recorded.iter().map(|r| (r.list.as_str(), r.rows)).collect::<Vec<_>>(),
        [("register", Some(1)), ("register", Some(1)), ("register", Some(2))]
    );
    assert_eq!(recorded[0].filters, "school=100001&sen_status=E");
    w.platform.stop().await.expect("stops");
}

async fn every_council_list_downloads_with_its_header_row(engine: Engine) {
    let w = world(engine).await;
    let manager = w.gateway.web_client(Role::LaManager, Some("886"), None).await;
    for (path, header) in [
        (
            "/referrals",
            "Referral,Pupil ID,Pupil,School URN,School,Kind,Status,Submitted on,Priority,Allocated to,Next statutory deadline,Deadline date,Clock health",
        ),
        (
            "/statutory-clock",
            "Referral,Pupil ID,Pupil,School URN,School,Received,Stage,Next deadline,Due,Days left,Weeks elapsed,Health",
        ),
        (
            "/transitions",
            "Pupil ID,Pupil,School URN,School,Transfer,Deadline,Days left,Named setting,Amended plan issued,Status,Rating",
        ),
        ("/annual-reviews-due", "Pupil ID,Pupil,School URN,School,Review due,Days left,Overdue"),
        (
            "/late-advice",
            "EHC request,Pupil ID,Pupil,School URN,School,Advice,Asked of,Asked on,Due on,Received on,Days late,State",
        ),
        (
            "/late-amendments",
            "Pupil ID,Pupil,School URN,School,Review meeting,Amendments proposed,Amended plan due,Due by,Amended plan issued,Days late,Status",
        ),
        (
            "/statutory-clock/plans",
            "Referral,Pupil ID,Pupil,School URN,School,Received,Final plan due,Final plan issued,Weeks taken,Timeliness",
        ),
        ("/professionals", "Professional,Role,Open cases,Capacity,Capacity kind,Load %,Advice overdue,Status"),
        ("/senco-compliance", "URN,School,Issue,SENCO,Qualification,Award deadline,Days to deadline"),
        ("/schools", "URN,School,Phase,Number on roll,SENCO,SEN support %,EHC plan %,SEN %"),
    ] {
        let (_, _, page) = w.get(&manager, path).await;
        let page = String::from_utf8(page).expect("a page");
        assert!(page.contains(">Download CSV<") && page.contains(">Download XLSX<"), "{path} offers both files");
        let csv = w.csv(&manager, path).await;
        assert_eq!(csv.lines().next(), Some(header), "{path}");
        let sheet = w.xlsx(&manager, path).await;
        assert_eq!(line(&sheet, 0), header, "{path}");
    }
    let schools = w.csv(&manager, "/schools").await;
    assert!(schools.contains("100001,School 2001,Primary,200,"), "a known row: {schools}");
    assert!(!schools.contains("200001"), "no other authority's school: {schools}");
    w.platform.stop().await.expect("stops");
}

async fn lists_naming_pupils_are_refused_to_other_roles_who_see_no_link(engine: Engine) {
    let w = world(engine).await;
    let senco = w.gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let (status, _, page) = w.get(&senco, "/register").await;
    let page = String::from_utf8(page).expect("a page");
    assert_eq!(status, StatusCode::OK, "the SENCO reads their register");
    assert!(page.contains("Zephyr") && !page.contains("Download CSV") && !page.contains("format="), "{page}");
    for path in ["/register?format=csv", "/register?format=xlsx", "/transitions?format=csv", "/referrals?format=xlsx"] {
        let (status, _, body) = w.get(&senco, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(!String::from_utf8_lossy(&body).contains("Zephyr"), "{path}");
    }
    let ep = w.gateway.web_client(Role::EducationalPsychologist, Some("886"), None).await;
    let (status, _, _) = w.get(&ep, "/caseload?format=csv").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a caseload names pupils");
    let (status, _, _) = w.get(&ep, "/referrals?format=csv").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(w.exports("886").await.is_empty(), "nothing refused is recorded as exported");
    w.platform.stop().await.expect("stops");
}

async fn another_authority_gets_none_of_the_councils_rows(engine: Engine) {
    let w = world(engine).await;
    let theirs = w.gateway.web_client(Role::CaseOfficer, Some("887"), None).await;
    let csv = w.csv(&theirs, "/pupils?status=all").await;
    assert_eq!(csv.lines().count(), 2, "their own pupil only: {csv}");
    assert!(csv.contains("Vance") && !csv.contains("Zephyr") && !csv.contains("Xu"), "{csv}");
    let sheet = w.xlsx(&theirs, "/pupils?status=all&school=100001").await;
    assert_eq!(sheet.height(), 1, "another authority's school: a header and no rows");
    let (status, _, body) = w.get(&theirs, "/register?school=100001&format=csv").await;
    let body = String::from_utf8_lossy(&body);
    assert!(!body.contains("Zephyr") && !body.contains("Young"), "{status}: {body}");
    assert!(w.exports("886").await.is_empty(), "886's record holds only 886's people");
    assert!(w.exports("887").await.iter().all(|r| r.grant.tenant == LaCode::parse("887").ok()));
    w.platform.stop().await.expect("stops");
}

sen_platform::on_both_engines!(
    the_council_downloads_its_pupils_with_the_filters_applied_as_csv_and_xlsx,
    a_schools_register_downloads_with_its_filters_for_the_council,
    every_council_list_downloads_with_its_header_row,
    lists_naming_pupils_are_refused_to_other_roles_who_see_no_link,
    another_authority_gets_none_of_the_councils_rows,
);
