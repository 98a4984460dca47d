//! The caseloads service over real gRPC, with the schools, pupils and referrals
//! services beside it: professionals and suggestions, allocation across services
//! (all or nothing, under parallel calls and failures), the reconciler finishing
//! allocations nobody came back for, caseloads, reading one case, reassignment,
//! closure and the time-allocation model.

use std::sync::Arc;

use sen_caseloads::metrics::Metrics;
use sen_caseloads::reconcile::{PENDING_BOUND, PassReport, Reconciler};
use sen_platform::identity::{Identity, Role, ServiceIdentity};
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::caseloads_service_server::CaseloadsService;
use sen_tests::platform::{CaseloadsClient, TestPlatform};
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

/// Schools 100001 (roll 200) and 100002 (roll 300) of 886, and `pupils` pupils at
/// 100001 on SEN support; returns their ids.
async fn setup(platform: &TestPlatform, pupils: u32) -> Vec<i64> {
    for (urn, estab, roll) in [(100001, "2001", 200), (100002, "2002", 300)] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), roll).await;
    }
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let mut ids = Vec::new();
    for serial in 1..=pupils {
        let upn = sen_pupils::domain::Upn::from_body(&format!("886200125{serial:03}")).expect("upn");
        let fields = pb::PupilFields {
            upn: upn.as_str().into(),
            legal_forename: "Finn".into(),
            legal_surname: "Hall".into(),
            date_of_birth: date(2017, 3, 3),
            school_urn: "100001".into(),
            ..Default::default()
        };
        let request = pb::CreatePupilRequest {
            pupil: Some(fields),
            sen_status: pb::SenProvision::SenSupport as i32,
            primary_need_code: "SPLD".into(),
            ..Default::default()
        };
        ids.push(officer.create_pupil(request).await.expect("pupil").into_inner().id);
    }
    ids
}

async fn professional(client: &mut CaseloadsClient, person: &str, role: &str, cases: u32) -> i64 {
    let fields = pb::ProfessionalFields {
        person: person.into(),
        name: format!("Dr {person}"),
        role: role.into(),
        fte: 1.0,
        capacity_kind: "open_cases".into(),
        capacity: cases,
        active: true,
    };
    client
        .create_professional(pb::CreateProfessionalRequest { professional: Some(fields) })
        .await
        .expect("professional")
        .into_inner()
        .id
}

fn allocate(referral: i64, professional: i64, key: &str) -> pb::AllocateCaseRequest {
    pb::AllocateCaseRequest {
        referral_id: referral,
        professional_id: professional,
        idempotency_key: key.into(),
        override_reason: String::new(),
    }
}

async fn referral_status(platform: &TestPlatform, id: i64) -> (i32, String) {
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let r = officer.get_referral(pb::GetReferralRequest { id, as_of: None }).await.expect("referral").into_inner();
    (r.status, r.allocated_to)
}

/// Whether `person` (an EP) can read the referral, its timeline, or find it in a list.
async fn reads_referral(platform: &TestPlatform, person: &str, referral: i64) -> (bool, bool, bool) {
    let token = platform.token_for(person, Role::EducationalPsychologist, "886");
    let mut referrals = platform.referrals_as(&token).await;
    let read = referrals.get_referral(pb::GetReferralRequest { id: referral, as_of: None }).await.is_ok();
    let timeline = referrals.get_referral_timeline(pb::GetReferralTimelineRequest { id: referral }).await.is_ok();
    let listed = referrals
        .list_referrals(pb::ListReferralsRequest::default())
        .await
        .map(|r| r.into_inner().referrals.iter().any(|r| r.id == referral))
        .unwrap_or(false);
    (read, timeline, listed)
}

async fn sees_pupil(platform: &TestPlatform, person: &str, pupil: i64) -> bool {
    let token = platform.token_for(person, Role::EducationalPsychologist, "886");
    platform.pupils_as(&token).await.get_pupil(pb::GetPupilRequest { id: pupil }).await.is_ok()
}

#[tokio::test]
async fn suggestions_put_the_link_professional_first_and_the_full_last() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let pupils = setup(&platform, 1).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let full = professional(&mut manager, "ep-full", "educational_psychologist:senior", 1).await;
    let light = professional(&mut manager, "ep-light", "educational_psychologist:main_grade", 10).await;
    let link = professional(&mut manager, "ep-link", "educational_psychologist:main_grade", 10).await;
    professional(&mut manager, "at-vision", "advisory_teacher:sensory_vision", 10).await;
    manager.link_school(pb::LinkSchoolRequest { professional_id: link, urn: "100001".into() }).await.unwrap();
    let bad_link =
        manager.link_school(pb::LinkSchoolRequest { professional_id: link, urn: "999999".into() }).await.unwrap_err();
    assert_eq!(bad_link.code(), Code::InvalidArgument, "only the authority's schools");
    // Fill the senior EP.
    let first = platform.accepted_referral_886(pupils[0], "educational_psychology", "r0").await;
    manager.allocate_case(allocate(first, full, "a0")).await.unwrap();

    let referral = platform.accepted_referral_886(pupils[0], "educational_psychology", "r1").await;
    let request = pb::SuggestAllocationRequest { referral_id: referral, ..Default::default() };
    let suggestion = manager.suggest_allocation(request).await.unwrap().into_inner();
    let order: Vec<i64> = suggestion.candidates.iter().map(|c| c.professional_id).collect();
    assert_eq!(order, [link, light, full], "the advisory teacher of vision is not suggested for EP work");
    assert!(
        suggestion.candidates[0].reasons.iter().any(|r| r.contains("link")),
        "{:?}",
        suggestion.candidates[0].reasons
    );
    assert!(suggestion.candidates[2].over_capacity);
}

async fn parallel_allocations_cannot_take_a_professional_past_capacity(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let pupils = setup(&platform, 2).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ep = professional(&mut manager, "ep-only", "educational_psychologist:main_grade", 1).await;
    let a = platform.accepted_referral_886(pupils[0], "educational_psychology", "ra").await;
    let b = platform.accepted_referral_886(pupils[1], "educational_psychology", "rb").await;
    let (mut m1, mut m2) = (
        platform.caseloads(Role::LaManager, Some("886")).await,
        platform.caseloads(Role::LaManager, Some("886")).await,
    );
    let (ra, rb) = tokio::join!(m1.allocate_case(allocate(a, ep, "ka")), m2.allocate_case(allocate(b, ep, "kb")));
    let codes = [ra.as_ref().err().map(|s| s.code()), rb.as_ref().err().map(|s| s.code())];
    assert_eq!(codes.iter().filter(|c| c.is_none()).count(), 1, "exactly one allocation within capacity: {codes:?}");
    assert!(codes.contains(&Some(Code::FailedPrecondition)));
    let (lost, key) = if ra.is_ok() { (b, "kb") } else { (a, "ka") };
    assert_eq!(
        referral_status(&platform, lost).await.0,
        pb::ReferralStatus::Accepted as i32,
        "the refused one is untouched"
    );
    let mut forced = allocate(lost, ep, key);
    forced.override_reason = "Sibling already on this EP's caseload".into();
    let case = manager.allocate_case(forced).await.expect("an override allocates past capacity").into_inner();
    assert_eq!(case.override_reason, "Sibling already on this EP's caseload");
    let balance = manager.get_caseload_balance(pb::GetCaseloadBalanceRequest::default()).await.unwrap().into_inner();
    let row = &balance.professionals[0];
    assert_eq!((row.open_cases, row.overloaded), (2, true));
}

#[tokio::test]
async fn parallel_allocations_cannot_take_a_professional_past_capacity_on_sqlite() {
    parallel_allocations_cannot_take_a_professional_past_capacity(Engine::Sqlite).await;
}

#[tokio::test]
async fn parallel_allocations_cannot_take_a_professional_past_capacity_on_postgres() {
    parallel_allocations_cannot_take_a_professional_past_capacity(Engine::Postgres).await;
}

/// The balance counts a professional's cases whose advice is overdue on the
/// day it is judged, and no one else's.
async fn the_balance_counts_each_professionals_overdue_advice_on_the_day_asked(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let pupils = setup(&platform, 2).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ep = professional(&mut manager, "ep-late", "educational_psychologist:senior", 10).await;
    let other = professional(&mut manager, "ep-other", "educational_psychologist:main_grade", 10).await;
    let request = platform.accepted_referral_886(pupils[0], "ehc_needs_assessment", "r1").await;
    manager.allocate_case(allocate(request, ep, "k1")).await.unwrap();
    // The EP is asked for the psychological advice the day the request came in:
    // due 6 weeks from asking (reg. 8(1)), 5 January 2027.
    let mut officer = platform.caseloads(Role::CaseOfficer, Some("886")).await;
    let ask = pb::RecordAdviceRequestRequest {
        referral_id: request,
        kind: "psychological".into(),
        from_whom: String::new(),
        professional_id: ep,
        asked_on: date(2026, 11, 24),
    };
    assert_eq!(officer.record_advice_request(ask).await.unwrap().into_inner().due_on, date(2027, 1, 5));
    let advice = platform.accepted_referral_886(pupils[1], "educational_psychology", "r2").await;
    manager.allocate_case(allocate(advice, other, "k2")).await.unwrap();
    let overdue_on = |as_of| {
        let mut manager = manager.clone();
        async move {
            let balance =
                manager.get_caseload_balance(pb::GetCaseloadBalanceRequest { as_of }).await.unwrap().into_inner();
            let mut rows: Vec<(i64, u32)> =
                balance.professionals.iter().map(|p| (p.professional_id, p.overdue)).collect();
            rows.sort_unstable();
            rows
        }
    };
    assert_eq!(overdue_on(date(2027, 1, 5)).await, [(ep, 0), (other, 0)], "due on the day is not yet overdue");
    assert_eq!(overdue_on(date(2027, 1, 6)).await, [(ep, 1), (other, 0)]);
}

#[tokio::test]
async fn the_balance_counts_each_professionals_overdue_advice_on_the_day_asked_on_sqlite() {
    the_balance_counts_each_professionals_overdue_advice_on_the_day_asked(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_balance_counts_each_professionals_overdue_advice_on_the_day_asked_on_postgres() {
    the_balance_counts_each_professionals_overdue_advice_on_the_day_asked(Engine::Postgres).await;
}

#[tokio::test]
async fn an_allocation_opens_access_marks_the_referral_and_fills_the_caseload() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let pupils = setup(&platform, 2).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ep = professional(&mut manager, "ep-ana", "educational_psychologist:senior", 10).await;
    let other = professional(&mut manager, "ep-bo", "educational_psychologist:main_grade", 10).await;
    let referral = platform.accepted_referral_886(pupils[0], "ehc_needs_assessment", "r1").await;
    assert!(!sees_pupil(&platform, "ep-ana", pupils[0]).await);
    let case = manager.allocate_case(allocate(referral, ep, "k1")).await.unwrap().into_inner();
    assert_eq!((case.status.as_str(), case.advice_due), ("active", None), "advice is dated when asked for");
    assert_eq!(referral_status(&platform, referral).await, (pb::ReferralStatus::Allocated as i32, "ep-ana".to_owned()));
    assert!(sees_pupil(&platform, "ep-ana", pupils[0]).await);
    assert!(!sees_pupil(&platform, "ep-ana", pupils[1]).await, "only the allocated pupil");
    let again = manager.allocate_case(allocate(referral, ep, "k1")).await.unwrap().into_inner();
    assert_eq!(again.id, case.id, "a retry returns the first allocation");
    let twice = manager.allocate_case(allocate(referral, other, "k2")).await.unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition, "the referral is no longer waiting: {}", twice.message());

    let ana = platform.token_for("ep-ana", Role::EducationalPsychologist, "886");
    let mut as_ana = platform.caseloads_as(&ana).await;
    let mine = as_ana.get_my_caseload(pb::GetMyCaseloadRequest::default()).await.unwrap().into_inner();
    assert_eq!(mine.cases.len(), 1);
    let unasked = &mine.cases[0];
    assert_eq!((unasked.next_deadline.as_str(), unasked.next_deadline_on), ("advice not yet requested", None));
    let mut officer = platform.caseloads(Role::CaseOfficer, Some("886")).await;
    let ask = pb::RecordAdviceRequestRequest {
        referral_id: referral,
        kind: "psychological".into(),
        from_whom: String::new(),
        professional_id: ep,
        asked_on: date(2026, 11, 24),
    };
    officer.record_advice_request(ask).await.unwrap();
    let mine = as_ana.get_my_caseload(pb::GetMyCaseloadRequest::default()).await.unwrap().into_inner();
    assert_eq!((mine.cases[0].days_left, mine.cases[0].next_deadline.as_str()), (42, "EHC needs assessment advice"));
    let bo = platform.token_for("ep-bo", Role::EducationalPsychologist, "886");
    let mut as_bo = platform.caseloads_as(&bo).await;
    assert!(as_bo.get_my_caseload(pb::GetMyCaseloadRequest::default()).await.unwrap().into_inner().cases.is_empty());
    let visit = pb::RecordCaseActivityRequest {
        case_id: case.id,
        on: date(2026, 11, 20),
        kind: "observation".into(),
        sessions: 1,
        note: "Observed in class".into(),
        idempotency_key: String::new(),
    };
    assert_eq!(as_bo.record_case_activity(visit.clone()).await.unwrap_err().code(), Code::NotFound, "not Bo's case");
    as_ana.record_case_activity(visit).await.unwrap();
    let reassigned = manager
        .reassign_case(pb::ReassignCaseRequest {
            case_id: case.id,
            professional_id: other,
            reason: "Ana on leave".into(),
            override_reason: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reassigned.professional_id, other);
    assert!(sees_pupil(&platform, "ep-bo", pupils[0]).await && !sees_pupil(&platform, "ep-ana", pupils[0]).await);
    assert_eq!(referral_status(&platform, referral).await.1, "ep-bo");
    assert_eq!(
        reads_referral(&platform, "ep-bo", referral).await,
        (true, true, true),
        "Bo reads the referral of his case"
    );
    assert_eq!(reads_referral(&platform, "ep-ana", referral).await, (false, false, false), "not Ana, since it moved");
    let closed = as_bo
        .close_case(pb::CloseCaseRequest { case_id: case.id, outcome: "Advice written".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((closed.status.as_str(), closed.sessions_used), ("closed", 1));
    assert!(!sees_pupil(&platform, "ep-bo", pupils[0]).await, "access closes with the case");
    assert_eq!(
        reads_referral(&platform, "ep-bo", referral).await,
        (false, false, false),
        "the referral's concern, consent and timeline close with the case too"
    );
    assert_eq!(referral_status(&platform, referral).await.0, pb::ReferralStatus::Closed as i32);
}

#[tokio::test]
async fn a_professional_gets_only_their_own_case_and_the_council_team_any() {
    use tonic_types::StatusExt;
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let pupils = setup(&platform, 2).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ana = professional(&mut manager, "ep-ana", "educational_psychologist:main_grade", 10).await;
    let bo = professional(&mut manager, "ep-bo", "educational_psychologist:main_grade", 10).await;
    let first = platform.accepted_referral_886(pupils[0], "educational_psychology", "r1").await;
    let second = platform.accepted_referral_886(pupils[1], "educational_psychology", "r2").await;
    let anas = manager.allocate_case(allocate(first, ana, "k1")).await.unwrap().into_inner();
    let bos = manager.allocate_case(allocate(second, bo, "k2")).await.unwrap().into_inner();
    let mut as_ana = platform.caseloads_as(&platform.token_for("ep-ana", Role::EducationalPsychologist, "886")).await;
    let visit = pb::RecordCaseActivityRequest {
        case_id: anas.id,
        on: date(2026, 11, 20),
        kind: "consultation".into(),
        sessions: 2,
        note: "Met the SENCO and parents".into(),
        idempotency_key: String::new(),
    };
    as_ana.record_case_activity(visit).await.unwrap();
    let get = |case_id: i64| pb::GetCaseRequest { case_id };

    let own = as_ana.get_case(get(anas.id)).await.expect("her own case").into_inner();
    assert_eq!(
        (own.referral_id, own.professional_name.as_str(), own.status.as_str(), own.sessions_used),
        (first, "Dr ep-ana", "active", 2)
    );
    let not_hers = as_ana.get_case(get(bos.id)).await.unwrap_err();
    let missing = as_ana.get_case(get(bos.id + 100)).await.unwrap_err();
    assert_eq!(
        (not_hers.code(), not_hers.message()),
        (Code::NotFound, format!("case {} not found", bos.id).as_str()),
        "another EP's case answers exactly as a missing one"
    );
    assert_eq!(
        (missing.code(), missing.message()),
        (Code::NotFound, format!("case {} not found", bos.id + 100).as_str())
    );
    let mut as_teacher = platform.caseloads_as(&platform.token_for("at-cy", Role::AdvisoryTeacher, "886")).await;
    assert_eq!(as_teacher.get_case(get(anas.id)).await.unwrap_err().code(), Code::NotFound);
    for role in [Role::LaManager, Role::CaseOfficer] {
        let mut team = platform.caseloads(role, Some("886")).await;
        let case = team.get_case(get(bos.id)).await.expect("any case of the authority").into_inner();
        assert_eq!((case.id, case.professional_id, case.pupil_id), (bos.id, bo, pupils[1]));
    }
    let mut medway = platform.caseloads(Role::LaManager, Some("887")).await;
    assert_eq!(medway.get_case(get(anas.id)).await.unwrap_err().code(), Code::NotFound, "another authority's case");
    let mut senco = platform.caseloads_for(Role::Senco, Some("886"), Some(100001)).await;
    assert_eq!(senco.get_case(get(anas.id)).await.unwrap_err().code(), Code::PermissionDenied);
    for bad in [0, -4] {
        let err = manager.get_case(get(bad)).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        let fields: Vec<String> =
            err.get_details_bad_request().expect("BadRequest").field_violations.into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["case_id"]);
    }
}

/// A second referrals service over the same data that answers the manager's
/// reads but fails every other call with `failure`: UNAVAILABLE as a referrals
/// service going down between the allocation's read and its write would,
/// FAILED_PRECONDITION as one whose referral was withdrawn meanwhile would.
async fn referrals_failing_writes(
    platform: &TestPlatform,
    manager_token: String,
    failure: Code,
) -> tonic::transport::Channel {
    let alive = tonic::transport::Endpoint::from_shared(format!("http://{}", platform.addr)).unwrap().connect_lazy();
    let api = sen_referrals::ReferralsApi::with_clock(
        platform.referrals_store.clone(),
        sen_referrals::pupils::Pupils::new(alive),
        Arc::new(sen_tests::platform::today),
    );
    let verifier = platform.issuer.verifier.clone();
    let gate = move |mut request: tonic::Request<()>| {
        let token =
            request.metadata().get("x-sen-identity").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        if token != manager_token {
            return Err(tonic::Status::new(failure, "referrals service refusing writes"));
        }
        let identity = verifier.verify(&token).map_err(|_| tonic::Status::unauthenticated("bad token"))?;
        request.extensions_mut().insert(identity);
        Ok(request)
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = sen_proto::v1::referrals_service_server::ReferralsServiceServer::with_interceptor(api, gate);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(server)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    tonic::transport::Endpoint::from_shared(format!("http://{address}")).unwrap().connect_lazy()
}

/// Calls the caseloads service directly, as the manager, with its peers reaching
/// the pupils service at a dead address (`pupils`), or a referrals service that
/// does not answer writes (`referrals`) or refuses them (`referrals-refusing`).
async fn broken_call(platform: &TestPlatform, broken: &str, request: pb::AllocateCaseRequest) -> tonic::Status {
    let token = platform.token(Role::LaManager, Some("886"), None);
    let alive = tonic::transport::Endpoint::from_shared(format!("http://{}", platform.addr)).unwrap().connect_lazy();
    let dead = match broken {
        "referrals" => referrals_failing_writes(platform, token.clone(), Code::Unavailable).await,
        "referrals-refusing" => referrals_failing_writes(platform, token.clone(), Code::FailedPrecondition).await,
        _ => tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy(),
    };
    let pick = |name: &str| if broken.starts_with(name) { dead.clone() } else { alive.clone() };
    let peers = sen_caseloads::peers::Peers {
        schools: pick("schools"),
        pupils: pick("pupils"),
        referrals: pick("referrals"),
        identity: ServiceIdentity::new(platform.issuer.signer.clone(), sen_caseloads::PART),
    };
    let api = sen_caseloads::CaseloadsApi::with_clock(
        platform.caseloads_store.clone(),
        peers,
        Arc::new(sen_tests::platform::today),
    );
    let identity: Identity = platform.issuer.verifier.verify(&token).unwrap();
    let mut request = tonic::Request::new(request);
    request.extensions_mut().insert(identity);
    // Within 886's wall, as the service's gRPC wrapper runs every call of 886's.
    sen_platform::walls::within_tenant("886", api.allocate_case(request)).await.unwrap_err()
}

#[tokio::test]
async fn a_failure_mid_allocation_leaves_nothing_or_is_completed_by_a_retry() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let pupils = setup(&platform, 1).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ep = professional(&mut manager, "ep-cy", "educational_psychologist:main_grade", 1).await;
    let referral = platform.accepted_referral_886(pupils[0], "educational_psychology", "r1").await;
    let open_cases = |m: &mut CaseloadsClient| {
        let mut m = m.clone();
        async move {
            m.list_professionals(pb::ListProfessionalsRequest::default()).await.unwrap().into_inner().professionals[0]
                .open_cases
        }
    };
    // The referrals service refuses the mark after the read (the referral was
    // withdrawn meanwhile, say): the access opened on the way is closed again and
    // the pending case removed. Nothing happened.
    let status = broken_call(&platform, "referrals-refusing", allocate(referral, ep, "retry-me")).await;
    assert_eq!(status.code(), Code::FailedPrecondition, "the refusal is the answer: {}", status.message());
    assert_eq!(referral_status(&platform, referral).await.0, pb::ReferralStatus::Accepted as i32);
    assert!(!sees_pupil(&platform, "ep-cy", pupils[0]).await, "the access opened on the way was closed again");
    assert_eq!(open_cases(&mut manager).await, 0, "the capacity came back");
    // The referrals service does not answer the mark: it may have recorded it, so
    // the case is not undone (that could leave the referral allocated to no case).
    // It stays pending, holding its place, with the access closed until it completes.
    let status = broken_call(&platform, "referrals", allocate(referral, ep, "retry-me")).await;
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("same idempotency key to complete it"), "{}", status.message());
    assert!(!sees_pupil(&platform, "ep-cy", pupils[0]).await, "no access while the allocation is not known to be made");
    assert_eq!(open_cases(&mut manager).await, 1, "the pending case holds its place");
    // The pupils service is down: nothing could be opened, and nothing can be
    // checked closed either, so the case stays pending for the retry to finish.
    let status = broken_call(&platform, "pupils", allocate(referral, ep, "retry-me")).await;
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("same idempotency key to complete it"), "{}", status.message());
    assert_eq!(referral_status(&platform, referral).await.0, pb::ReferralStatus::Accepted as i32);
    assert!(!sees_pupil(&platform, "ep-cy", pupils[0]).await);
    assert_eq!(open_cases(&mut manager).await, 1, "still one place, held until the retry");
    let case =
        manager.allocate_case(allocate(referral, ep, "retry-me")).await.expect("the retry completes").into_inner();
    assert_eq!(case.status, "active");
    assert!(sees_pupil(&platform, "ep-cy", pupils[0]).await);
    assert_eq!(referral_status(&platform, referral).await, (pb::ReferralStatus::Allocated as i32, "ep-cy".to_owned()));
}

#[tokio::test]
async fn school_allocations_follow_the_documented_formula() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let pupils = setup(&platform, 3).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let model = pb::SetTimeAllocationModelRequest {
        term: "2026-autumn".into(),
        sessions_available: 100,
        base_per_school: 10,
        weight_number_on_roll: 50,
        weight_sen_support: 50,
        weight_ehc_plans: 0,
    };
    manager.set_time_allocation_model(model).await.unwrap();
    // 80 sessions after the base: 40 by roll (200:300 → 16 and 24), 40 by SEN
    // support (all three pupils at 100001 → 40 and 0): 66 and 34.
    let ep = professional(&mut manager, "ep-di", "educational_psychologist:main_grade", 10).await;
    let referral = platform.accepted_referral_886(pupils[0], "educational_psychology", "r1").await;
    let case = manager.allocate_case(allocate(referral, ep, "k")).await.unwrap().into_inner();
    let di = platform.token_for("ep-di", Role::EducationalPsychologist, "886");
    let mut as_di = platform.caseloads_as(&di).await;
    for (kind, sessions) in [("consultation", 2), ("statutory_advice", 3)] {
        let visit = pb::RecordCaseActivityRequest {
            case_id: case.id,
            on: date(2026, 11, 10),
            kind: kind.into(),
            sessions,
            note: String::new(),
            idempotency_key: String::new(),
        };
        as_di.record_case_activity(visit).await.unwrap();
    }
    let allocations =
        manager.list_school_allocations(pb::ListSchoolAllocationsRequest::default()).await.unwrap().into_inner();
    assert_eq!(allocations.term, "2026-autumn");
    let rows: Vec<(String, f64, u32, f64)> =
        allocations.schools.iter().map(|s| (s.urn.clone(), s.allocated, s.used, s.balance)).collect();
    assert_eq!(
        rows,
        [("100001".to_owned(), 66.0, 2, 64.0), ("100002".to_owned(), 34.0, 0, 34.0)],
        "statutory advice is not the school's"
    );
    let bad = pb::SetTimeAllocationModelRequest {
        term: "autumn".into(),
        sessions_available: 10,
        base_per_school: 20,
        ..Default::default()
    };
    let err = manager.set_time_allocation_model(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn bad_input_names_every_field_and_writes_nothing() {
    use tonic_types::StatusExt;
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let bad = pb::ProfessionalFields {
        person: " ".into(),
        name: "Dr Who".into(),
        role: "educational_psychologist:professor".into(),
        fte: 1.5,
        capacity_kind: "open_cases".into(),
        capacity: 0,
        active: true,
    };
    let err = manager.create_professional(pb::CreateProfessionalRequest { professional: Some(bad) }).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let fields: Vec<String> =
        err.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["professional.person", "professional.role", "professional.fte", "professional.capacity"]);
    let listed = manager.list_professionals(pb::ListProfessionalsRequest { include_inactive: true }).await.unwrap();
    assert!(listed.into_inner().professionals.is_empty(), "nothing was written");
    let ep = professional(&mut manager, "ep-eve", "educational_psychologist:main_grade", 5).await;
    let stale = pb::UpdateProfessionalRequest {
        id: ep,
        version: 7,
        professional: Some(pb::ProfessionalFields {
            person: "ep-eve".into(),
            name: "Dr Eve".into(),
            role: "educational_psychologist:senior".into(),
            fte: 1.0,
            capacity_kind: "open_cases".into(),
            capacity: 5,
            active: true,
        }),
    };
    assert_eq!(manager.update_professional(stale).await.unwrap_err().code(), Code::Aborted);
    let mut medway = platform.caseloads(Role::LaManager, Some("887")).await;
    assert!(
        medway
            .list_professionals(pb::ListProfessionalsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .professionals
            .is_empty()
    );
    let unlink = pb::LinkSchoolRequest { professional_id: ep, urn: "100001".into() };
    assert_eq!(
        medway.unlink_school(unlink).await.unwrap_err().code(),
        Code::NotFound,
        "another authority's professional"
    );
}

/// Peers of the caseloads service that all answer: the platform's own port.
fn answering_peers(platform: &TestPlatform) -> sen_caseloads::peers::Peers {
    let alive = tonic::transport::Endpoint::from_shared(format!("http://{}", platform.addr)).unwrap().connect_lazy();
    sen_caseloads::peers::Peers {
        schools: alive.clone(),
        pupils: alive.clone(),
        referrals: alive,
        identity: ServiceIdentity::new(platform.issuer.signer.clone(), sen_caseloads::PART),
    }
}

/// A reconciler (as another replica would run one) over the platform's caseloads data.
fn reconciler(platform: &TestPlatform) -> Reconciler {
    Reconciler::new(platform.caseloads_store.clone(), answering_peers(platform), Arc::new(Metrics::default())).unwrap()
}

/// A moment by which an allocation begun now is due to the reconciler.
fn past_the_bound() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + PENDING_BOUND + chrono::TimeDelta::minutes(1)
}

/// Authority 886, as its own services' scope.
fn kent(platform: &TestPlatform) -> sen_platform::identity::TenantScope {
    let token = platform.token(Role::LaManager, Some("886"), None);
    platform.issuer.verifier.verify(&token).unwrap().tenant_scope().unwrap()
}

/// An allocation left pending: the pupils service was down, so nothing could be
/// opened nor checked closed.
async fn left_pending(platform: &TestPlatform, referral: i64, professional: i64, key: &str) {
    let status = broken_call(platform, "pupils", allocate(referral, professional, key)).await;
    assert!(status.message().contains("same idempotency key to complete it"), "{}", status.message());
}

async fn open_cases_of(manager: &mut CaseloadsClient, professional: i64) -> u32 {
    let listed = manager.list_professionals(pb::ListProfessionalsRequest::default()).await.unwrap().into_inner();
    listed.professionals.iter().find(|p| p.id == professional).expect("the professional").open_cases
}

/// The audit trail's (action, person, role, case) entries.
async fn audit_trail(platform: &TestPlatform) -> Vec<(String, String, String, Option<i32>)> {
    let events = sen_platform::walls::within_tenant("886", platform.caseloads_store.audit_events(&kent(platform)))
        .await
        .unwrap();
    events.into_iter().map(|e| (e.action, e.person, e.role, e.case_id)).collect()
}

async fn withdraw(platform: &TestPlatform, referral: i64) {
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let current =
        officer.get_referral(pb::GetReferralRequest { id: referral, as_of: None }).await.unwrap().into_inner();
    let withdraw = pb::ChangeReferralStatusRequest {
        id: referral,
        version: current.version,
        event: pb::ReferralEvent::Withdraw as i32,
        note: "Family moved away".into(),
    };
    officer.change_referral_status(withdraw).await.expect("withdrawn");
}

async fn the_reconciler_completes_an_allocation_once_the_other_services_answer(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let pupils = setup(&platform, 1).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ep = professional(&mut manager, "ep-fay", "educational_psychologist:main_grade", 5).await;
    let referral = platform.accepted_referral_886(pupils[0], "educational_psychology", "r1").await;
    left_pending(&platform, referral, ep, "never-retried").await;
    assert!(!sees_pupil(&platform, "ep-fay", pupils[0]).await);

    // Nobody retries; the services answer again, and a pass finds it.
    let reconciler = reconciler(&platform);
    let report = reconciler.pass(past_the_bound()).await.unwrap();
    assert_eq!(report, PassReport { completed: 1, undone: 0, failed: 0 });
    assert!(sees_pupil(&platform, "ep-fay", pupils[0]).await, "the access is open");
    assert_eq!(referral_status(&platform, referral).await, (pb::ReferralStatus::Allocated as i32, "ep-fay".to_owned()));
    assert_eq!(open_cases_of(&mut manager, ep).await, 1);
    let metrics = reconciler.metrics().encode();
    assert!(metrics.contains("sen_caseloads_reconciled_allocations_total{outcome=\"completed\"} 1"), "{metrics}");
    let case = sen_platform::walls::within_tenant(
        "886",
        platform.caseloads_store.case_by_key(&kent(&platform), "never-retried"),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        audit_trail(&platform).await,
        [("allocation.completed".into(), "caseloads-reconciler".into(), "service".into(), Some(case.id))],
        "audited as the service itself"
    );

    // The client's late retry gets the same case, not a second one.
    let retried = manager.allocate_case(allocate(referral, ep, "never-retried")).await.unwrap().into_inner();
    assert_eq!((retried.id, retried.status.as_str()), (i64::from(case.id), "active"));
    assert_eq!(open_cases_of(&mut manager, ep).await, 1, "nothing taken twice");
    assert_eq!(reconciler.pass(past_the_bound()).await.unwrap(), PassReport::default(), "nothing left to do");
}

async fn the_reconciler_undoes_an_allocation_whose_referral_was_withdrawn_and_frees_its_place(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let pupils = setup(&platform, 2).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ep = professional(&mut manager, "ep-gil", "educational_psychologist:main_grade", 2).await;
    let working = platform.accepted_referral_886(pupils[1], "educational_psychology", "r0").await;
    manager.allocate_case(allocate(working, ep, "working")).await.unwrap();
    let referral = platform.accepted_referral_886(pupils[0], "educational_psychology", "r1").await;
    left_pending(&platform, referral, ep, "withdrawn-meanwhile").await;
    assert_eq!(open_cases_of(&mut manager, ep).await, 2, "full: one working, one pending");
    withdraw(&platform, referral).await;

    let reconciler = reconciler(&platform);
    let report = reconciler.pass(past_the_bound()).await.unwrap();
    assert_eq!(report, PassReport { completed: 0, undone: 1, failed: 0 });
    assert_eq!(open_cases_of(&mut manager, ep).await, 1, "the pending case's place is free again");
    assert!(
        sen_platform::walls::within_tenant(
            "886",
            platform.caseloads_store.case_by_key(&kent(&platform), "withdrawn-meanwhile")
        )
        .await
        .unwrap()
        .is_none()
    );
    assert!(!sees_pupil(&platform, "ep-gil", pupils[0]).await, "the access opened on the way was closed again");
    assert!(sees_pupil(&platform, "ep-gil", pupils[1]).await, "the working case keeps its access");
    assert_eq!(referral_status(&platform, referral).await.0, pb::ReferralStatus::Withdrawn as i32);
    let metrics = reconciler.metrics().encode();
    assert!(metrics.contains("sen_caseloads_reconciled_allocations_total{outcome=\"undone\"} 1"), "{metrics}");
    let trail = audit_trail(&platform).await;
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert_eq!((trail[0].0.as_str(), trail[0].1.as_str()), ("allocation.undone", "caseloads-reconciler"));
}

async fn two_reconcilers_racing_act_once_on_each_allocation(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let pupils = setup(&platform, 7).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ep = professional(&mut manager, "ep-hal", "educational_psychologist:main_grade", 20).await;
    let working = platform.accepted_referral_886(pupils[6], "educational_psychology", "r-working").await;
    manager.allocate_case(allocate(working, ep, "working")).await.unwrap();
    for (n, pupil) in pupils[..6].iter().enumerate() {
        let referral = platform.accepted_referral_886(*pupil, "educational_psychology", &format!("r{n}")).await;
        left_pending(&platform, referral, ep, &format!("pending-{n}")).await;
        if n % 3 == 0 {
            withdraw(&platform, referral).await;
        }
    }
    assert_eq!(open_cases_of(&mut manager, ep).await, 7);

    // Two replicas' passes at the same moment, over the same rows.
    let (one, two) = (reconciler(&platform), reconciler(&platform));
    let now = past_the_bound();
    let (a, b) = tokio::join!(one.pass(now), two.pass(now));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.completed + b.completed, a.undone + b.undone, a.failed + b.failed),
        (4, 2, 0),
        "each allocation acted on once between them: {a:?} {b:?}"
    );
    assert_eq!(
        open_cases_of(&mut manager, ep).await,
        1 + 4,
        "the working case and the four completed; freed once each"
    );
    let trail = audit_trail(&platform).await;
    let mut cases: Vec<Option<i32>> = trail.iter().map(|entry| entry.3).collect();
    cases.sort();
    cases.dedup();
    assert_eq!((trail.len(), cases.len()), (6, 6), "one entry per allocation: {trail:?}");
    let mine = platform.token_for("ep-hal", Role::EducationalPsychologist, "886");
    let caseload = platform.caseloads_as(&mine).await.get_my_caseload(pb::GetMyCaseloadRequest::default()).await;
    assert_eq!(caseload.unwrap().into_inner().cases.len(), 5);
}

async fn the_reconciler_leaves_an_allocation_younger_than_its_bound_alone(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let pupils = setup(&platform, 1).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ep = professional(&mut manager, "ep-ivy", "educational_psychologist:main_grade", 5).await;
    let referral = platform.accepted_referral_886(pupils[0], "educational_psychology", "r1").await;
    left_pending(&platform, referral, ep, "fresh").await;
    let reconciler = reconciler(&platform);
    let within_the_bound = chrono::Utc::now() + PENDING_BOUND - chrono::TimeDelta::seconds(30);
    for now in [chrono::Utc::now(), within_the_bound] {
        assert_eq!(reconciler.pass(now).await.unwrap(), PassReport::default());
    }
    let case =
        sen_platform::walls::within_tenant("886", platform.caseloads_store.case_by_key(&kent(&platform), "fresh"))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(case.status, "pending", "still the client's to retry");
    assert!(!sees_pupil(&platform, "ep-ivy", pupils[0]).await);
    assert!(audit_trail(&platform).await.is_empty());
    let metrics = reconciler.metrics().encode();
    assert!(metrics.contains("sen_caseloads_reconciled_allocations_total{outcome=\"completed\"} 0"), "{metrics}");
    assert!(metrics.contains("sen_caseloads_reconcile_passes_total{result=\"ok\"} 2"), "{metrics}");
}

sen_platform::on_both_engines!(
    the_reconciler_completes_an_allocation_once_the_other_services_answer,
    the_reconciler_undoes_an_allocation_whose_referral_was_withdrawn_and_frees_its_place,
    two_reconcilers_racing_act_once_on_each_allocation,
    the_reconciler_leaves_an_allocation_younger_than_its_bound_alone,
    an_undo_racing_a_retry_never_leaves_an_active_case_without_its_access,
    reassigning_to_a_professional_whose_sessions_are_used_up_is_refused_unless_overridden,
);

#[tokio::test]
async fn the_reconciler_runs_on_its_interval_and_stops_when_asked() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let pupils = setup(&platform, 1).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ep = professional(&mut manager, "ep-jo", "educational_psychologist:main_grade", 5).await;
    let referral = platform.accepted_referral_886(pupils[0], "educational_psychology", "r1").await;
    left_pending(&platform, referral, ep, "background").await;
    // Its clock stands past the bound, so the first pass finds the allocation due.
    let later = past_the_bound();
    let running = reconciler(&platform).spawn(
        std::time::Duration::from_millis(20),
        Arc::new(move || later),
        std::future::pending(),
    );
    let mut passes = running.passes();
    passes.wait_for(|n| *n >= 2).await.expect("passes run");
    running.stop().await;
    assert!(sees_pupil(&platform, "ep-jo", pupils[0]).await, "completed in the background");
    assert_eq!(referral_status(&platform, referral).await.0, pb::ReferralStatus::Allocated as i32);
    assert!(passes.has_changed().is_err(), "the task has ended: no more passes");
}

/// A stand-in for the pupils service in front of the real one: it passes every
/// call through, except that it refuses the first `GrantCaseAccess` (a dropped
/// link) and holds each `RevokeCaseAccess` until the test lets it through,
/// saying when one arrives.
#[derive(Clone)]
struct PupilsLink {
    upstream: tonic::transport::Channel,
    grants_to_refuse: Arc<std::sync::atomic::AtomicUsize>,
    revoke_arrived: Arc<tokio::sync::Notify>,
    revoke_may_pass: tokio::sync::watch::Receiver<bool>,
}

impl tonic::server::NamedService for PupilsLink {
    const NAME: &'static str = "sen.v1.PupilsService";
}

type Forwarded = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<http::Response<tonic::body::Body>, std::convert::Infallible>> + Send>,
>;

impl tonic::codegen::Service<http::Request<tonic::body::Body>> for PupilsLink {
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = Forwarded;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        use std::sync::atomic::Ordering;
        let link = self.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            if path.ends_with("/GrantCaseAccess")
                && link.grants_to_refuse.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
            {
                return Ok(tonic::Status::unavailable("the link to the pupils service dropped").into_http());
            }
            if path.ends_with("/RevokeCaseAccess") {
                link.revoke_arrived.notify_one();
                let mut may_pass = link.revoke_may_pass.clone();
                let _ = may_pass.wait_for(|pass| *pass).await;
            }
            let mut upstream = link.upstream.clone();
            let forwarded = match std::future::poll_fn(|cx| upstream.poll_ready(cx)).await {
                Ok(()) => upstream.call(request).await,
                Err(e) => Err(e),
            };
            match forwarded {
                Ok(response) => Ok(response),
                Err(e) => Ok(tonic::Status::unavailable(e.to_string()).into_http()),
            }
        })
    }
}

async fn an_undo_racing_a_retry_never_leaves_an_active_case_without_its_access(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let pupils = setup(&platform, 1).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ep = professional(&mut manager, "ep-kim", "educational_psychologist:main_grade", 5).await;
    let referral = platform.accepted_referral_886(pupils[0], "educational_psychology", "r1").await;

    // The first attempt reaches the pupils service through a link that drops its
    // grant, and whose undo (the revoke) the test holds in flight.
    let (let_revoke_pass, revoke_may_pass) = tokio::sync::watch::channel(false);
    let link = PupilsLink {
        upstream: tonic::transport::Endpoint::from_shared(format!("http://{}", platform.addr)).unwrap().connect_lazy(),
        grants_to_refuse: Arc::new(1.into()),
        revoke_arrived: Arc::new(tokio::sync::Notify::new()),
        revoke_may_pass,
    };
    let revoke_arrived = Arc::clone(&link.revoke_arrived);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(link)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let mut peers = answering_peers(&platform);
    peers.pupils = tonic::transport::Endpoint::from_shared(format!("http://{address}")).unwrap().connect_lazy();
    let first = sen_caseloads::CaseloadsApi::with_clock(
        platform.caseloads_store.clone(),
        peers,
        Arc::new(sen_tests::platform::today),
    );
    let token = platform.token(Role::LaManager, Some("886"), None);
    let mut request = tonic::Request::new(allocate(referral, ep, "raced"));
    request.extensions_mut().insert(platform.issuer.verifier.verify(&token).unwrap());
    let first =
        tokio::spawn(sen_platform::walls::within_tenant("886", async move { first.allocate_case(request).await }));
    revoke_arrived.notified().await;

    // While the first attempt is undoing, the client retries over a good link.
    let retry = manager.allocate_case(allocate(referral, ep, "raced")).await;
    let_revoke_pass.send_replace(true);
    let first = first.await.unwrap();

    // Whatever each was told, the services agree: an active case has its access
    // and its referral marked; an undone one has neither.
    let case =
        sen_platform::walls::within_tenant("886", platform.caseloads_store.case_by_key(&kent(&platform), "raced"))
            .await
            .unwrap();
    let sees = sees_pupil(&platform, "ep-kim", pupils[0]).await;
    let (status, _) = referral_status(&platform, referral).await;
    match case {
        Some(case) => {
            assert_eq!(case.status, "active", "first: {first:?}, retry: {retry:?}");
            assert!(sees, "an active case whose professional cannot open the pupil's record");
            assert_eq!(status, pb::ReferralStatus::Allocated as i32);
            assert_eq!(open_cases_of(&mut manager, ep).await, 1);
        }
        None => {
            assert!(!sees, "access open with no case");
            assert_eq!(status, pb::ReferralStatus::Accepted as i32);
            assert_eq!(open_cases_of(&mut manager, ep).await, 0);
        }
    }
    // A client that retries until it has an answer gets the case, once.
    let done = manager.allocate_case(allocate(referral, ep, "raced")).await.expect("the retry completes").into_inner();
    assert_eq!(done.status, "active");
    assert!(sees_pupil(&platform, "ep-kim", pupils[0]).await);
    assert_eq!(open_cases_of(&mut manager, ep).await, 1);
}

async fn reassigning_to_a_professional_whose_sessions_are_used_up_is_refused_unless_overridden(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let pupils = setup(&platform, 2).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let from = professional(&mut manager, "ep-lee", "educational_psychologist:main_grade", 5).await;
    let fields = pb::ProfessionalFields {
        person: "ep-max".into(),
        name: "Dr Max".into(),
        role: "educational_psychologist:main_grade".into(),
        fte: 1.0,
        capacity_kind: "sessions_per_term".into(),
        capacity: 3,
        active: true,
    };
    let max = manager
        .create_professional(pb::CreateProfessionalRequest { professional: Some(fields) })
        .await
        .unwrap()
        .into_inner()
        .id;
    let own = platform.accepted_referral_886(pupils[0], "educational_psychology", "r-own").await;
    let own = manager.allocate_case(allocate(own, max, "own")).await.unwrap().into_inner();
    let mut as_max = platform.caseloads_as(&platform.token_for("ep-max", Role::EducationalPsychologist, "886")).await;
    let visit = pb::RecordCaseActivityRequest {
        case_id: own.id,
        on: date(2026, 11, 10),
        kind: "assessment".into(),
        sessions: 3,
        note: String::new(),
        idempotency_key: String::new(),
    };
    as_max.record_case_activity(visit).await.unwrap();
    let other = platform.accepted_referral_886(pupils[1], "educational_psychology", "r-other").await;
    let moving = manager.allocate_case(allocate(other, from, "moving")).await.unwrap().into_inner();
    let reassign = |override_reason: &str| pb::ReassignCaseRequest {
        case_id: moving.id,
        professional_id: max,
        reason: "Lee on leave".into(),
        override_reason: override_reason.into(),
    };

    let refused = manager.reassign_case(reassign("")).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        refused.message(),
        "Dr Max has used 3 of 3 sessions this term: give an override reason to allocate anyway"
    );
    let case = manager.get_case(pb::GetCaseRequest { case_id: moving.id }).await.unwrap().into_inner();
    assert_eq!(case.professional_id, from, "nothing moved");
    assert!(sees_pupil(&platform, "ep-lee", pupils[1]).await && !sees_pupil(&platform, "ep-max", pupils[1]).await);
    let moved = manager.reassign_case(reassign("Knows the family")).await.expect("an override moves it").into_inner();
    assert_eq!(moved.professional_id, max);
    assert!(sees_pupil(&platform, "ep-max", pupils[1]).await);
}
