//! What an annual review's decision leads to, over real gRPC, JSON and the
//! council's pages: an amended plan due by the earlier of 8 weeks after the
//! proposed amendments (SEN and Disability Regulations 2014, reg. 22(3)) and 12
//! weeks after the meeting (regs. 20(10) and 22(3)), listed when it was issued
//! late or is overdue; and a plan ceasing with its SEN2 reason, which moves the
//! pupil off E in the same step. The platform's day is 24 November 2026.

use reqwest::StatusCode;
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{PupilsClient, TestPlatform};
use tonic::Code;
use tonic_types::StatusExt;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

const SCHOOL: u32 = 100001;
const OTHER_SCHOOL: u32 = 100002;

async fn platform(engine: Engine) -> TestPlatform {
    let platform = TestPlatform::start(engine).await.expect("platform");
    platform.school_886(SCHOOL, "2001", pb::Phase::Primary, (4, 11), 200).await;
    platform.school_886(OTHER_SCHOOL, "2002", pb::Phase::Primary, (4, 11), 300).await;
    platform
}

/// A pupil with a plan issued on 10 January 2025 at `urn`.
async fn with_plan(client: &mut PupilsClient, serial: u32, urn: u32) -> i64 {
    let upn = sen_pupils::domain::Upn::from_body(&format!("886200125{serial:03}")).expect("upn");
    let pupil = pb::PupilFields {
        upn: upn.as_str().to_owned(),
        legal_forename: "Amara".into(),
        legal_surname: format!("Okafor{serial}"),
        date_of_birth: date(2016, 4, 2),
        school_urn: urn.to_string(),
        ..Default::default()
    };
    let request = pb::CreatePupilRequest {
        pupil: Some(pupil),
        sen_status: pb::SenProvision::EhcPlan as i32,
        primary_need_code: "ASD".into(),
        secondary_need_code: String::new(),
        ehcp: Some(pb::EhcpFields { issued_on: date(2025, 1, 10), named_setting: "Oakfield Primary".into() }),
    };
    client.create_pupil(request).await.expect("pupil").into_inner().id
}

fn amend(
    pupil_id: i64,
    meeting: Option<pb::Date>,
    proposed: Option<pb::Date>,
    issued: Option<pb::Date>,
) -> pb::RecordAnnualReviewRequest {
    pb::RecordAnnualReviewRequest {
        pupil_id,
        meeting_on: meeting,
        decision: pb::ReviewDecision::Amend as i32,
        decision_on: meeting,
        amendments_proposed_on: proposed,
        amended_plan_issued_on: issued,
        ..Default::default()
    }
}

fn cease(pupil_id: i64, reason: pb::CeaseReason, ceased_on: Option<pb::Date>) -> pb::RecordAnnualReviewRequest {
    pb::RecordAnnualReviewRequest {
        pupil_id,
        meeting_on: date(2026, 10, 1),
        decision: pb::ReviewDecision::Cease as i32,
        decision_on: date(2026, 10, 8),
        cease_reason: reason as i32,
        ceased_on,
        ceased_to: pb::SenProvision::SenSupport as i32,
        ..Default::default()
    }
}

async fn late(client: &mut PupilsClient) -> Result<Vec<(i64, i32, i32)>, Code> {
    let answer = client.list_late_amendments(pb::ListLateAmendmentsRequest::default()).await.map_err(|s| s.code())?;
    Ok(answer
        .into_inner()
        .amendments
        .into_iter()
        .map(|a| (a.pupil.map_or(0, |p| p.id), a.review.map_or(0, |r| r.amendment_status), a.days_late))
        .collect())
}

async fn history(client: &mut PupilsClient, pupil_id: i64) -> Vec<pb::HistoryEntry> {
    let request = pb::ListPupilHistoryRequest { pupil_id };
    client.list_pupil_history(request).await.expect("history").into_inner().entries
}

fn bad_fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let mut fields: Vec<String> =
        status.get_details_bad_request().expect("BadRequest").field_violations.into_iter().map(|v| v.field).collect();
    fields.sort();
    fields
}

/// Three amendments (on time, issued late, overdue) at one school, and a plan ceased at another.
struct Reviews {
    on_time: i64,
    issued_late: i64,
    overdue: i64,
    ceased: i64,
}

async fn record(officer: &mut PupilsClient) -> Reviews {
    let on_time = with_plan(officer, 1, SCHOOL).await;
    let issued_late = with_plan(officer, 2, SCHOOL).await;
    let overdue = with_plan(officer, 3, SCHOOL).await;
    let ceased = with_plan(officer, 4, OTHER_SCHOOL).await;
    // Proposed a week after the meeting: due 8 weeks after the proposal, 3 August.
    let r = amend(on_time, date(2026, 6, 1), date(2026, 6, 8), date(2026, 7, 20));
    let r = officer.record_annual_review(r).await.expect("on time").into_inner();
    assert_eq!(r.amended_plan_due, date(2026, 8, 3));
    assert_eq!(r.amended_plan_due_rule, pb::AmendmentDueRule::Proposal8Weeks as i32);
    assert_eq!(r.amendment_status, pb::AmendmentStatus::IssuedOnTime as i32);
    // Proposed 6 weeks after the meeting: due 12 weeks after the meeting, 24 August; issued 1 September.
    let r = amend(issued_late, date(2026, 6, 1), date(2026, 7, 13), date(2026, 9, 1));
    let r = officer.record_annual_review(r).await.expect("late").into_inner();
    assert_eq!(r.amended_plan_due, date(2026, 8, 24));
    assert_eq!(r.amended_plan_due_rule, pb::AmendmentDueRule::Meeting12Weeks as i32);
    assert_eq!(r.amendment_status, pb::AmendmentStatus::IssuedLate as i32);
    // A meeting in the summer holidays, proposed a week later: due 5 October, still not issued.
    let r = amend(overdue, date(2026, 8, 3), date(2026, 8, 10), None);
    let r = officer.record_annual_review(r).await.expect("overdue").into_inner();
    assert_eq!((r.amended_plan_due, r.amendment_status), (date(2026, 10, 5), pb::AmendmentStatus::Overdue as i32));
    let r = cease(ceased, pb::CeaseReason::NeedsMetWithoutPlan, date(2026, 11, 2));
    let r = officer.record_annual_review(r).await.expect("ceased").into_inner();
    assert_eq!((r.cease_reason, r.ceased_on), (pb::CeaseReason::NeedsMetWithoutPlan as i32, date(2026, 11, 2)));
    Reviews { on_time, issued_late, overdue, ceased }
}

async fn late_amendments_and_cessations_over_grpc(engine: Engine) {
    let platform = platform(engine).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let r = record(&mut officer).await;
    let issued = pb::AmendmentStatus::IssuedLate as i32;
    let overdue = pb::AmendmentStatus::Overdue as i32;
    assert_eq!(late(&mut officer).await, Ok(vec![(r.issued_late, issued, 8), (r.overdue, overdue, 50)]));
    assert!(!late(&mut officer).await.unwrap_or_default().iter().any(|(id, _, _)| *id == r.on_time));

    // Scoped to the caller: their school for a SENCO, their authority for the team; refused to other roles.
    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(SCHOOL)).await;
    assert_eq!(late(&mut senco).await.map(|rows| rows.len()), Ok(2));
    let mut other_senco = platform.pupils(Role::Senco, Some("886"), Some(OTHER_SCHOOL)).await;
    assert_eq!(late(&mut other_senco).await, Ok(vec![]));
    let mut medway = platform.pupils(Role::LaManager, Some("887"), None).await;
    assert_eq!(late(&mut medway).await, Ok(vec![]));
    let mut psychologist = platform.pupils(Role::EducationalPsychologist, Some("886"), None).await;
    assert_eq!(late(&mut psychologist).await, Err(Code::PermissionDenied));
    // The dashboard's figure is counted by the service, in the caller's scope, with no row sent.
    for (client, expected) in [(&mut officer, 2), (&mut senco, 2), (&mut other_senco, 0), (&mut medway, 0)] {
        let count = pb::ListLateAmendmentsRequest { count_only: true, ..Default::default() };
        let answer = client.list_late_amendments(count).await.expect("counted").into_inner();
        assert_eq!((answer.total, answer.amendments.len()), (expected, 0));
    }
    // Recording a review stays with the council's team, as today.
    let by_senco = amend(r.on_time, date(2026, 6, 1), date(2026, 6, 8), None);
    assert_eq!(senco.record_annual_review(by_senco).await.unwrap_err().code(), Code::PermissionDenied);
    let elsewhere = amend(r.on_time, date(2026, 6, 1), date(2026, 6, 8), None);
    assert_eq!(medway.record_annual_review(elsewhere).await.unwrap_err().code(), Code::NotFound);

    // The plan ceased and the pupil moved to K, with a history entry; a retry changes nothing.
    let pupil = officer.get_pupil(pb::GetPupilRequest { id: r.ceased }).await.expect("pupil").into_inner();
    assert_eq!(pupil.sen_status, pb::SenProvision::SenSupport as i32);
    let plan = officer.get_ehcp(pb::GetEhcpRequest { pupil_id: r.ceased, as_of: None }).await.expect("plan");
    let plan = plan.into_inner();
    assert_eq!((plan.status, plan.ceased_on), (pb::EhcpStatus::Ceased as i32, date(2026, 11, 2)));
    assert!(plan.ceased_reason.contains("SEN2 2"), "{}", plan.ceased_reason);
    let before = history(&mut officer, r.ceased).await;
    assert_eq!(before[0].sen_status, pb::SenProvision::SenSupport as i32);
    let retry = cease(r.ceased, pb::CeaseReason::NeedsMetWithoutPlan, date(2026, 11, 2));
    officer.record_annual_review(retry).await.expect("a retry is answered");
    assert_eq!(history(&mut officer, r.ceased).await.len(), before.len(), "a retry adds no history");
    let again = officer.get_pupil(pb::GetPupilRequest { id: r.ceased }).await.expect("pupil").into_inner();
    assert_eq!(again.version, pupil.version);
}

async fn bad_outcomes_name_every_field_and_write_nothing(engine: Engine) {
    let platform = platform(engine).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let pupil = with_plan(&mut officer, 1, SCHOOL).await;
    // Proposed before the meeting, issued before the proposal.
    let backwards = amend(pupil, date(2026, 6, 1), date(2026, 5, 29), date(2026, 5, 28));
    let refused = officer.record_annual_review(backwards).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["amended_plan_issued_on", "amendments_proposed_on"]);
    // Dates after today.
    let ahead = amend(pupil, date(2026, 11, 2), date(2026, 11, 25), date(2026, 11, 26));
    let refused = officer.record_annual_review(ahead).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["amended_plan_issued_on", "amendments_proposed_on"]);
    // A reason not in the SEN2 list, and a cessation in the future.
    let mut unknown = cease(pupil, pb::CeaseReason::Other, date(2026, 11, 25));
    unknown.cease_reason = 12;
    let refused = officer.record_annual_review(unknown).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["cease_reason", "ceased_on"]);
    let reviews = officer.list_annual_reviews(pb::ListAnnualReviewsRequest { pupil_id: pupil, as_of: None }).await;
    assert!(reviews.expect("reviews").into_inner().reviews.is_empty(), "nothing was written");
    let still = officer.get_pupil(pb::GetPupilRequest { id: pupil }).await.expect("pupil").into_inner();
    assert_eq!(still.sen_status, pb::SenProvision::EhcPlan as i32);
}

#[tokio::test]
async fn late_amendments_and_cessations_over_grpc_on_sqlite() {
    late_amendments_and_cessations_over_grpc(Engine::Sqlite).await;
}

#[tokio::test]
async fn late_amendments_and_cessations_over_grpc_on_postgres() {
    late_amendments_and_cessations_over_grpc(Engine::Postgres).await;
}

#[tokio::test]
async fn bad_outcomes_name_every_field_and_write_nothing_on_sqlite() {
    bad_outcomes_name_every_field_and_write_nothing(Engine::Sqlite).await;
}

#[tokio::test]
async fn bad_outcomes_name_every_field_and_write_nothing_on_postgres() {
    bad_outcomes_name_every_field_and_write_nothing(Engine::Postgres).await;
}

#[tokio::test]
async fn late_amendments_show_in_json_the_council_pages_and_the_pupil_page() {
    let platform = platform(Engine::Sqlite).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let r = record(&mut officer).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let http = reqwest::Client::new();
    let token = platform.token(Role::CaseOfficer, Some("886"), None);
    let list: serde_json::Value = http
        .get(format!("{}/api/v1/late-amendments", gateway.url()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("list");
    let statuses: Vec<&str> = list["amendments"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|a| a["review"]["amendment_status"].as_str())
        .collect();
    assert_eq!(statuses, ["AMENDMENT_STATUS_ISSUED_LATE", "AMENDMENT_STATUS_OVERDUE"], "{list}");
    // Recording through JSON: the SEN2 reason by name.
    let pupil = with_plan(&mut officer, 9, SCHOOL).await;
    let recorded = http
        .post(format!("{}/api/v1/pupils/{pupil}/annual-reviews", gateway.url()))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "meeting_on": "2026-10-05",
            "decision": "REVIEW_DECISION_CEASE",
            "decision_on": "2026-10-12",
            "cease_reason": "CEASE_REASON_TRANSFERRED_TO_ANOTHER_LA"
        }))
        .send()
        .await
        .expect("json");
    assert_eq!(recorded.status(), StatusCode::OK);
    let review: serde_json::Value = recorded.json().await.expect("review");
    assert_eq!(review["cease_reason"], "CEASE_REASON_TRANSFERRED_TO_ANOTHER_LA", "{review}");

    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let page = |path: &str| {
        let (manager, url) = (manager.clone(), format!("{}{path}", gateway.url()));
        async move {
            let response = manager.get(url).send().await.expect("page");
            (response.status(), response.text().await.expect("body"))
        }
    };
    let (status, html) = page("/late-amendments").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Okafor2") && html.contains("Okafor3") && !html.contains("Okafor1<"), "{html}");
    assert!(html.contains("tag--purple\">Issued late") && html.contains("tag--red\">Overdue"));
    assert!(html.contains("12 weeks after the meeting") && html.contains("8 weeks after the proposal"));
    let (_, overdue_only) = page("/late-amendments?status=overdue").await;
    assert!(overdue_only.contains("Okafor3") && !overdue_only.contains("Okafor2"));
    let (_, csv) = page("/late-amendments?format=csv").await;
    assert!(csv.contains("2026-08-24,12 weeks after the meeting,2026-09-01,8,issued late"), "{csv}");
    let (_, dashboard) = page("/dashboard").await;
    assert!(dashboard.contains("Review amendments late") && dashboard.contains("href=\"/late-amendments\""));
    let (_, due) = page("/annual-reviews-due").await;
    assert!(due.contains("href=\"/late-amendments\""), "the annual reviews page links to the list");
    let (_, late_pupil) = page(&format!("/pupils/{}", r.issued_late)).await;
    assert!(late_pupil.contains("Amendments proposed: 13 July 2026") && late_pupil.contains("Issued 1 September 2026"));
    let (_, ceased_pupil) = page(&format!("/pupils/{}", r.ceased)).await;
    assert!(ceased_pupil.contains("Needs being met without an EHC plan (SEN2 2)"), "{ceased_pupil}");
    assert!(ceased_pupil.contains("Plan ceased 2 November 2026"));
    let senco = gateway.web_client(Role::Senco, Some("886"), Some(OTHER_SCHOOL)).await;
    let theirs = senco.get(format!("{}/late-amendments", gateway.url())).send().await.expect("page");
    let theirs = theirs.text().await.expect("body");
    assert!(theirs.contains("No amendments after an annual review are late."), "another school's SENCO sees none");
}

#[tokio::test]
async fn the_council_team_records_an_amendment_and_a_cessation_on_the_review_form() {
    let platform = platform(Engine::Sqlite).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let amended = with_plan(&mut officer, 1, SCHOOL).await;
    let ceasing = with_plan(&mut officer, 2, SCHOOL).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let team = gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    let post = |client: &reqwest::Client, pupil: i64, form: Vec<(&'static str, &'static str)>| {
        let (client, gateway) = (client.clone(), &gateway);
        async move {
            let path = format!("/pupils/{pupil}/annual-reviews/new");
            let csrf = gateway.csrf(&client, &path).await;
            let mut fields: Vec<(&str, String)> = form.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
            fields.push(("csrf", csrf));
            let response = client.post(format!("{}{path}", gateway.url())).form(&fields).send().await.expect("answer");
            (response.status(), response.text().await.unwrap_or_default())
        }
    };
    let pupil_page = |client: &reqwest::Client, pupil: i64| {
        let (client, url) = (client.clone(), format!("{}/pupils/{pupil}", gateway.url()));
        async move { client.get(url).send().await.expect("page").text().await.unwrap_or_default() }
    };
    // An issue before the proposal is named on the form, and nothing is recorded.
    let backwards = vec![
        ("meeting_on", "2026-06-01"),
        ("decision", "amend"),
        ("decision_on", "2026-06-05"),
        ("amendments_proposed_on", "2026-06-08"),
        ("amended_plan_issued_on", "2026-06-07"),
        ("ceased_to", ""),
    ];
    let (status, html) = post(&team, amended, backwards).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Date the amended plan was issued"), "{html}");
    let reviews = officer.list_annual_reviews(pb::ListAnnualReviewsRequest { pupil_id: amended, as_of: None }).await;
    assert!(reviews.expect("reviews").into_inner().reviews.is_empty());
    let amendment = vec![
        ("meeting_on", "2026-06-01"),
        ("decision", "amend"),
        ("decision_on", "2026-06-05"),
        ("amendments_proposed_on", "2026-06-08"),
        ("amended_plan_issued_on", "2026-07-20"),
        ("ceased_to", ""),
    ];
    let (status, _) = post(&team, amended, amendment).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "back to the pupil's page");
    let html = pupil_page(&team, amended).await;
    assert!(html.contains("Issued 20 July 2026") && html.contains("tag--green\">Issued on time"), "{html}");
    let cessation = vec![
        ("meeting_on", "2026-10-01"),
        ("decision", "cease"),
        ("decision_on", "2026-10-08"),
        ("cease_reason", "4"),
        ("ceased_on", "2026-11-02"),
        ("ceased_to", "N"),
    ];
    let (status, _) = post(&team, ceasing, cessation).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let html = pupil_page(&team, ceasing).await;
    assert!(html.contains("Moved on to paid employment (SEN2 4)"), "{html}");
    let pupil = officer.get_pupil(pb::GetPupilRequest { id: ceasing }).await.expect("pupil").into_inner();
    assert_eq!(pupil.sen_status, pb::SenProvision::NoSen as i32);
    // The form opens filled in for a recorded meeting.
    let (_, form) = {
        let url = format!("{}/pupils/{amended}/annual-reviews/new?meeting=2026-06-01", gateway.url());
        let response = team.get(url).send().await.expect("form");
        (response.status(), response.text().await.unwrap_or_default())
    };
    assert!(form.contains("value=\"20/7/2026\""), "{form}");
    // A SENCO does not record annual reviews, as today.
    let senco = gateway.web_client(Role::Senco, Some("886"), Some(SCHOOL)).await;
    let refused = senco.get(format!("{}/pupils/{amended}/annual-reviews/new", gateway.url())).send().await;
    assert_eq!(refused.expect("answer").status(), StatusCode::FORBIDDEN);
}
