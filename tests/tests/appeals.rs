//! Mediation and appeals to the First-tier Tribunal (SEND) through the pupils
//! service over real gRPC, the gateway's JSON API and the council's pages: the
//! council SEN team records and reads them, and no one else (a SENCO, an
//! educational psychologist, another authority) sees any; bad dates are named
//! and write nothing; retries and stale versions; the response date at its
//! boundaries; the open list, the yearly counts and the dashboard.
//! The platform believes today is 24 November 2026 (`sen_tests::platform::today`).

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

fn refusal_to_assess(decision: (i32, i32, i32)) -> pb::AppealFields {
    pb::AppealFields {
        ground: pb::AppealGround::RefusalToAssess as i32,
        decision_on: date(decision.0, decision.1, decision.2),
        ..Default::default()
    }
}

async fn record(client: &mut PupilsClient, pupil: i64, fields: pb::AppealFields, key: &str) -> pb::Appeal {
    let request = pb::RecordAppealRequest { pupil_id: pupil, appeal: Some(fields), idempotency_key: key.into() };
    client.record_appeal(request).await.expect("appeal recorded").into_inner()
}

async fn appeals_of(client: &mut PupilsClient, pupil: i64) -> Result<Vec<pb::Appeal>, Code> {
    let request = pb::ListAppealsRequest { pupil_id: pupil, as_of: None };
    client.list_appeals(request).await.map(|r| r.into_inner().appeals).map_err(|s| s.code())
}

async fn only_the_council_team_sees_a_familys_appeal(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    platform.school_886(100002, "2002", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let recorded = record(&mut officer, pupil, refusal_to_assess((2026, 10, 1)), "appeal-1").await;
    assert_eq!(recorded.stage, pb::AppealStage::AwaitingRegistration as i32);

    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    assert_eq!(appeals_of(&mut manager, pupil).await.map(|a| a.len()), Ok(1));
    let open = manager.list_open_appeals(pb::ListOpenAppealsRequest::default()).await.expect("open").into_inner();
    assert_eq!(open.appeals.len(), 1);

    // A SENCO (of the pupil's school or another) and a professional: not their business.
    for (role, school) in
        [(Role::Senco, Some(100001)), (Role::Senco, Some(100002)), (Role::EducationalPsychologist, None)]
    {
        let mut client = platform.pupils(role, Some("886"), school).await;
        assert_eq!(appeals_of(&mut client, pupil).await, Err(Code::PermissionDenied), "{role}");
        let listed = client.list_open_appeals(pb::ListOpenAppealsRequest::default()).await;
        assert_eq!(listed.map(|_| ()).map_err(|s| s.code()), Err(Code::PermissionDenied), "{role}");
        let request = pb::RecordAppealRequest {
            pupil_id: pupil,
            appeal: Some(refusal_to_assess((2026, 10, 1))),
            idempotency_key: format!("by-{role}"),
        };
        assert_eq!(client.record_appeal(request).await.map(|_| ()).map_err(|s| s.code()), Err(Code::PermissionDenied));
    }
    // Another authority's team: no such pupil, no appeals, nothing counted.
    let mut medway = platform.pupils(Role::LaManager, Some("887"), None).await;
    assert_eq!(appeals_of(&mut medway, pupil).await, Err(Code::NotFound));
    let open = medway.list_open_appeals(pb::ListOpenAppealsRequest::default()).await.expect("open").into_inner();
    assert!(open.appeals.is_empty());
    let stats = medway.get_appeal_stats(pb::GetAppealStatsRequest::default()).await.expect("stats").into_inner();
    assert_eq!(stats.open, 0);
    let update =
        pb::UpdateAppealRequest { id: recorded.id, version: 1, appeal: Some(refusal_to_assess((2026, 10, 2))) };
    assert_eq!(medway.update_appeal(update).await.map(|_| ()).map_err(|s| s.code()), Err(Code::NotFound));
    // And what the others tried wrote nothing.
    assert_eq!(appeals_of(&mut manager, pupil).await.map(|a| a.len()), Ok(1));
}

#[tokio::test]
async fn only_the_council_team_sees_a_familys_appeal_on_sqlite() {
    only_the_council_team_sees_a_familys_appeal(Engine::Sqlite).await;
}

#[tokio::test]
async fn only_the_council_team_sees_a_familys_appeal_on_postgres() {
    only_the_council_team_sees_a_familys_appeal(Engine::Postgres).await;
}

async fn retries_record_once_and_a_stale_change_is_refused(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let first = record(&mut officer, pupil, refusal_to_assess((2026, 10, 1)), "key-1").await;
    let again = record(&mut officer, pupil, refusal_to_assess((2026, 10, 1)), "key-1").await;
    assert_eq!(first.id, again.id, "a retry answers the first appeal");
    let other = pb::RecordAppealRequest {
        pupil_id: pupil,
        appeal: Some(refusal_to_assess((2026, 9, 1))),
        idempotency_key: "key-1".into(),
    };
    assert_eq!(officer.record_appeal(other).await.expect_err("another body").code(), Code::AlreadyExists);

    let mut moved = refusal_to_assess((2026, 10, 1));
    moved.mediation_requested_on = date(2026, 10, 20);
    let change = pb::UpdateAppealRequest { id: first.id, version: first.version, appeal: Some(moved.clone()) };
    let changed = officer.update_appeal(change.clone()).await.expect("changed").into_inner();
    assert_eq!(changed.version, first.version + 1);
    assert_eq!(changed.stage, pb::AppealStage::Mediation as i32);
    assert_eq!(changed.mediation_due, date(2026, 11, 19), "30 days after the council was told");
    // The same change sent again (a retry): answered as it is, nothing new.
    let retried = officer.update_appeal(change).await.expect("retry").into_inner();
    assert_eq!(retried.version, changed.version);
    // Another change on the old version: someone else's change would be lost.
    moved.mediation_on = date(2026, 11, 10);
    moved.mediation_outcome = pb::MediationOutcome::NotResolved as i32;
    let stale = pb::UpdateAppealRequest { id: first.id, version: first.version, appeal: Some(moved) };
    assert_eq!(officer.update_appeal(stale).await.expect_err("stale").code(), Code::Aborted);
    assert_eq!(appeals_of(&mut officer, pupil).await.map(|a| a.len()), Ok(1));
}

#[tokio::test]
async fn retries_record_once_and_a_stale_change_is_refused_on_sqlite() {
    retries_record_once_and_a_stale_change_is_refused(Engine::Sqlite).await;
}

#[tokio::test]
async fn retries_record_once_and_a_stale_change_is_refused_on_postgres() {
    retries_record_once_and_a_stale_change_is_refused(Engine::Postgres).await;
}

#[tokio::test]
async fn impossible_dates_are_named_by_field_and_nothing_is_written() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let fields = pb::AppealFields {
        ground: pb::AppealGround::AmendedPlan as i32,
        decision_on: date(2026, 12, 1),
        registered_on: date(2026, 11, 1),
        hearing_on: date(2026, 10, 1),
        response_sent_on: date(2026, 2, 30),
        outcome: pb::AppealOutcome::Upheld as i32,
        ..Default::default()
    };
    let request = pb::RecordAppealRequest { pupil_id: pupil, appeal: Some(fields), idempotency_key: "bad".into() };
    let status = officer.record_appeal(request).await.expect_err("refused");
    let named = bad_fields(&status);
    assert!(named.contains(&"appeal.response_sent_on".to_owned()), "30 February: {named:?}");
    // Judged on the fields that parsed, once each is a real day.
    let fields = pb::AppealFields {
        ground: pb::AppealGround::AmendedPlan as i32,
        decision_on: date(2026, 12, 1),
        registered_on: date(2026, 11, 1),
        hearing_on: date(2026, 10, 1),
        outcome: pb::AppealOutcome::Upheld as i32,
        ..Default::default()
    };
    let request = pb::RecordAppealRequest { pupil_id: pupil, appeal: Some(fields), idempotency_key: "bad".into() };
    let named = bad_fields(&officer.record_appeal(request).await.expect_err("refused"));
    for field in ["appeal.sections", "appeal.decision_on", "appeal.hearing_on", "appeal.decided_on"] {
        assert!(named.contains(&field.to_owned()), "{field} in {named:?}");
    }
    assert_eq!(appeals_of(&mut officer, pupil).await, Ok(Vec::new()));
}

#[tokio::test]
async fn the_response_is_due_thirty_working_days_after_registration_and_late_only_after_that_day() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    // Registered Monday 2 March 2026: Good Friday and Easter Monday not counted.
    for (day, late) in [(14, false), (15, false), (16, true)] {
        let mut fields = refusal_to_assess((2026, 1, 5));
        fields.registered_on = date(2026, 3, 2);
        fields.response_sent_on = date(2026, 4, day);
        let appeal = record(&mut officer, pupil, fields, &format!("sent-{day}")).await;
        assert_eq!(appeal.response_due, date(2026, 4, 15));
        assert_eq!(appeal.response_late, late, "sent on {day} April");
    }
    // Registered in the summer holidays: August is not counted.
    let mut summer = refusal_to_assess((2026, 6, 1));
    summer.registered_on = date(2026, 8, 3);
    assert_eq!(record(&mut officer, pupil, summer, "summer").await.response_due, date(2026, 10, 12));
    // 29 February: two months from 29 December 2023, and a registration on the day.
    let mut leap = refusal_to_assess((2023, 12, 29));
    assert_eq!(record(&mut officer, pupil, leap.clone(), "leap-1").await.appeal_deadline, date(2024, 2, 29));
    leap.registered_on = date(2024, 2, 29);
    assert_eq!(record(&mut officer, pupil, leap, "leap-2").await.response_due, date(2024, 4, 15));
    // The Tribunal's own date stands in place of the count.
    let mut given = refusal_to_assess((2026, 1, 5));
    given.registered_on = date(2026, 3, 2);
    given.response_due_on = date(2026, 4, 20);
    assert_eq!(record(&mut officer, pupil, given, "given").await.response_due, date(2026, 4, 20));
}

#[tokio::test]
async fn open_appeals_come_soonest_next_date_first_and_are_counted_per_year() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let a = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let b = platform.pupil_on_support("886", 2, 100001, ("Ada", "Byrne")).await;
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let mut hearing = refusal_to_assess((2026, 5, 1));
    hearing.registered_on = date(2026, 6, 1);
    hearing.response_sent_on = date(2026, 7, 1);
    hearing.hearing_on = date(2027, 1, 20);
    record(&mut officer, a, hearing, "hearing").await;
    let mut mediation = refusal_to_assess((2026, 11, 1));
    mediation.mediation_requested_on = date(2026, 11, 10);
    record(&mut officer, b, mediation, "mediation").await;
    let mut upheld = refusal_to_assess((2025, 9, 1));
    upheld.registered_on = date(2025, 11, 3);
    upheld.response_sent_on = date(2025, 12, 10);
    upheld.hearing_on = date(2026, 3, 3);
    upheld.decided_on = date(2026, 3, 20);
    upheld.outcome = pb::AppealOutcome::Upheld as i32;
    record(&mut officer, a, upheld, "upheld").await;
    let mut withdrawn = refusal_to_assess((2026, 1, 10));
    withdrawn.registered_on = date(2026, 3, 2);
    withdrawn.decided_on = date(2026, 4, 1);
    withdrawn.outcome = pb::AppealOutcome::Withdrawn as i32;
    record(&mut officer, b, withdrawn, "withdrawn").await;

    let open = officer.list_open_appeals(pb::ListOpenAppealsRequest::default()).await.expect("open").into_inner();
    let next: Vec<_> =
        open.appeals.iter().map(|r| r.appeal.clone().unwrap_or_default()).map(|a| (a.next_date, a.next_step)).collect();
    assert_eq!(next, [(date(2026, 12, 10), "mediation".to_owned()), (date(2027, 1, 20), "hearing".to_owned())]);
    // A page of one, then the next.
    let first = pb::ListOpenAppealsRequest {
        as_of: None,
        page: Some(pb::PageRequest { page_size: 1, page_token: String::new() }),
    };
    let page = officer.list_open_appeals(first).await.expect("page").into_inner();
    assert_eq!(page.appeals.len(), 1);
    let second = pb::ListOpenAppealsRequest {
        as_of: None,
        page: Some(pb::PageRequest { page_size: 1, page_token: page.next_page_token }),
    };
    let page = officer.list_open_appeals(second).await.expect("page").into_inner();
    assert_eq!(page.appeals.iter().map(|r| r.pupil.clone().unwrap_or_default().id).collect::<Vec<_>>(), [a]);

    let stats = officer.get_appeal_stats(pb::GetAppealStatsRequest::default()).await.expect("stats").into_inner();
    assert_eq!(stats.open, 2);
    let year = |y: i32| stats.years.iter().find(|s| s.year == y).cloned().unwrap_or_default();
    assert_eq!((year(2026).registered, year(2026).ended), (2, 2));
    let by_outcome: Vec<_> = year(2026).ended_by_outcome.iter().map(|c| (c.key.clone(), c.count)).collect();
    assert_eq!(by_outcome, [("upheld".to_owned(), 1), ("withdrawn".to_owned(), 1)]);
    assert_eq!(year(2025).registered, 1);
    let recent: Vec<_> = stats
        .recent_outcomes
        .iter()
        .map(|r| r.appeal.clone().unwrap_or_default().appeal.unwrap_or_default().outcome)
        .collect();
    assert_eq!(recent, [pb::AppealOutcome::Withdrawn as i32, pb::AppealOutcome::Upheld as i32], "newest first");
}

#[tokio::test]
async fn the_council_reads_appeals_over_json_and_on_its_pages_and_a_senco_does_not() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let officer = platform.token(Role::CaseOfficer, Some("886"), None);
    let http = reqwest::Client::new();
    let body = serde_json::json!({
        "appeal": { "ground": "APPEAL_GROUND_REFUSAL_TO_ASSESS", "decision_on": "2026-11-02",
                    "mediation_requested_on": "2026-11-16" },
        "idempotency_key": "json-1"
    });
    let response = http
        .post(format!("{}/api/v1/pupils/{pupil}/appeals", gateway.url()))
        .bearer_auth(&officer)
        .json(&body)
        .send()
        .await
        .expect("json");
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let stats: serde_json::Value = http
        .get(format!("{}/api/v1/appeal-stats", gateway.url()))
        .bearer_auth(&officer)
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("body");
    assert_eq!(stats["open"], 1, "{stats}");
    let senco = platform.token(Role::Senco, Some("886"), Some(100001));
    let refused = http.get(format!("{}/api/v1/pupils/{pupil}/appeals", gateway.url())).bearer_auth(&senco).send().await;
    assert_eq!(refused.expect("json").status(), 403);

    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let page = manager.get(format!("{}/appeals", gateway.url())).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("Musa Ali") && html.contains("In mediation") && html.contains("16 December 2026"), "{html}");
    let dashboard =
        manager.get(format!("{}/dashboard", gateway.url())).send().await.expect("page").text().await.expect("html");
    assert!(dashboard.contains("Open appeals to the Tribunal"), "the dashboard counts open appeals");
    let pupil_page = manager
        .get(format!("{}/pupils/{pupil}", gateway.url()))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(pupil_page.contains("Appeals to the Tribunal") && pupil_page.contains("Refusal to assess"));
    let school = gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let their_page =
        school.get(format!("{}/pupils/{pupil}", gateway.url())).send().await.expect("page").text().await.expect("html");
    assert!(!their_page.contains("Appeals to the Tribunal"), "a SENCO's pupil page shows no appeal");
    assert_eq!(school.get(format!("{}/appeals", gateway.url())).send().await.expect("page").status(), 403);
}
