//! Issuing a final EHC plan changes the SEN register, across the referrals and
//! pupils services, all or nothing in the end: the pupil on SEN support moves to
//! E on the issue day with their EHCP opened from it, exactly once, whoever
//! finishes the step (the request itself, or the background task after the
//! pupils service did not answer); a decision not to issue changes nothing.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, TimeDelta, Utc};
use sen_platform::identity::{Identity, Role, ServiceIdentity};
use sen_platform::ids::LaCode;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::referrals_service_server::ReferralsService;
use sen_referrals::plan_issue::{PassReport, PlanIssue};
use sen_referrals::pupils::Pupils;
use sen_tests::platform::{ReferralsClient, TestPlatform};
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

/// The test platform's today, when every step is taken.
const ON: (i32, i32, i32) = (2026, 11, 24);

fn on() -> Option<pb::Date> {
    date(ON.0, ON.1, ON.2)
}

/// A school of 886 and `count` pupils on SEN support there.
async fn pupils_on_support(platform: &TestPlatform, count: u32) -> Vec<i64> {
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let mut ids = Vec::new();
    for serial in 1..=count {
        ids.push(platform.pupil_on_support("886", serial, 100001, ("Ada", "Lovelace")).await);
    }
    ids
}

/// An EHC needs assessment request for `pupil`, accepted, through the decision
/// to assess and the decision on a plan (`issue` or `not_issue`).
async fn request_decided(platform: &TestPlatform, pupil: i64, key: &str, plan: &str) -> (i64, ReferralsClient) {
    let id = platform.accepted_referral_886(pupil, "ehc_needs_assessment", key).await;
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let assess =
        pb::RecordAssessmentDecisionRequest { id, decision: "assess".into(), decided_on: on(), ..Default::default() };
    officer.record_assessment_decision(assess).await.expect("assessing");
    let decide = pb::RecordPlanDecisionRequest { id, decision: plan.into(), decided_on: on(), ..Default::default() };
    officer.record_plan_decision(decide).await.expect("decided");
    (id, officer)
}

fn final_plan(id: i64) -> pb::RecordFinalPlanIssuedRequest {
    pb::RecordFinalPlanIssuedRequest { id, issued_on: on(), ..Default::default() }
}

async fn pupil(platform: &TestPlatform, id: i64) -> pb::Pupil {
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    officer.get_pupil(pb::GetPupilRequest { id }).await.expect("the pupil").into_inner()
}

/// The pupil's history entries that a final plan wrote.
async fn plan_entries(platform: &TestPlatform, id: i64) -> Vec<pb::HistoryEntry> {
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let history = officer.list_pupil_history(pb::ListPupilHistoryRequest { pupil_id: id }).await.expect("history");
    history.into_inner().entries.into_iter().filter(|e| e.reason.contains("final EHC plan issued")).collect()
}

async fn plan_of(platform: &TestPlatform, id: i64) -> Result<pb::Ehcp, tonic::Status> {
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    officer.get_ehcp(pb::GetEhcpRequest { pupil_id: id, as_of: None }).await.map(tonic::Response::into_inner)
}

fn state(referral: &pb::Referral) -> &str {
    referral.register_change.as_ref().map_or("", |change| change.state.as_str())
}

fn issue_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(ON.0, ON.1 as u32, ON.2 as u32).unwrap()
}

async fn a_final_plan_moves_the_pupil_from_sen_support_to_e_with_their_plan(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let pupils = pupils_on_support(&platform, 1).await;
    let (id, mut officer) = request_decided(&platform, pupils[0], "ehc-1", "issue").await;

    let issued = officer.record_final_plan_issued(final_plan(id)).await.expect("issued").into_inner();
    assert_eq!(state(&issued), "done", "the caller sees the register changed: {:?}", issued.register_change);
    let now = pupil(&platform, pupils[0]).await;
    assert_eq!(now.sen_status, pb::SenProvision::EhcPlan as i32);
    assert_eq!(now.primary_need_code, "SLCN", "their recorded need is kept");
    let entries = plan_entries(&platform, pupils[0]).await;
    assert_eq!(entries.len(), 1, "one history entry");
    assert_eq!(entries[0].effective_on, on(), "dated the day the plan was issued");
    assert!(entries[0].reason.contains(&format!("EHC needs assessment request {id}")), "{}", entries[0].reason);
    assert_eq!(
        (entries[0].changed_by.as_str(), entries[0].changed_by_role.as_str()),
        ("test-case_officer", "case_officer"),
        "the history names who issued the plan, not the service in the middle"
    );
    let plan = plan_of(&platform, pupils[0]).await.expect("their EHCP");
    assert_eq!(plan.issued_on, on());
    let review = sen_pupils::domain::next_review_due(issue_day());
    assert_eq!(plan.next_review_due, date(review.year(), review.month() as i32, review.day() as i32));
    assert_eq!(plan.named_setting, "School 2001", "the school the pupil attends");

    // The request's own page says so, and its timeline.
    let read = officer.get_referral(pb::GetReferralRequest { id, as_of: None }).await.unwrap().into_inner();
    assert_eq!(state(&read), "done");
    let timeline = officer.get_referral_timeline(pb::GetReferralTimelineRequest { id }).await.unwrap().into_inner();
    assert!(timeline.entries.iter().any(|e| e.note.starts_with("SEN register updated")), "{:?}", timeline.entries);
    platform.stop().await.unwrap();
}

#[tokio::test]
async fn a_final_plan_moves_the_pupil_from_sen_support_to_e_with_their_plan_on_sqlite() {
    a_final_plan_moves_the_pupil_from_sen_support_to_e_with_their_plan(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_final_plan_moves_the_pupil_from_sen_support_to_e_with_their_plan_on_postgres() {
    a_final_plan_moves_the_pupil_from_sen_support_to_e_with_their_plan(Engine::Postgres).await;
}

#[tokio::test]
async fn a_decision_not_to_issue_leaves_the_pupil_on_sen_support() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let pupils = pupils_on_support(&platform, 1).await;
    let (id, mut officer) = request_decided(&platform, pupils[0], "ehc-1", "not_issue").await;
    assert_eq!(pupil(&platform, pupils[0]).await.sen_status, pb::SenProvision::SenSupport as i32);
    assert!(plan_entries(&platform, pupils[0]).await.is_empty());
    assert_eq!(plan_of(&platform, pupils[0]).await.unwrap_err().code(), Code::NotFound, "no EHCP");
    let read = officer.get_referral(pb::GetReferralRequest { id, as_of: None }).await.unwrap().into_inner();
    assert_eq!(read.register_change, None, "no register change to make");
    // Nor can a plan be issued after a decision not to.
    assert_eq!(officer.record_final_plan_issued(final_plan(id)).await.unwrap_err().code(), Code::FailedPrecondition);
    assert_eq!(pupil(&platform, pupils[0]).await.sen_status, pb::SenProvision::SenSupport as i32);
    platform.stop().await.unwrap();
}

#[tokio::test]
async fn a_pupil_already_on_e_keeps_their_plan_and_gets_no_second_one() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let pupils = pupils_on_support(&platform, 1).await;
    let before = pupil(&platform, pupils[0]).await;
    let mut register = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let to_e = pb::ChangeSenStatusRequest {
        pupil_id: pupils[0],
        version: before.version,
        sen_status: pb::SenProvision::EhcPlan as i32,
        primary_need_code: "SLCN".into(),
        effective_on: date(2026, 9, 1),
        reason: "plan issued by the previous authority".into(),
        ehcp: Some(pb::EhcpFields { issued_on: date(2026, 9, 1), named_setting: "School 2001".into() }),
        ..Default::default()
    };
    register.change_sen_status(to_e).await.expect("on E");
    let (id, mut officer) = request_decided(&platform, pupils[0], "ehc-1", "issue").await;
    let issued = officer.record_final_plan_issued(final_plan(id)).await.expect("issued").into_inner();
    assert_eq!(state(&issued), "already_on_plan");
    assert!(plan_entries(&platform, pupils[0]).await.is_empty(), "no second history entry");
    assert_eq!(plan_of(&platform, pupils[0]).await.unwrap().issued_on, date(2026, 9, 1), "their plan is as it was");
    platform.stop().await.unwrap();
}

#[tokio::test]
async fn only_the_referrals_service_of_the_pupils_authority_records_a_plan_on_the_register() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let pupils = pupils_on_support(&platform, 1).await;
    let (id, _) = request_decided(&platform, pupils[0], "ehc-1", "issue").await;
    let register = pb::RegisterFinalPlanRequest { pupil_id: pupils[0], referral_id: id, issued_on: on() };
    // No person may call the register's side directly, whatever their role.
    for role in [Role::LaManager, Role::CaseOfficer] {
        let mut person = platform.pupils(role, Some("886"), None).await;
        let refused = person.register_final_plan(register).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{role}");
    }
    let mut senco = platform.pupils(Role::Senco, Some("886"), Some(100001)).await;
    assert_eq!(senco.register_final_plan(register).await.unwrap_err().code(), Code::PermissionDenied);
    // Another authority's service token finds no such pupil.
    let service = ServiceIdentity::new(platform.issuer.signer.clone(), sen_referrals::PART);
    let medway = service.token(LaCode::parse("887").unwrap()).unwrap();
    let refused = platform.pupils_as(&medway).await.register_final_plan(register).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    // A SENCO may not record a plan, nor an officer of another authority.
    let mut school = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    assert_eq!(school.record_final_plan_issued(final_plan(id)).await.unwrap_err().code(), Code::PermissionDenied);
    let mut other = platform.referrals(Role::CaseOfficer, Some("887"), None).await;
    assert_eq!(other.record_final_plan_issued(final_plan(id)).await.unwrap_err().code(), Code::NotFound);
    assert_eq!(pupil(&platform, pupils[0]).await.sen_status, pb::SenProvision::SenSupport as i32, "nothing changed");
    assert!(plan_entries(&platform, pupils[0]).await.is_empty());
    // Bad input names its fields and writes nothing.
    let bad = pb::RegisterFinalPlanRequest { pupil_id: 0, referral_id: 0, issued_on: None };
    let kent = service.token(LaCode::parse("886").unwrap()).unwrap();
    let refused = platform.pupils_as(&kent).await.register_final_plan(bad).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    for field in ["pupil_id", "referral_id", "issued_on"] {
        assert!(refused.message().contains(field) || format!("{refused:?}").contains(field), "{field}: {refused:?}");
    }
    platform.stop().await.unwrap();
}

/// The referrals service as a second replica would run it, with the pupils
/// service at a dead address: its calls are refused at the door.
fn referrals_without_pupils(platform: &TestPlatform) -> sen_referrals::ReferralsApi {
    let dead = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
    let pupils = Pupils::new(dead).acting_as(ServiceIdentity::new(platform.issuer.signer.clone(), sen_referrals::PART));
    sen_referrals::ReferralsApi::with_clock(
        platform.referrals_store.clone(),
        pupils,
        Arc::new(sen_tests::platform::today),
    )
}

/// The background task of a replica whose pupils service answers.
fn background(platform: &TestPlatform) -> PlanIssue {
    let alive = tonic::transport::Endpoint::from_shared(format!("http://{}", platform.addr)).unwrap().connect_lazy();
    let pupils =
        Pupils::new(alive).acting_as(ServiceIdentity::new(platform.issuer.signer.clone(), sen_referrals::PART));
    PlanIssue::new(platform.referrals_store.clone(), pupils)
}

/// Records the final plan through `api`, as the case officer, within 886's wall.
async fn issue_through(platform: &TestPlatform, api: &sen_referrals::ReferralsApi, id: i64) -> pb::Referral {
    let token = platform.token(Role::CaseOfficer, Some("886"), None);
    let identity: Identity = platform.issuer.verifier.verify(&token).unwrap();
    let mut request = tonic::Request::new(final_plan(id));
    request.extensions_mut().insert(identity);
    let answer = sen_platform::walls::within_tenant("886", api.record_final_plan_issued(request)).await;
    answer.expect("the plan is recorded whatever the pupils service does").into_inner()
}

async fn a_step_cut_off_by_the_pupils_service_is_finished_once_by_the_background_task(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let pupils = pupils_on_support(&platform, 2).await;
    let broken = referrals_without_pupils(&platform);

    // The pupils service refuses the connection: the plan is recorded, and its
    // register change is pending, said to the caller, the pupil still on K.
    let (first, mut officer) = request_decided(&platform, pupils[0], "ehc-1", "issue").await;
    let answer = issue_through(&platform, &broken, first).await;
    assert_eq!(state(&answer), "pending", "{:?}", answer.register_change);
    assert!(!answer.register_change.as_ref().unwrap().note.is_empty(), "the failure is noted");
    assert_eq!(answer.clock.unwrap_or_default().stage, "plan_issued");
    assert_eq!(pupil(&platform, pupils[0]).await.sen_status, pb::SenProvision::SenSupport as i32);

    // The call reached the pupils service and was recorded there, but its answer
    // was lost on the way back (the link dropped): the same call, landed.
    let (second, _) = request_decided(&platform, pupils[1], "ehc-2", "issue").await;
    assert_eq!(state(&issue_through(&platform, &broken, second).await), "pending");
    let service = ServiceIdentity::new(platform.issuer.signer.clone(), sen_referrals::PART);
    let kent = service.token(LaCode::parse("886").unwrap()).unwrap();
    let landed = pb::RegisterFinalPlanRequest { pupil_id: pupils[1], referral_id: second, issued_on: on() };
    let recorded = platform.pupils_as(&kent).await.register_final_plan(landed).await.unwrap().into_inner();
    assert_eq!((recorded.outcome.as_str(), recorded.recorded_now), ("moved_to_e", true));

    // Nobody retries. The background task leaves the request's own attempt its
    // claim, then finishes both once the claim has run out, on whatever replica.
    let task = background(&platform);
    assert_eq!(task.pass(Utc::now()).await.unwrap(), PassReport::default(), "still the request's own");
    let later = Utc::now() + TimeDelta::minutes(2);
    assert_eq!(task.pass(later).await.unwrap(), PassReport { finished: 2, left_pending: 0 });
    for (pupil_id, referral) in [(pupils[0], first), (pupils[1], second)] {
        assert_eq!(pupil(&platform, pupil_id).await.sen_status, pb::SenProvision::EhcPlan as i32);
        assert_eq!(plan_entries(&platform, pupil_id).await.len(), 1, "E exactly once");
        assert_eq!(plan_of(&platform, pupil_id).await.unwrap().issued_on, on());
        let read = officer.get_referral(pb::GetReferralRequest { id: referral, as_of: None }).await.unwrap();
        assert_eq!(state(&read.into_inner()), "done");
    }
    // A second pass, on this replica or another, finds nothing left to do.
    assert_eq!(task.pass(later + TimeDelta::minutes(2)).await.unwrap(), PassReport::default());
    assert_eq!(background(&platform).pass(later + TimeDelta::minutes(4)).await.unwrap(), PassReport::default());
    // The background task acted as the service itself: the one entry each pupil
    // has is the one written when the call landed, here the service's.
    let entries = plan_entries(&platform, pupils[0]).await;
    assert_eq!(entries[0].changed_by_role, "service");
    platform.stop().await.unwrap();
}

#[tokio::test]
async fn a_step_cut_off_by_the_pupils_service_is_finished_once_by_the_background_task_on_sqlite() {
    a_step_cut_off_by_the_pupils_service_is_finished_once_by_the_background_task(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_step_cut_off_by_the_pupils_service_is_finished_once_by_the_background_task_on_postgres() {
    a_step_cut_off_by_the_pupils_service_is_finished_once_by_the_background_task(Engine::Postgres).await;
}

#[tokio::test]
async fn a_pending_change_goes_with_a_pupil_erased_at_the_end_of_retention() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let pupils = pupils_on_support(&platform, 1).await;
    let broken = referrals_without_pupils(&platform);
    let (id, mut officer) = request_decided(&platform, pupils[0], "ehc-1", "issue").await;
    assert_eq!(state(&issue_through(&platform, &broken, id).await), "pending");
    // The retention pass asks the referrals service to forget the pupil (as the
    // caseloads service does): the request goes, and its pending change with it,
    // so nothing is left retrying for a pupil who is gone.
    let caseloads = ServiceIdentity::new(platform.issuer.signer.clone(), "caseloads");
    let kent = caseloads.token(LaCode::parse("886").unwrap()).unwrap();
    let forget = pb::ForgetPupilRequest { pupil_id: pupils[0] };
    platform.referrals_as(&kent).await.forget_pupil(forget).await.expect("forgotten");
    assert_eq!(background(&platform).pass(Utc::now() + TimeDelta::minutes(2)).await.unwrap(), PassReport::default());
    let gone = officer.get_referral(pb::GetReferralRequest { id, as_of: None }).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound, "the request went with the pupil");
    assert!(plan_entries(&platform, pupils[0]).await.is_empty(), "and the register was not changed");
    platform.stop().await.unwrap();
}

#[tokio::test]
async fn the_requests_page_says_the_register_was_updated() {
    use sen_tests::gateway::{GatewayOptions, TestGateway};
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let pupils = pupils_on_support(&platform, 1).await;
    let (id, mut officer) = request_decided(&platform, pupils[0], "ehc-1", "issue").await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let client = gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    let page = |client: &reqwest::Client| {
        let url = format!("{}/referrals/{id}", gateway.url());
        let client = client.clone();
        async move { client.get(url).send().await.expect("answer").text().await.unwrap_or_default() }
    };
    assert!(!page(&client).await.contains("SEN register"), "nothing to say before the plan is issued");
    officer.record_final_plan_issued(final_plan(id)).await.expect("issued");
    let shown = page(&client).await;
    assert!(shown.contains("SEN register") && shown.contains("Register updated"), "{shown}");
    assert!(shown.contains(&format!("/pupils/{}", pupils[0])), "it links to the pupil's page");
    // The JSON API carries the same, in the referral's own shape.
    let json = reqwest::Client::new()
        .get(format!("{}/api/v1/referrals/{id}", gateway.url()))
        .bearer_auth(platform.token(Role::CaseOfficer, Some("886"), None))
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .unwrap_or_default();
    assert!(json.contains("\"register_change\"") && json.contains("\"done\""), "{json}");
    platform.stop().await.unwrap();
}

/// The demo data's plans are loaded, not recorded step by step: each issued one
/// leaves its register change to the background task, which makes the pupil E
/// on its first pass, so a request whose final plan was issued shows its pupil
/// with a plan.
#[tokio::test]
async fn a_loaded_request_whose_plan_was_issued_shows_its_pupil_on_e() {
    use sen_referrals::domain::{
        AssessmentDecision, BroadArea, ClockDates, Consent, ConsentMethod, NewReferral, PlanDecision, Priority,
        ReferralKind, Status, Tried,
    };
    use sen_referrals::store::SeedReferral;
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let pupils = pupils_on_support(&platform, 1).await;
    let received = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let issued = NaiveDate::from_ymd_opt(2026, 7, 13).unwrap();
    let seed = SeedReferral {
        new: NewReferral {
            pupil_id: pupils[0],
            school: sen_platform::ids::Urn::parse("100001").unwrap(),
            kind: ReferralKind::EhcNeedsAssessment,
            broad_areas: vec![BroadArea::CommunicationAndInteraction],
            concern: "Very limited expressive language".into(),
            tried: Tried { summary: "Two cycles of language work".into(), cycles: vec![], provisions: vec![] },
            consent: Consent::new("Mother", received, ConsentMethod::SignedForm, received).unwrap(),
            priority: Priority::Routine,
        },
        submitted_on: received,
        path: vec![(Status::Accepted, received, "case_officer")],
        allocated_to: None,
        outcome: None,
        clock: Some(ClockDates {
            received_on: received,
            assessment_decision: Some((AssessmentDecision::Assess, received + chrono::Days::new(30))),
            plan_decision: Some((PlanDecision::Issue, received + chrono::Days::new(100))),
            final_plan_issued_on: Some(issued),
            exception: None,
        }),
    };
    let token = platform.token(Role::Service, Some("886"), None);
    let loader = platform.issuer.verifier.verify(&token).unwrap().tenant_scope().unwrap();
    let seeds = [seed];
    let load = platform.referrals_store.load_referrals(&loader, "demo-loader", &seeds);
    sen_platform::walls::within_tenant("886", load).await.expect("loaded");
    // Nobody holds it: the first pass, at once, finishes it.
    assert_eq!(background(&platform).pass(Utc::now()).await.unwrap(), PassReport { finished: 1, left_pending: 0 });
    let now = pupil(&platform, pupils[0]).await;
    assert_eq!(now.sen_status, pb::SenProvision::EhcPlan as i32);
    let entries = plan_entries(&platform, pupils[0]).await;
    assert_eq!((entries.len(), entries[0].effective_on), (1, date(2026, 7, 13)), "dated the plan's issue");
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let listed = officer.list_referrals(pb::ListReferralsRequest::default()).await.unwrap().into_inner();
    let read = officer.get_referral(pb::GetReferralRequest { id: listed.referrals[0].id, as_of: None }).await;
    assert_eq!(state(&read.unwrap().into_inner()), "done");
    platform.stop().await.unwrap();
}
