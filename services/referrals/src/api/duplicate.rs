//! The warning before a second open referral of one kind for one pupil: the
//! submission is FAILED_PRECONDITION naming the open referral, in words and as
//! a `google.rpc.PreconditionFailure` (type [`OPEN_REFERRAL`], subject
//! `referrals/<id>`) that the pages and clients read to link to it; sending
//! again with `confirm_duplicate` makes the referral. The question is asked
//! only of what the caller may see (a SENCO is not told of another school's
//! referral), and never of an EHC needs assessment request, which the store
//! refuses outright while one is open.

use sen_platform::identity::Scope;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::ReferralsApi;
use crate::domain::{NewReferral, Status as ReferralStatus};
use crate::entity::referral;

/// The precondition type of the warning.
pub const OPEN_REFERRAL: &str = "OPEN_REFERRAL";

impl ReferralsApi {
    /// Refuses `new` while the pupil has an open referral of its kind, unless `confirmed`.
    pub(super) async fn warn_of_open_referral(
        &self,
        scope: &Scope,
        new: &NewReferral,
        key: &str,
        confirmed: bool,
    ) -> Result<(), Status> {
        if confirmed || new.kind.is_statutory() {
            return Ok(());
        }
        match self.store.open_referral_like(scope, new, key).await? {
            None => Ok(()),
            Some(open) => Err(open_referral(&open, new)),
        }
    }
}

fn open_referral(open: &referral::Model, new: &NewReferral) -> Status {
    let status = ReferralStatus::parse(&open.status).map(|s| s.name()).unwrap_or("open");
    let message = format!(
        "the pupil already has an open referral for {}: referral {}, submitted on {}, {status}. Add to that one, \
         or send this one as well with confirm_duplicate",
        new.kind.name(),
        open.id,
        open.submitted_on.format("%-d %B %Y"),
    );
    let mut details = ErrorDetails::new();
    details.add_precondition_failure_violation(OPEN_REFERRAL, format!("referrals/{}", open.id), message.clone());
    Status::with_error_details(Code::FailedPrecondition, message, details)
}
