//! Names where people expect them, through the real gateway and services: the
//! page header greets the signed-in person by name; a referral's timeline, a
//! pupil's history and "allocated to" name the people the reader may know (and
//! say what the others are, never their ids); the pupils and schools of a
//! caseload, a school's transfers and the CSV downloads carry names; a CSV
//! starts with the UTF-8 byte order mark.

use reqwest::{Client, StatusCode};
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{TestPlatform, primary_school};

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

/// Ids the pages must never show people.
const IDS: [&str; 5] = ["manager-886", "test-senco", "test-case_officer", "ep-eve", "caseloads service"];

struct World {
    platform: TestPlatform,
    gateway: TestGateway,
    /// Musa Ali, on SEN support at Oak Primary School (100001).
    musa: i64,
    /// His referral, sent by the SENCO, accepted by a case officer and
    /// allocated by the manager to Eve Example.
    referral: i64,
}

async fn school(platform: &TestPlatform, urn: u32, estab: &str, name: &str) {
    let fields = primary_school("886", estab, name);
    let request = pb::CreateSchoolRequest { urn: urn.to_string(), school: Some(fields) };
    platform.manager("886").await.create_school(request).await.expect("school");
}

async fn world() -> World {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    school(&platform, 100001, "2001", "Oak Primary School").await;
    school(&platform, 100002, "2002", "Elm Primary School").await;
    let senco = pb::SencoFields {
        person_name: "Priya Raman".into(),
        email: "p.raman@oak.example".into(),
        qualified_teacher: true,
        award: pb::SencoAward::InProgress as i32,
        award_achieved_on: None,
    };
    let appoint = pb::AppointSencoRequest {
        urn: "100001".into(),
        senco: Some(senco),
        appointed_on: date(2024, 9, 1),
        prior_senco_experience_over_12_months: false,
    };
    platform.manager("886").await.appoint_senco(appoint).await.expect("a SENCO");
    let musa = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let mut team = platform.caseloads(Role::LaManager, Some("886")).await;
    let fields = pb::ProfessionalFields {
        person: "ep-eve".into(),
        name: "Eve Example".into(),
        role: "educational_psychologist:main_grade".into(),
        fte: 1.0,
        capacity_kind: "open_cases".into(),
        capacity: 5,
        active: true,
    };
    let eve = team.create_professional(pb::CreateProfessionalRequest { professional: Some(fields) }).await;
    let eve = eve.expect("an EP").into_inner().id;
    let referral = platform.accepted_referral_886(musa, "educational_psychology", "names").await;
    let manager = platform.token_for("manager-886", Role::LaManager, "886");
    let allocate = pb::AllocateCaseRequest {
        referral_id: referral,
        professional_id: eve,
        idempotency_key: "names".into(),
        override_reason: String::new(),
    };
    platform.caseloads_as(&manager).await.allocate_case(allocate).await.expect("allocated");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    World { platform, gateway, musa, referral }
}

impl World {
    async fn manager(&self) -> Client {
        self.gateway.web_client_named("manager-886", Some("Alex Morgan"), Role::LaManager, Some("886"), None).await
    }

    async fn get(&self, client: &Client, path: &str) -> (StatusCode, String) {
        let response = client.get(format!("{}{path}", self.gateway.url())).send().await.expect("answer");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }
}

/// The page as people see it: without the header's record of who is signed in.
fn shown(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find(" data-person=\"") {
        out.push_str(&rest[..at]);
        let after = &rest[at + " data-person=\"".len()..];
        rest = after.find('"').map_or("", |end| &after[end + 1..]);
    }
    out.push_str(rest);
    out
}

fn no_ids(html: &str, page: &str) {
    let shown = shown(html);
    for id in IDS {
        assert!(!shown.contains(id), "{page} shows the id {id}:\n{shown}");
    }
}

#[tokio::test]
async fn the_header_greets_the_person_by_name_and_never_by_id() {
    let w = world().await;
    let (status, html) = w.get(&w.manager().await, "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(">Alex Morgan · SEN manager · LA 886<"), "{html}");
    no_ids(&html, "the dashboard");

    // A sign-in that gave no name: the role alone, still no id.
    let nameless = w.gateway.web_client_for("officer-886", Role::CaseOfficer, Some("886"), None).await;
    let (_, html) = w.get(&nameless, "/dashboard").await;
    assert!(html.contains(">SEN case officer · LA 886<"), "{html}");
    assert!(!shown(&html).contains("officer-886"));
}

#[tokio::test]
async fn a_timeline_names_the_people_the_reader_may_know_and_says_what_the_others_are() {
    let w = world().await;
    let path = format!("/referrals/{}", w.referral);

    let (status, html) = w.get(&w.manager().await, &path).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("by Alex Morgan (you)"), "the manager's own allocation: {html}");
    assert!(html.contains("by Priya Raman (SENCO)"), "the school's SENCO sent it: {html}");
    assert!(html.contains("by a SEN case officer"), "{html}");
    assert!(html.contains("Eve Example"), "allocated to, by name: {html}");
    assert!(html.contains("Oak Primary School"), "{html}");
    no_ids(&html, "the manager's referral page");

    let officer = w.gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    let (_, html) = w.get(&officer, &path).await;
    assert!(html.contains("by a SEN manager"), "another's allocation, by role: {html}");
    assert!(html.contains("by Priya Raman (SENCO)") && html.contains("Eve Example"), "{html}");
    no_ids(&html, "the case officer's referral page");

    // The SENCO may not read the council's team: the professional is what they are.
    let senco =
        w.gateway.web_client_named("test-senco", Some("Priya Raman"), Role::Senco, Some("886"), Some(100001)).await;
    let (_, html) = w.get(&senco, &path).await;
    assert!(html.contains("by Priya Raman (you)"), "{html}");
    assert!(html.contains("An educational psychologist") && !html.contains("Eve Example"), "{html}");
    no_ids(&html, "the SENCO's referral page");
}

#[tokio::test]
async fn a_pupil_page_names_the_school_and_who_changed_the_record() {
    let w = world().await;
    let (status, html) = w.get(&w.manager().await, &format!("/pupils/{}", w.musa)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Oak Primary School") && !html.contains("School 100001"), "{html}");
    assert!(html.contains("a SEN case officer"), "who added Musa, by role: {html}");
    no_ids(&html, "the pupil page");
}

#[tokio::test]
async fn a_caseload_names_its_pupils_and_schools_and_its_csv_carries_them() {
    let w = world().await;
    let eve =
        w.gateway.web_client_named("ep-eve", Some("Eve Example"), Role::EducationalPsychologist, Some("886"), None);
    let eve = eve.await;
    let (status, html) = w.get(&eve, "/caseload").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Musa Ali") && html.contains("Oak Primary School"), "{html}");
    assert!(!html.contains(">100001<"), "the school by name, not its URN: {html}");
    no_ids(&html, "the caseload");

    let case = html.split("href=\"/cases/").nth(1).and_then(|r| r.split('"').next()).expect("a case link").to_owned();
    let (_, page) = w.get(&eve, &format!("/cases/{case}")).await;
    assert!(page.contains("Musa Ali") && page.contains("Oak Primary School"), "{page}");
}

#[tokio::test]
async fn the_referrals_csv_has_pupils_and_professionals_by_name() {
    let w = world().await;
    let manager = w.manager().await;
    let response = manager.get(format!("{}/referrals?format=csv", w.gateway.url())).send().await.expect("answer");
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let body = response.bytes().await.expect("a body");
    assert!(body.starts_with(b"\xEF\xBB\xBF"), "Excel reads it as UTF-8");
    let text = String::from_utf8_lossy(&body[3..]).into_owned();
    let header = text.lines().next().expect("a header");
    assert!(header.starts_with("Referral,Pupil ID,Pupil,School URN,School,"), "{header}");
    let row = text.lines().nth(1).expect("a row");
    assert!(row.contains("Musa Ali") && row.contains("Oak Primary School") && row.contains("Eve Example"), "{row}");
    assert!(!text.contains("ep-eve"), "{text}");

    // A list naming pupils downloads for the council's SEN team only (docs/EXCHANGE.md).
    let senco = w.gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let response = senco.get(format!("{}/referrals?format=csv", w.gateway.url())).send().await.expect("answer");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_schools_transfers_name_the_school() {
    let w = world().await;
    // A pupil with an EHC plan in Year 6 this year: moving to secondary school.
    let fields = pb::PupilFields {
        upn: sen_pupils::domain::Upn::from_body("886200125777").expect("upn").as_str().into(),
        legal_forename: "Ada".into(),
        legal_surname: "Stone".into(),
        date_of_birth: date(2016, 1, 15),
        school_urn: "100001".into(),
        ..Default::default()
    };
    let request = pb::CreatePupilRequest {
        pupil: Some(fields),
        sen_status: pb::SenProvision::EhcPlan as i32,
        primary_need_code: "ASD".into(),
        ehcp: Some(pb::EhcpFields { issued_on: date(2024, 3, 1), named_setting: "Oak Primary School".into() }),
        ..Default::default()
    };
    w.platform.pupils(Role::CaseOfficer, Some("886"), None).await.create_pupil(request).await.expect("a pupil");
    let (status, html) = w.get(&w.manager().await, "/schools/100001").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let transfers = html.split_once("Phase transfers due").map(|(_, after)| after).expect("the transfers");
    let transfers = transfers.split("Annual reviews due").next().unwrap_or_default();
    assert!(transfers.contains("Ada Stone"), "{transfers}");
    assert!(!transfers.contains("School 100001"), "the school by name: {transfers}");
}
