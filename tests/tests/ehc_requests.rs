//! Requests for an EHC needs assessment by any route, the 16-week point, the
//! draft plan's consultation and exceptions, through the real services (gRPC on
//! SQLite and PostgreSQL) and the gateway (JSON and the council's pages): the
//! clock runs from the day the council received a request; a parent's own
//! request carries no consent and anyone else's must; one open request per
//! pupil; a case still assessing after 16 weeks is at risk, breached only after
//! 20; the report gives the 20-week figure with and without exception cases; and
//! another authority, another school and a SENCO record nothing and see only
//! what is theirs.

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::bad_fields;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

/// A parent's letter about `pupil` of school `urn`, received on 10 November 2026
/// (the platform's today is 24 November 2026).
fn parents_letter(pupil: i64, urn: &str, key: &str) -> pb::RecordEhcRequestRequest {
    pb::RecordEhcRequestRequest {
        pupil_id: pupil,
        school_urn: urn.into(),
        received_on: date(2026, 11, 10),
        requester: "parent".into(),
        received_via: "letter".into(),
        requester_name: "Mother, Amina Ali".into(),
        broad_areas: vec!["cognition_and_learning".into()],
        concern: "Reading well behind; asks for an assessment".into(),
        consent: None,
        idempotency_key: key.into(),
        graduated_approach: String::new(),
    }
}

/// Schools 100001 and 100002 of 886 with a pupil at each.
async fn world(platform: &TestPlatform) -> (i64, i64) {
    for (urn, estab) in [(100001, "2001"), (100002, "2002")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 200).await;
    }
    let a = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let b = platform.pupil_on_support("886", 2, 100002, ("Ada", "Byron")).await;
    (a, b)
}

async fn a_parents_letter_starts_the_clock_on_the_day_received_and_only_once(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    let (a, b) = world(&platform).await;
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;

    let recorded = officer.record_ehc_request(parents_letter(a, "100001", "letter-a")).await.expect("recorded");
    let recorded = recorded.into_inner();
    let clock = recorded.clock.clone().expect("a clock");
    assert_eq!(clock.received_on, date(2026, 11, 10));
    assert_eq!(clock.decision_due, date(2026, 12, 22), "6 weeks from the day received, not keyed in");
    assert_eq!((clock.requester.as_str(), clock.received_via.as_str()), ("parent", "letter"));
    assert_eq!(clock.requester_name, "Mother, Amina Ali");
    assert!(clock.recorded_on.is_some());
    assert_eq!(recorded.body.as_ref().and_then(|b| b.consent.clone()), None, "a parent's own request");
    assert_eq!(recorded.submitted_on, date(2026, 11, 10));
    // A retry answers the first request.
    let again = officer.record_ehc_request(parents_letter(a, "100001", "letter-a")).await.expect("retry");
    assert_eq!(again.into_inner().id, recorded.id);

    // A day in the future, consent on a parent's own request, none on health's: each named, nothing written.
    let future = pb::RecordEhcRequestRequest { received_on: date(2026, 11, 25), ..parents_letter(b, "100002", "f") };
    assert_eq!(bad_fields(&officer.record_ehc_request(future).await.unwrap_err()), ["received_on"]);
    let consent = Some(pb::ParentalConsent {
        given_by: "Mother, Ada Byron".into(),
        given_on: date(2026, 11, 1),
        method: "email".into(),
    });
    let with_consent = pb::RecordEhcRequestRequest { consent: consent.clone(), ..parents_letter(b, "100002", "c") };
    assert_eq!(bad_fields(&officer.record_ehc_request(with_consent).await.unwrap_err()), ["consent"]);
    let health = pb::RecordEhcRequestRequest {
        requester: "health".into(),
        received_via: "email".into(),
        ..parents_letter(b, "100002", "h")
    };
    assert_eq!(bad_fields(&officer.record_ehc_request(health.clone()).await.unwrap_err()), ["consent"]);
    let form = pb::RecordEhcRequestRequest { received_via: "referral_form".into(), ..parents_letter(b, "100002", "r") };
    assert_eq!(bad_fields(&officer.record_ehc_request(form).await.unwrap_err()), ["received_via"]);
    let wrong_school = parents_letter(b, "100001", "w");
    assert_eq!(bad_fields(&officer.record_ehc_request(wrong_school).await.unwrap_err()), ["school_urn"]);
    let list = officer.list_referrals(pb::ListReferralsRequest::default()).await.unwrap().into_inner();
    assert_eq!(list.referrals.len(), 1, "nothing written by a refusal");

    // Health's request with the parent's agreement is fine, for the other pupil.
    let health = pb::RecordEhcRequestRequest { consent, ..health };
    let from_health = officer.record_ehc_request(health).await.expect("health's request").into_inner();
    assert_eq!(from_health.clock.expect("clock").requester, "health");

    // A second open request for the pupil, by any route, names the open one.
    let second = officer.record_ehc_request(parents_letter(a, "100001", "letter-a2")).await.unwrap_err();
    assert_eq!(second.code(), Code::FailedPrecondition);
    assert!(second.message().contains(&format!("referral {}", recorded.id)), "{second:?}");
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let body = pb::ReferralBody {
        pupil_id: a,
        school_urn: "100001".into(),
        kind: "ehc_needs_assessment".into(),
        broad_areas: vec!["cognition_and_learning".into()],
        concern: "Reading".into(),
        graduated_approach: Some(pb::GraduatedApproach { summary: "Phonics".into(), ..Default::default() }),
        consent: Some(pb::ParentalConsent {
            given_by: "Mother".into(),
            given_on: date(2026, 11, 1),
            method: "email".into(),
        }),
        priority: "routine".into(),
    };
    let submit =
        pb::SubmitReferralRequest { referral: Some(body), idempotency_key: "senco-a".into(), confirm_duplicate: true };
    assert_eq!(senco.submit_referral(submit).await.unwrap_err().code(), Code::FailedPrecondition);

    // Who may record, and who sees it: a SENCO records none; the pupil's school's
    // SENCO reads it, another school's and another authority's do not.
    let refused = senco.record_ehc_request(parents_letter(a, "100001", "senco")).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let got = senco.get_referral(pb::GetReferralRequest { id: recorded.id, as_of: None }).await.expect("own school");
    assert_eq!(got.into_inner().clock.expect("clock").requester, "parent");
    let mut other_school = platform.referrals(Role::Senco, Some("886"), Some(100002)).await;
    let hidden = other_school.get_referral(pb::GetReferralRequest { id: recorded.id, as_of: None }).await;
    assert_eq!(hidden.unwrap_err().code(), Code::NotFound);
    let mut elsewhere = platform.referrals(Role::CaseOfficer, Some("887"), None).await;
    let hidden = elsewhere.get_referral(pb::GetReferralRequest { id: recorded.id, as_of: None }).await;
    assert_eq!(hidden.unwrap_err().code(), Code::NotFound);
    let theirs = elsewhere.record_ehc_request(parents_letter(a, "100001", "theirs")).await.unwrap_err();
    assert_eq!(bad_fields(&theirs), ["pupil_id"], "another authority's pupil is not theirs to record");
}

async fn a_case_still_assessing_after_16_weeks_is_at_risk_and_breached_only_after_20(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    let (a, _) = world(&platform).await;
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let id = officer.record_ehc_request(parents_letter(a, "100001", "k")).await.unwrap().into_inner().id;
    let assess = pb::RecordAssessmentDecisionRequest {
        id,
        decision: "assess".into(),
        decided_on: date(2026, 11, 20),
        version: None,
    };
    officer.record_assessment_decision(assess).await.unwrap();
    // Received 10 November 2026: week 16 on 2 March 2027, week 20 on 30 March 2027.
    let mut manager = platform.referrals(Role::LaManager, Some("886"), None).await;
    for (as_of, at_risk, breached, next) in [
        (date(2027, 3, 1), 1, 0, "decision whether to issue a plan"),
        (date(2027, 3, 2), 1, 0, "decision whether to issue a plan"),
        (date(2027, 3, 3), 1, 0, "final plan"),
        (date(2027, 3, 30), 1, 0, "final plan"),
        (date(2027, 3, 31), 0, 1, "final plan"),
    ] {
        let report = pb::GetStatutoryClockReportRequest { as_of, year: 2027, figures_only: false };
        let report = manager.get_statutory_clock_report(report).await.unwrap().into_inner();
        assert_eq!((report.at_risk, report.breached), (at_risk, breached), "on {as_of:?}");
        assert_eq!(report.open[0].clock.as_ref().expect("clock").next_deadline, next, "on {as_of:?}");
        let overdue = pb::ListReferralsRequest { overdue: true, as_of, ..Default::default() };
        let listed = officer.list_referrals(overdue).await.unwrap().into_inner().referrals;
        assert_eq!(listed.len(), breached as usize, "the overdue list agrees on {as_of:?}");
    }
    // Another authority's report holds none of it.
    let mut elsewhere = platform.referrals(Role::LaManager, Some("887"), None).await;
    let report = pb::GetStatutoryClockReportRequest { as_of: date(2027, 3, 31), year: 2027, figures_only: false };
    let theirs = elsewhere.get_statutory_clock_report(report).await.unwrap().into_inner();
    assert_eq!((theirs.open.len(), theirs.breached), (0, 0));
}

async fn a_draft_plan_is_consulted_on_for_15_days_and_the_figure_is_given_with_and_without_exceptions(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    let (a, _) = world(&platform).await;
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let id = officer.record_ehc_request(parents_letter(a, "100001", "k")).await.unwrap().into_inner().id;
    let on = date(2026, 11, 20);
    let assess = pb::RecordAssessmentDecisionRequest { id, decision: "assess".into(), decided_on: on, version: None };
    officer.record_assessment_decision(assess).await.unwrap();
    let draft = |sent_on, consultation_ends_on| pb::RecordDraftPlanSentRequest {
        id,
        sent_on,
        consultation_ends_on,
        version: None,
    };
    let early = officer.record_draft_plan_sent(draft(date(2026, 11, 21), None)).await.unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition, "no draft before the decision to issue");
    let issue = pb::RecordPlanDecisionRequest { id, decision: "issue".into(), decided_on: on, version: None };
    officer.record_plan_decision(issue).await.unwrap();
    let short = officer.record_draft_plan_sent(draft(date(2026, 11, 21), date(2026, 12, 5))).await.unwrap_err();
    assert_eq!(bad_fields(&short), ["consultation_ends_on"]);
    let future = officer.record_draft_plan_sent(draft(date(2026, 11, 25), None)).await.unwrap_err();
    assert_eq!(bad_fields(&future), ["sent_on"]);
    let sent = officer.record_draft_plan_sent(draft(date(2026, 11, 21), None)).await.unwrap().into_inner();
    let clock = sent.clock.expect("clock");
    assert_eq!((clock.draft_plan_sent_on, clock.consultation_ends_on), (date(2026, 11, 21), date(2026, 12, 6)));
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    assert_eq!(
        senco.record_draft_plan_sent(draft(date(2026, 11, 21), None)).await.unwrap_err().code(),
        Code::PermissionDenied
    );

    // An exception with its day and note; a day before the request is refused.
    let exception = |exception_on| pb::RecordClockExceptionRequest {
        id,
        exception: "absent_from_area".into(),
        version: None,
        exception_on,
        note: "Family abroad for five weeks".into(),
    };
    let early = officer.record_clock_exception(exception(date(2026, 11, 9))).await.unwrap_err();
    assert_eq!(bad_fields(&early), ["exception_on"]);
    let excepted = officer.record_clock_exception(exception(date(2026, 11, 12))).await.unwrap().into_inner();
    let clock = excepted.clock.expect("clock");
    assert_eq!(
        (clock.exception_on, clock.exception_note.as_str()),
        (date(2026, 11, 12), "Family abroad for five weeks")
    );
    let issued = pb::RecordFinalPlanIssuedRequest { id, issued_on: date(2026, 11, 24), version: None };
    officer.record_final_plan_issued(issued).await.unwrap();

    let mut manager = platform.referrals(Role::LaManager, Some("886"), None).await;
    let report = pb::GetStatutoryClockReportRequest { as_of: None, year: 2026, figures_only: false };
    let report = manager.get_statutory_clock_report(report).await.unwrap().into_inner();
    assert_eq!((report.plans_issued, report.excluded_exceptions, report.percent_within_20_weeks), (0, 1, None));
    assert_eq!(
        (
            report.plans_issued_including_exceptions,
            report.issued_within_20_weeks_including_exceptions,
            report.percent_within_20_weeks_including_exceptions
        ),
        (1, 1, Some(100.0))
    );
    let mut elsewhere = platform.referrals(Role::LaManager, Some("887"), None).await;
    let report = pb::GetStatutoryClockReportRequest { as_of: None, year: 2026, figures_only: false };
    let theirs = elsewhere.get_statutory_clock_report(report).await.unwrap().into_inner();
    assert_eq!(theirs.plans_issued_including_exceptions, 0);
}

sen_platform::on_both_engines!(
    a_parents_letter_starts_the_clock_on_the_day_received_and_only_once,
    a_case_still_assessing_after_16_weeks_is_at_risk_and_breached_only_after_20,
    a_draft_plan_is_consulted_on_for_15_days_and_the_figure_is_given_with_and_without_exceptions,
);

#[tokio::test]
async fn requests_drafts_and_both_figures_work_over_json_and_on_the_councils_pages() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let (a, b) = world(&platform).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let http = reqwest::Client::new();
    let officer = platform.token(Role::CaseOfficer, Some("886"), None);
    let body = serde_json::json!({
        "pupil_id": a,
        "school_urn": "100001",
        "received_on": "2026-11-10",
        "requester": "young_person",
        "received_via": "email",
        "requester_name": "Musa Ali",
        "broad_areas": ["social_emotional_mental_health"],
        "concern": "Asks for an assessment himself",
        "idempotency_key": "json-1"
    });
    let response = http
        .post(format!("{}/api/v1/ehc-requests", gateway.url()))
        .bearer_auth(&officer)
        .json(&body)
        .send()
        .await
        .expect("json");
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let recorded: serde_json::Value = response.json().await.expect("body");
    assert_eq!(recorded["clock"]["received_on"], "2026-11-10", "{recorded}");
    assert_eq!(recorded["clock"]["requester"], "young_person", "{recorded}");
    let id = recorded["id"].as_i64().or_else(|| recorded["id"].as_str().and_then(|s| s.parse().ok())).expect("id");
    let senco = platform.token(Role::Senco, Some("886"), Some(100001));
    let refused = http.post(format!("{}/api/v1/ehc-requests", gateway.url())).bearer_auth(&senco).json(&body).send();
    assert_eq!(refused.await.expect("json").status(), 403);
    let overview: serde_json::Value = http
        .get(format!("{}/api/v1/statutory-clock?year=2026", gateway.url()))
        .bearer_auth(&officer)
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("body");
    assert_eq!(overview["open"][0]["clock"]["received_via"], "email", "{overview}");
    let openapi: serde_json::Value = http
        .get(format!("{}/api/v1/openapi.json", gateway.url()))
        .send()
        .await
        .expect("doc")
        .json()
        .await
        .expect("json");
    assert!(openapi["paths"]["/api/v1/ehc-requests"]["post"].is_object(), "documented");
    assert!(openapi["paths"]["/api/v1/referrals/{id}/draft-plan"]["post"].is_object(), "documented");

    // The form: a case officer records a parent's letter; a SENCO may not open it.
    let web = gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    let form = web.get(format!("{}/ehc-requests/new?pupil_id={b}", gateway.url())).send().await.expect("page");
    assert_eq!(form.status(), 200);
    let html = form.text().await.expect("html");
    assert!(html.contains("Record a request for an EHC needs assessment") && html.contains("Ada"), "{html}");
    let csrf = gateway.csrf(&web, "/referrals").await;
    let future = [
        ("pupil_id", b.to_string()),
        ("received_on", "25/11/2026".into()),
        ("requester", "parent".into()),
        ("requester_name", "Mother, Ada Byron".into()),
        ("received_via", "letter".into()),
        ("broad_areas", "cognition_and_learning".into()),
        ("concern", "Asks for an assessment".into()),
        ("idempotency_key", "web-1".into()),
        ("csrf", csrf.clone()),
    ];
    let url = format!("{}/ehc-requests/new", gateway.url());
    let refused = web.post(&url).form(&future).send().await.expect("answer");
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.expect("html");
    assert!(html.contains("href=\"#received_on\"") && html.contains("Mother, Ada Byron"), "named, typed kept: {html}");
    let mut letter = future.clone();
    letter[1].1 = "16/11/2026".into();
    let sent = web.post(&url).form(&letter).send().await.expect("answer");
    assert_eq!(sent.status(), 303);
    let location = sent.headers().get("location").and_then(|l| l.to_str().ok()).expect("location").to_owned();
    assert!(location.ends_with("?done=request_recorded"), "{location}");
    let page = web.get(format!("{}{location}", gateway.url())).send().await.expect("page").text().await.expect("html");
    assert!(page.contains("Request recorded"), "{page}");
    assert!(page.contains("from the parent (Mother, Ada Byron) by letter"), "{page}");
    let senco_web = gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let answer = senco_web.get(format!("{}/ehc-requests/new", gateway.url())).send().await.expect("page");
    assert_eq!(answer.status(), 403);

    // The draft plan form once a plan is to be issued; the clock page and dashboard give both figures.
    let mut officer_rpc = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let on = Some(pb::Date { year: 2026, month: 11, day: 20 });
    let assess = pb::RecordAssessmentDecisionRequest { id, decision: "assess".into(), decided_on: on, version: None };
    officer_rpc.record_assessment_decision(assess).await.unwrap();
    let issue = pb::RecordPlanDecisionRequest { id, decision: "issue".into(), decided_on: on, version: None };
    let version = officer_rpc.record_plan_decision(issue).await.unwrap().into_inner().version;
    let page_url = format!("{}/referrals/{id}", gateway.url());
    let html = web.get(&page_url).send().await.expect("page").text().await.expect("html");
    assert!(html.contains("Record the draft plan sent"), "{html}");
    let draft = [
        ("version", version.to_string()),
        ("draft-plan-sent_on", "21/11/2026".into()),
        ("draft-plan-consultation_ends_on", String::new()),
        ("csrf", csrf.clone()),
    ];
    let sent = web.post(format!("{page_url}/draft-plan")).form(&draft).send().await.expect("answer");
    assert_eq!(sent.status(), 303);
    let html = web.get(&page_url).send().await.expect("page").text().await.expect("html");
    assert!(html.contains("Sent 21 November 2026") && html.contains("6 December 2026"), "{html}");
    let clock_page = web.get(format!("{}/statutory-clock", gateway.url())).send().await.expect("page");
    assert!(clock_page.text().await.expect("html").contains("Including exception cases"));
    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let dashboard = manager.get(format!("{}/dashboard", gateway.url())).send().await.expect("page");
    assert!(dashboard.text().await.expect("html").contains("including them"), "the dashboard's second figure");
}
