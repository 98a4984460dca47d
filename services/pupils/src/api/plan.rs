//! `RegisterFinalPlan`: the register's side of a final EHC plan issued, called
//! by the referrals service as itself (for the person who recorded the plan,
//! when there is one: `Identity::actor` names them in the history and audit).

use sen_platform::dates::past_date;
use sen_platform::fields::{AllChecked, field};
use sen_platform::identity::Identity;
use sen_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{PupilsApi, SERVICES};
use crate::store::FinalPlan;

impl PupilsApi {
    pub(super) async fn register_final_plan_for(
        &self,
        request: Request<pb::RegisterFinalPlanRequest>,
    ) -> Result<Response<pb::RegisterFinalPlanResponse>, Status> {
        let who = Identity::caller(&request, SERVICES)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let positive = |value: i64, name: &str| {
            field(name, if value > 0 { Ok(value) } else { Err("is required (a positive id)".to_owned()) })
        };
        let (pupil_id, referral_id, issued_on) = (
            positive(req.pupil_id, "pupil_id"),
            positive(req.referral_id, "referral_id"),
            past_date(req.issued_on.as_ref(), "issued_on", (self.today)()),
        )
            .all()?;
        let answer = |r: crate::store::Registered| {
            Response::new(pb::RegisterFinalPlanResponse {
                outcome: r.outcome,
                sen_status: r.sen_status,
                recorded_now: r.recorded_now,
            })
        };
        // A retry answers the first outcome, even once the pupil has left.
        if let Some(done) = self.store.plan_registration(&tenant, referral_id).await? {
            return Ok(answer(done));
        }
        // The plan names the school the pupil attends (the council amends it if the
        // plan names another); without the schools service, its URN stands in.
        let urn = self.store.school_of_pupil(&tenant, pupil_id).await?;
        let named_setting = match self.schools.get(who.token(), urn).await {
            Ok(Some(school)) => school.name,
            _ => format!("school URN {urn}"),
        };
        let plan = FinalPlan { pupil_id, referral_id, issued_on };
        let registered = self.store.register_final_plan(&tenant, &who.actor(), &plan, &named_setting).await?;
        if registered.recorded_now {
            tracing::info!(pupil_id, referral_id, outcome = %registered.outcome, "final plan registered");
        }
        Ok(answer(registered))
    }
}
