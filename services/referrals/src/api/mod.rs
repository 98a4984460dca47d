//! `sen.v1.ReferralsService`: decode, authorise, call the domain and the store,
//! encode.
//!
//! | methods | roles |
//! | --- | --- |
//! | SubmitReferral, ResubmitReferral | senco (own school's pupils), case_officer |
//! | GetReferral, ListReferrals, GetReferralTimeline, WatchReferrals | la_manager, case_officer, senco (own school), educational_psychologist and advisory_teacher (allocated to them) |
//! | ChangeReferralStatus: accept, return, decline | la_manager, case_officer |
//! | ChangeReferralStatus: withdraw | senco (the submitting school), case_officer |
//! | ChangeReferralStatus: start, close | the allocated professional, la_manager, case_officer |
//! | MarkAllocated | service (the caseloads service) |
//! | ForgetPupil | service (the caseloads service's retention pass) |
//! | RecordAssessmentDecision, RecordPlanDecision, RecordFinalPlanIssued, RecordClockException, GetStatutoryClockReport, GetReferralStats | la_manager, case_officer |
//! | RecordEhcRequest (a request as the council received it, by any route), RecordDraftPlanSent | la_manager, case_officer |
//! | UploadReferralAttachment, ListReferralAttachments, GetReferralAttachment | whoever may read the referral (as GetReferral); attaching only while it is open |
//!
//! A second open referral of one kind for one pupil is a warning the caller
//! confirms (`duplicate`); documents come and go through `attachments`.
//!
//! Every change reaches watchers through the live feed ([`crate::feed`]): the
//! store hands it over, and `WatchReferrals` follows it.
//!
//! Every read is audited (`crate::store::ReadAction`): a referral, each referral
//! of a list page, a timeline, and the referrals a watch delivered
//! (`watch_audit`); refused requests go to the service's [`RefusalTrail`].

mod attachments;
mod duplicate;
mod filters;
mod handlers;
mod listing;
mod open_requests;
mod register;
mod stats;
mod watch_audit;
mod wire;

use std::sync::Arc;

use sen_platform::audit::{RefusalLimits, RefusalTrail};
use sen_platform::dates::{Clock, system_clock};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use crate::feed::{Describe, Feed};
use crate::plan_issue::PlanIssue;
use crate::pupils::Pupils;
use crate::store::Store;

const SUBMITTERS: &[Role] = &[Role::Senco, Role::CaseOfficer];
const READERS: &[Role] =
    &[Role::LaManager, Role::CaseOfficer, Role::Senco, Role::EducationalPsychologist, Role::AdvisoryTeacher];
const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];
const WORKERS: &[Role] = &[Role::LaManager, Role::CaseOfficer, Role::EducationalPsychologist, Role::AdvisoryTeacher];
const WITHDRAWERS: &[Role] = &[Role::Senco, Role::CaseOfficer];
const SERVICES: &[Role] = &[Role::Service];
/// Changes a watcher may fall behind the live broadcast by before it catches up
/// from the outbox instead.
const WATCH_BUFFER: usize = 1024;

/// What watchers receive for a change: the referral as changed on the day it
/// changed, and the timeline entry.
fn describe(today: Clock) -> Describe {
    Arc::new(move |row, entry| {
        Ok(pb::ReferralChange {
            referral: Some(wire::referral_to_proto(row, today())?),
            change: Some(wire::entry_to_proto(entry)),
            // Given by the feed once the change has its place (see `crate::feed`).
            position: 0,
        })
    })
}

/// The gRPC service.
#[derive(Clone)]
pub struct ReferralsApi {
    store: Store,
    pupils: Pupils,
    today: Clock,
    feed: Arc<Feed>,
    refusals: Arc<RefusalTrail>,
    /// The register's side of a final plan (`crate::plan_issue`).
    plan_issue: PlanIssue,
}

impl ReferralsApi {
    /// A service over `store`, asking `pupils` about pupils, on the system clock.
    /// On PostgreSQL it starts this replica's relay, so it must be built inside a
    /// Tokio runtime.
    pub fn new(store: Store, pupils: Pupils) -> Self {
        Self::with_clock(store, pupils, system_clock())
    }

    /// A service with its own notion of today.
    pub fn with_clock(store: Store, pupils: Pupils, today: Clock) -> Self {
        Self::with_feed(store, pupils, today, WATCH_BUFFER)
    }

    /// How many changes a watcher may fall behind the live broadcast by before it
    /// catches up from the outbox.
    pub fn with_watch_buffer(self, changes: usize) -> Self {
        // A new feed takes the store's hand; the old one (and its relay) stops when dropped.
        let refusals = self.refusals;
        Self { refusals, ..Self::with_feed(self.store, self.pupils, self.today, changes) }
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

    /// The register's side of final plans, over this service's store (its
    /// timeline entries reach watchers), for the background task.
    pub fn plan_issue(&self) -> PlanIssue {
        self.plan_issue.clone()
    }

    fn with_feed(store: Store, pupils: Pupils, today: Clock, buffer: usize) -> Self {
        let feed = Feed::start(&store, describe(today.clone()), buffer);
        let store = store.publishing_to(feed.clone());
        let refusals = RefusalTrail::new(crate::PART, Some(store.refusal_log()), RefusalLimits::default());
        let plan_issue = PlanIssue::new(store.clone(), pupils.clone());
        Self { store, pupils, today, feed, refusals, plan_issue }
    }
}
