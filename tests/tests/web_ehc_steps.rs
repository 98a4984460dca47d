//! The statutory steps of an EHC needs assessment request on its page, over
//! HTTP through the real gateway and services, on SQLite and PostgreSQL: the
//! council team records the decision to assess, the plan decision, the final
//! plan and an exception, each offered only at its stage, and sees the clock
//! move on; a withdrawn request offers no step and refuses one sent anyway; a
//! form read before someone else's change says so and records
//! nothing; bad fields are named in the error summary and nothing is recorded;
//! a SENCO sees the steps without forms, and another school, another authority
//! and a professional without the case see nothing.

use reqwest::{Client, StatusCode};
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;

/// The day the platform's services believe it is (`sen_tests::platform::today`).
const TODAY: &str = "2026-11-24";

struct World {
    platform: TestPlatform,
    gateway: TestGateway,
    /// An EHC needs assessment request for a pupil of school 100001 of 886.
    request: i64,
    /// An educational psychology referral of the same school.
    ep_referral: i64,
}

async fn world(engine: Engine) -> World {
    let platform = TestPlatform::start(engine).await.expect("platform");
    for (urn, estab) in [(100001, "2001"), (100002, "2002")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 200).await;
    }
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let request = platform.accepted_referral_886(pupil, "ehc_needs_assessment", "ehc-1").await;
    let ep_referral = platform.accepted_referral_886(pupil, "educational_psychology", "ep-1").await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    World { platform, gateway, request, ep_referral }
}

impl World {
    async fn officer(&self) -> Client {
        self.gateway.web_client(Role::CaseOfficer, Some("886"), None).await
    }

    async fn get(&self, client: &Client, path: &str) -> (StatusCode, String) {
        let response = client.get(format!("{}{path}", self.gateway.url())).send().await.expect("answer");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    fn page(&self) -> String {
        format!("/referrals/{}", self.request)
    }

    /// Posts `form` to the request's `step` with `client`'s CSRF token.
    async fn post(&self, client: &Client, step: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.gateway.csrf(client, "/referrals").await;
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &csrf));
        let url = format!("{}/referrals/{}/{step}", self.gateway.url(), self.request);
        client.post(url).form(&fields).send().await.expect("answer")
    }

    /// The request as the service has it now.
    async fn now(&self) -> pb::Referral {
        let mut officer = self.platform.referrals(Role::CaseOfficer, Some("886"), None).await;
        let request = pb::GetReferralRequest { id: self.request, as_of: None };
        officer.get_referral(request).await.expect("the request").into_inner()
    }

    async fn version(&self) -> String {
        self.now().await.version.to_string()
    }

    async fn stage(&self) -> String {
        self.now().await.clock.unwrap_or_default().stage
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned()
}

/// Whether the page offers the form posting to `step`.
fn offers(html: &str, step: &str) -> bool {
    html.contains(&format!("/{step}\""))
}

async fn an_officer_records_each_step_in_turn_and_the_clock_moves_on(engine: Engine) {
    let w = world(engine).await;
    let officer = w.officer().await;
    let (status, html) = w.get(&officer, &w.page()).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Statutory steps") && html.contains("Awaiting the decision to assess"), "{html}");
    assert!(offers(&html, "assessment-decision") && offers(&html, "clock-exception"));
    assert!(!offers(&html, "plan-decision") && !offers(&html, "final-plan"), "only the step the stage waits for");

    let version = w.version().await;
    let form = [("version", version.as_str()), ("assessment-decision", "assess"), ("assessment-decided_on", TODAY)];
    let sent = w.post(&officer, "assessment-decision", &form).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&sent), format!("{}?done=assessment", w.page()));
    let (_, html) = w.get(&officer, &location(&sent)).await;
    assert!(html.contains("Decision whether to assess recorded"), "{html}");
    assert!(html.contains("Assess: carry out an EHC needs assessment, 24 November 2026"));
    assert!(html.contains("Assessing"), "the clock's stage moved on: {html}");
    assert!(offers(&html, "plan-decision") && !offers(&html, "assessment-decision"));
    assert_eq!(w.stage().await, "assessing");

    let manager = w.gateway.web_client(Role::LaManager, Some("886"), None).await;
    let version = w.version().await;
    let form = [("version", version.as_str()), ("plan-decision", "issue"), ("plan-decided_on", "24/11/2026")];
    assert_eq!(w.post(&manager, "plan-decision", &form).await.status(), StatusCode::SEE_OTHER, "the manager too");
    let (_, html) = w.get(&officer, &w.page()).await;
    assert!(offers(&html, "final-plan") && !offers(&html, "plan-decision"));
    let version = w.version().await;
    let form = [("version", version.as_str()), ("final-plan-issued_on", TODAY)];
    assert_eq!(w.post(&officer, "final-plan", &form).await.status(), StatusCode::SEE_OTHER);
    let (_, html) = w.get(&officer, &format!("{}?done=final_plan", w.page())).await;
    assert!(html.contains("Final plan recorded as issued") && html.contains("Within 20 weeks"), "{html}");
    assert!(!offers(&html, "final-plan") && !offers(&html, "assessment-decision"), "no step is left");
    assert!(offers(&html, "clock-exception"), "an issued plan may still be an exception case");
    assert_eq!(w.stage().await, "plan_issued");

    let version = w.version().await;
    let form = [("version", version.as_str()), ("clock-exception", "personal_circumstances")];
    assert_eq!(w.post(&officer, "clock-exception", &form).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(w.now().await.clock.unwrap_or_default().exception, "personal_circumstances");
    let (_, html) = w.get(&officer, &format!("{}?done=exception", w.page())).await;
    assert!(html.contains("Exception recorded") && html.contains("Exceptional personal circumstances"));
    w.platform.stop().await.expect("stops");
}

async fn a_form_read_before_someone_elses_change_says_so_and_records_nothing(engine: Engine) {
    let w = world(engine).await;
    let (first, second) = (w.officer().await, w.gateway.web_client(Role::LaManager, Some("886"), None).await);
    let read = w.version().await;
    let form = [("version", read.as_str()), ("assessment-decision", "assess"), ("assessment-decided_on", TODAY)];
    assert_eq!(w.post(&first, "assessment-decision", &form).await.status(), StatusCode::SEE_OTHER);
    let stale = [("version", read.as_str()), ("assessment-decision", "not_assess"), ("assessment-decided_on", TODAY)];
    let refused = w.post(&second, "assessment-decision", &stale).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let html = refused.text().await.unwrap_or_default();
    assert!(html.contains("Someone else changed this request"), "{html}");
    assert!(offers(&html, "plan-decision"), "the request is shown as it is now");
    let clock = w.now().await.clock.unwrap_or_default();
    assert_eq!((clock.assessment_decision.as_str(), clock.stage.as_str()), ("assess", "assessing"));
    // The stale exception form likewise.
    let refused =
        w.post(&second, "clock-exception", &[("version", read.as_str()), ("clock-exception", "school_holiday")]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(w.now().await.clock.unwrap_or_default().exception.is_empty());
    w.platform.stop().await.expect("stops");
}

async fn bad_fields_are_named_in_the_error_summary_and_nothing_is_recorded(engine: Engine) {
    let w = world(engine).await;
    let officer = w.officer().await;
    let version = w.version().await;
    let refused = w
        .post(&officer, "assessment-decision", &[("version", version.as_str()), ("assessment-decided_on", "31/2/2026")])
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap_or_default();
    assert!(html.contains("There is a problem"), "{html}");
    assert!(html.contains("href=\"#assessment-decision\"") && html.contains("href=\"#assessment-decided_on\""));
    assert!(html.contains("Choose whether the council will carry out an assessment"));
    assert!(html.contains("value=\"31/2/2026\""), "what was typed is kept");

    // The service's own checks come back against the field too: no decision in the future.
    let form =
        [("version", version.as_str()), ("assessment-decision", "assess"), ("assessment-decided_on", "2026-12-01")];
    let refused = w.post(&officer, "assessment-decision", &form).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap_or_default();
    assert!(html.contains("href=\"#assessment-decided_on\"") && html.contains("in the future"), "{html}");
    assert!(html.contains("value=\"assess\" checked"), "the choice made is kept: {html}");
    let missing = w.post(&officer, "final-plan", &[("version", version.as_str())]).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let unknown =
        w.post(&officer, "clock-exception", &[("version", version.as_str()), ("clock-exception", "holiday")]).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(w.version().await, version, "nothing was recorded");
    assert_eq!(w.stage().await, "awaiting_assessment_decision");

    let url = format!("{}/referrals/{}/assessment-decision", w.gateway.url(), w.request);
    let forged = officer.post(url).form(&form).send().await.expect("answer");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "no CSRF token, no change");
    assert_eq!(w.version().await, version);
    w.platform.stop().await.expect("stops");
}

async fn schools_see_the_steps_without_forms_and_others_see_nothing(engine: Engine) {
    let w = world(engine).await;
    let version = w.version().await;
    let form = [("version", version.as_str()), ("assessment-decision", "assess"), ("assessment-decided_on", TODAY)];
    let senco = w.gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let (status, html) = w.get(&senco, &w.page()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Statutory steps") && html.contains("Not yet recorded"), "{html}");
    assert!(!offers(&html, "assessment-decision") && !offers(&html, "clock-exception"), "no forms for a school");
    assert_eq!(w.post(&senco, "assessment-decision", &form).await.status(), StatusCode::FORBIDDEN);

    let other_school = w.gateway.web_client(Role::Senco, Some("886"), Some(100002)).await;
    let other_authority = w.gateway.web_client(Role::LaManager, Some("887"), None).await;
    let ep = w.gateway.web_client(Role::EducationalPsychologist, Some("886"), None).await;
    for (who, client) in [("another school", &other_school), ("another authority", &other_authority), ("an EP", &ep)] {
        let (status, html) = w.get(client, &w.page()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        assert!(!html.contains("Statutory steps") && !html.contains("Musa"), "{who}");
    }
    let refused = w.post(&other_authority, "assessment-decision", &form).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND, "another authority's manager records nothing");
    assert_eq!(w.post(&ep, "assessment-decision", &form).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(w.version().await, version, "nothing was recorded");

    let officer = w.officer().await;
    let (_, html) = w.get(&officer, &format!("/referrals/{}", w.ep_referral)).await;
    assert!(!html.contains("Statutory steps"), "a referral with no statutory clock has no steps");
    w.platform.stop().await.expect("stops");
}

async fn a_withdrawn_request_offers_no_step_and_refuses_one(engine: Engine) {
    let w = world(engine).await;
    let mut officer = w.platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let withdraw = pb::ChangeReferralStatusRequest {
        id: w.request,
        version: w.now().await.version,
        event: pb::ReferralEvent::Withdraw as i32,
        note: "The family moved away".into(),
    };
    officer.change_referral_status(withdraw).await.expect("withdrawn");
    let client = w.officer().await;
    let (status, html) = w.get(&client, &w.page()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Statutory steps"), "what was recorded still shows");
    assert!(
        !offers(&html, "assessment-decision") && !offers(&html, "clock-exception"),
        "an ended request offers no step"
    );
    let version = w.version().await;
    let form = [("version", version.as_str()), ("assessment-decision", "assess"), ("assessment-decided_on", TODAY)];
    let refused = w.post(&client, "assessment-decision", &form).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT, "a step sent anyway is refused with the request as it is");
    assert!(refused.text().await.unwrap_or_default().contains("This step cannot be recorded now"));
    assert_eq!(w.version().await, version, "nothing was recorded");
    w.platform.stop().await.expect("stops");
}

sen_platform::on_both_engines!(
    a_withdrawn_request_offers_no_step_and_refuses_one,
    an_officer_records_each_step_in_turn_and_the_clock_moves_on,
    a_form_read_before_someone_elses_change_says_so_and_records_nothing,
    bad_fields_are_named_in_the_error_summary_and_nothing_is_recorded,
    schools_see_the_steps_without_forms_and_others_see_nothing,
);
