//! Phase transfers over real gRPC, JSON and the council's pages (SEN and
//! Disability Regulations 2014, reg. 18): an amended plan issued after its
//! deadline is late, a Year 11 pupil staying in their school's own sixth form
//! leaves the list, a move between post-16 settings is due five months before
//! it, and next academic year's transfers appear from 1 April. The platform's
//! day is 24 November 2026.

use reqwest::StatusCode;
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::bad_fields;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{PupilsClient, TestPlatform};
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

const PRIMARY: u32 = 100001;
/// A secondary school with a sixth form (11–18).
const WITH_SIXTH_FORM: u32 = 100003;
/// A secondary school without one (11–16).
const TO_16: u32 = 100004;

async fn platform() -> TestPlatform {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(PRIMARY, "2001", pb::Phase::Primary, (4, 11), 200).await;
    platform.school_886(WITH_SIXTH_FORM, "4001", pb::Phase::Secondary, (11, 18), 900).await;
    platform.school_886(TO_16, "4002", pb::Phase::Secondary, (11, 16), 700).await;
    platform
}

/// A pupil with a plan at `urn`, born on `born`.
async fn with_plan(client: &mut PupilsClient, serial: u32, urn: u32, born: (i32, i32, i32)) -> i64 {
    let upn = sen_pupils::domain::Upn::from_body(&format!("886200125{serial:03}")).expect("upn");
    let pupil = pb::PupilFields {
        upn: upn.as_str().to_owned(),
        legal_forename: "Amara".into(),
        legal_surname: format!("Okafor{serial}"),
        date_of_birth: date(born.0, born.1, born.2),
        school_urn: urn.to_string(),
        ..Default::default()
    };
    let request = pb::CreatePupilRequest {
        pupil: Some(pupil),
        sen_status: pb::SenProvision::EhcPlan as i32,
        primary_need_code: "ASD".into(),
        secondary_need_code: String::new(),
        ehcp: Some(pb::EhcpFields { issued_on: date(2025, 1, 10), named_setting: "First setting".into() }),
    };
    client.create_pupil(request).await.expect("pupil").into_inner().id
}

async fn listed(client: &mut PupilsClient, as_of: Option<pb::Date>) -> Vec<(i64, String, Option<pb::Date>, i32)> {
    let request = pb::ListTransitionsDueRequest { as_of, ..Default::default() };
    let answer = client.list_transitions_due(request).await.expect("listed").into_inner();
    answer
        .transitions
        .into_iter()
        .map(|t| {
            let tr = t.transfer.unwrap_or_default();
            (t.pupil.map_or(0, |p| p.id), tr.kind, tr.deadline, tr.status)
        })
        .collect()
}

fn moving(pupil_id: i64, on: Option<pb::Date>, issued: Option<pb::Date>) -> pb::RecordTransferDecisionRequest {
    pb::RecordTransferDecisionRequest {
        pupil_id,
        next_setting: "Eastwold College".into(),
        amended_plan_issued_on: issued,
        post16_move_on: on,
        ..Default::default()
    }
}

const DUE: i32 = pb::TransferStatus::Due as i32;
const OVERDUE: i32 = pb::TransferStatus::Overdue as i32;
const ON_TIME: i32 = pb::TransferStatus::IssuedOnTime as i32;
const LATE: i32 = pb::TransferStatus::IssuedLate as i32;

#[tokio::test]
async fn a_post_16_move_is_due_five_months_before_it_and_late_the_day_after() {
    let platform = platform().await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let year13 = with_plan(&mut officer, 1, WITH_SIXTH_FORM, (2008, 10, 1)).await;
    // Moving on 6 January 2027: the amended plan is due by 6 August 2026, and none is issued.
    officer.record_transfer_decision(moving(year13, date(2027, 1, 6), None)).await.expect("move recorded");
    assert_eq!(listed(&mut officer, None).await, [(year13, "post16_move".into(), date(2026, 8, 6), OVERDUE)]);
    for (issued, status, rag) in [
        (date(2026, 8, 5), ON_TIME, pb::Rag::Green),
        (date(2026, 8, 6), ON_TIME, pb::Rag::Green),
        (date(2026, 8, 7), LATE, pb::Rag::Red),
    ] {
        let plan = officer.record_transfer_decision(moving(year13, date(2027, 1, 6), issued)).await.unwrap();
        let transfer = plan.into_inner().transfer.unwrap_or_default();
        assert_eq!((transfer.status, transfer.rag), (status, rag as i32), "issued {issued:?}");
    }
    assert_eq!(listed(&mut officer, None).await, [(year13, "post16_move".into(), date(2026, 8, 6), LATE)]);
    // Listed until the day of the move.
    assert_eq!(listed(&mut officer, date(2027, 1, 6)).await.len(), 1);
    assert!(listed(&mut officer, date(2027, 1, 7)).await.is_empty());
    // A move on 31 July 2028 is due by 29 February 2028.
    officer.record_transfer_decision(moving(year13, date(2028, 7, 31), None)).await.unwrap();
    assert!(listed(&mut officer, None).await.is_empty(), "beyond the year's window");
    let request = pb::ListTransitionsDueRequest { window_days: 500, ..Default::default() };
    let far = officer.list_transitions_due(request).await.unwrap().into_inner().transitions;
    let deadlines: Vec<_> = far.iter().map(|t| t.transfer.as_ref().and_then(|tr| tr.deadline)).collect();
    assert_eq!(deadlines, [date(2028, 2, 29)]);

    // Not for a pupil in compulsory school; not with a plan in the future.
    let year6 = with_plan(&mut officer, 2, PRIMARY, (2015, 10, 1)).await;
    let refused = officer.record_transfer_decision(moving(year6, date(2027, 1, 6), None)).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let future = officer.record_transfer_decision(moving(year13, date(2027, 1, 6), date(2026, 11, 25))).await;
    assert_eq!(bad_fields(&future.unwrap_err()), ["amended_plan_issued_on"]);
    // Another authority and another school's SENCO see nothing of it.
    let mut medway = platform.pupils(Role::LaManager, Some("887"), None).await;
    assert!(listed(&mut medway, None).await.is_empty());
    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(PRIMARY)).await;
    assert!(listed(&mut senco, None).await.iter().all(|row| row.0 != year13));
}

#[tokio::test]
async fn a_year_11_pupil_staying_in_their_own_sixth_form_leaves_the_list() {
    let platform = platform().await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let staying = with_plan(&mut officer, 1, WITH_SIXTH_FORM, (2010, 10, 1)).await;
    let leaving = with_plan(&mut officer, 2, TO_16, (2010, 11, 1)).await;
    let year6 = with_plan(&mut officer, 3, PRIMARY, (2015, 10, 1)).await;
    let ids = |rows: Vec<(i64, String, Option<pb::Date>, i32)>| rows.into_iter().map(|r| r.0).collect::<Vec<_>>();
    assert_eq!(ids(listed(&mut officer, None).await), [year6, staying, leaving]);

    let stay = |pupil_id| pb::RecordTransferDecisionRequest {
        pupil_id,
        staying_in_own_sixth_form: true,
        ..Default::default()
    };
    let plan = officer.record_transfer_decision(stay(staying)).await.expect("staying").into_inner();
    assert!(plan.staying_in_own_sixth_form && plan.transfer.is_none());
    assert_eq!(ids(listed(&mut officer, None).await), [year6, leaving]);
    let no_sixth_form = officer.record_transfer_decision(stay(leaving)).await.unwrap_err();
    assert_eq!(bad_fields(&no_sixth_form), ["staying_in_own_sixth_form"]);
    let not_year_11 = officer.record_transfer_decision(stay(year6)).await.unwrap_err();
    assert_eq!(bad_fields(&not_year_11), ["staying_in_own_sixth_form"]);
    let both = pb::RecordTransferDecisionRequest { post16_move_on: date(2027, 1, 6), ..stay(staying) };
    assert_eq!(bad_fields(&officer.record_transfer_decision(both).await.unwrap_err()), ["post16_move_on"]);

    // The council changes its mind: the pupil moves to a college after all.
    let college = pb::RecordTransferDecisionRequest {
        pupil_id: staying,
        next_setting: "Eastwold College".into(),
        amended_plan_issued_on: date(2026, 11, 20),
        ..Default::default()
    };
    let plan = officer.record_transfer_decision(college).await.unwrap().into_inner();
    assert_eq!(plan.transfer.map(|t| (t.kind, t.status)), Some(("secondary_to_post16".into(), ON_TIME)));
    assert_eq!(ids(listed(&mut officer, None).await), [year6, staying, leaving]);
}

#[tokio::test]
async fn next_years_transfers_are_listed_from_1_april() {
    let platform = platform().await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let year6 = with_plan(&mut officer, 1, PRIMARY, (2015, 10, 1)).await;
    let year5 = with_plan(&mut officer, 2, PRIMARY, (2016, 10, 1)).await;
    let year10 = with_plan(&mut officer, 3, TO_16, (2011, 10, 1)).await;
    let this_year = vec![(year6, "primary_to_secondary".to_owned(), date(2027, 2, 15), OVERDUE)];
    assert_eq!(listed(&mut officer, date(2027, 3, 31)).await, this_year, "the day before");
    let mut with_next = this_year.clone();
    with_next.push((year5, "primary_to_secondary".into(), date(2028, 2, 15), DUE));
    // 365 days from 1 April 2027 reach 31 March 2028 (2028 is a leap year).
    with_next.push((year10, "secondary_to_post16".into(), date(2028, 3, 31), DUE));
    assert_eq!(listed(&mut officer, date(2027, 4, 1)).await, with_next, "the day");
    assert_eq!(listed(&mut officer, date(2027, 4, 2)).await.len(), 3, "the day after");
    let next_only: Vec<_> = with_next[1..].to_vec();
    assert_eq!(listed(&mut officer, date(2027, 9, 1)).await, next_only, "the new academic year");
}

#[tokio::test]
async fn the_transfers_page_json_and_dashboard_show_an_amended_plan_issued_late() {
    let platform = platform().await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let year13 = with_plan(&mut officer, 1, WITH_SIXTH_FORM, (2008, 10, 1)).await;
    let year6 = with_plan(&mut officer, 2, PRIMARY, (2015, 10, 1)).await;
    let on_time = pb::RecordTransferDecisionRequest {
        pupil_id: year6,
        next_setting: "Northmoor Academy".into(),
        amended_plan_issued_on: date(2026, 11, 20),
        ..Default::default()
    };
    officer.record_transfer_decision(on_time).await.expect("on time");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let http = reqwest::Client::new();
    let token = platform.token(Role::CaseOfficer, Some("886"), None);
    let recorded = http
        .post(format!("{}/api/v1/pupils/{year13}/transfer-decision", gateway.url()))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "next_setting": "Eastwold College",
            "post16_move_on": "2027-01-06",
            "amended_plan_issued_on": "2026-09-01"
        }))
        .send()
        .await
        .expect("json");
    assert_eq!(recorded.status(), StatusCode::OK);
    let plan: serde_json::Value = recorded.json().await.expect("plan");
    assert_eq!(plan["transfer"]["status"], "TRANSFER_STATUS_ISSUED_LATE", "{plan}");
    let list: serde_json::Value = http
        .get(format!("{}/api/v1/transitions-due", gateway.url()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("list");
    let statuses: Vec<&str> =
        list["transitions"].as_array().expect("rows").iter().filter_map(|t| t["transfer"]["status"].as_str()).collect();
    assert_eq!(statuses, ["TRANSFER_STATUS_ISSUED_LATE", "TRANSFER_STATUS_ISSUED_ON_TIME"]);

    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let page = |path: &str| {
        let (manager, url) = (manager.clone(), format!("{}{path}", gateway.url()));
        async move {
            let response = manager.get(url).send().await.expect("page");
            (response.status(), response.text().await.expect("body"))
        }
    };
    let (status, html) = page("/transitions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("tag--purple\">Issued late"), "a late plan has its own colour");
    assert!(html.contains("tag--green\">Issued on time"));
    assert!(html.contains("Between post-16 settings") && html.contains("Moving 6 January 2027"));
    let (_, late_only) = page("/transitions?status=issued_late").await;
    assert!(late_only.contains("Issued late") && !late_only.contains("Northmoor Academy"));
    let (_, csv) = page("/transitions?format=csv").await;
    assert!(csv.lines().next().is_some_and(|h| h.contains("Amended plan issued,Status")), "{csv}");
    assert!(csv.contains("2026-09-01,Issued late"), "{csv}");
    let (_, pupil) = page(&format!("/pupils/{year13}")).await;
    assert!(pupil.contains("tag--purple\">Issued late"), "the pupil's plan shows it too");
    let (_, dashboard) = page("/dashboard").await;
    assert!(dashboard.contains("Amended plans issued late") && dashboard.contains("1 issued on time"), "{dashboard}");
}
