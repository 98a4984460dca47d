//! `sen.v1.PupilsService`: decode, authorise, call the store, encode.
//!
//! Who may call what; row-level scope (tenant, school, caseload) is applied by
//! the store from the caller's identity, and a pupil outside it is NOT_FOUND.
//!
//! | methods | roles |
//! | --- | --- |
//! | GetPupil, ListPupils, ListPupilHistory, ListSupportCycles, ListProvision, GetEhcp, ListAnnualReviews | la_manager, case_officer, senco (own school's roll), educational_psychologist and advisory_teacher (pupils whose case is open to them) |
//! | CreatePupil, UpdatePupil, ChangeSenStatus, AddSupportCycle, RecordSupportReview, AddProvision, EndProvision | la_manager, case_officer, senco (own school) |
//! | ListSupportReviewsOverdue, ListTransitionsDue, ListAnnualReviewsDue, GetRegisterStats | la_manager, case_officer, senco (own school) |
//! | RecordAnnualReview, RecordTransferDecision | la_manager, case_officer |
//! | GrantCaseAccess, RevokeCaseAccess | service (the caseloads service) |
//! | ListAuditEvents | la_manager |

mod handlers;
mod reports;
mod requests;
mod wire;

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

/// The gRPC service.
#[derive(Clone)]
pub struct PupilsApi {
    store: Store,
    schools: Schools,
    today: Clock,
}

impl PupilsApi {
    /// A service over `store`, asking `schools` about schools, judging dates against the system clock.
    pub fn new(store: Store, schools: Schools) -> Self {
        Self::with_clock(store, schools, system_clock())
    }

    /// A service with its own notion of today.
    pub fn with_clock(store: Store, schools: Schools, today: Clock) -> Self {
        Self { store, schools, today }
    }
}
