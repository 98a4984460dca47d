//! The retention pass's calls to the other services, all as the caseloads
//! service itself: the pupils service's `TakeErasures` and `ErasePupil`, and the
//! referrals service's `ForgetPupil`.

use sen_platform::identity::AttachIdentity;
use sen_platform::ids::LaCode;
use sen_proto::v1 as pb;
use sen_proto::v1::pupils_service_client::PupilsServiceClient;
use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::error::{Error, Result};
use crate::peers::Peers;

type Client = InterceptedService<Channel, AttachIdentity>;

fn failed(service: &str, status: &tonic::Status) -> Error {
    Error::Unavailable(format!("{service}: {} {}", status.code(), status.message()))
}

fn attach(token: Result<String, String>) -> Result<AttachIdentity> {
    AttachIdentity::new(&token.map_err(Error::Unavailable)?).map_err(Error::Unavailable)
}

/// What a take asks for.
pub struct Take<'a> {
    /// One authority, or every one.
    pub tenant: Option<LaCode>,
    /// This pass's holder; empty for a dry run.
    pub holder: &'a str,
    /// At most this many.
    pub limit: u32,
    /// List only.
    pub dry_run: bool,
    /// How long the pass holds what it takes.
    pub lease: std::time::Duration,
}

impl Peers {
    fn pupils_for(&self, tenant: Option<LaCode>) -> Result<PupilsServiceClient<Client>> {
        let token = match tenant {
            Some(la) => self.identity.token(la),
            None => self.identity.token_for_every_tenant(),
        };
        Ok(PupilsServiceClient::with_interceptor(self.pupils.clone(), attach(token)?))
    }

    /// The pupils due for erasure, taken for `take.holder` (or only listed), as (tenant, pupil).
    pub async fn take_erasures(&self, take: &Take<'_>) -> Result<Vec<(String, i64)>> {
        let request = pb::TakeErasuresRequest {
            holder: take.holder.to_owned(),
            limit: take.limit,
            dry_run: take.dry_run,
            lease_seconds: u32::try_from(take.lease.as_secs()).unwrap_or(u32::MAX).max(1),
        };
        let response = self
            .pupils_for(take.tenant)?
            .take_erasures(request)
            .await
            .map_err(|s| failed("pupils service", &s))?
            .into_inner();
        Ok(response.erasures.into_iter().map(|e| (e.la_code, e.pupil_id)).collect())
    }

    /// Asks the referrals service to forget the pupil: (referrals, timeline entries) deleted.
    pub async fn forget_referrals(&self, tenant: LaCode, pupil_id: i64) -> Result<(u32, u32)> {
        let token = self.identity.token(tenant);
        let response = ReferralsServiceClient::with_interceptor(self.referrals.clone(), attach(token)?)
            .forget_pupil(pb::ForgetPupilRequest { pupil_id })
            .await
            .map_err(|s| failed("referrals service", &s))?
            .into_inner();
        Ok((response.referrals, response.timeline_entries))
    }

    /// Asks the pupils service to erase the pupil, last; false when it was erased already.
    pub async fn erase_pupil(&self, tenant: LaCode, pupil_id: i64, holder: &str, elsewhere: &str) -> Result<bool> {
        let request =
            pb::ErasePupilRequest { pupil_id, holder: holder.to_owned(), removed_elsewhere: elsewhere.to_owned() };
        let response = self
            .pupils_for(Some(tenant))?
            .erase_pupil(request)
            .await
            .map_err(|s| failed("pupils service", &s))?
            .into_inner();
        Ok(response.erased)
    }
}
