//! Who the audit trail names when one service calls another for a person: the
//! manager who allocated a case, not "caseloads (service)". The caseloads
//! service opens the professional's access (pupils service) and marks the
//! referral allocated (referrals service) with its own service token, which
//! those services check as ever, carrying the manager's own token beside it; the
//! pupils service's audit trail and the referral's timeline name the manager.
//! A service token without it is still recorded as the service.

use sen_platform::identity::{Role, ServiceIdentity};
use sen_platform::ids::LaCode;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::platform::TestPlatform;
use tonic::Code;

/// School 100001 of 886 with one pupil on SEN support, an EP and a second EP;
/// answers (pupil, EP, other EP).
async fn setup(platform: &TestPlatform) -> (i64, i64, i64) {
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Finn", "Hall")).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let mut ids = Vec::new();
    for person in ["ep-ana", "ep-bo"] {
        let fields = pb::ProfessionalFields {
            person: person.into(),
            name: format!("Dr {person}"),
            role: "educational_psychologist:main_grade".into(),
            fte: 1.0,
            capacity_kind: "open_cases".into(),
            capacity: 10,
            active: true,
        };
        let request = pb::CreateProfessionalRequest { professional: Some(fields) };
        ids.push(manager.create_professional(request).await.expect("professional").into_inner().id);
    }
    let (ana, bo) = (ids[0], ids[1]);
    (pupil, ana, bo)
}

/// The referral's timeline as (by, role, to status).
async fn timeline(platform: &TestPlatform, referral: i64) -> Vec<(String, String, i32)> {
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let entries = officer
        .get_referral_timeline(pb::GetReferralTimelineRequest { id: referral })
        .await
        .expect("timeline")
        .into_inner()
        .entries;
    entries.into_iter().map(|e| (e.by, e.by_role, e.to)).collect()
}

/// The pupil's audit entries of `action` as (person, role).
async fn audited(platform: &TestPlatform, pupil: i64, action: &str) -> Vec<(String, String)> {
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    let request = pb::ListAuditEventsRequest { page: None, pupil_id: pupil };
    let events = manager.list_audit_events(request).await.expect("audit trail").into_inner().events;
    events.into_iter().filter(|e| e.action == action).map(|e| (e.person, e.role)).collect()
}

fn person(id: &str, role: &str) -> (String, String) {
    (id.to_owned(), role.to_owned())
}

async fn an_allocation_is_recorded_by_the_manager_who_made_it_in_every_service(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    let (pupil, ana, bo) = setup(&platform).await;
    let referral = platform.accepted_referral_886(pupil, "educational_psychology", "r1").await;
    let manager = platform.token_for("manager-886", Role::LaManager, "886");
    let mut as_manager = platform.caseloads_as(&manager).await;
    let request = pb::AllocateCaseRequest {
        referral_id: referral,
        professional_id: ana,
        idempotency_key: "k1".into(),
        override_reason: String::new(),
    };
    let case = as_manager.allocate_case(request).await.expect("allocated").into_inner();

    let allocated = pb::ReferralStatus::Allocated as i32;
    let entries = timeline(&platform, referral).await;
    let entry = entries.iter().find(|(_, _, to)| *to == allocated).expect("an allocation entry");
    assert_eq!((entry.0.as_str(), entry.1.as_str()), ("manager-886", "la_manager"), "{entries:?}");
    assert!(!entries.iter().any(|(by, _, _)| by == "caseloads"), "no entry by the service in the middle");
    assert_eq!(audited(&platform, pupil, "access.grant").await, [person("manager-886", "la_manager")]);

    // Moving the case is the manager's too; closing it the EP's.
    let reassign = pb::ReassignCaseRequest {
        case_id: case.id,
        professional_id: bo,
        reason: "Ana on leave".into(),
        override_reason: String::new(),
    };
    as_manager.reassign_case(reassign).await.expect("reassigned");
    let granted = audited(&platform, pupil, "access.grant").await;
    assert_eq!(granted, [person("manager-886", "la_manager"), person("manager-886", "la_manager")]);
    assert_eq!(audited(&platform, pupil, "access.revoke").await, [person("manager-886", "la_manager")]);
    let as_bo = platform.token_for("ep-bo", Role::EducationalPsychologist, "886");
    let close = pb::CloseCaseRequest { case_id: case.id, outcome: "Advice written".into() };
    platform.caseloads_as(&as_bo).await.close_case(close).await.expect("closed");
    let revoked = audited(&platform, pupil, "access.revoke").await;
    assert!(revoked.contains(&person("ep-bo", "educational_psychologist")), "{revoked:?}");
    assert!(!revoked.iter().chain(&granted).any(|(who, _)| who == "caseloads"), "never the service");
}

async fn a_service_token_without_a_person_is_still_recorded_as_the_service(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    let (pupil, _, _) = setup(&platform).await;
    let referral = platform.accepted_referral_886(pupil, "educational_psychology", "r1").await;
    let service = ServiceIdentity::new(platform.issuer.signer.clone(), "caseloads");
    let token = service.token(LaCode::parse("886").expect("la")).expect("token");
    let mut referrals = platform.referrals_as(&token).await;
    let mark = pb::MarkAllocatedRequest { id: referral, professional: "ep-ana".into(), case_ref: "CASE-9".into() };
    referrals.mark_allocated(mark.clone()).await.expect("marked");
    let entries = timeline(&platform, referral).await;
    let allocated = pb::ReferralStatus::Allocated as i32;
    let entry = entries.iter().find(|(_, _, to)| *to == allocated).expect("an allocation entry");
    assert_eq!((entry.0.as_str(), entry.1.as_str()), ("caseloads", "service"));

    // The manager's own token still may not make the service's call.
    let manager = platform.token_for("manager-886", Role::LaManager, "886");
    let refused = platform.referrals_as(&manager).await.mark_allocated(mark).await.expect_err("people may not");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let grant = pb::GrantCaseAccessRequest { pupil_id: pupil, person: "ep-ana".into(), case_ref: "CASE-9".into() };
    let refused = platform.pupils_as(&manager).await.grant_case_access(grant).await.expect_err("people may not");
    assert_eq!(refused.code(), Code::PermissionDenied);
}

async fn a_service_acting_for_a_person_of_another_authority_is_refused(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    let (pupil, _, _) = setup(&platform).await;
    let referral = platform.accepted_referral_886(pupil, "educational_psychology", "r1").await;
    let service = ServiceIdentity::new(platform.issuer.signer.clone(), "caseloads");
    let medway = platform.token_for("manager-887", Role::LaManager, "887");
    let medway = platform.issuer.verifier.verify(&medway).expect("verified");
    assert!(service.token_on_behalf_of(LaCode::parse("886").expect("la"), &medway).is_err());
    // Nor can a token naming them in its own authority reach 886's referral.
    let theirs = service.token_on_behalf_of(LaCode::parse("887").expect("la"), &medway).expect("their own");
    let mark = pb::MarkAllocatedRequest { id: referral, professional: "ep-ana".into(), case_ref: "CASE-9".into() };
    let refused = platform.referrals_as(&theirs).await.mark_allocated(mark).await.expect_err("another authority");
    assert_eq!(refused.code(), Code::NotFound);
    let entries = timeline(&platform, referral).await;
    assert!(!entries.iter().any(|(_, _, to)| *to == pb::ReferralStatus::Allocated as i32), "nothing written");
}

sen_platform::on_both_engines!(
    an_allocation_is_recorded_by_the_manager_who_made_it_in_every_service,
    a_service_token_without_a_person_is_still_recorded_as_the_service,
    a_service_acting_for_a_person_of_another_authority_is_refused,
);
