//! The other services the caseloads service calls. Reads for the person acting
//! carry their own token (their scope applies); the allocation's writes to the
//! referrals and pupils services carry the caseloads service's own identity,
//! which those services check, and, when a person's request makes them, that
//! person's own token as well ([`ServiceIdentity::token_on_behalf_of`]), so
//! their audit trail and the referral's timeline name the manager who
//! allocated, not this service.

use std::collections::HashMap;

use sen_platform::identity::{AttachIdentity, Identity, ServiceIdentity};
use sen_platform::ids::LaCode;
use sen_proto::v1 as pb;
use sen_proto::v1::pupils_service_client::PupilsServiceClient;
use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::error::{Error, Result};

/// A pupil's name as they use it: their preferred names where given.
fn pupil_name(pupil: &pb::Pupil) -> String {
    let forename = if pupil.preferred_forename.is_empty() { &pupil.legal_forename } else { &pupil.preferred_forename };
    let surname = if pupil.preferred_surname.is_empty() { &pupil.legal_surname } else { &pupil.preferred_surname };
    format!("{forename} {surname}")
}

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

/// A school as the schools service lists it, with what the caseloads service uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolSeen {
    /// Its URN.
    pub urn: i32,
    /// Its name.
    pub name: String,
    /// Pupils on roll (0 when unknown).
    pub roll: u32,
    /// Closed (GIAS establishment status 2): no links, no share of EP time.
    pub closed: bool,
}

impl Peers {
    fn attach(token: &str) -> Result<AttachIdentity> {
        AttachIdentity::new(token).map_err(Error::Unavailable)
    }

    /// A token of this service for one call in `tenant`, made for `caller` (the
    /// person whose request this is) or, without one, for the service itself.
    fn service_token(&self, tenant: LaCode, caller: Option<&Identity>) -> Result<String> {
        match caller {
            Some(caller) => self.identity.token_on_behalf_of(tenant, caller),
            None => self.identity.token(tenant),
        }
        .map_err(Error::Unavailable)
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

    /// Records the allocation on the referral (repeating it changes nothing),
    /// for `caller` when a person's request makes it.
    pub async fn mark_allocated(
        &self,
        (tenant, caller): (LaCode, Option<&Identity>),
        referral_id: i64,
        person: &str,
        case_ref: &str,
    ) -> Result<()> {
        let request =
            pb::MarkAllocatedRequest { id: referral_id, professional: person.into(), case_ref: case_ref.into() };
        self.referrals(&self.service_token(tenant, caller)?)?
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

    /// Opens the professional's access to the pupil for the case (again: no
    /// change), for `caller` when a person's request makes it.
    pub async fn grant(
        &self,
        (tenant, caller): (LaCode, Option<&Identity>),
        pupil_id: i64,
        person: &str,
        case_ref: &str,
    ) -> Result<()> {
        let request = pb::GrantCaseAccessRequest { pupil_id, person: person.into(), case_ref: case_ref.into() };
        self.pupils(&self.service_token(tenant, caller)?)?
            .grant_case_access(request)
            .await
            .map(|_| ())
            .map_err(|s| failed("pupils service", &s))
    }

    /// Closes that access, for `caller` when a person's request makes it; an
    /// access already closed is not an error.
    pub async fn revoke(
        &self,
        (tenant, caller): (LaCode, Option<&Identity>),
        pupil_id: i64,
        person: &str,
        case_ref: &str,
    ) -> Result<()> {
        let request = pb::RevokeCaseAccessRequest { pupil_id, person: person.into(), case_ref: case_ref.into() };
        match self.pupils(&self.service_token(tenant, caller)?)?.revoke_case_access(request).await {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::NotFound => Ok(()),
            Err(status) => Err(failed("pupils service", &status)),
        }
    }

    /// Every school the caller may see, open or closed.
    pub async fn schools(&self, token: &str) -> Result<Vec<SchoolSeen>> {
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
                    let closed = school.status == pb::EstablishmentStatus::Closed as i32;
                    schools.push(SchoolSeen {
                        urn,
                        name: school.name,
                        roll: school.number_on_roll.unwrap_or(0),
                        closed,
                    });
                }
            }
            if response.next_page_token.is_empty() {
                return Ok(schools);
            }
            page_token = response.next_page_token;
        }
    }

    /// Whether the school `urn` is closed (GIAS), as the caller may see it.
    pub async fn school_is_closed(&self, token: &str, urn: &str) -> Result<bool> {
        let mut client = SchoolsServiceClient::with_interceptor(self.schools.clone(), Self::attach(token)?);
        let school = client
            .get_school(pb::GetSchoolRequest { urn: urn.into() })
            .await
            .map_err(|s| failed("schools service", &s))?
            .into_inner();
        Ok(school.status == pb::EstablishmentStatus::Closed as i32)
    }

    /// The names of the pupils `ids` as the caller of `token` may see them (the
    /// pupils service audits the read as theirs), asked 500 at a time.
    pub async fn pupil_names(&self, token: &str, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let mut names = HashMap::new();
        let mut client = self.pupils(token)?;
        for chunk in ids.chunks(500) {
            let size = u32::try_from(chunk.len()).unwrap_or(500);
            let request = pb::ListPupilsRequest {
                ids: chunk.to_vec(),
                page: Some(pb::PageRequest { page_size: size, page_token: String::new() }),
                ..Default::default()
            };
            let pupils = client.list_pupils(request).await.map_err(|s| failed("pupils service", &s))?.into_inner();
            names.extend(pupils.pupils.iter().map(|p| (p.id, pupil_name(p))));
        }
        Ok(names)
    }

    /// The names of the authority's schools by URN, asked as this service for
    /// `caller` (school names are the authority's public list; a professional may
    /// not list schools themselves).
    pub async fn school_names(&self, caller: &Identity) -> Result<HashMap<i32, String>> {
        let tenant = caller.tenant().ok_or_else(|| Error::NotFound("an authority".into()))?;
        let token = self.service_token(tenant, Some(caller))?;
        Ok(self.schools(&token).await?.into_iter().map(|school| (school.urn, school.name)).collect())
    }

    /// Every EHC needs assessment request the caller may see, open or not, with
    /// its statutory clock: the history the breach forecast learns from.
    pub async fn ehc_requests(&self, token: &str) -> Result<Vec<pb::Referral>> {
        let mut client = self.referrals(token)?;
        let mut referrals = Vec::new();
        let mut page_token = String::new();
        loop {
            let request = pb::ListReferralsRequest {
                page: Some(pb::PageRequest { page_size: 500, page_token }),
                kind: "ehc_needs_assessment".into(),
                sort: "id".into(),
                ..Default::default()
            };
            let response =
                client.list_referrals(request).await.map_err(|s| failed("referrals service", &s))?.into_inner();
            referrals.extend(response.referrals);
            if response.next_page_token.is_empty() {
                return Ok(referrals);
            }
            page_token = response.next_page_token;
        }
    }

    /// Register counts per school: (URN → (on SEN support, with an EHC plan)).
    pub async fn register(&self, token: &str) -> Result<HashMap<i32, (u32, u32)>> {
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
