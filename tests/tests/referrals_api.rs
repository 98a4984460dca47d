//! The referrals service over real gRPC, beside the schools and pupils services it
//! asks: consent and the pupil's own school, idempotent submission under
//! concurrency, the lifecycle and its timeline, who sees what, the statutory clock,
//! the council's overview, and live changes.

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::bad_fields;
use sen_tests::platform::{Options, ReferralsClient, TestPlatform};
use tokio_stream::StreamExt;
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

/// Schools 100001 and 100002 of 886, and one pupil at each; returns the pupils' ids.
async fn setup(platform: &TestPlatform) -> (i64, i64) {
    for (urn, estab) in [(100001, "2001"), (100002, "2002")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 200).await;
    }
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let mut ids = Vec::new();
    for (serial, urn) in [(1, 100001), (2, 100002)] {
        let upn = sen_pupils::domain::Upn::from_body(&format!("886200125{serial:03}")).expect("upn");
        let fields = pb::PupilFields {
            upn: upn.as_str().into(),
            legal_forename: "Musa".into(),
            legal_surname: "Ali".into(),
            date_of_birth: date(2017, 2, 2),
            school_urn: urn.to_string(),
            ..Default::default()
        };
        let request = pb::CreatePupilRequest {
            pupil: Some(fields),
            sen_status: pb::SenProvision::SenSupport as i32,
            primary_need_code: "SLCN".into(),
            ..Default::default()
        };
        ids.push(officer.create_pupil(request).await.expect("pupil").into_inner().id);
    }
    (ids[0], ids[1])
}

fn body(pupil: i64, urn: &str, kind: &str) -> pb::ReferralBody {
    pb::ReferralBody {
        pupil_id: pupil,
        school_urn: urn.into(),
        kind: kind.into(),
        broad_areas: vec!["communication_and_interaction".into()],
        concern: "Speech is hard to understand; frustration in class is rising".into(),
        graduated_approach: Some(pb::GraduatedApproach {
            summary: "Two cycles of small-group language work; visual supports".into(),
            ..Default::default()
        }),
        consent: Some(pb::ParentalConsent {
            given_by: "Mother, Amina Ali".into(),
            given_on: date(2026, 11, 10),
            method: "signed_form".into(),
        }),
        priority: "routine".into(),
    }
}

async fn submit(
    client: &mut ReferralsClient,
    body: pb::ReferralBody,
    key: &str,
) -> Result<pb::Referral, tonic::Status> {
    // These tests send one pupil several referrals of a kind on purpose (the
    // warning before a second open one is tested in `referral_documents.rs`).
    let request =
        pb::SubmitReferralRequest { referral: Some(body), idempotency_key: key.into(), confirm_duplicate: true };
    client.submit_referral(request).await.map(tonic::Response::into_inner)
}

async fn change(
    client: &mut ReferralsClient,
    r: &pb::Referral,
    event: pb::ReferralEvent,
    note: &str,
) -> Result<pb::Referral, tonic::Status> {
    let request =
        pb::ChangeReferralStatusRequest { id: r.id, version: r.version, event: event as i32, note: note.into() };
    client.change_referral_status(request).await.map(tonic::Response::into_inner)
}

async fn count(client: &mut ReferralsClient) -> usize {
    client.list_referrals(pb::ListReferralsRequest::default()).await.expect("listed").into_inner().referrals.len()
}

#[tokio::test]
async fn a_referral_needs_consent_and_the_pupils_own_school() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let (a, b) = setup(&platform).await;
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let mut no_consent = body(a, "100001", "educational_psychology");
    no_consent.consent = None;
    no_consent.broad_areas = vec![];
    let err = submit(&mut senco, no_consent, "k1").await.unwrap_err();
    assert_eq!(bad_fields(&err), ["referral.broad_areas", "referral.consent"]);
    assert!(err.message().contains("parental consent is required"), "{}", err.message());
    let mut stale = body(a, "100001", "educational_psychology");
    stale.consent =
        Some(pb::ParentalConsent { given_by: "Father".into(), given_on: date(2025, 1, 1), method: "fax".into() });
    assert_eq!(bad_fields(&submit(&mut senco, stale, "k2").await.unwrap_err()), ["referral.consent.method"]);
    let err = submit(&mut senco, body(b, "100002", "educational_psychology"), "k3").await.unwrap_err();
    assert_eq!(bad_fields(&err), ["referral.pupil_id"], "another school's pupil cannot be referred");
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let err = submit(&mut officer, body(b, "100001", "educational_psychology"), "k4").await.unwrap_err();
    assert_eq!(bad_fields(&err), ["referral.school_urn"], "the school must be the pupil's current school");
    let mut medway = platform.referrals(Role::CaseOfficer, Some("887"), None).await;
    assert_eq!(
        bad_fields(&submit(&mut medway, body(a, "100001", "educational_psychology"), "k5").await.unwrap_err()),
        ["referral.pupil_id"]
    );
    assert_eq!(count(&mut officer).await, 0, "nothing was written");
    let mut manager = platform.referrals(Role::LaManager, Some("886"), None).await;
    let denied = submit(&mut manager, body(a, "100001", "educational_psychology"), "k6").await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}

/// Each (body, key) submitted by the SENCO of 100001 at once, each on its own
/// connection; the answers in the order given.
async fn submit_at_once(
    platform: &TestPlatform,
    requests: Vec<(pb::ReferralBody, String)>,
) -> Vec<Result<pb::Referral, tonic::Status>> {
    let mut calls = Vec::new();
    for (body, key) in requests {
        let mut client = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
        calls.push(tokio::spawn(async move { submit(&mut client, body, &key).await }));
    }
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.expect("joined"));
    }
    answers
}

async fn many_parallel_submits_with_one_key_make_one_referral(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let (a, _) = setup(&platform).await;
    let retry = (body(a, "100001", "advisory_teacher:communication_and_interaction"), "retry-key-1".to_owned());
    let mut ids = Vec::new();
    for answer in submit_at_once(&platform, vec![retry; 12]).await {
        ids.push(answer.expect("every retry answers with the referral").id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    assert_eq!(count(&mut officer).await, 1);
    let timeline =
        officer.get_referral_timeline(pb::GetReferralTimelineRequest { id: ids[0] }).await.unwrap().into_inner();
    assert_eq!(timeline.entries.len(), 1, "one submission recorded");
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let other = submit(&mut senco, body(a, "100001", "educational_psychology"), "retry-key-1").await.unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists, "the same key with another body");
}

#[tokio::test]
async fn many_parallel_submits_with_one_key_make_one_referral_on_sqlite() {
    many_parallel_submits_with_one_key_make_one_referral(Engine::Sqlite).await;
}

#[tokio::test]
async fn many_parallel_submits_with_one_key_make_one_referral_on_postgres() {
    many_parallel_submits_with_one_key_make_one_referral(Engine::Postgres).await;
}

async fn only_one_of_many_ehc_requests_for_a_pupil_sent_at_once_is_accepted(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let (a, _) = setup(&platform).await;
    let requests = (0..8).map(|n| (body(a, "100001", "ehc_needs_assessment"), format!("ehc-{n}"))).collect();
    let (mut accepted, mut refused) = (Vec::new(), Vec::new());
    for answer in submit_at_once(&platform, requests).await {
        match answer {
            Ok(referral) => accepted.push(referral),
            Err(status) => refused.push(status),
        }
    }
    assert_eq!(accepted.len(), 1, "exactly one request is open: {refused:?}");
    let open = &accepted[0];
    let expected = format!("referral {} is an open EHC needs assessment request for this pupil", open.id);
    for status in &refused {
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert!(status.message().contains(&expected), "{}", status.message());
    }
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    assert_eq!(count(&mut officer).await, 1, "nothing else was written");
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    change(&mut senco, open, pb::ReferralEvent::Withdraw, "").await.unwrap();
    let next = submit(&mut senco, body(a, "100001", "ehc_needs_assessment"), "ehc-after").await.unwrap();
    assert_ne!(next.id, open.id, "once withdrawn, a new request is accepted");
}

sen_platform::on_both_engines!(only_one_of_many_ehc_requests_for_a_pupil_sent_at_once_is_accepted);

async fn the_lifecycle_allows_only_legal_moves_and_keeps_a_timeline(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let (a, _) = setup(&platform).await;
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let r = submit(&mut senco, body(a, "100001", "educational_psychology"), "k1").await.unwrap();
    assert_eq!(bad_fields(&change(&mut officer, &r, pb::ReferralEvent::Decline, " ").await.unwrap_err()), ["note"]);
    let r =
        change(&mut officer, &r, pb::ReferralEvent::Return, "Please add the speech therapist's report").await.unwrap();
    assert_eq!(r.status, pb::ReferralStatus::Returned as i32);
    let err = change(&mut officer, &r, pb::ReferralEvent::Accept, "").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("returned for more information"), "{}", err.message());
    let resubmit = pb::ResubmitReferralRequest {
        id: r.id,
        version: r.version,
        concern: "Speech is hard to understand; SaLT report attached".into(),
        graduated_approach: Some(pb::GraduatedApproach {
            summary: "As before, plus SaLT programme".into(),
            ..Default::default()
        }),
        note: "Report added".into(),
    };
    let r = senco.resubmit_referral(resubmit).await.unwrap().into_inner();
    let stale = change(&mut officer, &pb::Referral { version: 1, ..r.clone() }, pb::ReferralEvent::Accept, "")
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let r = change(&mut officer, &r, pb::ReferralEvent::Accept, "").await.unwrap();
    let mut caseloads = platform.referrals(Role::Service, Some("886"), None).await;
    let allocate = pb::MarkAllocatedRequest { id: r.id, professional: "ep-jones".into(), case_ref: "C-17".into() };
    let r = caseloads.mark_allocated(allocate).await.unwrap().into_inner();
    assert_eq!(r.allocated_to, "ep-jones");
    let withdraw = change(&mut senco, &r, pb::ReferralEvent::Withdraw, "").await.unwrap_err();
    assert_eq!(withdraw.code(), Code::FailedPrecondition, "no withdrawal after allocation");
    let ep_token = platform.token_for("ep-jones", Role::EducationalPsychologist, "886");
    let mut ep = platform.referrals_as(&ep_token).await;
    let r = change(&mut ep, &r, pb::ReferralEvent::Start, "").await.unwrap();
    let r = change(&mut ep, &r, pb::ReferralEvent::Close, "Advice given; school to run a new cycle").await.unwrap();
    assert_eq!(
        (r.status, r.outcome.as_str()),
        (pb::ReferralStatus::Closed as i32, "Advice given; school to run a new cycle")
    );
    let timeline = senco.get_referral_timeline(pb::GetReferralTimelineRequest { id: r.id }).await.unwrap().into_inner();
    use pb::ReferralStatus::*;
    let steps: Vec<(i32, i32, &str)> = timeline.entries.iter().map(|e| (e.from, e.to, e.by_role.as_str())).collect();
    assert_eq!(
        steps,
        [
            (Unspecified as i32, Submitted as i32, "senco"),
            (Submitted as i32, Returned as i32, "case_officer"),
            (Returned as i32, Submitted as i32, "senco"),
            (Submitted as i32, Accepted as i32, "case_officer"),
            (Accepted as i32, Allocated as i32, "service"),
            (Allocated as i32, InProgress as i32, "educational_psychologist"),
            (InProgress as i32, Closed as i32, "educational_psychologist"),
        ]
    );
    assert_eq!(timeline.entries[1].note, "Please add the speech therapist's report");
}

#[tokio::test]
async fn the_lifecycle_allows_only_legal_moves_and_keeps_a_timeline_on_sqlite() {
    the_lifecycle_allows_only_legal_moves_and_keeps_a_timeline(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_lifecycle_allows_only_legal_moves_and_keeps_a_timeline_on_postgres() {
    the_lifecycle_allows_only_legal_moves_and_keeps_a_timeline(Engine::Postgres).await;
}

#[tokio::test]
async fn each_role_sees_only_its_referrals() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let (a, b) = setup(&platform).await;
    let mut first = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let mut second = platform.referrals(Role::Senco, Some("886"), Some(100002)).await;
    let ra = submit(&mut first, body(a, "100001", "educational_psychology"), "a").await.unwrap();
    let rb = submit(&mut second, body(b, "100002", "educational_psychology"), "b").await.unwrap();
    assert_eq!(count(&mut first).await, 1);
    let other = first.get_referral(pb::GetReferralRequest { id: rb.id, as_of: None }).await.unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
    let mut medway = platform.referrals(Role::LaManager, Some("887"), None).await;
    assert_eq!(count(&mut medway).await, 0);
    let ep_token = platform.token_for("ep-jones", Role::EducationalPsychologist, "886");
    let mut ep = platform.referrals_as(&ep_token).await;
    assert_eq!(count(&mut ep).await, 0);
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    change(&mut officer, &ra, pb::ReferralEvent::Accept, "").await.unwrap();
    let mut caseloads = platform.referrals(Role::Service, Some("886"), None).await;
    caseloads
        .mark_allocated(pb::MarkAllocatedRequest { id: ra.id, professional: "ep-jones".into(), case_ref: "C-1".into() })
        .await
        .unwrap();
    let mine = ep.list_referrals(pb::ListReferralsRequest::default()).await.unwrap().into_inner().referrals;
    assert_eq!(mine.iter().map(|r| r.id).collect::<Vec<_>>(), [ra.id]);
    let accept_as_ep = change(&mut ep, &rb, pb::ReferralEvent::Accept, "").await.unwrap_err();
    assert_eq!(accept_as_ep.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn the_statutory_clock_runs_from_receipt_and_moves_with_each_decision() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let (a, _) = setup(&platform).await;
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let r = submit(&mut senco, body(a, "100001", "ehc_needs_assessment"), "ehc-1").await.unwrap();
    let clock = r.clock.clone().expect("a statutory request has a clock");
    assert_eq!(
        (clock.stage.as_str(), clock.decision_due, clock.final_plan_due),
        ("awaiting_assessment_decision", date(2027, 1, 5), date(2027, 4, 13))
    );
    assert_eq!((clock.days_left, clock.health.as_str()), (42, "on_track"));
    let at = |y, m, d| pb::GetReferralRequest { id: r.id, as_of: date(y, m, d) };
    let later = officer.get_referral(at(2026, 12, 25)).await.unwrap().into_inner().clock.unwrap_or_default();
    assert_eq!((later.days_left, later.health.as_str(), later.weeks_elapsed), (11, "at_risk", 4));
    let late = officer.get_referral(at(2027, 1, 6)).await.unwrap().into_inner().clock.unwrap_or_default();
    assert_eq!(late.health, "breached");
    let report = officer
        .get_statutory_clock_report(pb::GetStatutoryClockReportRequest {
            as_of: date(2027, 1, 6),
            year: 2026,
            figures_only: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((report.open.len(), report.breached, report.at_risk), (1, 1, 0));
    assert_eq!(report.open_count, 1, "the count the overview keeps when it leaves the list out");
    let listed = officer
        .list_referrals(pb::ListReferralsRequest { overdue: true, as_of: date(2027, 1, 6), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(listed.into_inner().referrals.len(), 1);

    let early_plan = pb::RecordFinalPlanIssuedRequest { id: r.id, issued_on: date(2026, 11, 24), version: None };
    assert_eq!(officer.record_final_plan_issued(early_plan).await.unwrap_err().code(), Code::FailedPrecondition);
    let assess = pb::RecordAssessmentDecisionRequest {
        id: r.id,
        decision: "assess".into(),
        decided_on: date(2026, 11, 24),
        version: None,
    };
    let r = officer.record_assessment_decision(assess).await.unwrap().into_inner();
    let clock = r.clock.unwrap_or_default();
    assert_eq!((clock.stage.as_str(), clock.next_deadline_on), ("assessing", date(2027, 3, 16)));
    let issue = pb::RecordPlanDecisionRequest {
        id: r.id,
        decision: "issue".into(),
        decided_on: date(2026, 11, 24),
        version: None,
    };
    officer.record_plan_decision(issue).await.unwrap();
    let r = officer.record_final_plan_issued(early_plan).await.unwrap().into_inner();
    assert_eq!(r.clock.unwrap_or_default().stage, "plan_issued");
    let report = officer
        .get_statutory_clock_report(pb::GetStatutoryClockReportRequest { as_of: None, year: 2026, figures_only: false })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((report.open.len(), report.plans_issued, report.issued_within_20_weeks), (0, 1, 1));
    assert_eq!(report.percent_within_20_weeks, Some(100.0));
    let not_ehc = submit(&mut senco, body(a, "100001", "educational_psychology"), "ep-1").await.unwrap();
    assert!(not_ehc.clock.is_none());
    let decide = pb::RecordAssessmentDecisionRequest {
        id: not_ehc.id,
        decision: "assess".into(),
        decided_on: date(2026, 11, 24),
        version: None,
    };
    assert_eq!(officer.record_assessment_decision(decide).await.unwrap_err().code(), Code::FailedPrecondition);
}

/// Takes an EHC needs assessment request through both decisions to its final
/// plan, all on the test platform's today.
async fn issue_plan(officer: &mut ReferralsClient, id: i64) {
    let on = date(2026, 11, 24);
    let assess = pb::RecordAssessmentDecisionRequest { id, decision: "assess".into(), decided_on: on, version: None };
    officer.record_assessment_decision(assess).await.expect("assessing");
    let issue = pb::RecordPlanDecisionRequest { id, decision: "issue".into(), decided_on: on, version: None };
    officer.record_plan_decision(issue).await.expect("to issue");
    officer
        .record_final_plan_issued(pb::RecordFinalPlanIssuedRequest { id, issued_on: on, version: None })
        .await
        .expect("issued");
}

fn by_status(stats: &pb::ReferralStats) -> Vec<(pb::ReferralStatus, u32)> {
    stats
        .by_status
        .iter()
        .map(|c| (pb::ReferralStatus::try_from(c.status).unwrap_or(pb::ReferralStatus::Unspecified), c.count))
        .collect()
}

fn kinds(month: &pb::ReferralMonth) -> Vec<(&str, u32)> {
    month.submitted.iter().map(|k| (k.kind.as_str(), k.count)).collect()
}

async fn the_overview_counts_what_was_submitted_in_the_callers_authority_only(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let (a, b) = setup(&platform).await;
    let mut first = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let mut second = platform.referrals(Role::Senco, Some("886"), Some(100002)).await;
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    submit(&mut first, body(a, "100001", "educational_psychology"), "s1").await.unwrap();
    let hearing = submit(&mut first, body(a, "100001", "advisory_teacher:sensory_hearing"), "s2").await.unwrap();
    let ehc = submit(&mut first, body(a, "100001", "ehc_needs_assessment"), "s3").await.unwrap();
    submit(&mut second, body(b, "100002", "educational_psychology"), "s4").await.unwrap();
    let excepted = submit(&mut second, body(b, "100002", "ehc_needs_assessment"), "s5").await.unwrap();
    change(&mut officer, &hearing, pb::ReferralEvent::Decline, "No hearing loss recorded").await.unwrap();
    issue_plan(&mut officer, ehc.id).await;
    let exception = pb::RecordClockExceptionRequest {
        id: excepted.id,
        exception: "personal_circumstances".into(),
        ..Default::default()
    };
    officer.record_clock_exception(exception).await.unwrap();
    issue_plan(&mut officer, excepted.id).await;

    let mut manager = platform.referrals(Role::LaManager, Some("886"), None).await;
    let stats = manager.get_referral_stats(pb::GetReferralStatsRequest::default()).await.unwrap().into_inner();
    use pb::ReferralStatus::*;
    assert_eq!(
        by_status(&stats),
        [
            (Submitted, 4),
            (Accepted, 0),
            (Returned, 0),
            (Declined, 1),
            (Allocated, 0),
            (InProgress, 0),
            (Closed, 0),
            (Withdrawn, 0)
        ],
        "every status, those with none included"
    );
    assert_eq!(stats.months.len(), 12, "a year unless asked");
    assert_eq!((stats.months[0].month, stats.months[11].month), (date(2025, 12, 1), date(2026, 11, 1)));
    let november = &stats.months[11];
    assert_eq!(
        kinds(november),
        [("advisory_teacher:sensory_hearing", 1), ("educational_psychology", 2), ("ehc_needs_assessment", 2)]
    );
    assert_eq!(
        (november.plans_issued, november.issued_within_20_weeks),
        (1, 1),
        "the exception case is left out of both"
    );
    assert!(stats.months[..11].iter().all(|m| m.submitted.is_empty() && m.plans_issued == 0));
    let report = manager
        .get_statutory_clock_report(pb::GetStatutoryClockReportRequest { as_of: None, year: 2026, figures_only: false })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (report.plans_issued, report.issued_within_20_weeks),
        (november.plans_issued, november.issued_within_20_weeks),
        "the months agree with the SEN2 figure"
    );

    let later = pb::GetReferralStatsRequest { as_of: date(2027, 1, 15), months: 3 };
    let later = officer.get_referral_stats(later).await.unwrap().into_inner();
    let months: Vec<_> = later.months.iter().map(|m| (m.month, m.submitted.len())).collect();
    assert_eq!(months, [(date(2026, 11, 1), 3), (date(2026, 12, 1), 0), (date(2027, 1, 1), 0)]);
    let too_long = officer.get_referral_stats(pb::GetReferralStatsRequest { as_of: None, months: 37 }).await;
    assert_eq!(bad_fields(&too_long.unwrap_err()), ["months"]);

    let mut medway = platform.referrals(Role::LaManager, Some("887"), None).await;
    let theirs = medway.get_referral_stats(pb::GetReferralStatsRequest::default()).await.unwrap().into_inner();
    assert!(by_status(&theirs).iter().all(|(_, n)| *n == 0), "another authority sees none of 886's");
    assert!(theirs.months.iter().all(|m| m.submitted.is_empty() && m.plans_issued == 0));
    let refused = first.get_referral_stats(pb::GetReferralStatsRequest::default()).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "a SENCO does not see the authority's figures");
}

#[tokio::test]
async fn the_overview_counts_what_was_submitted_in_the_callers_authority_only_on_sqlite() {
    the_overview_counts_what_was_submitted_in_the_callers_authority_only(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_overview_counts_what_was_submitted_in_the_callers_authority_only_on_postgres() {
    the_overview_counts_what_was_submitted_in_the_callers_authority_only(Engine::Postgres).await;
}

#[tokio::test]
async fn watchers_get_each_change_in_order_and_only_within_their_scope() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let (a, b) = setup(&platform).await;
    let mut manager = platform.referrals(Role::LaManager, Some("886"), None).await;
    let mut other_school = platform.referrals(Role::Senco, Some("886"), Some(100002)).await;
    let mut medway = platform.referrals(Role::LaManager, Some("887"), None).await;
    let mut all = manager.watch_referrals(pb::WatchReferralsRequest::default()).await.unwrap().into_inner();
    let mut theirs = other_school.watch_referrals(pb::WatchReferralsRequest::default()).await.unwrap().into_inner();
    let mut elsewhere = medway.watch_referrals(pb::WatchReferralsRequest::default()).await.unwrap().into_inner();

    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let r = submit(&mut senco, body(a, "100001", "educational_psychology"), "w1").await.unwrap();
    change(&mut officer, &r, pb::ReferralEvent::Accept, "").await.unwrap();
    let own = submit(&mut other_school, body(b, "100002", "educational_psychology"), "w2").await.unwrap();

    let next = |s: Option<Result<pb::ReferralChange, tonic::Status>>| {
        let change = s.expect("stream open").expect("change");
        (change.referral.map_or(0, |r| r.id), change.change.map_or(0, |c| c.to))
    };
    use pb::ReferralStatus::*;
    assert_eq!(next(all.next().await), (r.id, Submitted as i32));
    assert_eq!(next(all.next().await), (r.id, Accepted as i32));
    assert_eq!(next(all.next().await), (own.id, Submitted as i32));
    assert_eq!(next(theirs.next().await), (own.id, Submitted as i32), "the other school saw nothing before its own");
    // Medway's watcher got nothing from 886: its first change is its own authority's.
    let medway_pupil = medway_pupil(&platform).await;
    let mut medway_officer = platform.referrals(Role::CaseOfficer, Some("887"), None).await;
    let theirs_only =
        submit(&mut medway_officer, body(medway_pupil, "200001", "educational_psychology"), "m1").await.unwrap();
    assert_eq!(next(elsewhere.next().await), (theirs_only.id, Submitted as i32));
}

/// A school and a pupil of authority 887.
async fn medway_pupil(platform: &TestPlatform) -> i64 {
    let fields = pb::SchoolFields {
        laestab: "8872001".into(),
        name: "Medway School".into(),
        establishment_type_code: 1,
        phase: pb::Phase::Primary as i32,
        status: pb::EstablishmentStatus::Open as i32,
        ..Default::default()
    };
    let request = pb::CreateSchoolRequest { urn: "200001".into(), school: Some(fields) };
    platform.manager("887").await.create_school(request).await.expect("school");
    let upn = sen_pupils::domain::Upn::from_body("887200125001").expect("upn");
    let pupil = pb::PupilFields {
        upn: upn.as_str().into(),
        legal_forename: "Ivy".into(),
        legal_surname: "Green".into(),
        date_of_birth: date(2017, 5, 5),
        school_urn: "200001".into(),
        ..Default::default()
    };
    let request = pb::CreatePupilRequest { pupil: Some(pupil), sen_status: 1, ..Default::default() };
    let mut officer = platform.pupils(Role::CaseOfficer, Some("887"), None).await;
    officer.create_pupil(request).await.expect("pupil").into_inner().id
}

#[tokio::test]
async fn a_watcher_that_does_not_read_does_not_hold_up_writers() {
    let options = Options { watch_buffer: Some(4), ..Default::default() };
    let platform = TestPlatform::start_with(Engine::Sqlite, options).await.unwrap();
    let (a, _) = setup(&platform).await;
    let mut manager = platform.referrals(Role::LaManager, Some("886"), None).await;
    let mut stalled = manager.watch_referrals(pb::WatchReferralsRequest::default()).await.unwrap().into_inner();
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    for n in 0..12 {
        submit(&mut senco, body(a, "100001", "educational_psychology"), &format!("burst-{n}"))
            .await
            .expect("writers never wait");
    }
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    assert_eq!(count(&mut officer).await, 12);
    // Every change arrives, in order: had the watcher fallen further behind the
    // broadcast it would have caught up from the outbox (the feed's own tests).
    let mut previous = 0;
    while let Some(Ok(change)) = stalled.next().await {
        let id = change.referral.map_or(0, |r| r.id);
        assert!(id > previous, "in order");
        previous = id;
        if previous == 12 {
            break;
        }
    }
    assert_eq!(previous, 12);
}

#[tokio::test]
async fn only_the_pupils_own_cycles_and_provision_can_be_cited() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let (a, _) = setup(&platform).await;
    let mut pupils = platform.pupils(Role::Senco, Some("886"), Some(100001)).await;
    let cycle = pb::AddSupportCycleRequest {
        pupil_id: a,
        started_on: date(2026, 9, 8),
        outcomes_sought: "Clearer speech in class".into(),
        planned_provision: "Daily language group".into(),
        review_due: date(2026, 12, 8),
    };
    let cycle = pupils.add_support_cycle(cycle).await.unwrap().into_inner();
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    let mut cited = body(a, "100001", "educational_psychology");
    cited.graduated_approach = Some(pb::GraduatedApproach {
        summary: "Language group".into(),
        support_cycle_ids: vec![cycle.id, 999],
        provision_ids: vec![],
    });
    let err = submit(&mut senco, cited.clone(), "c1").await.unwrap_err();
    assert_eq!(bad_fields(&err), ["referral.graduated_approach.support_cycle_ids"]);
    cited.graduated_approach = Some(pb::GraduatedApproach {
        summary: "Language group".into(),
        support_cycle_ids: vec![cycle.id],
        provision_ids: vec![],
    });
    let referral = submit(&mut senco, cited, "c2").await.unwrap();
    let tried = referral.body.and_then(|b| b.graduated_approach).unwrap_or_default();
    assert_eq!(tried.support_cycle_ids, [cycle.id]);
}
