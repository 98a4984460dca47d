//! `sen.v1.CaseloadsService`: decode, authorise, call the store and the other
//! services, encode.
//!
//! | methods | roles |
//! | --- | --- |
//! | CreateProfessional, UpdateProfessional, LinkSchool, UnlinkSchool | la_manager |
//! | ListProfessionals | la_manager, case_officer |
//! | SuggestAllocation, AllocateCase, ReassignCase, GetCaseloadBalance, SetTimeAllocationModel | la_manager |
//! | CloseCase, RecordCaseActivity, ListCaseActivity | la_manager, the case's own professional |
//! | GetCase | la_manager, case_officer (any case of the authority), educational_psychologist and advisory_teacher (their own cases) |
//! | GetMyCaseload | educational_psychologist, advisory_teacher |
//! | ListSchoolAllocations | la_manager, case_officer |
//! | RecordAdviceRequest, RecordAdviceReceived | la_manager, case_officer |
//! | GetBreachForecast, GetCapacityForecast | la_manager, case_officer |
//! | ListAdviceRequests | la_manager, case_officer (any EHC request of the authority), educational_psychologist and advisory_teacher (the advice on their own cases) |
//!
//! Reads of cases and their activity are audited (`crate::store::ReadAction`);
//! refused requests go to the service's [`RefusalTrail`].
//!
//! Allocation spans three services. The case is recorded here first as pending,
//! with the professional's capacity reserved and held by this attempt's claim;
//! then the steps of `crate::completion` run: the professional's access to the
//! pupil is opened (pupils service), the referral marked allocated (referrals
//! service), and the case confirmed. If another service refuses before the
//! referral is marked, the access is closed again and the pending case removed:
//! nothing happened. Otherwise the case stays pending, and a retry with the same
//! idempotency key completes it (or, if nobody retries, the reconciler does,
//! `crate::reconcile`); every step is repeatable.

mod advice;
mod allocation;
pub mod forecast;
mod handlers;
mod time;
mod wire;

use std::sync::Arc;

use sen_platform::audit::{RefusalLimits, RefusalTrail};
use sen_platform::dates::{Clock, system_clock};
use sen_platform::identity::Role;

use crate::completion::Completion;
use crate::peers::Peers;
use crate::reconcile::Running;
use crate::store::Store;

const MANAGERS: &[Role] = &[Role::LaManager];
const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];
const CASE_WORKERS: &[Role] = &[Role::LaManager, Role::EducationalPsychologist, Role::AdvisoryTeacher];
const PROFESSIONALS: &[Role] = &[Role::EducationalPsychologist, Role::AdvisoryTeacher];
const CASE_READERS: &[Role] =
    &[Role::LaManager, Role::CaseOfficer, Role::EducationalPsychologist, Role::AdvisoryTeacher];

/// The gRPC service.
#[derive(Clone)]
pub struct CaseloadsApi {
    store: Store,
    completion: Completion,
    peers: Peers,
    today: Clock,
    /// The reconciler running beside the service, if any: it stops when the
    /// service's routes are dropped (the server stopped).
    reconciler: Option<std::sync::Arc<Running>>,
    /// The trail of the requests this service refuses.
    refusals: Arc<RefusalTrail>,
    /// Each authority's breach forecast, kept while fresh.
    forecasts: Arc<forecast::ForecastCache>,
}

impl CaseloadsApi {
    /// A service over `store`, calling `peers`, on the system clock.
    pub fn new(store: Store, peers: Peers) -> Self {
        Self::with_clock(store, peers, system_clock())
    }

    /// A service with its own notion of today.
    pub fn with_clock(store: Store, peers: Peers, today: Clock) -> Self {
        let completion = Completion::new(store.clone(), peers.clone());
        let refusals = RefusalTrail::new(crate::PART, Some(store.refusal_log()), RefusalLimits::default());
        let forecasts = Arc::default();
        Self { store, completion, peers, today, reconciler: None, refusals, forecasts }
    }

    /// Records refusals one by one up to `limits` (the default: 20 a minute per caller).
    pub fn with_refusal_limits(mut self, limits: RefusalLimits) -> Self {
        self.refusals = RefusalTrail::new(crate::PART, Some(self.store.refusal_log()), limits);
        self
    }

    /// The trail of the requests this service refuses.
    pub fn refusals(&self) -> Arc<RefusalTrail> {
        self.refusals.clone()
    }

    /// The service with `reconciler` running beside it for as long as it is served.
    pub fn with_reconciler(mut self, reconciler: Running) -> Self {
        self.reconciler = Some(std::sync::Arc::new(reconciler));
        self
    }
}
