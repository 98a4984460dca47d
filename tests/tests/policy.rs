//! The role check of every method of every service, against the policy tables in
//! docs/ARCHITECTURE.md: each role either passes the role check (and gets some
//! other answer for an empty request) or is refused with PERMISSION_DENIED.

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::platform::TestPlatform;
use tonic::Code;

use Role::*;

const ALL: [Role; 7] =
    [LaManager, CaseOfficer, Senco, EducationalPsychologist, AdvisoryTeacher, PlatformOperator, Service];

fn identity(role: Role) -> (Option<&'static str>, Option<u32>) {
    match role {
        PlatformOperator => (None, None),
        Senco => (Some("886"), Some(100001)),
        _ => (Some("886"), None),
    }
}

/// Calls `$method` with an empty request as every role and checks who is refused.
macro_rules! check {
    ($platform:expr, $client:ident, $method:ident, $request:expr, $allowed:expr) => {{
        let allowed: &[Role] = $allowed;
        for role in ALL {
            let (tenant, school) = identity(role);
            let mut client = $platform.$client(role, tenant, school).await;
            let code = match client.$method($request).await {
                Ok(_) => Code::Ok,
                Err(status) => status.code(),
            };
            if allowed.contains(&role) {
                assert_ne!(code, Code::PermissionDenied, "{} must be open to {role}", stringify!($method));
            } else {
                assert_eq!(code, Code::PermissionDenied, "{} must be refused to {role}", stringify!($method));
            }
        }
    }};
}

#[tokio::test]
async fn every_pupils_method_admits_exactly_the_roles_of_its_policy() {
    let p = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let readers: &[Role] = &[LaManager, CaseOfficer, Senco, EducationalPsychologist, AdvisoryTeacher];
    let editors: &[Role] = &[LaManager, CaseOfficer, Senco];
    let team: &[Role] = &[LaManager, CaseOfficer];
    check!(p, pupils, get_pupil, pb::GetPupilRequest { id: 1 }, readers);
    check!(p, pupils, list_pupils, pb::ListPupilsRequest::default(), readers);
    check!(p, pupils, list_pupil_history, pb::ListPupilHistoryRequest { pupil_id: 1 }, readers);
    check!(p, pupils, list_support_cycles, pb::ListSupportCyclesRequest { pupil_id: 1 }, readers);
    check!(p, pupils, list_provision, pb::ListProvisionRequest { pupil_id: 1 }, readers);
    check!(p, pupils, get_ehcp, pb::GetEhcpRequest { pupil_id: 1, as_of: None }, readers);
    check!(p, pupils, list_annual_reviews, pb::ListAnnualReviewsRequest { pupil_id: 1, as_of: None }, readers);
    check!(p, pupils, create_pupil, pb::CreatePupilRequest::default(), editors);
    check!(p, pupils, update_pupil, pb::UpdatePupilRequest::default(), editors);
    check!(p, pupils, change_sen_status, pb::ChangeSenStatusRequest::default(), editors);
    check!(p, pupils, add_support_cycle, pb::AddSupportCycleRequest::default(), editors);
    check!(p, pupils, record_support_review, pb::RecordSupportReviewRequest::default(), editors);
    check!(p, pupils, add_provision, pb::AddProvisionRequest::default(), editors);
    check!(p, pupils, end_provision, pb::EndProvisionRequest::default(), editors);
    check!(p, pupils, list_support_reviews_overdue, pb::ListSupportReviewsOverdueRequest::default(), editors);
    check!(p, pupils, list_transitions_due, pb::ListTransitionsDueRequest::default(), editors);
    check!(p, pupils, list_annual_reviews_due, pb::ListAnnualReviewsDueRequest::default(), editors);
    check!(p, pupils, list_late_amendments, pb::ListLateAmendmentsRequest::default(), editors);
    check!(p, pupils, get_register_stats, pb::GetRegisterStatsRequest::default(), editors);
    check!(p, pupils, record_annual_review, pb::RecordAnnualReviewRequest::default(), team);
    check!(p, pupils, record_transfer_decision, pb::RecordTransferDecisionRequest::default(), team);
    check!(p, pupils, grant_case_access, pb::GrantCaseAccessRequest::default(), &[Service]);
    check!(p, pupils, revoke_case_access, pb::RevokeCaseAccessRequest::default(), &[Service]);
    check!(p, pupils, list_audit_events, pb::ListAuditEventsRequest::default(), &[LaManager]);
    check!(p, pupils, take_erasures, pb::TakeErasuresRequest::default(), &[Service]);
    check!(p, pupils, erase_pupil, pb::ErasePupilRequest::default(), &[Service]);
    check!(p, pupils, register_final_plan, pb::RegisterFinalPlanRequest::default(), &[Service]);
    check!(p, pupils, record_appeal, pb::RecordAppealRequest::default(), team);
    check!(p, pupils, update_appeal, pb::UpdateAppealRequest::default(), team);
    check!(p, pupils, list_appeals, pb::ListAppealsRequest::default(), team);
    check!(p, pupils, list_open_appeals, pb::ListOpenAppealsRequest::default(), team);
    check!(p, pupils, get_appeal_stats, pb::GetAppealStatsRequest::default(), team);
}

#[tokio::test]
async fn every_schools_method_admits_exactly_the_roles_of_its_policy() {
    let p = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let readers: &[Role] = &[LaManager, CaseOfficer, Senco];
    let managers: &[Role] = &[LaManager];
    check!(p, client, create_authority, pb::CreateAuthorityRequest::default(), &[PlatformOperator]);
    check!(p, client, list_authorities, pb::ListAuthoritiesRequest::default(), &ALL);
    // The platform's services read schools too (the caseloads service names a caseload's schools).
    let school_readers: &[Role] = &[LaManager, CaseOfficer, Senco, Service];
    check!(p, client, get_school, pb::GetSchoolRequest { urn: "100001".into() }, school_readers);
    check!(p, client, list_schools, pb::ListSchoolsRequest::default(), school_readers);
    check!(p, client, list_senco_appointments, pb::ListSencoAppointmentsRequest { urn: "100001".into() }, readers);
    check!(p, client, create_school, pb::CreateSchoolRequest::default(), managers);
    check!(p, client, update_school, pb::UpdateSchoolRequest::default(), managers);
    check!(p, client, appoint_senco, pb::AppointSencoRequest::default(), managers);
    check!(p, client, update_senco_appointment, pb::UpdateSencoAppointmentRequest::default(), managers);
    check!(p, client, end_senco_appointment, pb::EndSencoAppointmentRequest::default(), managers);
    check!(p, client, list_senco_compliance, pb::ListSencoComplianceRequest::default(), &[LaManager, CaseOfficer]);
    check!(p, client, import_schools, tokio_stream::iter(Vec::<pb::ImportSchoolsRequest>::new()), managers);
}

#[tokio::test]
async fn every_referrals_method_admits_exactly_the_roles_of_its_policy() {
    let p = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let readers: &[Role] = &[LaManager, CaseOfficer, Senco, EducationalPsychologist, AdvisoryTeacher];
    let team: &[Role] = &[LaManager, CaseOfficer];
    check!(p, referrals, submit_referral, pb::SubmitReferralRequest::default(), &[Senco, CaseOfficer]);
    check!(p, referrals, resubmit_referral, pb::ResubmitReferralRequest::default(), &[Senco, CaseOfficer]);
    check!(p, referrals, get_referral, pb::GetReferralRequest { id: 1, as_of: None }, readers);
    check!(p, referrals, list_referrals, pb::ListReferralsRequest::default(), readers);
    check!(p, referrals, get_referral_timeline, pb::GetReferralTimelineRequest { id: 1 }, readers);
    check!(p, referrals, watch_referrals, pb::WatchReferralsRequest::default(), readers);
    let event =
        |e: pb::ReferralEvent| pb::ChangeReferralStatusRequest { id: 1, version: 1, event: e as i32, note: "n".into() };
    check!(p, referrals, change_referral_status, event(pb::ReferralEvent::Accept), team);
    check!(p, referrals, change_referral_status, event(pb::ReferralEvent::Return), team);
    check!(p, referrals, change_referral_status, event(pb::ReferralEvent::Decline), team);
    check!(p, referrals, change_referral_status, event(pb::ReferralEvent::Withdraw), &[Senco, CaseOfficer]);
    let workers: &[Role] = &[LaManager, CaseOfficer, EducationalPsychologist, AdvisoryTeacher];
    check!(p, referrals, change_referral_status, event(pb::ReferralEvent::Start), workers);
    check!(p, referrals, change_referral_status, event(pb::ReferralEvent::Close), workers);
    check!(p, referrals, mark_allocated, pb::MarkAllocatedRequest::default(), &[Service]);
    check!(p, referrals, forget_pupil, pb::ForgetPupilRequest::default(), &[Service]);
    check!(p, referrals, record_assessment_decision, pb::RecordAssessmentDecisionRequest::default(), team);
    check!(p, referrals, record_plan_decision, pb::RecordPlanDecisionRequest::default(), team);
    check!(p, referrals, record_final_plan_issued, pb::RecordFinalPlanIssuedRequest::default(), team);
    check!(p, referrals, record_clock_exception, pb::RecordClockExceptionRequest::default(), team);
    check!(p, referrals, record_ehc_request, pb::RecordEhcRequestRequest::default(), team);
    check!(p, referrals, record_draft_plan_sent, pb::RecordDraftPlanSentRequest::default(), team);
    check!(p, referrals, get_statutory_clock_report, pb::GetStatutoryClockReportRequest::default(), team);
    check!(p, referrals, list_open_requests, pb::ListOpenRequestsRequest::default(), team);
    check!(p, referrals, get_referral_stats, pb::GetReferralStatsRequest::default(), team);
}

#[tokio::test]
async fn every_caseloads_method_admits_exactly_the_roles_of_its_policy() {
    let p = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let team: &[Role] = &[LaManager, CaseOfficer];
    let workers: &[Role] = &[LaManager, EducationalPsychologist, AdvisoryTeacher];
    check!(p, caseloads_for, create_professional, pb::CreateProfessionalRequest::default(), &[LaManager]);
    check!(p, caseloads_for, update_professional, pb::UpdateProfessionalRequest::default(), &[LaManager]);
    check!(p, caseloads_for, list_professionals, pb::ListProfessionalsRequest::default(), team);
    check!(p, caseloads_for, link_school, pb::LinkSchoolRequest::default(), &[LaManager]);
    check!(p, caseloads_for, unlink_school, pb::LinkSchoolRequest::default(), &[LaManager]);
    check!(p, caseloads_for, suggest_allocation, pb::SuggestAllocationRequest::default(), &[LaManager]);
    check!(p, caseloads_for, allocate_case, pb::AllocateCaseRequest::default(), &[LaManager]);
    check!(p, caseloads_for, reassign_case, pb::ReassignCaseRequest::default(), &[LaManager]);
    check!(p, caseloads_for, close_case, pb::CloseCaseRequest::default(), workers);
    check!(p, caseloads_for, record_case_activity, pb::RecordCaseActivityRequest::default(), workers);
    check!(p, caseloads_for, list_case_activity, pb::ListCaseActivityRequest::default(), workers);
    let readers: &[Role] = &[LaManager, CaseOfficer, EducationalPsychologist, AdvisoryTeacher];
    check!(p, caseloads_for, get_case, pb::GetCaseRequest::default(), readers);
    check!(
        p,
        caseloads_for,
        get_my_caseload,
        pb::GetMyCaseloadRequest::default(),
        &[EducationalPsychologist, AdvisoryTeacher]
    );
    check!(p, caseloads_for, get_caseload_balance, pb::GetCaseloadBalanceRequest::default(), &[LaManager]);
    check!(p, caseloads_for, set_time_allocation_model, pb::SetTimeAllocationModelRequest::default(), &[LaManager]);
    check!(p, caseloads_for, list_school_allocations, pb::ListSchoolAllocationsRequest::default(), team);
    check!(p, caseloads_for, record_advice_request, pb::RecordAdviceRequestRequest::default(), team);
    check!(p, caseloads_for, record_advice_received, pb::RecordAdviceReceivedRequest::default(), team);
    check!(p, caseloads_for, list_advice_requests, pb::ListAdviceRequestsRequest::default(), readers);
}
