//! The EP and advisory teacher pages over HTTP, through the real gateway and
//! services: the caseload (own cases only, with deadlines, sorting and CSV), the
//! case page (another professional's case is not found), recording a visit
//! (errors against their fields with what was typed kept, CSRF required) and
//! closing a case.

use reqwest::{Client, StatusCode};
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{TestPlatform, create_ep};

/// Two EPs of 886 (ep-ana, ep-bo) with one case each, for Finn Hall (Ana's,
/// an EHC needs assessment: advice due) and Maya Hall (Bo's).
struct World {
    _platform: TestPlatform,
    gateway: TestGateway,
    ana_case: pb::Case,
    bo_case: pb::Case,
}

async fn world() -> World {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("the platform starts");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let finn = platform.pupil_on_support("886", 1, 100001, ("Finn", "Hall")).await;
    let maya = platform.pupil_on_support("886", 2, 100001, ("Maya", "Hall")).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ana = create_ep(&mut manager, "ep-ana", "main_grade", 10).await;
    let bo = create_ep(&mut manager, "ep-bo", "main_grade", 10).await;
    let mut cases = Vec::new();
    for (pupil, kind, who, key) in [(finn, "ehc_needs_assessment", ana, "a"), (maya, "educational_psychology", bo, "b")]
    {
        let referral = platform.accepted_referral_886(pupil, kind, key).await;
        let request = pb::AllocateCaseRequest {
            referral_id: referral,
            professional_id: who,
            idempotency_key: format!("alloc-{key}"),
            override_reason: String::new(),
        };
        cases.push(manager.allocate_case(request).await.expect("allocated").into_inner());
    }
    // Ana is asked for the psychological advice: its 6 weeks run from today (reg. 8(1)).
    let mut officer = platform.caseloads(Role::CaseOfficer, Some("886")).await;
    let ask = pb::RecordAdviceRequestRequest {
        referral_id: cases[0].referral_id,
        kind: "psychological".into(),
        from_whom: String::new(),
        professional_id: ana,
        asked_on: Some(sen_platform::dates::to_proto(sen_tests::platform::today())),
    };
    officer.record_advice_request(ask).await.expect("advice asked for");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("the gateway starts");
    let bo_case = cases.pop().expect("Bo's case");
    let ana_case = cases.pop().expect("Ana's case");
    World { _platform: platform, gateway, ana_case, bo_case }
}

impl World {
    async fn ana(&self) -> Client {
        self.gateway.web_client_for("ep-ana", Role::EducationalPsychologist, Some("886"), None).await
    }

    async fn get(&self, client: &Client, path: &str) -> (StatusCode, String) {
        let response = client.get(format!("{}{path}", self.gateway.url())).send().await.expect("the page answers");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    async fn post(&self, client: &Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        client.post(format!("{}{path}", self.gateway.url())).form(form).send().await.expect("the form is answered")
    }
}

#[tokio::test]
async fn an_ep_sees_their_own_cases_with_deadlines_and_not_another_eps() {
    let w = world().await;
    let (status, html) = w.get(&w.ana().await, "/caseload").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("My caseload"));
    assert!(html.contains(&format!("href=\"/cases/{}\"", w.ana_case.id)), "her case is listed: {html}");
    assert!(html.contains(&format!("href=\"/pupils/{}\">Finn Hall</a>", w.ana_case.pupil_id)), "by the pupil's name");
    assert!(html.contains("EHC needs assessment advice"), "the advice deadline is shown: {html}");
    assert!(html.contains("days left") || html.contains("Overdue"), "with the days left in words");
    assert!(!html.contains(&format!("href=\"/cases/{}\"", w.bo_case.id)), "Bo's case is not hers");
    assert!(!html.contains("Maya"), "nor is Bo's pupil");

    let (status, html) = w.get(&w.ana().await, &format!("/cases/{}", w.bo_case.id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found") && !html.contains("Maya"), "{html}");
    let (status, html) = w.get(&w.ana().await, &format!("/cases/{}", w.ana_case.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Record a visit") && html.contains("Close the case") && html.contains("Finn Hall"), "{html}");
}

#[tokio::test]
async fn the_caseload_sorts_and_is_read_on_the_page_not_downloaded() {
    let w = world().await;
    let (status, html) = w.get(&w.ana().await, "/caseload?sort=pupil&dir=desc").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("aria-sort=\"descending\""), "{html}");
    assert!(html.contains("Finn Hall") && !html.contains("format=csv"), "a caseload names pupils: no download link");
    // Lists naming pupils download for the council's SEN team only (docs/EXCHANGE.md).
    let response = w.ana().await.get(format!("{}/caseload?format=csv", w.gateway.url())).send().await.expect("answer");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn only_professionals_have_a_caseload_and_the_team_reads_any_case() {
    let w = world().await;
    let senco = w.gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let (status, html) = w.get(&senco, "/caseload").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("You cannot see this page"));
    let (status, _) = w.get(&senco, &format!("/cases/{}", w.ana_case.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let officer = w.gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    let (status, html) = w.get(&officer, &format!("/cases/{}", w.bo_case.id)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Dr ep-bo") && !html.contains("Record a visit"), "a case officer reads, does not record");
    let manager = w.gateway.web_client(Role::LaManager, Some("886"), None).await;
    let (status, html) = w.get(&manager, &format!("/cases/{}", w.bo_case.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Record a visit"));
    let other_council = w.gateway.web_client(Role::LaManager, Some("887"), None).await;
    let (status, html) = w.get(&other_council, &format!("/cases/{}", w.bo_case.id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("Maya") && !html.contains("ep-bo"));
}

#[tokio::test]
async fn recording_a_visit_appears_in_the_activity_log() {
    let w = world().await;
    let ana = w.ana().await;
    let path = format!("/cases/{}", w.ana_case.id);
    let csrf = w.gateway.csrf(&ana, &path).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("on", "2026-11-20"),
        ("kind", "observation"),
        ("sessions", "2"),
        ("note", "Observed in the phonics group"),
    ];
    let response = w.post(&ana, &format!("{path}/activity"), &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], format!("{path}?done=visit").as_str());
    let (_, html) = w.get(&ana, &format!("{path}?done=visit")).await;
    assert!(html.contains("Visit recorded"), "a banner says so");
    assert!(
        html.contains("20 November 2026")
            && html.contains("Observation")
            && html.contains("Observed in the phonics group")
    );
    assert!(html.contains("ep-ana"), "with who recorded it: {html}");
}

#[tokio::test]
async fn a_bad_visit_is_shown_against_its_fields_with_what_was_typed_kept() {
    let w = world().await;
    let ana = w.ana().await;
    let path = format!("/cases/{}", w.ana_case.id);
    let csrf = w.gateway.csrf(&ana, &path).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("on", "2026-11-20"),
        ("kind", "assessment"),
        ("sessions", "lots"),
        ("note", "Kept note"),
    ];
    let response = w.post(&ana, &format!("{path}/activity"), &form).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.expect("the form again");
    assert!(html.contains("There is a problem") && html.contains("href=\"#sessions\""), "{html}");
    assert!(html.contains("id=\"sessions-error\""), "the error is against the field");
    assert!(html.contains("value=\"lots\"") && html.contains("Kept note"), "what was typed is kept");
    assert!(html.contains("<option value=\"assessment\" selected"), "the chosen kind is kept: {html}");

    let future = [("csrf", csrf.as_str()), ("on", "2030-01-01"), ("kind", ""), ("sessions", "0"), ("note", "")];
    let html = w.post(&ana, &format!("{path}/activity"), &future).await.text().await.expect("the form again");
    for id in ["on", "kind", "sessions"] {
        assert!(html.contains(&format!("href=\"#{id}\"")), "every bad field at once, {id}: {html}");
    }
    let (_, html) = w.get(&ana, &path).await;
    assert!(html.contains("No visits or other activity recorded yet."), "nothing was written");
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused_and_write_nothing() {
    let w = world().await;
    let ana = w.ana().await;
    let path = format!("/cases/{}", w.ana_case.id);
    let visit = [("on", "2026-11-20"), ("kind", "consultation"), ("sessions", "1"), ("note", "")];
    assert_eq!(w.post(&ana, &format!("{path}/activity"), &visit).await.status(), StatusCode::FORBIDDEN);
    let close = [("csrf", "forged"), ("outcome", "Advice written")];
    assert_eq!(w.post(&ana, &format!("{path}/close"), &close).await.status(), StatusCode::FORBIDDEN);
    let (_, html) = w.get(&ana, &path).await;
    assert!(html.contains("No visits or other activity recorded yet.") && html.contains("Active"));
}

#[tokio::test]
async fn closing_a_case_needs_an_outcome_and_then_ends_it() {
    let w = world().await;
    let ana = w.ana().await;
    let path = format!("/cases/{}", w.ana_case.id);
    let csrf = w.gateway.csrf(&ana, &path).await;
    let response = w.post(&ana, &format!("{path}/close"), &[("csrf", csrf.as_str()), ("outcome", " ")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap_or_default().contains("href=\"#outcome\""));
    let done = [("csrf", csrf.as_str()), ("outcome", "Advice written and sent")];
    let response = w.post(&ana, &format!("{path}/close"), &done).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = w.get(&ana, &format!("{path}?done=closed")).await;
    assert!(html.contains("Case closed") && html.contains("Advice written and sent"), "{html}");
    assert!(!html.contains("Record a visit"), "a closed case takes no more visits");
    let (_, caseload) = w.get(&ana, "/caseload").await;
    assert!(!caseload.contains(&format!("href=\"/cases/{}\"", w.ana_case.id)), "it leaves her caseload");
}
