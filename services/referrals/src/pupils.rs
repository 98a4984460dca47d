//! What the referrals service asks the pupils service: whether the caller may see
//! the pupil, and which school the pupil is on roll at. Calls carry the caller's
//! own identity token, so the pupils service applies the caller's scope (and
//! audits the read).

use sen_platform::identity::{AttachIdentity, Identity, ServiceIdentity};
use sen_platform::ids::{LaCode, Urn};
use sen_proto::v1 as pb;
use sen_proto::v1::pupils_service_client::PupilsServiceClient;
use tonic::Code;
use tonic::transport::Channel;

use crate::error::{Error, Result};

/// A client of the pupils service.
#[derive(Clone, Debug)]
pub struct Pupils {
    channel: Channel,
    /// This service's own identity, for the register's side of a final plan.
    identity: Option<ServiceIdentity>,
}

impl Pupils {
    /// Calls the pupils service over `channel`.
    pub fn new(channel: Channel) -> Self {
        Self { channel, identity: None }
    }

    /// This client, calling as `identity` where the referrals service acts as
    /// itself (the register's side of a final plan, `crate::plan_issue`).
    pub fn acting_as(mut self, identity: ServiceIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Records a final plan on the register (`RegisterFinalPlan`), as this
    /// service in `tenant`, for `caller` (the person who recorded the plan) when
    /// there is one. The status is given back as it came: the caller tells a
    /// refusal from no answer.
    pub async fn register_final_plan(
        &self,
        (tenant, caller): (LaCode, Option<&Identity>),
        request: pb::RegisterFinalPlanRequest,
    ) -> Result<Result<pb::RegisterFinalPlanResponse, tonic::Status>> {
        let identity = self.identity.as_ref().ok_or_else(|| {
            Error::Unavailable(
                "the referrals service has no identity of its own to call the pupils service with".into(),
            )
        })?;
        let token = match caller {
            Some(caller) => identity.token_on_behalf_of(tenant, caller),
            None => identity.token(tenant),
        }
        .map_err(Error::Unavailable)?;
        let attach = AttachIdentity::new(&token).map_err(Error::Unavailable)?;
        let mut client = PupilsServiceClient::with_interceptor(self.channel.clone(), attach);
        Ok(client.register_final_plan(request).await.map(tonic::Response::into_inner))
    }

    /// The school the pupil is on roll at, if the caller may see the pupil.
    pub async fn school_of(&self, token: &str, pupil_id: i64) -> Result<Option<Urn>> {
        let attach = AttachIdentity::new(token).map_err(Error::Unavailable)?;
        let mut client = PupilsServiceClient::with_interceptor(self.channel.clone(), attach);
        match client.get_pupil(pb::GetPupilRequest { id: pupil_id }).await {
            Ok(response) => Ok(Urn::parse(&response.into_inner().school_urn).ok()),
            Err(status) if matches!(status.code(), Code::NotFound | Code::PermissionDenied) => Ok(None),
            Err(status) => Err(unavailable(&status)),
        }
    }

    /// The ids of the pupil's support cycles and provision the caller may see.
    pub async fn support_of(&self, token: &str, pupil_id: i64) -> Result<(Vec<i64>, Vec<i64>)> {
        let attach = AttachIdentity::new(token).map_err(Error::Unavailable)?;
        let mut client = PupilsServiceClient::with_interceptor(self.channel.clone(), attach);
        let cycles = client
            .list_support_cycles(pb::ListSupportCyclesRequest { pupil_id })
            .await
            .map_err(|s| unavailable(&s))?
            .into_inner()
            .cycles;
        let provision = client
            .list_provision(pb::ListProvisionRequest { pupil_id })
            .await
            .map_err(|s| unavailable(&s))?
            .into_inner()
            .provision;
        Ok((cycles.into_iter().map(|c| c.id).collect(), provision.into_iter().map(|p| p.id).collect()))
    }
}

fn unavailable(status: &tonic::Status) -> Error {
    Error::Unavailable(format!("pupils service: {} {}", status.code(), status.message()))
}
