//! `sen.v1.PupilsService`: decode, authorise, call the store, encode.
//!
//! Who may call what; row-level scope (tenant, school, caseload) is applied by
//! the store from the caller's identity, and a pupil outside it is NOT_FOUND.
//!
//! | methods | roles |
//! | --- | --- |
//! | GetPupil, ListPupils, ListPupilHistory, ListSupportCycles, ListProvision, GetEhcp, ListAnnualReviews | la_manager, case_officer, senco (own school's roll), educational_psychologist and advisory_teacher (pupils whose case is open to them) |
//! | ImportCtf | la_manager, case_officer (any school of the authority), senco (own school's file only) |
//! | CreatePupil, UpdatePupil, ChangeSenStatus, AddSupportCycle, RecordSupportReview, AddProvision, EndProvision | la_manager, case_officer, senco (own school) |
//! | ListSupportReviewsOverdue, ListTransitionsDue, ListAnnualReviewsDue, ListLateAmendments, GetRegisterStats | la_manager, case_officer, senco (own school) |
//! | RecordAnnualReview, RecordTransferDecision | la_manager, case_officer |
//! | GrantCaseAccess, RevokeCaseAccess | service (the caseloads service) |
//! | ListAuditEvents | la_manager |
//! | TakeErasures, ErasePupil | service (the caseloads service's retention pass) |
//! | RecordAppeal, UpdateAppeal, ListAppeals, ListOpenAppeals, GetAppealStats, ListSen2Persons | la_manager, case_officer (the family's dispute with the council: no school or professional sees it) |
//! | RegisterFinalPlan | service (the referrals service, when a final EHC plan is issued) |

mod appeals;
mod ctf_import;
mod due_lists;
mod handlers;
mod late_amendments;
mod plan;
mod reports;
mod requests;
mod retention;
mod review_outcome;
mod sen2;
mod wire;

pub use ctf_import::MAX_CTF_BYTES;

use sen_platform::audit::{RefusalLimits, RefusalTrail};
use sen_platform::dates::{Clock, system_clock};
use sen_platform::identity::Role;

use crate::schools::Schools;
use crate::store::Store;

const READERS: &[Role] =
    &[Role::LaManager, Role::CaseOfficer, Role::Senco, Role::EducationalPsychologist, Role::AdvisoryTeacher];
const EDITORS: &[Role] = &[Role::LaManager, Role::CaseOfficer, Role::Senco];
const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];
const SERVICES: &[Role] = &[Role::Service];
const AUDITORS: &[Role] = &[Role::LaManager];
/// Who adds a type-of-need code for the authority.
const MANAGERS: &[Role] = &[Role::LaManager];

/// The gRPC service.
#[derive(Clone)]
pub struct PupilsApi {
    store: Store,
    schools: Schools,
    today: Clock,
    /// The trail of the requests this service refuses.
    refusals: std::sync::Arc<RefusalTrail>,
    /// Each authority's retention period, and the count of erasures.
    retention: crate::retention::Retention,
}

impl PupilsApi {
    /// A service over `store`, asking `schools` about schools, judging dates against the system clock.
    pub fn new(store: Store, schools: Schools) -> Self {
        Self::with_clock(store, schools, system_clock())
    }

    /// A service with its own notion of today.
    pub fn with_clock(store: Store, schools: Schools, today: Clock) -> Self {
        let refusals = RefusalTrail::new(crate::PART, Some(store.refusal_log()), RefusalLimits::default());
        Self { store, schools, today, refusals, retention: Default::default() }
    }

    /// Records refusals one by one up to `limits` (the default: 20 a minute per caller).
    pub fn with_refusal_limits(mut self, limits: RefusalLimits) -> Self {
        self.refusals = RefusalTrail::new(crate::PART, Some(self.store.refusal_log()), limits);
        self
    }

    /// Erases pupils past `retention`'s periods, counting them in its metrics
    /// (the default: 31 years for every authority, counted in a registry of its own).
    pub fn with_retention(mut self, retention: crate::retention::Retention) -> Self {
        self.retention = retention;
        self
    }

    /// The trail of the requests this service refuses.
    pub fn refusals(&self) -> std::sync::Arc<RefusalTrail> {
        self.refusals.clone()
    }
}
