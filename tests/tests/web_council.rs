//! The council SEN team's pages over HTTP, through the real gateway and
//! services: the dashboard (figures, four charts with data, a part closed to
//! the role named as unavailable), the referrals list (scoped per role and
//! authority, CSV, the live feed), a school's page (another school is not
//! found for a SENCO), and the platform operator's authorities form.

use reqwest::{Client, StatusCode};
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

struct World {
    platform: TestPlatform,
    gateway: TestGateway,
    /// Referrals from school 100001 and from 100002 (both of 886).
    from_100001: i64,
    from_100002: i64,
    /// A referral of authority 887.
    medway: i64,
}

async fn refer(platform: &TestPlatform, tenant: &str, pupil: i64, urn: u32, kind: &str, key: &str) -> i64 {
    let body = pb::ReferralBody {
        pupil_id: pupil,
        school_urn: urn.to_string(),
        kind: kind.into(),
        broad_areas: vec!["communication_and_interaction".into()],
        concern: "Speech is hard to understand".into(),
        graduated_approach: Some(pb::GraduatedApproach { summary: "Small-group work".into(), ..Default::default() }),
        consent: Some(pb::ParentalConsent {
            given_by: "Mother".into(),
            given_on: date(2026, 11, 10),
            method: "signed_form".into(),
        }),
        priority: "routine".into(),
    };
    let mut officer = platform.referrals(Role::CaseOfficer, Some(tenant), None).await;
    let request =
        pb::SubmitReferralRequest { referral: Some(body), idempotency_key: key.into(), confirm_duplicate: true };
    officer.submit_referral(request).await.expect("referral").into_inner().id
}

/// Two schools of 886 with a referral each (one an EHC needs assessment request
/// taken to its final plan), a professional, and a referral of 887.
async fn world() -> World {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    for (urn, estab) in [(100001, "2001"), (100002, "2002")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 200).await;
    }
    let a = platform.pupil_on_support("886", 1, 100001, ("Pupil1", "Tester")).await;
    let b = platform.pupil_on_support("886", 2, 100002, ("Pupil2", "Tester")).await;
    let from_100001 = refer(&platform, "886", a, 100001, "educational_psychology", "k1").await;
    let from_100002 = refer(&platform, "886", b, 100002, "ehc_needs_assessment", "k2").await;
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let on = date(2026, 11, 24);
    let (id, assess, issue) = (from_100002, "assess".to_owned(), "issue".to_owned());
    officer
        .record_assessment_decision(pb::RecordAssessmentDecisionRequest {
            id,
            decision: assess,
            decided_on: on,
            version: None,
        })
        .await
        .expect("assessing");
    officer
        .record_plan_decision(pb::RecordPlanDecisionRequest { id, decision: issue, decided_on: on, version: None })
        .await
        .expect("to issue");
    officer
        .record_final_plan_issued(pb::RecordFinalPlanIssuedRequest { id, issued_on: on, version: None })
        .await
        .expect("issued");
    let fields = pb::ProfessionalFields {
        person: "ep-eve".into(),
        name: "Eve Example".into(),
        role: "educational_psychologist:main_grade".into(),
        fte: 1.0,
        capacity_kind: "open_cases".into(),
        capacity: 5,
        active: true,
    };
    let mut caseloads = platform.caseloads(Role::LaManager, Some("886")).await;
    caseloads.create_professional(pb::CreateProfessionalRequest { professional: Some(fields) }).await.expect("ep");
    let medway_school = pb::SchoolFields {
        laestab: "8872001".into(),
        name: "Medway School".into(),
        establishment_type_code: 1,
        phase: pb::Phase::Primary as i32,
        status: pb::EstablishmentStatus::Open as i32,
        number_on_roll: Some(100),
        ..Default::default()
    };
    let request = pb::CreateSchoolRequest { urn: "200001".into(), school: Some(medway_school) };
    platform.manager("887").await.create_school(request).await.expect("school");
    let m = platform.pupil_on_support("887", 1, 200001, ("Pupil1", "Tester")).await;
    let medway = refer(&platform, "887", m, 200001, "educational_psychology", "m1").await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    World { platform, gateway, from_100001, from_100002, medway }
}

impl World {
    async fn client(&self, role: Role, tenant: &str, school: Option<u32>) -> Client {
        self.gateway.web_client(role, Some(tenant), school).await
    }

    async fn get(&self, client: &Client, path: &str) -> (StatusCode, String) {
        let response = client.get(format!("{}{path}", self.gateway.url())).send().await.expect("answered");
        (response.status(), response.text().await.expect("body"))
    }
}

fn marks(html: &str, chart: &str) -> usize {
    let start = html.find(&format!("data-chart=\"{chart}\"")).unwrap_or_else(|| panic!("no {chart} chart"));
    let svg = &html[start..html[start..].find("</svg>").map_or(html.len(), |end| start + end)];
    svg.matches("data-value=").count()
}

fn referral_link(id: i64) -> String {
    format!("href=\"/referrals/{id}\"")
}

#[tokio::test]
async fn the_managers_dashboard_shows_the_figures_and_four_charts_with_data() {
    let world = world().await;
    let manager = world.client(Role::LaManager, "886", None).await;
    let (status, html) = world.get(&manager, "/dashboard").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for text in ["Pupils on SEN support", "Pupils with an EHC plan", "Open referrals", "Schools with no SENCO"] {
        assert!(html.contains(text), "{text} is shown");
    }
    assert!(html.contains("href=\"/referrals?status=open\""), "the open referrals figure leads to the list");
    assert!(html.contains("href=\"/statutory-clock?health=at_risk\""));
    assert!(html.contains("100.0%"), "one plan issued, within 20 weeks");
    assert!(!html.contains("is not available"), "every part answered the manager");
    assert!(marks(&html, "referrals-by-month") >= 2, "a mark per kind and month");
    assert_eq!(marks(&html, "timeliness-by-month"), 1, "one month with plans issued");
    assert_eq!(marks(&html, "caseload-load"), 1, "one professional");
    assert_eq!(marks(&html, "sen-by-school"), 2, "two schools with a known roll");
    assert_eq!(html.matches("data-chart=").count(), 4);
    assert_eq!(html.matches("role=\"group\"").count(), 4, "each chart's bars lead to the lists behind them");
    assert!(html.contains("Eve Example"));
}

#[tokio::test]
async fn a_case_officers_dashboard_names_the_caseload_balance_as_unavailable() {
    let world = world().await;
    let officer = world.client(Role::CaseOfficer, "886", None).await;
    let (status, html) = world.get(&officer, "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Caseload balance is not available"), "{html}");
    assert!(!html.contains("data-chart=\"caseload-load\""));
    assert!(html.contains("data-chart=\"referrals-by-month\""), "the rest still renders");
}

#[tokio::test]
async fn schools_professionals_and_the_operator_may_not_see_the_dashboard() {
    let world = world().await;
    for client in [
        world.client(Role::Senco, "886", Some(100001)).await,
        world.client(Role::EducationalPsychologist, "886", None).await,
        world.gateway.web_client(Role::PlatformOperator, None, None).await,
    ] {
        let (status, html) = world.get(&client, "/dashboard").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(!html.contains("data-chart"));
    }
}

#[tokio::test]
async fn a_senco_lists_only_their_schools_referrals_and_another_authority_none_of_886s() {
    let world = world().await;
    let senco = world.client(Role::Senco, "886", Some(100001)).await;
    let (status, html) = world.get(&senco, "/referrals").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&referral_link(world.from_100001)));
    assert!(!html.contains(&referral_link(world.from_100002)), "another school's referral is not listed");
    assert!(html.contains("id=\"referral-rows\"") && html.contains("data-live=\"/referrals/live\""));
    assert!(html.contains("id=\"live-status\"") && html.contains("aria-live=\"polite\""));

    let medway = world.client(Role::LaManager, "887", None).await;
    let (_, html) = world.get(&medway, "/referrals").await;
    assert!(html.contains(&referral_link(world.medway)));
    assert!(!html.contains(&referral_link(world.from_100001)) && !html.contains(&referral_link(world.from_100002)));

    let manager = world.client(Role::LaManager, "886", None).await;
    let (_, html) = world.get(&manager, "/referrals?kind=ehc_needs_assessment").await;
    assert!(html.contains(&referral_link(world.from_100002)) && !html.contains(&referral_link(world.from_100001)));
    let (_, html) = world.get(&manager, "/referrals?status=closed").await;
    assert!(html.contains("No referrals match"), "none is closed");
    let (_, html) = world.get(&manager, "/referrals?sort=id&dir=desc").await;
    assert!(html.contains("aria-sort=\"descending\""));
    let (first, second) = (referral_link(world.from_100002), referral_link(world.from_100001));
    assert!(html.find(&first) < html.find(&second), "newest first");
}

#[tokio::test]
async fn the_referrals_csv_has_a_header_and_a_row_per_referral() {
    let world = world().await;
    let manager = world.client(Role::LaManager, "886", None).await;
    let response = manager.get(format!("{}/referrals?format=csv", world.gateway.url())).send().await.expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("referrals.csv"));
    let body = response.text().await.unwrap();
    let body = body.strip_prefix('\u{feff}').expect("a UTF-8 byte order mark first, for Excel");
    let mut lines = body.lines();
    assert!(lines.next().unwrap_or_default().starts_with("Referral,Pupil ID,Pupil,School URN,"), "{body}");
    let ids: Vec<String> = lines.map(|line| line.split(',').next().unwrap_or_default().to_owned()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&world.from_100001.to_string()) && ids.contains(&world.from_100002.to_string()));
}

#[tokio::test]
async fn a_school_page_shows_that_school_and_is_not_found_for_another_schools_senco() {
    let world = world().await;
    let senco = world.client(Role::Senco, "886", Some(100001)).await;
    let response = senco.get(format!("{}/school", world.gateway.url())).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/schools/100001");
    let (status, html) = world.get(&senco, "/schools/100001").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("School 2001") && html.contains("No SENCO"));
    let (status, html) = world.get(&senco, "/schools/100002").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("School 2002"));
    let manager = world.client(Role::LaManager, "886", None).await;
    let (status, html) = world.get(&manager, "/schools").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/schools/100001\"") && html.contains("href=\"/schools/100002\""));
    let (status, _) = world.get(&world.client(Role::LaManager, "887", None).await, "/schools/100001").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another authority's school");
}

#[tokio::test]
async fn the_live_feed_answers_an_event_stream() {
    let world = world().await;
    let senco = world.client(Role::Senco, "886", Some(100001)).await;
    let mut response = senco.get(format!("{}/referrals/live", world.gateway.url())).send().await.expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let pupil = world.platform.pupil_on_support("886", 3, 100001, ("Pupil3", "Tester")).await;
    let id = refer(&world.platform, "886", pupil, 100001, "educational_psychology", "k3").await;
    let mut seen = String::new();
    let expected = format!("event: referral\ndata: {id}\n");
    while !seen.contains(&expected) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), response.chunk()).await;
        let chunk = chunk.expect("an event in time").expect("read").expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn the_deadline_lists_and_the_caseload_balance_render_for_the_manager() {
    let world = world().await;
    let manager = world.client(Role::LaManager, "886", None).await;
    for (path, text) in [
        ("/transitions", "Phase transfers due"),
        ("/annual-reviews-due", "Annual reviews due"),
        ("/statutory-clock", "1 of 1 final plans"),
        ("/senco-compliance?issue=no_senco", "School 2001"),
        ("/professionals", "Eve Example"),
        ("/schools?sort=name&dir=desc", "School 2002"),
    ] {
        let (status, html) = world.get(&manager, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains(text), "{path} shows {text}");
    }
    let (status, _) = world.get(&world.client(Role::CaseOfficer, "886", None).await, "/professionals").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the caseload balance is the manager's");
    let response = manager.get(format!("{}/schools?format=csv", world.gateway.url())).send().await.unwrap();
    assert_eq!(response.text().await.unwrap().lines().count(), 3, "a header and two schools");
}

#[tokio::test]
async fn creating_an_authority_needs_the_csrf_token_and_names_a_bad_code() {
    let world = world().await;
    let operator = world.gateway.web_client(Role::PlatformOperator, None, None).await;
    let url = format!("{}/authorities", world.gateway.url());
    let refused = operator.post(&url).form(&[("la_code", "889"), ("name", "Somewhere")]).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let csrf = world.gateway.csrf(&operator, "/authorities").await;
    assert!(!csrf.is_empty());
    let bad =
        operator.post(&url).form(&[("csrf", csrf.as_str()), ("la_code", "88"), ("name", "")]).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(html.contains("href=\"#la_code\"") && html.contains("href=\"#name\""), "both fields named");
    assert!(html.contains("value=\"88\""), "what was typed is kept");
    let (_, list) = world.get(&operator, "/authorities").await;
    assert!(!list.contains("Somewhere"), "nothing was written");
    let made = operator
        .post(&url)
        .form(&[("csrf", csrf.as_str()), ("la_code", "889"), ("name", "Somewhere")])
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let (_, list) = world.get(&operator, "/authorities?done=created").await;
    assert!(list.contains("Somewhere") && list.contains("Authority registered"));
}

#[tokio::test]
async fn a_senco_holding_only_a_nasenco_since_september_2024_shows_as_working_towards_the_npq() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    for (urn, estab) in [(100001, "2001"), (100002, "2002"), (100003, "2003")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 200).await;
    }
    let mut schools = platform.manager("886").await;
    let senco = |name: &str, award: pb::SencoAward, achieved| pb::SencoFields {
        person_name: name.into(),
        email: "senco@school.example".into(),
        qualified_teacher: true,
        award: award as i32,
        award_achieved_on: achieved,
    };
    for (urn, fields, appointed) in [
        ("100001", senco("Nia Jones", pb::SencoAward::Nasenco, date(2025, 7, 1)), date(2024, 9, 1)),
        ("100002", senco("Omar Khan", pb::SencoAward::InProgress, None), date(2023, 9, 1)),
        ("100003", senco("Ruth Hale", pb::SencoAward::NpqSenco, date(2026, 7, 10)), date(2024, 10, 1)),
    ] {
        let request = pb::AppointSencoRequest {
            urn: urn.into(),
            senco: Some(fields),
            appointed_on: appointed,
            prior_senco_experience_over_12_months: false,
        };
        schools.appoint_senco(request).await.expect("appointed");
    }
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let get = |path: &'static str| {
        let request = manager.get(format!("{}{path}", gateway.url()));
        async move {
            let response = request.send().await.expect("answered");
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            response.text().await.expect("body")
        }
    };
    let school = get("/schools/100001").await;
    // The page judges "due" or "overdue" on the real day, so only the words before it are fixed.
    assert!(school.contains("Working towards NPQ for SENCOs — "), "the NASENCO does not count: {school}");
    assert!(school.contains("1 September 2027"));
    assert!(school.contains("the NASENCO achieved 1 July 2025 does not count"));
    assert!(get("/schools/100003").await.contains("NPQ for SENCOs, 10 July 2026"));
    let compliance = get("/senco-compliance?issue=award_overdue").await;
    assert!(
        compliance.contains("Working towards NASENCO or NPQ for SENCOs — was due 1 September 2026, overdue"),
        "{compliance}"
    );
    assert!(!compliance.contains("Nia Jones"), "not yet due, so not on the overdue list");
    let csv = manager
        .get(format!("{}/senco-compliance?format=csv&issue=award_overdue", gateway.url()))
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("body");
    assert!(csv.contains("Omar Khan") && csv.contains("was due 1 September 2026"), "{csv}");
    // Another authority's team sees none of these SENCOs.
    let medway = gateway.web_client(Role::LaManager, Some("887"), None).await;
    let other = medway.get(format!("{}/senco-compliance", gateway.url())).send().await.expect("answered");
    assert!(!other.text().await.expect("body").contains("Omar Khan"));
}
