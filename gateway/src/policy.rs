//! Who may call what through the gateway: one row per gRPC method of every
//! `sen.v1` service, with the roles it admits and the JSON route that exposes it.
//!
//! Deny by default: a method without a row is refused, a row with no roles is
//! callable by no person (the calls services make to each other as themselves),
//! and the service role is never admitted from outside. This is the first wall;
//! the services check the role again and scope every row to the caller's tenant,
//! school or caseload.

use sen_platform::identity::Role;

use Role::{AdvisoryTeacher, CaseOfficer, EducationalPsychologist, LaManager, PlatformOperator, Senco};

/// An HTTP verb of the JSON API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// Reads; the request fields come from the path and the query string.
    Get,
    /// Creates or acts; the request fields come from the path and the JSON body.
    Post,
    /// Changes part of a record; fields from the path and the JSON body.
    Patch,
}

impl Verb {
    /// The verb as HTTP and OpenAPI spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Patch => "patch",
        }
    }
}

/// One method of one service and who may call it.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// Fully-qualified service name, e.g. `sen.v1.ReferralsService`.
    pub service: &'static str,
    /// Method name, e.g. `SubmitReferral`.
    pub method: &'static str,
    /// The roles admitted. Empty: no person may call it through the gateway.
    pub roles: &'static [Role],
    /// The JSON route: verb and path under which the method is exposed; `{name}`
    /// segments fill the request field of that name.
    pub http: Option<(Verb, &'static str)>,
}

impl Rule {
    /// The gRPC path, `/sen.v1.Service/Method`.
    pub fn grpc_path(&self) -> String {
        format!("/{}/{}", self.service, self.method)
    }

    /// Whether `role` may call this method.
    pub fn admits(&self, role: Role) -> bool {
        role != Role::Service && self.roles.contains(&role)
    }
}

const SCHOOLS: &str = "sen.v1.SchoolsService";
const PUPILS: &str = "sen.v1.PupilsService";
const REFERRALS: &str = "sen.v1.ReferralsService";
const CASELOADS: &str = "sen.v1.CaseloadsService";
const GATEWAY: &str = "sen.v1.GatewayService";

const EVERYONE: &[Role] = &[LaManager, CaseOfficer, Senco, EducationalPsychologist, AdvisoryTeacher, PlatformOperator];
const MANAGER: &[Role] = &[LaManager];
const TEAM: &[Role] = &[LaManager, CaseOfficer];
const SCHOOL_READERS: &[Role] = &[LaManager, CaseOfficer, Senco];
const REGISTER_EDITORS: &[Role] = &[LaManager, CaseOfficer, Senco];
const READERS: &[Role] = &[LaManager, CaseOfficer, Senco, EducationalPsychologist, AdvisoryTeacher];
const SUBMITTERS: &[Role] = &[Senco, CaseOfficer];
const CASE_WORKERS: &[Role] = &[LaManager, EducationalPsychologist, AdvisoryTeacher];
const CASE_READERS: &[Role] = &[LaManager, CaseOfficer, EducationalPsychologist, AdvisoryTeacher];
const PROFESSIONALS: &[Role] = &[EducationalPsychologist, AdvisoryTeacher];
const NOBODY: &[Role] = &[];

const fn rule(
    service: &'static str,
    method: &'static str,
    roles: &'static [Role],
    http: Option<(Verb, &'static str)>,
) -> Rule {
    Rule { service, method, roles, http }
}

use Verb::{Get, Patch, Post};

/// Every method of every `sen.v1` service.
pub const RULES: &[Rule] = &[
    // Schools.
    rule(SCHOOLS, "CreateAuthority", &[PlatformOperator], Some((Post, "/api/v1/authorities"))),
    rule(SCHOOLS, "ListAuthorities", EVERYONE, Some((Get, "/api/v1/authorities"))),
    rule(SCHOOLS, "CreateSchool", MANAGER, Some((Post, "/api/v1/schools"))),
    rule(SCHOOLS, "GetSchool", SCHOOL_READERS, Some((Get, "/api/v1/schools/{urn}"))),
    rule(SCHOOLS, "UpdateSchool", MANAGER, Some((Patch, "/api/v1/schools/{urn}"))),
    rule(SCHOOLS, "ListSchools", SCHOOL_READERS, Some((Get, "/api/v1/schools"))),
    // Client-streaming: the JSON API takes the extract as the request body.
    rule(SCHOOLS, "ImportSchools", MANAGER, Some((Post, "/api/v1/schools/import"))),
    rule(SCHOOLS, "AppointSenco", MANAGER, Some((Post, "/api/v1/schools/{urn}/senco-appointments"))),
    rule(SCHOOLS, "UpdateSencoAppointment", MANAGER, Some((Patch, "/api/v1/senco-appointments/{id}"))),
    rule(SCHOOLS, "EndSencoAppointment", MANAGER, Some((Post, "/api/v1/senco-appointments/{id}/end"))),
    rule(SCHOOLS, "ListSencoAppointments", SCHOOL_READERS, Some((Get, "/api/v1/schools/{urn}/senco-appointments"))),
    rule(SCHOOLS, "ListSencoCompliance", TEAM, Some((Get, "/api/v1/senco-compliance"))),
    // Pupils.
    rule(PUPILS, "CreatePupil", REGISTER_EDITORS, Some((Post, "/api/v1/pupils"))),
    rule(PUPILS, "GetPupil", READERS, Some((Get, "/api/v1/pupils/{id}"))),
    rule(PUPILS, "UpdatePupil", REGISTER_EDITORS, Some((Patch, "/api/v1/pupils/{id}"))),
    rule(PUPILS, "ListPupils", READERS, Some((Get, "/api/v1/pupils"))),
    rule(PUPILS, "ChangeSenStatus", REGISTER_EDITORS, Some((Post, "/api/v1/pupils/{pupil_id}/sen-status"))),
    rule(PUPILS, "ListPupilHistory", READERS, Some((Get, "/api/v1/pupils/{pupil_id}/history"))),
    rule(PUPILS, "ImportCtf", REGISTER_EDITORS, Some((Post, "/api/v1/pupils/import-ctf"))),
    rule(PUPILS, "ListNeedTypes", READERS, Some((Get, "/api/v1/need-types"))),
    rule(PUPILS, "AddNeedType", MANAGER, Some((Post, "/api/v1/need-types"))),
    rule(PUPILS, "AddSupportCycle", REGISTER_EDITORS, Some((Post, "/api/v1/pupils/{pupil_id}/support-cycles"))),
    rule(PUPILS, "RecordSupportReview", REGISTER_EDITORS, Some((Post, "/api/v1/support-cycles/{cycle_id}/review"))),
    rule(PUPILS, "ListSupportCycles", READERS, Some((Get, "/api/v1/pupils/{pupil_id}/support-cycles"))),
    rule(PUPILS, "ListSupportReviewsOverdue", REGISTER_EDITORS, Some((Get, "/api/v1/support-reviews-overdue"))),
    rule(PUPILS, "AddProvision", REGISTER_EDITORS, Some((Post, "/api/v1/pupils/{pupil_id}/provision"))),
    rule(PUPILS, "EndProvision", REGISTER_EDITORS, Some((Post, "/api/v1/provision/{provision_id}/end"))),
    rule(PUPILS, "ListProvision", READERS, Some((Get, "/api/v1/pupils/{pupil_id}/provision"))),
    rule(PUPILS, "GetEhcp", READERS, Some((Get, "/api/v1/pupils/{pupil_id}/ehcp"))),
    rule(PUPILS, "RecordAnnualReview", TEAM, Some((Post, "/api/v1/pupils/{pupil_id}/annual-reviews"))),
    rule(PUPILS, "ListAnnualReviews", READERS, Some((Get, "/api/v1/pupils/{pupil_id}/annual-reviews"))),
    rule(PUPILS, "ListLateAmendments", REGISTER_EDITORS, Some((Get, "/api/v1/late-amendments"))),
    rule(PUPILS, "RecordTransferDecision", TEAM, Some((Post, "/api/v1/pupils/{pupil_id}/transfer-decision"))),
    rule(PUPILS, "ListTransitionsDue", REGISTER_EDITORS, Some((Get, "/api/v1/transitions-due"))),
    rule(PUPILS, "ListAnnualReviewsDue", REGISTER_EDITORS, Some((Get, "/api/v1/annual-reviews-due"))),
    rule(PUPILS, "GetRegisterStats", REGISTER_EDITORS, Some((Get, "/api/v1/register-stats"))),
    // Opened and closed by the caseloads service as itself, never by a person.
    rule(PUPILS, "GrantCaseAccess", NOBODY, None),
    rule(PUPILS, "RevokeCaseAccess", NOBODY, None),
    rule(PUPILS, "ListAuditEvents", MANAGER, Some((Get, "/api/v1/audit-events"))),
    // Erasure at the end of the retention period: the caseloads service as itself, never a person.
    rule(PUPILS, "TakeErasures", NOBODY, None),
    rule(PUPILS, "ErasePupil", NOBODY, None),
    // Appeals to the Tribunal: the family's legal dispute with the council, the SEN team's alone.
    rule(PUPILS, "RecordAppeal", TEAM, Some((Post, "/api/v1/pupils/{pupil_id}/appeals"))),
    rule(PUPILS, "UpdateAppeal", TEAM, Some((Patch, "/api/v1/appeals/{id}"))),
    rule(PUPILS, "ListAppeals", TEAM, Some((Get, "/api/v1/pupils/{pupil_id}/appeals"))),
    rule(PUPILS, "ListOpenAppeals", TEAM, Some((Get, "/api/v1/appeals/open"))),
    rule(PUPILS, "GetAppealStats", TEAM, Some((Get, "/api/v1/appeal-stats"))),
    // The SEN2 return's persons, read by the gateway's GetSen2Return as the caller.
    rule(PUPILS, "ListSen2Persons", TEAM, None),
    // The register's side of a final EHC plan: the referrals service as itself, never a person.
    rule(PUPILS, "RegisterFinalPlan", NOBODY, None),
    // Referrals.
    rule(REFERRALS, "SubmitReferral", SUBMITTERS, Some((Post, "/api/v1/referrals"))),
    rule(REFERRALS, "ResubmitReferral", SUBMITTERS, Some((Post, "/api/v1/referrals/{id}/resubmit"))),
    rule(REFERRALS, "GetReferral", READERS, Some((Get, "/api/v1/referrals/{id}"))),
    rule(REFERRALS, "ListReferrals", READERS, Some((Get, "/api/v1/referrals"))),
    // Which event each role may send is the referrals service's finer check.
    rule(REFERRALS, "ChangeReferralStatus", READERS, Some((Post, "/api/v1/referrals/{id}/status"))),
    // Made by the caseloads service as itself when a case is allocated.
    rule(REFERRALS, "MarkAllocated", NOBODY, None),
    // Made by the caseloads service as itself when a pupil is erased at the end of their retention period.
    rule(REFERRALS, "ForgetPupil", NOBODY, None),
    rule(REFERRALS, "GetReferralTimeline", READERS, Some((Get, "/api/v1/referrals/{id}/timeline"))),
    // Server-streaming: the JSON API sends server-sent events.
    rule(REFERRALS, "WatchReferrals", READERS, Some((Get, "/api/v1/referrals/watch"))),
    rule(REFERRALS, "RecordAssessmentDecision", TEAM, Some((Post, "/api/v1/referrals/{id}/assessment-decision"))),
    rule(REFERRALS, "RecordPlanDecision", TEAM, Some((Post, "/api/v1/referrals/{id}/plan-decision"))),
    rule(REFERRALS, "RecordFinalPlanIssued", TEAM, Some((Post, "/api/v1/referrals/{id}/final-plan-issued"))),
    rule(REFERRALS, "RecordClockException", TEAM, Some((Post, "/api/v1/referrals/{id}/clock-exception"))),
    rule(REFERRALS, "RecordEhcRequest", TEAM, Some((Post, "/api/v1/ehc-requests"))),
    rule(REFERRALS, "RecordDraftPlanSent", TEAM, Some((Post, "/api/v1/referrals/{id}/draft-plan"))),
    rule(REFERRALS, "GetStatutoryClockReport", TEAM, Some((Get, "/api/v1/statutory-clock"))),
    rule(REFERRALS, "ListOpenRequests", TEAM, Some((Get, "/api/v1/statutory-clock/open"))),
    rule(REFERRALS, "GetReferralStats", TEAM, Some((Get, "/api/v1/referral-stats"))),
    // Documents: whoever may read the referral (the service narrows it to theirs).
    // Client-streaming: the JSON API takes the file as the body.
    rule(REFERRALS, "UploadReferralAttachment", READERS, Some((Post, "/api/v1/referrals/{referral_id}/attachments"))),
    rule(REFERRALS, "ListReferralAttachments", READERS, Some((Get, "/api/v1/referrals/{referral_id}/attachments"))),
    rule(
        REFERRALS,
        "GetReferralAttachment",
        READERS,
        Some((Get, "/api/v1/referrals/{referral_id}/attachments/{attachment_id}")),
    ),
    // Caseloads.
    rule(CASELOADS, "CreateProfessional", MANAGER, Some((Post, "/api/v1/professionals"))),
    rule(CASELOADS, "UpdateProfessional", MANAGER, Some((Patch, "/api/v1/professionals/{id}"))),
    rule(CASELOADS, "ListProfessionals", TEAM, Some((Get, "/api/v1/professionals"))),
    rule(CASELOADS, "LinkSchool", MANAGER, Some((Post, "/api/v1/professionals/{professional_id}/link-schools"))),
    rule(CASELOADS, "UnlinkSchool", MANAGER, Some((Post, "/api/v1/professionals/{professional_id}/unlink-school"))),
    rule(CASELOADS, "SuggestAllocation", MANAGER, Some((Get, "/api/v1/referrals/{referral_id}/suggestions"))),
    rule(CASELOADS, "AllocateCase", MANAGER, Some((Post, "/api/v1/cases"))),
    rule(CASELOADS, "ReassignCase", MANAGER, Some((Post, "/api/v1/cases/{case_id}/reassign"))),
    rule(CASELOADS, "CloseCase", CASE_WORKERS, Some((Post, "/api/v1/cases/{case_id}/close"))),
    rule(CASELOADS, "RecordCaseActivity", CASE_WORKERS, Some((Post, "/api/v1/cases/{case_id}/activity"))),
    rule(CASELOADS, "ListCaseActivity", CASE_WORKERS, Some((Get, "/api/v1/cases/{case_id}/activity"))),
    rule(CASELOADS, "GetCase", CASE_READERS, Some((Get, "/api/v1/cases/{case_id}"))),
    rule(CASELOADS, "GetMyCaseload", PROFESSIONALS, Some((Get, "/api/v1/my-caseload"))),
    rule(CASELOADS, "GetCaseloadBalance", MANAGER, Some((Get, "/api/v1/caseload-balance"))),
    rule(CASELOADS, "SetTimeAllocationModel", MANAGER, Some((Post, "/api/v1/time-allocation-model"))),
    rule(CASELOADS, "ListSchoolAllocations", TEAM, Some((Get, "/api/v1/school-allocations"))),
    // Advice asked for in EHC needs assessments (reg. 6(1), 8(1)); a professional lists their own cases' only.
    rule(CASELOADS, "RecordAdviceRequest", TEAM, Some((Post, "/api/v1/referrals/{referral_id}/advice"))),
    rule(CASELOADS, "RecordAdviceReceived", TEAM, Some((Post, "/api/v1/advice/{id}/received"))),
    rule(CASELOADS, "ListAdviceRequests", CASE_READERS, Some((Get, "/api/v1/advice"))),
    // The breach forecast and the capacity it rests on (docs/FORECAST.md).
    rule(CASELOADS, "GetBreachForecast", TEAM, Some((Get, "/api/v1/forecast/breaches"))),
    rule(CASELOADS, "GetCapacityForecast", TEAM, Some((Get, "/api/v1/forecast/capacity"))),
    // The gateway's own composed views.
    rule(GATEWAY, "GetOverview", TEAM, Some((Get, "/api/v1/overview"))),
    rule(GATEWAY, "GetSen2Return", TEAM, Some((Get, "/api/v1/sen2"))),
];

/// The rule for a gRPC path (`/sen.v1.Service/Method`); `None` means refused.
pub fn for_grpc_path(path: &str) -> Option<&'static Rule> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    RULES.iter().find(|r| r.service == service && r.method == method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_of_every_service_has_exactly_one_rule() {
        let pool = prost_reflect::DescriptorPool::decode(sen_proto::FILE_DESCRIPTOR_SET).unwrap();
        let mut methods: Vec<String> = pool
            .services()
            .filter(|s| s.package_name() == "sen.v1")
            .flat_map(|s| {
                s.methods().map(|m| format!("/{}/{}", m.parent_service().full_name(), m.name())).collect::<Vec<_>>()
            })
            .collect();
        methods.sort();
        let mut ruled: Vec<String> = RULES.iter().map(Rule::grpc_path).collect();
        ruled.sort();
        let missing: Vec<&String> = methods.iter().filter(|m| !ruled.contains(m)).collect();
        let unknown: Vec<&String> = ruled.iter().filter(|r| !methods.contains(r)).collect();
        assert!(missing.is_empty(), "methods without a rule: {missing:?}");
        assert!(unknown.is_empty(), "rules for methods that do not exist: {unknown:?}");
    }

    #[test]
    fn a_path_without_a_rule_is_refused() {
        assert!(for_grpc_path("/sen.v1.PupilsService/DropEverything").is_none());
        assert!(for_grpc_path("/sen.v1.PupilsService").is_none());
        assert!(for_grpc_path("").is_none());
        assert!(for_grpc_path("/sen.v1.PupilsService/GetPupil").is_some());
    }

    #[test]
    fn the_service_role_is_never_admitted_from_outside() {
        for rule in RULES {
            assert!(!rule.admits(Role::Service), "{} admits the service role", rule.grpc_path());
        }
    }

    #[test]
    fn the_platform_operator_reaches_no_tenant_data() {
        let admitted: Vec<&str> = RULES.iter().filter(|r| r.admits(PlatformOperator)).map(|r| r.method).collect();
        assert_eq!(admitted, ["CreateAuthority", "ListAuthorities"]);
    }

    #[test]
    fn no_two_rules_share_a_method_or_a_route() {
        let mut paths: Vec<String> = RULES.iter().map(Rule::grpc_path).collect();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), RULES.len());
        let mut routes: Vec<(&str, &str)> =
            RULES.iter().filter_map(|r| r.http).map(|(verb, path)| (verb.as_str(), path)).collect();
        let count = routes.len();
        routes.sort();
        routes.dedup();
        assert_eq!(routes.len(), count);
    }
}
