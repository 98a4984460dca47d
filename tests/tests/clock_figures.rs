//! The statutory clock's figures through the front door, on both engines: the
//! council overview's requests at risk and past a deadline, the statutory clock
//! report's open requests and the dashboard's figures all equal a recount, from
//! the referrals list, of the open requests only. A request declined, withdrawn
//! or closed before a decision to assess, or with its statutory outcome
//! recorded, has no live deadline and counts in none of them; its page says how
//! it ended, never "Breached".

use std::collections::BTreeSet;

use chrono::NaiveDate;
use reqwest::Client;
use sen_platform::identity::Role;
use sen_platform::ids::Urn;
use sen_platform::testing::Engine;
use sen_platform::walls;
use sen_proto::v1 as pb;
use sen_referrals::domain::{
    AssessmentDecision, BroadArea, ClockDates, Consent, ConsentMethod, NewReferral, PlanDecision, Priority,
    ReferralKind, Status, Tried,
};
use sen_referrals::store::SeedReferral;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{TestPlatform, today};
use serde_json::Value;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// An EHC needs assessment request for `pupil` at school 100001.
fn request(pupil: i64) -> NewReferral {
    NewReferral {
        pupil_id: pupil,
        school: Urn::parse("100001").unwrap(),
        kind: ReferralKind::EhcNeedsAssessment,
        broad_areas: vec![BroadArea::CommunicationAndInteraction],
        concern: "Very limited expressive language".into(),
        tried: Tried { summary: "Two cycles of language work".into(), cycles: vec![], provisions: vec![] },
        consent: Consent::new("Mother", d(2025, 1, 2), ConsentMethod::SignedForm, d(2025, 1, 6)).unwrap(),
        priority: Priority::Routine,
    }
}

/// Requests in every status at every stage of the clock, received long ago
/// (every deadline passed), a fortnight before the decision is due (at risk) and
/// last week (on track); each for its own pupil, from 10 000 up.
fn every_status_and_stage() -> Vec<SeedReferral> {
    let mut seeds = Vec::new();
    for received_on in [d(2025, 1, 6), today() - chrono::TimeDelta::days(35), today() - chrono::TimeDelta::days(7)] {
        let received = ClockDates {
            received_on,
            assessment_decision: None,
            plan_decision: None,
            final_plan_issued_on: None,
            exception: None,
        };
        let on = |days| (received_on + chrono::TimeDelta::days(days)).min(today());
        let assessing = ClockDates { assessment_decision: Some((AssessmentDecision::Assess, on(30))), ..received };
        let drafting = ClockDates { plan_decision: Some((PlanDecision::Issue, on(100))), ..assessing };
        let shapes = [
            received,
            ClockDates { assessment_decision: Some((AssessmentDecision::NotAssess, on(30))), ..received },
            assessing,
            drafting,
            ClockDates { plan_decision: Some((PlanDecision::NotIssue, on(100))), ..assessing },
            ClockDates { final_plan_issued_on: Some(on(130)), ..drafting },
        ];
        for status in Status::ALL {
            for dates in shapes {
                let pupil = 10_000 + i64::try_from(seeds.len()).unwrap();
                let path = if status == Status::Submitted { vec![] } else { vec![(status, on(3), "case_officer")] };
                seeds.push(SeedReferral {
                    new: request(pupil),
                    submitted_on: received_on,
                    path,
                    allocated_to: None,
                    outcome: (!status.is_open()).then(|| format!("{} in the test", status.name())),
                    clock: Some(dates),
                });
            }
        }
    }
    seeds
}

/// The platform with both schools of 886, the table of every status and stage
/// loaded into 886 and into 887, two requests sent today through the API (one
/// of them withdrawn), and a gateway.
async fn world(engine: Engine) -> (TestPlatform, TestGateway) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    for (urn, estab) in [(100001, "2001"), (100002, "2002")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 400).await;
    }
    for tenant in ["886", "887"] {
        let token = platform.token(Role::Service, Some(tenant), None);
        let loader = platform.issuer.verifier.verify(&token).expect("token").tenant_scope().expect("tenant");
        // Loaded as the demo data is, straight into the store, behind the tenant's wall.
        let seeds = every_status_and_stage();
        let load = platform.referrals_store.load_referrals(&loader, "tester", &seeds);
        sen_platform::walls::within_tenant(tenant, load).await.expect("loaded");
    }
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    for serial in 1..=2 {
        let pupil = platform.pupil_on_support("886", serial, 100001, ("Ola", "Reed")).await;
        let id = platform.accepted_referral_886(pupil, "ehc_needs_assessment", &format!("api-{serial}")).await;
        if serial == 2 {
            let referral = officer.get_referral(pb::GetReferralRequest { id, as_of: None }).await.expect("referral");
            let withdraw = pb::ChangeReferralStatusRequest {
                id,
                version: referral.into_inner().version,
                event: pb::ReferralEvent::Withdraw as i32,
                note: "The family asked to wait".into(),
            };
            officer.change_referral_status(withdraw).await.expect("withdrawn");
        }
    }
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    (platform, gateway)
}

async fn json_with(http: &Client, gateway: &TestGateway, token: &str, path: &str, query: &[(&str, &str)]) -> Value {
    let response =
        http.get(format!("{}{path}", gateway.url())).query(query).bearer_auth(token).send().await.expect("answered");
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.expect("json")
}

async fn json(http: &Client, gateway: &TestGateway, token: &str, path: &str) -> Value {
    json_with(http, gateway, token, path, &[]).await
}

/// Every EHC needs assessment request the list API gives the caller, page by page.
async fn every_request(http: &Client, gateway: &TestGateway, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let query =
            [("kind", "ehc_needs_assessment"), ("page.page_size", "200"), ("page.page_token", page_token.as_str())];
        let page = json_with(http, gateway, token, "/api/v1/referrals", &query).await;
        all.extend(page["referrals"].as_array().expect("referrals").iter().cloned());
        page_token = page["next_page_token"].as_str().unwrap_or_default().to_owned();
        if page_token.is_empty() {
            return all;
        }
    }
}

fn date(value: &Value) -> NaiveDate {
    NaiveDate::parse_from_str(value.as_str().expect("a date"), "%Y-%m-%d").expect("YYYY-MM-DD")
}

/// The recount, written from the rules as a council officer reads them: a
/// request is open until declined or withdrawn, closed before a decision to
/// assess, or given its statutory outcome; its next deadline is the decision
/// (6 weeks), then the decision on a plan (16 weeks), then the final plan (20
/// weeks); past it is breached, 14 days or fewer to go is at risk.
struct Recount {
    open: BTreeSet<i64>,
    at_risk: u64,
    breached: u64,
}

fn recount(requests: &[Value], today: NaiveDate) -> Recount {
    let mut counted = Recount { open: BTreeSet::new(), at_risk: 0, breached: 0 };
    for request in requests {
        let clock = &request["clock"];
        let status = request["status"].as_str().expect("status");
        if matches!(status, "REFERRAL_STATUS_DECLINED" | "REFERRAL_STATUS_WITHDRAWN") {
            continue;
        }
        let assessment = clock["assessment_decision"].as_str().unwrap_or_default();
        let plan = clock["plan_decision"].as_str().unwrap_or_default();
        let due = match (assessment, plan, clock["final_plan_issued_on"].is_null()) {
            ("", _, _) if status == "REFERRAL_STATUS_CLOSED" => continue,
            ("", _, _) => date(&clock["decision_due"]),
            ("assess", "", _) => date(&clock["no_plan_notice_due"]),
            ("assess", "issue", true) => date(&clock["final_plan_due"]),
            _ => continue,
        };
        counted.open.insert(request["id"].as_i64().expect("id"));
        match (due - today).num_days() {
            days if days < 0 => counted.breached += 1,
            days if days <= 14 => counted.at_risk += 1,
            _ => {}
        }
    }
    counted
}

/// The stages of a request whose clock runs.
const OPEN_STAGES: [&str; 3] = ["awaiting_assessment_decision", "assessing", "awaiting_final_plan"];

/// The number shown above `label` among the dashboard's figures.
fn figure(html: &str, label: &str) -> u64 {
    let at = html.find(&format!(">{label}<")).unwrap_or_else(|| panic!("no figure '{label}'"));
    let start = html[..at].rfind("figure__value\">").expect("a value") + "figure__value\">".len();
    let end = start + html[start..].find('<').expect("the value ends");
    html[start..end].replace(',', "").parse().expect("a number")
}

async fn the_dashboards_clock_figures_equal_a_recount_of_open_requests_only(engine: Engine) {
    let (platform, gateway) = world(engine).await;
    let http = Client::new();
    let manager = platform.token(Role::LaManager, Some("886"), None);
    let requests = every_request(&http, &gateway, &manager).await;
    assert_eq!(requests.len(), every_status_and_stage().len() + 2, "the table's requests and the two sent today");
    let expected = recount(&requests, today());
    assert!(expected.breached > 0 && expected.at_risk > 0, "both figures are exercised");

    let overview = json(&http, &gateway, &manager, "/api/v1/overview").await;
    let clock = &overview["statutory_clock"];
    assert_eq!(clock["breached"].as_u64(), Some(expected.breached), "past a deadline");
    assert_eq!(clock["at_risk"].as_u64(), Some(expected.at_risk), "at risk");
    assert_eq!(clock["open_count"].as_u64(), Some(expected.open.len() as u64), "open requests");

    let report = json(&http, &gateway, &manager, "/api/v1/statutory-clock").await;
    let listed: BTreeSet<i64> =
        report["open"].as_array().expect("open").iter().map(|o| o["referral_id"].as_i64().expect("id")).collect();
    assert_eq!(listed, expected.open, "the clock list's live entries are the open requests");

    let overdue = json(&http, &gateway, &manager, "/api/v1/referrals?overdue=true&page.page_size=500").await;
    let overdue = overdue["referrals"].as_array().expect("referrals").len() as u64;
    assert_eq!(overdue, expected.breached, "the list filtered to past a deadline");

    for request in &requests {
        let status = request["status"].as_str().unwrap_or_default();
        if matches!(status, "REFERRAL_STATUS_DECLINED" | "REFERRAL_STATUS_WITHDRAWN") {
            let clock = &request["clock"];
            assert_eq!((clock["health"].as_str(), clock["next_deadline"].as_str()), (Some(""), Some("")));
            assert!(clock["next_deadline_on"].is_null() && clock["days_left"] == 0, "{request}");
            let stage = clock["stage"].as_str().unwrap_or_default();
            assert!(!OPEN_STAGES.contains(&stage), "how it ended, never a live stage: {request}");
        }
    }

    let web = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let html = web.get(format!("{}/dashboard", gateway.url())).send().await.expect("page").text().await.expect("html");
    assert_eq!(figure(&html, "EHC needs assessments past a deadline"), expected.breached);
    assert_eq!(figure(&html, "EHC needs assessments at risk"), expected.at_risk);
}

async fn a_declined_request_long_past_its_dates_shows_how_it_ended(engine: Engine) {
    let (platform, gateway) = world(engine).await;
    let http = Client::new();
    let manager = platform.token(Role::LaManager, Some("886"), None);
    let requests = every_request(&http, &gateway, &manager).await;
    let declined = requests
        .iter()
        .find(|r| {
            r["status"] == "REFERRAL_STATUS_DECLINED"
                && r["clock"]["assessment_decision"] == ""
                && date(&r["clock"]["received_on"]) < d(2025, 6, 1)
        })
        .expect("a declined request from long ago");
    let web = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let id = declined["id"].as_i64().expect("id");
    let html =
        web.get(format!("{}/referrals/{id}", gateway.url())).send().await.expect("page").text().await.expect("html");
    assert!(html.contains("Request declined"), "the stage says how it ended");
    assert!(!html.contains("Breached") && !html.contains("days left"), "no live deadline");

    // Another authority's manager sees none of 886's requests, and 887's own figures are its own.
    let medway = platform.token(Role::LaManager, Some("887"), None);
    let theirs = every_request(&http, &gateway, &medway).await;
    assert!(theirs.iter().all(|r| r["id"] != declined["id"]));
    let overview = json(&http, &gateway, &medway, "/api/v1/overview").await;
    assert_eq!(overview["statutory_clock"]["breached"].as_u64(), Some(recount(&theirs, today()).breached));
}

/// Every open request `ListOpenRequests` gives the caller with `query`, page
/// by page (pages of 7), and the total each page gave.
async fn every_open_request(
    http: &Client,
    gateway: &TestGateway,
    token: &str,
    query: &[(&str, &str)],
) -> (Vec<Value>, BTreeSet<u64>) {
    let (mut all, mut totals, mut page_token) = (Vec::new(), BTreeSet::new(), String::new());
    loop {
        let mut asked = vec![("page.page_size", "7"), ("page.page_token", page_token.as_str())];
        asked.extend_from_slice(query);
        let page = json_with(http, gateway, token, "/api/v1/statutory-clock/open", &asked).await;
        let open = page["open"].as_array().expect("open");
        assert!(open.len() <= 7, "a page at most");
        all.extend(open.iter().cloned());
        totals.insert(page["total"].as_u64().unwrap_or(0));
        page_token = page["next_page_token"].as_str().unwrap_or_default().to_owned();
        if page_token.is_empty() {
            return (all, totals);
        }
    }
}

async fn the_clock_pages_list_is_the_reports_open_requests_a_page_at_a_time(engine: Engine) {
    let (platform, gateway) = world(engine).await;
    let http = Client::new();
    let manager = platform.token(Role::LaManager, Some("886"), None);
    let expected = recount(&every_request(&http, &gateway, &manager).await, today());
    let report = json(&http, &gateway, &manager, "/api/v1/statutory-clock").await;
    let reported: Vec<Value> = report["open"].as_array().expect("open").clone();

    // Every page in turn holds the report's open requests, in the report's order, with the total on each page.
    let audited_before = clock_rows_audited(&platform).await;
    let (listed, totals) = every_open_request(&http, &gateway, &manager, &[]).await;
    assert_eq!(listed, reported, "the same requests, clocks and order as the report");
    assert_eq!(clock_rows_audited(&platform).await, audited_before + listed.len(), "each request shown is audited");
    assert_eq!(totals, BTreeSet::from([expected.open.len() as u64]));
    let ids = |rows: &[Value]| rows.iter().map(|o| o["referral_id"].as_i64().expect("id")).collect::<BTreeSet<_>>();
    let (breached, totals) = every_open_request(&http, &gateway, &manager, &[("health", "breached")]).await;
    assert_eq!((breached.len() as u64, totals), (expected.breached, BTreeSet::from([expected.breached])));
    assert!(breached.iter().all(|o| o["clock"]["health"] == "breached"));
    let (by_deadline, _) =
        every_open_request(&http, &gateway, &manager, &[("sort", "deadline"), ("descending", "true")]).await;
    assert_eq!(ids(&by_deadline), expected.open);
    let days: Vec<NaiveDate> = by_deadline.iter().map(|o| date(&o["clock"]["next_deadline_on"])).collect();
    assert!(days.windows(2).all(|w| w[0] >= w[1]), "latest deadline first across pages: {days:?}");
    let (at_second, _) = every_open_request(&http, &gateway, &manager, &[("school_urn", "100002")]).await;
    assert!(at_second.is_empty(), "every request is from the first school");
    let unknown = http
        .get(format!("{}/api/v1/statutory-clock/open?sort=upn", gateway.url()))
        .bearer_auth(&manager)
        .send()
        .await
        .expect("answered");
    assert_eq!(unknown.status(), 400, "an order the list does not have is refused");

    // The page shows the same total and the first 50 of them.
    let web = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let html =
        web.get(format!("{}/statutory-clock", gateway.url())).send().await.expect("page").text().await.expect("html");
    assert!(html.contains(&format!("Open requests ({})", expected.open.len())), "{html}");
    let shown = html.matches("\">Request ").count();
    assert_eq!(shown, expected.open.len().min(50), "{html}");
    let html = web
        .get(format!("{}/statutory-clock?health=breached&sort=deadline", gateway.url()))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains(&format!("Open requests ({})", expected.breached)), "{html}");

    // Another authority's manager lists their own; a SENCO and a professional may not list.
    let medway = platform.token(Role::LaManager, Some("887"), None);
    let theirs = recount(&every_request(&http, &gateway, &medway).await, today());
    let (listed, _) = every_open_request(&http, &gateway, &medway, &[]).await;
    assert_eq!(ids(&listed), theirs.open);
    assert!(ids(&listed).is_disjoint(&expected.open));
    for (role, school) in [(Role::Senco, Some(100001)), (Role::EducationalPsychologist, None)] {
        let token = platform.token(role, Some("886"), school);
        let refused = http
            .get(format!("{}/api/v1/statutory-clock/open", gateway.url()))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answered");
        assert_eq!(refused.status(), 403, "{role}");
    }
}

sen_platform::on_both_engines!(
    the_dashboards_clock_figures_equal_a_recount_of_open_requests_only,
    a_declined_request_long_past_its_dates_shows_how_it_ended,
    the_clock_pages_list_is_the_reports_open_requests_a_page_at_a_time,
);

/// How many requests of 886 the statutory clock's list has shown, as its audit trail counts them.
async fn clock_rows_audited(platform: &TestPlatform) -> usize {
    let token = platform.token(Role::LaManager, Some("886"), None);
    let tenant = platform.issuer.verifier.verify(&token).expect("identity").tenant_scope().expect("tenant scope");
    let trail = walls::within_tenant("886", platform.referrals_store.audit_events(&tenant)).await.expect("trail");
    trail.iter().filter(|e| e.action == "referral.list" && e.detail == "statutory clock").count()
}
