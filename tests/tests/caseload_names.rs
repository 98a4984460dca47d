//! A caseload names its pupils and schools: `GetMyCaseload` and `GetCase` give
//! each case's pupil (read with the caller's own access) and school (asked by
//! the caseloads service for the caller, since a professional may not list
//! schools); when the pupils or schools service does not answer, the caseload
//! still comes, without those names.

use std::sync::Arc;

use sen_platform::identity::{Identity, Role, ServiceIdentity};
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::caseloads_service_server::CaseloadsService;
use sen_tests::platform::TestPlatform;

/// School 100001 ("School 2001"), Musa Ali's referral allocated to Dr Ana.
async fn allocated(platform: &TestPlatform) -> i64 {
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let musa = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let referral = platform.accepted_referral_886(musa, "educational_psychology", "r1").await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let fields = pb::ProfessionalFields {
        person: "ep-ana".into(),
        name: "Dr Ana".into(),
        role: "educational_psychologist:main_grade".into(),
        fte: 1.0,
        capacity_kind: "open_cases".into(),
        capacity: 10,
        active: true,
    };
    let request = pb::CreateProfessionalRequest { professional: Some(fields) };
    let ana = manager.create_professional(request).await.expect("an EP").into_inner().id;
    let allocate = pb::AllocateCaseRequest {
        referral_id: referral,
        professional_id: ana,
        idempotency_key: "k1".into(),
        override_reason: String::new(),
    };
    manager.allocate_case(allocate).await.expect("allocated").into_inner().id
}

fn named(case: &pb::Case) -> (&str, &str) {
    (case.pupil_name.as_str(), case.school_name.as_str())
}

async fn a_caseload_and_its_cases_name_the_pupil_and_the_school(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    let case_id = allocated(&platform).await;
    let ana = platform.token_for("ep-ana", Role::EducationalPsychologist, "886");
    let mut as_ana = platform.caseloads_as(&ana).await;
    let mine = as_ana.get_my_caseload(pb::GetMyCaseloadRequest::default()).await.expect("a caseload").into_inner();
    let case = mine.cases[0].case.clone().expect("a case");
    assert_eq!(named(&case), ("Musa Ali", "School 2001"));
    let one = as_ana.get_case(pb::GetCaseRequest { case_id }).await.expect("her case").into_inner();
    assert_eq!(named(&one), ("Musa Ali", "School 2001"));
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let one = manager.get_case(pb::GetCaseRequest { case_id }).await.expect("any case").into_inner();
    assert_eq!(named(&one), ("Musa Ali", "School 2001"), "for the council team too");

    // The pupil's name was read as Dr Ana's, and audited so.
    let mut auditor = platform.pupils(Role::LaManager, Some("886"), None).await;
    let trail = pb::ListAuditEventsRequest { page: None, pupil_id: case.pupil_id };
    let events = auditor.list_audit_events(trail).await.expect("audit").into_inner().events;
    assert!(events.iter().any(|e| e.action == "pupil.list" && e.person == "ep-ana"), "{events:?}");
}

async fn a_caseload_comes_without_names_when_the_services_holding_them_do_not_answer(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    allocated(&platform).await;
    let alive =
        tonic::transport::Endpoint::from_shared(format!("http://{}", platform.addr)).expect("url").connect_lazy();
    let dead = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
    let peers = sen_caseloads::peers::Peers {
        schools: dead.clone(),
        pupils: dead,
        referrals: alive,
        identity: ServiceIdentity::new(platform.issuer.signer.clone(), sen_caseloads::PART),
    };
    let api = sen_caseloads::CaseloadsApi::with_clock(
        platform.caseloads_store.clone(),
        peers,
        Arc::new(sen_tests::platform::today),
    );
    let token = platform.token_for("ep-ana", Role::EducationalPsychologist, "886");
    let identity: Identity = platform.issuer.verifier.verify(&token).expect("verified");
    let mut request = tonic::Request::new(pb::GetMyCaseloadRequest::default());
    request.extensions_mut().insert(identity);
    // Called directly, as the service's own server stack would: within the caller's authority.
    let mine = sen_platform::walls::within_tenant("886", api.get_my_caseload(request)).await;
    let mine = mine.expect("the caseload still comes").into_inner();
    assert_eq!(mine.cases.len(), 1);
    let case = mine.cases[0].case.clone().expect("a case");
    assert_eq!(named(&case), ("", ""), "no names, and nothing made up");
}

sen_platform::on_both_engines!(
    a_caseload_and_its_cases_name_the_pupil_and_the_school,
    a_caseload_comes_without_names_when_the_services_holding_them_do_not_answer,
);
