//! Advice asked for in EHC needs assessments, through the real services and
//! gateway: each request's own 6-week date (reg. 8(1)) on the advice, the case
//! and the caseload; retries recorded once; bad dates refused naming their
//! field with nothing written; late advice listed over gRPC and JSON; the
//! request's page and the council's late-advice page; and nothing seen from
//! another authority, another school's role or another professional's case.

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::bad_fields;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{CaseloadsClient, TestPlatform, create_ep};
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

/// An EHC needs assessment request (received today, 24 November 2026) and an
/// educational psychology referral for Musa Ali of school 100001 of 886; the
/// request allocated to Dr ep-ana, and Dr ep-bo with no case.
struct World {
    platform: TestPlatform,
    request: i64,
    ep_referral: i64,
    ana: i64,
    case: i64,
}

async fn world(engine: Engine) -> World {
    let platform = TestPlatform::start(engine).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let request = platform.accepted_referral_886(pupil, "ehc_needs_assessment", "ehc-1").await;
    let ep_referral = platform.accepted_referral_886(pupil, "educational_psychology", "ep-1").await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ana = create_ep(&mut manager, "ep-ana", "senior", 10).await;
    create_ep(&mut manager, "ep-bo", "senior", 10).await;
    let allocate = pb::AllocateCaseRequest {
        referral_id: request,
        professional_id: ana,
        idempotency_key: "alloc-1".into(),
        override_reason: String::new(),
    };
    let case = manager.allocate_case(allocate).await.expect("allocated").into_inner().id;
    World { platform, request, ep_referral, ana, case }
}

impl World {
    async fn officer(&self) -> CaseloadsClient {
        self.platform.caseloads(Role::CaseOfficer, Some("886")).await
    }

    async fn as_ep(&self, person: &str) -> CaseloadsClient {
        self.platform.caseloads_as(&self.platform.token_for(person, Role::EducationalPsychologist, "886")).await
    }

    fn ask_ana(&self, asked_on: Option<pb::Date>) -> pb::RecordAdviceRequestRequest {
        pb::RecordAdviceRequestRequest {
            referral_id: self.request,
            kind: "psychological".into(),
            from_whom: String::new(),
            professional_id: self.ana,
            asked_on,
        }
    }

    async fn listed(&self, client: &mut CaseloadsClient, late_only: bool, as_of: Option<pb::Date>) -> Vec<i64> {
        let request = pb::ListAdviceRequestsRequest { late_only, as_of, ..Default::default() };
        client.list_advice_requests(request).await.expect("listed").into_inner().advice.iter().map(|a| a.id).collect()
    }
}

async fn the_case_and_caseload_follow_the_psychological_advices_own_date(engine: Engine) {
    let w = world(engine).await;
    let mut ana = w.as_ep("ep-ana").await;
    let case = ana.get_case(pb::GetCaseRequest { case_id: w.case }).await.unwrap().into_inner();
    assert_eq!((case.advice_state.as_str(), case.advice_due), ("not_requested", None));
    let mine = ana.get_my_caseload(pb::GetMyCaseloadRequest::default()).await.unwrap().into_inner();
    assert_eq!(mine.cases[0].next_deadline, "advice not yet requested");

    let mut officer = w.officer().await;
    let asked = officer.record_advice_request(w.ask_ana(date(2026, 11, 24))).await.unwrap().into_inner();
    assert_eq!(
        (asked.due_on, asked.from_whom.as_str(), asked.state.as_str()),
        (date(2027, 1, 5), "Dr ep-ana", "awaited")
    );
    let again = officer.record_advice_request(w.ask_ana(date(2026, 11, 24))).await.unwrap().into_inner();
    assert_eq!(again.id, asked.id, "a retry records the advice once");
    let case = ana.get_case(pb::GetCaseRequest { case_id: w.case }).await.unwrap().into_inner();
    assert_eq!((case.advice_state.as_str(), case.advice_due), ("awaited", date(2027, 1, 5)));

    // Late the day after the 6-week date, not on it.
    assert!(w.listed(&mut officer, true, date(2027, 1, 5)).await.is_empty(), "due that day: not late");
    assert_eq!(w.listed(&mut officer, true, date(2027, 1, 6)).await, [asked.id]);
    // The dashboard's figure: the same count, with no row sent.
    let count = pb::ListAdviceRequestsRequest {
        late_only: true,
        as_of: date(2027, 1, 6),
        count_only: true,
        ..Default::default()
    };
    let counted = officer.list_advice_requests(count).await.unwrap().into_inner();
    assert_eq!((counted.total, counted.advice.len()), (1, 0));
    let mut manager = w.platform.caseloads(Role::LaManager, Some("886")).await;
    let balance = manager.get_caseload_balance(pb::GetCaseloadBalanceRequest { as_of: date(2027, 1, 6) }).await;
    let overdue: u32 = balance.unwrap().into_inner().professionals.iter().map(|p| p.overdue).sum();
    assert_eq!(overdue, 1, "the balance counts it from its own date");

    let received = pb::RecordAdviceReceivedRequest { id: asked.id, received_on: date(2026, 11, 24) };
    let done = officer.record_advice_received(received).await.unwrap().into_inner();
    assert_eq!((done.received_on, done.state.as_str()), (date(2026, 11, 24), "received_on_time"));
    assert_eq!(officer.record_advice_received(received).await.unwrap().into_inner().id, asked.id, "a retry");
    let mine = ana.get_my_caseload(pb::GetMyCaseloadRequest::default()).await.unwrap().into_inner();
    assert_eq!((mine.cases[0].next_deadline.as_str(), mine.cases[0].next_deadline_on), ("", None), "advice in");
    assert!(w.listed(&mut officer, true, date(2027, 1, 6)).await.is_empty(), "in on time is never late");
}

async fn bad_dates_and_requests_are_refused_naming_the_field_and_nothing_is_written(engine: Engine) {
    let w = world(engine).await;
    let mut officer = w.officer().await;
    let refused = |r: Result<tonic::Response<pb::AdviceRequest>, tonic::Status>| bad_fields(&r.unwrap_err());
    // The request was received on 24 November 2026, which is also today.
    assert_eq!(refused(officer.record_advice_request(w.ask_ana(date(2026, 11, 23))).await), ["asked_on"]);
    assert_eq!(refused(officer.record_advice_request(w.ask_ana(date(2026, 11, 25))).await), ["asked_on"]);
    assert_eq!(refused(officer.record_advice_request(w.ask_ana(None)).await), ["asked_on"]);
    let not_ehc = pb::RecordAdviceRequestRequest { referral_id: w.ep_referral, ..w.ask_ana(date(2026, 11, 24)) };
    assert_eq!(refused(officer.record_advice_request(not_ehc).await), ["referral_id"]);
    let nobody = pb::RecordAdviceRequestRequest { professional_id: 0, ..w.ask_ana(date(2026, 11, 24)) };
    assert_eq!(refused(officer.record_advice_request(nobody).await), ["from_whom"]);
    let kind = pb::RecordAdviceRequestRequest { kind: "medical".into(), ..w.ask_ana(date(2026, 11, 24)) };
    assert_eq!(refused(officer.record_advice_request(kind).await), ["kind"]);
    assert!(w.listed(&mut officer, false, None).await.is_empty(), "nothing written");

    let asked = officer.record_advice_request(w.ask_ana(date(2026, 11, 24))).await.unwrap().into_inner();
    for received_on in [date(2026, 11, 23), date(2026, 11, 25), None] {
        let refusal = officer.record_advice_received(pb::RecordAdviceReceivedRequest { id: asked.id, received_on });
        assert_eq!(bad_fields(&refusal.await.unwrap_err()), ["received_on"], "{received_on:?}");
    }
    let again = officer.record_advice_request(w.ask_ana(date(2026, 11, 24))).await.unwrap().into_inner();
    assert_eq!(again.received_on, None, "nothing written");
}

async fn advice_is_seen_only_within_the_authority_and_by_the_cases_own_professional(engine: Engine) {
    let w = world(engine).await;
    let mut officer = w.officer().await;
    let asked = officer.record_advice_request(w.ask_ana(date(2026, 11, 24))).await.unwrap().into_inner();
    let ask_school = pb::RecordAdviceRequestRequest {
        kind: "educational".into(),
        from_whom: "Head teacher".into(),
        professional_id: 0,
        ..w.ask_ana(date(2026, 11, 24))
    };
    let school = officer.record_advice_request(ask_school).await.unwrap().into_inner();

    let mut medway = w.platform.caseloads(Role::LaManager, Some("887")).await;
    assert!(w.listed(&mut medway, false, None).await.is_empty(), "another authority sees none");
    let theirs = medway.record_advice_request(w.ask_ana(date(2026, 11, 24))).await.unwrap_err();
    assert_eq!(theirs.code(), Code::NotFound, "{theirs:?}");
    let received = pb::RecordAdviceReceivedRequest { id: asked.id, received_on: date(2026, 11, 24) };
    assert_eq!(medway.record_advice_received(received).await.unwrap_err().code(), Code::NotFound);

    let mut senco = w.platform.caseloads_for(Role::Senco, Some("886"), Some(100001)).await;
    let list = pb::ListAdviceRequestsRequest::default();
    assert_eq!(senco.list_advice_requests(list).await.unwrap_err().code(), Code::PermissionDenied);

    let mut ana = w.as_ep("ep-ana").await;
    let mut hers = w.listed(&mut ana, false, None).await;
    hers.sort_unstable();
    assert_eq!(hers, [asked.id, school.id], "her case's advice");
    assert_eq!(ana.record_advice_received(received).await.unwrap_err().code(), Code::PermissionDenied);
    let mut bo = w.as_ep("ep-bo").await;
    assert!(w.listed(&mut bo, false, None).await.is_empty(), "not another professional's case");
    let mine = pb::ListAdviceRequestsRequest { referral_id: w.request, ..list };
    assert!(bo.list_advice_requests(mine).await.unwrap().into_inner().advice.is_empty());
}

sen_platform::on_both_engines!(
    the_case_and_caseload_follow_the_psychological_advices_own_date,
    bad_dates_and_requests_are_refused_naming_the_field_and_nothing_is_written,
    advice_is_seen_only_within_the_authority_and_by_the_cases_own_professional,
);

#[tokio::test]
async fn advice_is_recorded_and_listed_over_json_and_on_the_councils_pages() {
    let w = world(Engine::Sqlite).await;
    let gateway = TestGateway::start(&w.platform, GatewayOptions::default()).await.expect("gateway");
    let http = reqwest::Client::new();
    let officer = w.platform.token(Role::CaseOfficer, Some("886"), None);
    let body =
        serde_json::json!({ "kind": "health", "from_whom": "Community paediatrician", "asked_on": "2026-11-24" });
    let response = http
        .post(format!("{}/api/v1/referrals/{}/advice", gateway.url(), w.request))
        .bearer_auth(&officer)
        .json(&body)
        .send()
        .await
        .expect("json");
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let late: serde_json::Value = http
        .get(format!("{}/api/v1/advice?late_only=true&as_of=2027-01-06", gateway.url()))
        .bearer_auth(&officer)
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("body");
    assert_eq!(late["advice"][0]["due_on"], "2027-01-05", "{late}");
    assert_eq!(late["advice"][0]["state"], "overdue", "{late}");
    let senco = w.platform.token(Role::Senco, Some("886"), Some(100001));
    let refused = http.get(format!("{}/api/v1/advice", gateway.url())).bearer_auth(&senco).send().await;
    assert_eq!(refused.expect("json").status(), 403);

    // The request's page lists the advice and records more.
    let web = gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    let page = format!("{}/referrals/{}", gateway.url(), w.request);
    let html = web.get(&page).send().await.expect("page").text().await.expect("html");
    assert!(html.contains("Advice for the assessment") && html.contains("Community paediatrician"), "{html}");
    assert!(html.contains("Record advice asked for"), "the team records advice: {html}");
    let csrf = gateway.csrf(&web, "/referrals").await;
    let too_early = [
        ("advice-kind", "psychological"),
        ("advice-professional_id", ""),
        ("advice-from_whom", "Dr Ana"),
        ("advice-asked_on", "23/11/2026"),
        ("csrf", csrf.as_str()),
    ];
    let url = format!("{}/referrals/{}/advice", gateway.url(), w.request);
    let refused = web.post(&url).form(&too_early).send().await.expect("answer");
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.expect("html");
    assert!(html.contains("href=\"#advice-asked_on\"") && html.contains("Dr Ana"), "named, typed kept: {html}");
    let on_time = [
        ("advice-kind", "psychological"),
        ("advice-professional_id", ""),
        ("advice-from_whom", "Dr Ana"),
        ("advice-asked_on", "24/11/2026"),
        ("csrf", csrf.as_str()),
    ];
    let sent = web.post(&url).form(&on_time).send().await.expect("answer");
    assert!(sent.status().is_success() || sent.status().is_redirection(), "{:?}", sent.status());
    let html = web.get(&page).send().await.expect("page").text().await.expect("html");
    assert!(html.contains("Dr Ana") && html.contains("5 January 2027"), "due 6 weeks on: {html}");

    let late_page = web.get(format!("{}/late-advice", gateway.url())).send().await.expect("page");
    assert_eq!(late_page.status(), 200);
    assert!(late_page.text().await.expect("html").contains("No advice is late"), "none late today");
    let dashboard = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let html = dashboard.get(format!("{}/dashboard", gateway.url())).send().await.expect("page").text().await;
    assert!(html.expect("html").contains("Advice late"), "the dashboard's advice figure");
    let senco_page = gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let answer = senco_page.get(format!("{}/late-advice", gateway.url())).send().await.expect("page");
    assert_eq!(answer.status(), 403);
}
