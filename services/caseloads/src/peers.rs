//! The other services the caseloads service calls. Reads for the person acting
//! carry their own token (their scope applies); the allocation's writes to the
//! referrals and pupils services carry the caseloads service's own identity.

use sen_platform::identity::{AttachIdentity, ServiceIdentity};
use sen_platform::ids::LaCode;
use sen_proto::v1 as pb;
use sen_proto::v1::pupils_service_client::PupilsServiceClient;
use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::error::{Error, Result};

/// Channels to the other services, and this service's own identity.
#[derive(Clone, Debug)]
pub struct Peers {
    /// The schools service.
    pub schools: Channel,
    /// The pupils service.
    pub pupils: Channel,
    /// The referrals service.
    pub referrals: Channel,
    /// Tokens for calls made as the caseloads service itself.
    pub identity: ServiceIdentity,
}

fn failed(service: &str, status: &tonic::Status) -> Error {
    match status.code() {
        Code::NotFound | Code::PermissionDenied => Error::NotFound(format!("{service}: {}", status.message())),
        Code::FailedPrecondition => Error::FailedPrecondition(format!("{service}: {}", status.message())),
        _ => Error::Unavailable(format!("{service}: {} {}", status.code(), status.message())),
    }
}

type Client = InterceptedService<Channel, AttachIdentity>;

impl Peers {
    fn attach(token: &str) -> Result<AttachIdentity> {
        AttachIdentity::new(token).map_err(Error::Unavailable)
    }

    fn service_token(&self, tenant: LaCode) -> Result<String> {
        self.identity.token(tenant).map_err(Error::Unavailable)
    }

    fn referrals(&self, token: &str) -> Result<ReferralsServiceClient<Client>> {
        Ok(ReferralsServiceClient::with_interceptor(self.referrals.clone(), Self::attach(token)?))
    }

    fn pupils(&self, token: &str) -> Result<PupilsServiceClient<Client>> {
        Ok(PupilsServiceClient::with_interceptor(self.pupils.clone(), Self::attach(token)?))
    }

    /// The referral, as the caller may see it.
    pub async fn referral(&self, token: &str, id: i64) -> Result<pb::Referral> {
        self.referrals(token)?
            .get_referral(pb::GetReferralRequest { id, as_of: None })
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| failed("referrals service", &s))
    }

    /// Records the allocation on the referral (repeating it changes nothing).
    pub async fn mark_allocated(&self, tenant: LaCode, referral_id: i64, person: &str, case_ref: &str) -> Result<()> {
        let request =
            pb::MarkAllocatedRequest { id: referral_id, professional: person.into(), case_ref: case_ref.into() };
        self.referrals(&self.service_token(tenant)?)?
            .mark_allocated(request)
            .await
            .map(|_| ())
            .map_err(|s| failed("referrals service", &s))
    }

    /// Closes the referral with the case's outcome, as the caller.
    pub async fn close_referral(&self, token: &str, referral_id: i64, outcome: &str) -> Result<()> {
        let referral = self.referral(token, referral_id).await?;
        let request = pb::ChangeReferralStatusRequest {
            id: referral_id,
            version: referral.version,
            event: pb::ReferralEvent::Close as i32,
            note: outcome.into(),
        };
        self.referrals(token)?
            .change_referral_status(request)
            .await
            .map(|_| ())
            .map_err(|s| failed("referrals service", &s))
    }

    /// Opens the professional's access to the pupil for the case (again: no change).
    pub async fn grant(&self, tenant: LaCode, pupil_id: i64, person: &str, case_ref: &str) -> Result<()> {
        let request = pb::GrantCaseAccessRequest { pupil_id, person: person.into(), case_ref: case_ref.into() };
        self.pupils(&self.service_token(tenant)?)?
            .grant_case_access(request)
            .await
            .map(|_| ())
            .map_err(|s| failed("pupils service", &s))
    }

    /// Closes that access; an access already closed is not an error.
    pub async fn revoke(&self, tenant: LaCode, pupil_id: i64, person: &str, case_ref: &str) -> Result<()> {
        let request = pb::RevokeCaseAccessRequest { pupil_id, person: person.into(), case_ref: case_ref.into() };
        match self.pupils(&self.service_token(tenant)?)?.revoke_case_access(request).await {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::NotFound => Ok(()),
            Err(status) => Err(failed("pupils service", &status)),
        }
    }

    /// Every school the caller may see: (URN, name, number on roll).
    pub async fn schools(&self, token: &str) -> Result<Vec<(i32, String, u32)>> {
        let mut client = SchoolsServiceClient::with_interceptor(self.schools.clone(), Self::attach(token)?);
        let mut schools = Vec::new();
        let mut page_token = String::new();
        loop {
            let request = pb::ListSchoolsRequest {
                page: Some(pb::PageRequest { page_size: 500, page_token }),
                ..Default::default()
            };
            let response = client.list_schools(request).await.map_err(|s| failed("schools service", &s))?.into_inner();
            for school in response.schools {
                if let Ok(urn) = school.urn.parse::<i32>() {
                    schools.push((urn, school.name, school.number_on_roll.unwrap_or(0)));
                }
            }
            if response.next_page_token.is_empty() {
                return Ok(schools);
            }
            page_token = response.next_page_token;
        }
    }

    /// Register counts per school: (URN → (on SEN support, with an EHC plan)).
    pub async fn register(&self, token: &str) -> Result<std::collections::HashMap<i32, (u32, u32)>> {
        let stats = self
            .pupils(token)?
            .get_register_stats(pb::GetRegisterStatsRequest::default())
            .await
            .map_err(|s| failed("pupils service", &s))?
            .into_inner();
        Ok(stats
            .schools
            .into_iter()
            .filter_map(|s| Some((s.school_urn.parse().ok()?, (s.sen_support, s.ehc_plan))))
            .collect())
    }
}
