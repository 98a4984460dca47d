//! What the caller of a referral sees of the register's side of its final plan
//! (`crate::plan_issue`): done, already on a plan, not made, or pending.

use sen_platform::identity::{Identity, TenantScope};
use sen_proto::v1 as pb;
use tonic::{Response, Status};

use super::{ReferralsApi, wire};
use crate::entity::referral;
use crate::error::Error;
use crate::plan_issue::to_proto_change;

impl ReferralsApi {
    /// The referral just given its final plan, after the request's own attempt at
    /// the register change, saying how that stands. The plan is recorded whatever
    /// the attempt did: a change it could not finish stays pending for the
    /// background task, and the answer says so.
    pub(super) async fn reply_after_plan_issued(
        &self,
        who: &Identity,
        row: &referral::Model,
    ) -> Result<Response<pb::Referral>, Status> {
        let change = match self.plan_issue.after_issue(who, i64::from(row.id)).await {
            Ok(change) => change,
            Err(e) => {
                tracing::warn!(referral_id = row.id, error = %e, "could not read the register change just recorded");
                None
            }
        };
        let mut answer = wire::referral_to_proto(row, (self.today)())?;
        answer.register_change = change.as_ref().map(to_proto_change);
        Ok(Response::new(answer))
    }

    /// `answer` with its register change, if its plan was issued.
    pub(super) async fn with_register_change(
        &self,
        tenant: &TenantScope,
        mut answer: pb::Referral,
    ) -> Result<pb::Referral, Error> {
        let issued = answer.clock.as_ref().is_some_and(|clock| clock.final_plan_issued_on.is_some());
        if issued {
            answer.register_change = self.store.register_change(tenant, answer.id).await?.as_ref().map(to_proto_change);
        }
        Ok(answer)
    }
}
