//! The SENCO's pages and the referral pages over HTTP, through the real gateway
//! and services: the register (scoped to the SENCO's school, CSV, adding a
//! pupil), the pupil page, the referral form (every error at once, what was
//! typed kept, one referral per form), and the referral page (the manager
//! allocates in one click; others see no controls, other authorities nothing).

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
    /// Musa Ali at 100001 and Zara Khan at 100002.
    musa: i64,
    zara: i64,
}

async fn world() -> World {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    for (urn, estab) in [(100001, "2001"), (100002, "2002")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 200).await;
    }
    let musa = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let zara = platform.pupil_on_support("886", 2, 100002, ("Zara", "Khan")).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    World { platform, gateway, musa, zara }
}

impl World {
    async fn senco(&self) -> Client {
        self.gateway.web_client(Role::Senco, Some("886"), Some(100001)).await
    }

    async fn get(&self, client: &Client, path: &str) -> (StatusCode, String) {
        let response = client.get(format!("{}{path}", self.gateway.url())).send().await.expect("answer");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    /// Posts `form` to `path` with the CSRF token of `client`'s pages.
    async fn post(&self, client: &Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.gateway.csrf(client, "/register").await;
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &csrf));
        client.post(format!("{}{path}", self.gateway.url())).form(&fields).send().await.expect("answer")
    }

    /// Posts `form` as `multipart/form-data` (a form that may carry files) to
    /// `path`, the CSRF token of `client`'s pages first.
    async fn post_multipart(&self, client: &Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.gateway.csrf(client, "/register").await;
        let mut body = reqwest::multipart::Form::new().text("csrf", csrf);
        for (name, value) in form {
            body = body.text(name.to_string(), value.to_string());
        }
        client.post(format!("{}{path}", self.gateway.url())).multipart(body).send().await.expect("answer")
    }

    async fn pupils_at(&self, urn: &str) -> usize {
        let mut officer = self.platform.pupils(Role::CaseOfficer, Some("886"), None).await;
        let request = pb::ListPupilsRequest { school_urn: urn.into(), ..Default::default() };
        officer.list_pupils(request).await.expect("listed").into_inner().pupils.len()
    }

    async fn referral_count(&self) -> usize {
        let mut officer = self.platform.referrals(Role::CaseOfficer, Some("886"), None).await;
        officer.list_referrals(pb::ListReferralsRequest::default()).await.expect("listed").into_inner().referrals.len()
    }

    /// A referral for Musa sent by the SENCO and accepted by the case officer.
    async fn accepted_referral(&self, key: &str) -> i64 {
        self.platform.accepted_referral_886(self.musa, "educational_psychology", key).await
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_senco_sees_their_schools_register_and_not_another_schools_pupils() {
    let w = world().await;
    let senco = w.senco().await;
    let (status, html) = w.get(&senco, "/register").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("href=\"/pupils/{}\"", w.musa)) && html.contains("Musa Ali"), "{html}");
    assert!(!html.contains("Zara") && !html.contains(&format!("/pupils/{}\"", w.zara)));
    assert_eq!(w.get(&senco, &format!("/pupils/{}", w.musa)).await.0, StatusCode::OK);
    let (status, html) = w.get(&senco, &format!("/pupils/{}", w.zara)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("Zara"));
    let other = senco.get(format!("{}/register?school=100002", w.gateway.url())).send().await.expect("answer");
    assert_eq!(other.status(), StatusCode::SEE_OTHER, "a SENCO's register is always their own school's");
    assert_eq!(location(&other), "/register");
}

#[tokio::test]
async fn the_team_chooses_a_school_and_an_ep_without_the_case_gets_404_on_the_pupil_page() {
    let w = world().await;
    let officer = w.gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    let (status, html) = w.get(&officer, "/register").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/schools\""), "without a school the team is sent to the list: {html}");
    let (_, html) = w.get(&officer, "/register?school=100002").await;
    assert!(html.contains("Zara Khan") && !html.contains("Musa"));
    let ep = w.gateway.web_client(Role::EducationalPsychologist, Some("886"), None).await;
    let (status, html) = w.get(&ep, &format!("/pupils/{}", w.musa)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("Musa"));
    assert_eq!(w.get(&ep, "/register").await.0, StatusCode::FORBIDDEN);
    assert_eq!(w.get(&ep, "/referrals/new").await.0, StatusCode::FORBIDDEN, "professionals make no referrals");
    let (status, html) = w.get(&officer, &format!("/referrals/new?pupil_id={}", w.zara)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Zara Khan") && html.contains(&format!("name=\"pupil_id\" value=\"{}\"", w.zara)), "{html}");
}

#[tokio::test]
async fn the_register_csv_has_one_row_per_pupil() {
    let w = world().await;
    w.platform.pupil_on_support("886", 3, 100001, ("Ada", "Obi")).await;
    // A list naming pupils downloads for the council's SEN team only (docs/EXCHANGE.md).
    let refused = w.senco().await.get(format!("{}/register?format=csv", w.gateway.url())).send().await.expect("answer");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "the SENCO reads the register on the page");
    let officer = w.gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    let response =
        officer.get(format!("{}/register?school=100001&format=csv", w.gateway.url())).send().await.expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(response.headers()["content-disposition"].to_str().unwrap_or_default().starts_with("attachment"));
    let body = response.text().await.unwrap_or_default();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 3, "a header and one row per pupil of the school: {body}");
    assert!(lines[0].starts_with("\u{feff}Pupil id,UPN"), "a UTF-8 byte order mark first, for Excel");
    assert!(body.contains("Musa") && body.contains("Ada") && !body.contains("Zara"));
}

#[tokio::test]
async fn adding_a_pupil_with_a_bad_upn_shows_the_error_against_the_upn_field_and_writes_nothing() {
    let w = world().await;
    let senco = w.senco().await;
    let mut form = vec![
        ("upn", "NOT-A-UPN"),
        ("legal_forename", "Jamal"),
        ("legal_surname", "Okafor"),
        ("date_of_birth", "2017-05-04"),
        ("sen_status", "K"),
        ("primary_need", "ASD"),
    ];
    let response = w.post(&senco, "/register/new", &form).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap_or_default();
    assert!(html.contains("href=\"#upn\""), "the summary links to the UPN field: {html}");
    assert!(html.contains("id=\"upn-error\""));
    assert!(html.contains("value=\"Jamal\"") && html.contains("value=\"NOT-A-UPN\""), "what was typed is kept");
    assert_eq!(w.pupils_at("100001").await, 1, "nothing written");

    let upn = sen_pupils::domain::Upn::from_body("886200125009").expect("upn");
    form[0].1 = upn.as_str();
    let response = w.post(&senco, "/register/new", &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = location(&response);
    assert!(to.starts_with("/pupils/") && to.ends_with("?done=added"), "{to}");
    let (_, html) = w.get(&senco, &to).await;
    assert!(html.contains("Pupil added to the register") && html.contains("Jamal Okafor"));
    assert_eq!(w.pupils_at("100001").await, 2);
}

fn referral_form(musa: &str) -> Vec<(&'static str, String)> {
    vec![
        ("idempotency_key", "web-test-1".to_owned()),
        ("pupil_id", musa.to_owned()),
        ("kind", "educational_psychology".to_owned()),
        ("broad_areas", "communication_and_interaction".to_owned()),
        ("broad_areas", "social_emotional_mental_health".to_owned()),
        ("concern", "Speech is hard to understand & he is withdrawn".to_owned()),
        ("graduated_approach", "Two cycles of small-group language work".to_owned()),
        ("consent_given_by", String::new()),
        ("consent_given_on", String::new()),
        ("consent_method", "signed_form".to_owned()),
        ("priority", "routine".to_owned()),
    ]
}

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

#[tokio::test]
async fn the_referral_form_without_consent_shows_every_error_and_keeps_what_was_typed() {
    let w = world().await;
    let senco = w.senco().await;
    let (status, html) = w.get(&senco, "/referrals/new").await;
    assert_eq!(status, StatusCode::OK);
    for id in [
        "pupil_search",
        "kind",
        "broad_areas",
        "concern",
        "graduated_approach",
        "consent_given_by",
        "consent_given_on",
        "consent_method",
        "priority",
        "documents",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "the form has #{id}");
    }
    assert!(html.contains("Send referral") && html.contains("name=\"idempotency_key\""));
    assert!(!html.contains("Zara"), "only the school's own pupils to choose from");

    let form = referral_form(&w.musa.to_string());
    let response = w.post_multipart(&senco, "/referrals/new", &pairs(&form)).await;
    assert!(matches!(response.status(), StatusCode::OK | StatusCode::BAD_REQUEST), "{}", response.status());
    let html = response.text().await.unwrap_or_default();
    assert!(html.contains("href=\"#consent_given_by\""), "{html}");
    assert!(html.contains("Enter who gave parental consent"));
    assert!(html.contains("href=\"#consent_given_on\""), "the date too");
    assert!(html.contains("Speech is hard to understand &amp; he is withdrawn"), "the concern is kept");
    assert!(html.contains("value=\"social_emotional_mental_health\" checked"), "the ticked areas stay ticked");
    assert!(html.contains("value=\"web-test-1\""), "the same key, so a resend is one referral");
    assert_eq!(w.referral_count().await, 0, "nothing written");
}

#[tokio::test]
async fn with_consent_the_referral_is_sent_once_and_its_page_says_so() {
    let w = world().await;
    let senco = w.senco().await;
    let mut form = referral_form(&w.musa.to_string());
    form[7].1 = "Mother, Amina Ali".into();
    form[8].1 = "2026-11-10".into();
    let response = w.post_multipart(&senco, "/referrals/new", &pairs(&form)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = location(&response);
    assert!(to.starts_with("/referrals/") && to.ends_with("?done=submitted"), "{to}");
    let again = w.post_multipart(&senco, "/referrals/new", &pairs(&form)).await;
    assert_eq!(location(&again), to, "a double submit makes one referral");
    assert_eq!(w.referral_count().await, 1);
    let (status, html) = w.get(&senco, &to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Referral sent") && html.contains("Musa Ali") && html.contains("Timeline"), "{html}");
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused() {
    let w = world().await;
    let senco = w.senco().await;
    let mut form = referral_form(&w.musa.to_string());
    form[7].1 = "Mother".into();
    form[8].1 = "2026-11-10".into();
    let url = format!("{}/referrals/new", w.gateway.url());
    let mut body = reqwest::multipart::Form::new();
    for (name, value) in pairs(&form) {
        body = body.text(name, value.to_owned());
    }
    let document = reqwest::multipart::Part::bytes(b"%PDF-1.7".to_vec()).file_name("report.pdf");
    let response = senco.post(&url).multipart(body.part("documents", document)).send().await.expect("answer");
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "refused before its files are read");
    let forged = [("csrf", "forged")];
    let response = senco.post(format!("{}/register/new", w.gateway.url())).form(&forged).send().await.expect("answer");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(w.referral_count().await, 0);
}

#[tokio::test]
async fn the_manager_allocates_an_accepted_referral_in_one_click_and_others_see_no_controls() {
    let w = world().await;
    let mut caseloads = w.platform.caseloads(Role::LaManager, Some("886")).await;
    let fields = pb::ProfessionalFields {
        person: "ep-ana".into(),
        name: "Dr Ana Silva".into(),
        role: "educational_psychologist:main_grade".into(),
        fte: 1.0,
        capacity_kind: "open_cases".into(),
        capacity: 10,
        active: true,
    };
    let professional = caseloads
        .create_professional(pb::CreateProfessionalRequest { professional: Some(fields) })
        .await
        .expect("professional")
        .into_inner()
        .id;
    let id = w.accepted_referral("grpc-1").await;
    let page = format!("/referrals/{id}");

    let manager = w.gateway.web_client(Role::LaManager, Some("886"), None).await;
    let (status, html) = w.get(&manager, &page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Allocate to Dr Ana Silva") && html.contains("1. Dr Ana Silva"), "{html}");

    let senco = w.senco().await;
    let (status, html) = w.get(&senco, &page).await;
    assert_eq!(status, StatusCode::OK, "the SENCO sees their referral");
    assert!(html.contains("Timeline") && html.contains("Accepted"));
    assert!(!html.contains("Allocate to") && !html.contains("/allocate"), "but no allocation controls");

    let other_authority = w.gateway.web_client(Role::LaManager, Some("887"), None).await;
    let (status, html) = w.get(&other_authority, &page).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("Musa"));

    let professional = professional.to_string();
    let form = [("professional_id", professional.as_str()), ("idempotency_key", "alloc-1")];
    let refused = w.post(&senco, &format!("{page}/allocate"), &form).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "only the manager allocates");
    let response = w.post(&manager, &format!("{page}/allocate"), &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = location(&response);
    assert!(to.starts_with(&format!("{page}?done=allocated")), "{to}");
    let (_, html) = w.get(&manager, &to).await;
    assert!(html.contains("Allocated to Dr Ana Silva"), "{html}");
    assert!(!html.contains("Allocate to"), "an allocated referral offers no more allocation");
    assert!(!html.contains(">ep-ana<"), "the team sees the professional's name, not their id");
    assert!(html.contains(">School 2001</a>"), "the school is named: {html}");
}

#[tokio::test]
async fn the_pupil_page_records_status_changes_support_cycles_and_provision() {
    let w = world().await;
    let senco = w.senco().await;
    let base = format!("/pupils/{}", w.musa);
    let (_, html) = w.get(&senco, &base).await;
    let sections = ["Status history", "Support cycles", "Provision", "Referrals"];
    assert!(sections.iter().all(|s| html.contains(s)), "{html}");

    // Every error at once, nothing written.
    let (_, form) = w.get(&senco, &format!("{base}/status")).await;
    let version =
        form.split("name=\"version\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("0").to_owned();
    let bad = [
        ("version", version.as_str()),
        ("sen_status", "K"),
        ("primary_need", ""),
        ("effective_on", ""),
        ("reason", ""),
    ];
    let response = w.post(&senco, &format!("{base}/status"), &bad).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap_or_default();
    for id in ["primary_need", "effective_on", "reason"] {
        assert!(html.contains(&format!("href=\"#{id}\"")), "#{id} in the summary: {html}");
    }
    let good = [
        ("version", version.as_str()),
        ("sen_status", "K"),
        ("primary_need", "ASD"),
        ("effective_on", "2026-11-20"),
        ("reason", "Autism diagnosis received"),
    ];
    let response = w.post(&senco, &format!("{base}/status"), &good).await;
    assert_eq!(location(&response), format!("{base}?done=status"));
    // The same form sent again carries the old version: someone else's change is shown.
    let stale = w.post(&senco, &format!("{base}/status"), &good).await;
    assert_eq!(stale.status(), StatusCode::BAD_REQUEST);
    assert!(stale.text().await.unwrap_or_default().contains("Someone else changed this record"));

    let cycle = [
        ("started_on", "2026-09-08"),
        ("outcomes_sought", "Joins in group talk"),
        ("planned_provision", "Language group twice a week"),
        ("review_due", "2026-09-01"),
    ];
    let response = w.post(&senco, &format!("{base}/support-cycles/new"), &cycle).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "the review must follow the start");
    assert!(response.text().await.unwrap_or_default().contains("href=\"#review_due\""));
    let mut cycle = cycle;
    cycle[3].1 = "2026-11-01";
    let response = w.post(&senco, &format!("{base}/support-cycles/new"), &cycle).await;
    assert_eq!(location(&response), format!("{base}?done=cycle"));

    let provision = [
        ("provision_type", "Small-group language"),
        ("provider", "School"),
        ("hours_per_week", "1.5"),
        ("start_on", "2026-09-08"),
        ("end_on", ""),
    ];
    let response = w.post(&senco, &format!("{base}/provision/new"), &provision).await;
    assert_eq!(location(&response), format!("{base}?done=provision"));

    let (_, html) = w.get(&senco, &format!("{base}?done=provision")).await;
    assert!(html.contains("Provision added") && html.contains("Small-group language") && html.contains("1.5"));
    assert!(html.contains("Autism diagnosis received") && html.contains("Autistic spectrum disorder (ASD)"));
    assert!(html.contains("Review overdue"), "the cycle's review date has passed: {html}");
}

#[tokio::test]
async fn the_team_returns_a_referral_only_with_what_is_needed_and_the_senco_sends_it_back() {
    let w = world().await;
    let mut senco = w.platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let body = pb::ReferralBody {
        pupil_id: w.musa,
        school_urn: "100001".into(),
        kind: "ehc_needs_assessment".into(),
        broad_areas: vec!["cognition_and_learning".into()],
        concern: "Not progressing".into(),
        graduated_approach: Some(pb::GraduatedApproach { summary: "Phonics".into(), ..Default::default() }),
        consent: Some(pb::ParentalConsent {
            given_by: "Father".into(),
            given_on: date(2026, 11, 1),
            method: "letter".into(),
        }),
        priority: "urgent".into(),
    };
    let request =
        pb::SubmitReferralRequest { referral: Some(body), idempotency_key: "grpc-2".into(), confirm_duplicate: false };
    let referral = senco.submit_referral(request).await.expect("submitted").into_inner();
    let page = format!("/referrals/{}", referral.id);
    let officer = w.gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    let (_, html) = w.get(&officer, &page).await;
    assert!(
        html.contains("Statutory clock") && html.contains("Accept referral") && html.contains("Return to the school")
    );
    let version = referral.version.to_string();
    let form = [("version", version.as_str()), ("event", "return"), ("note-return", "")];
    let response = w.post(&officer, &format!("{page}/status"), &form).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap_or_default().contains("href=\"#note-return\""));
    let form = [("version", version.as_str()), ("event", "return"), ("note-return", "Attach the last two IEPs")];
    let response = w.post(&officer, &format!("{page}/status"), &form).await;
    assert_eq!(location(&response), format!("{page}?done=status"));
    let (_, html) = w.get(&officer, &page).await;
    assert!(html.contains("Returned for more information") && html.contains("Attach the last two IEPs"));

    // The SENCO sees what was asked for and sends it back; without a note, nothing is sent.
    let school = w.gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let (_, html) = w.get(&school, &page).await;
    assert!(html.contains("Send referral again") && html.contains("Not progressing"), "{html}");
    let version = (referral.version + 1).to_string();
    let form = [
        ("version", version.as_str()),
        ("resubmit-concern", "Not progressing; reading age two years behind"),
        ("resubmit-graduated_approach", "Phonics; the last two IEPs attached"),
        ("resubmit-note", ""),
    ];
    let response = w.post(&school, &format!("{page}/resubmit"), &form).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap_or_default();
    assert!(html.contains("href=\"#resubmit-note\"") && html.contains("reading age two years behind"), "{html}");
    let mut form = form;
    form[3] = ("resubmit-note", "IEPs attached");
    let response = w.post(&school, &format!("{page}/resubmit"), &form).await;
    assert_eq!(location(&response), format!("{page}?done=resubmitted"));
    let (_, html) = w.get(&school, &format!("{page}?done=resubmitted")).await;
    assert!(html.contains("Referral sent again") && html.contains("reading age two years behind"), "{html}");
    let refused = w
        .post(&w.gateway.web_client(Role::LaManager, Some("886"), None).await, &format!("{page}/resubmit"), &form)
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "the manager does not resubmit for a school");
}

#[tokio::test]
async fn allocating_past_capacity_asks_for_the_reason_and_keeps_the_referral_waiting() {
    let w = world().await;
    let mut caseloads = w.platform.caseloads(Role::LaManager, Some("886")).await;
    let fields = pb::ProfessionalFields {
        person: "ep-full".into(),
        name: "Dr Full".into(),
        role: "educational_psychologist:senior".into(),
        fte: 1.0,
        capacity_kind: "open_cases".into(),
        capacity: 1,
        active: true,
    };
    let request = pb::CreateProfessionalRequest { professional: Some(fields) };
    let professional = caseloads.create_professional(request).await.expect("professional").into_inner().id;
    let first = w.accepted_referral("grpc-a").await;
    let allocation = pb::AllocateCaseRequest {
        referral_id: first,
        professional_id: professional,
        idempotency_key: "a".into(),
        override_reason: String::new(),
    };
    caseloads.allocate_case(allocation).await.expect("allocated");
    let second = w.accepted_referral("grpc-b").await;
    let page = format!("/referrals/{second}");
    let manager = w.gateway.web_client(Role::LaManager, Some("886"), None).await;
    let (_, html) = w.get(&manager, &page).await;
    let reason_id = format!("override_reason-{professional}");
    assert!(html.contains("Over capacity") && html.contains(&format!("id=\"{reason_id}\"")), "{html}");

    let professional = professional.to_string();
    let form = [("professional_id", professional.as_str()), ("idempotency_key", "b1")];
    let response = w.post(&manager, &format!("{page}/allocate"), &form).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap_or_default().contains(&format!("href=\"#{reason_id}\"")));
    let (_, html) = w.get(&manager, &page).await;
    assert!(html.contains("Allocate to Dr Full"), "still waiting for allocation");

    let form = [
        ("professional_id", professional.as_str()),
        ("idempotency_key", "b2"),
        (reason_id.as_str(), "Knows the family from the sibling's case"),
    ];
    let response = w.post(&manager, &format!("{page}/allocate"), &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = w.get(&manager, &location(&response)).await;
    assert!(html.contains("Allocated to Dr Full"));
}

/// The demo sign-in page's form for the first SENCO it lists: the token cookie
/// it set and the form's fields.
async fn demo_sign_in_form(w: &World, next: &str) -> (String, Vec<(String, String)>) {
    let plain = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let response =
        plain.get(format!("{}/sign-in?next={next}", w.gateway.url())).send().await.expect("the sign-in page");
    let cookie = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sen_sign_in="))
        .and_then(|v| v.split(';').next())
        .expect("the sign-in form's cookie")
        .to_owned();
    let page = response.text().await.expect("the page");
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = page.find(&marker).map(|at| at + marker.len()).expect("the field");
        page[start..].split('"').next().unwrap_or_default().to_owned()
    };
    let fields = ["person", "next", "csrf"].iter().map(|name| ((*name).to_owned(), field(name))).collect();
    (cookie, fields)
}

async fn post_sign_in(w: &World, cookie: Option<&str>, fields: &[(String, String)]) -> reqwest::Response {
    let plain = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut request = plain.post(format!("{}/sign-in", w.gateway.url())).form(fields);
    if let Some(cookie) = cookie {
        request = request.header(reqwest::header::COOKIE, cookie);
    }
    request.send().await.expect("an answer")
}

fn signs_in(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("sen_session=") && !v.starts_with("sen_session=;"))
}

#[tokio::test]
async fn the_demo_sign_in_form_signs_in_only_when_posted_from_its_own_page() {
    let w = world().await;
    let (cookie, fields) = demo_sign_in_form(&w, "").await;
    let forged = post_sign_in(&w, None, &fields).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "another site's form carries no token cookie");
    assert!(!signs_in(&forged));
    let mut wrong = fields.clone();
    wrong[2].1 = "forged".into();
    let forged = post_sign_in(&w, Some(&cookie), &wrong).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(!signs_in(&forged));
    let signed_in = post_sign_in(&w, Some(&cookie), &fields).await;
    assert!(signed_in.status().is_redirection() && signs_in(&signed_in), "{:?}", signed_in.status());
}

#[tokio::test]
async fn after_signing_in_a_return_address_on_another_site_is_never_followed() {
    let w = world().await;
    for crafted in ["/%09/evil.example", "//evil.example", "/%5C/evil.example", "/%2F/evil.example", "/%0D%0A/evil"] {
        let (cookie, fields) = demo_sign_in_form(&w, crafted).await;
        assert_eq!(fields[1].1, "", "{crafted}: the form does not carry it");
        let mut carried = fields.clone();
        carried[1].1 = urlencoding_decode(crafted);
        let response = post_sign_in(&w, Some(&cookie), &carried).await;
        let location = response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(response.status().is_redirection(), "{crafted}: {:?}", response.status());
        assert!(location.starts_with('/') && !location.starts_with("//"), "{crafted} went to {location:?}");
        assert!(!location.contains("evil"), "{crafted} went to {location:?}");
    }
}

/// `%XX` escapes decoded, as a browser's form would send the value.
fn urlencoding_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()),
        ) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
