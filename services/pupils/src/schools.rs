//! What the pupils service asks the schools service: whether a school belongs to
//! the tenant, and each school's phase, age range and roll. Calls carry the
//! caller's own identity token, so the schools service applies the caller's scope.
//!
//! Every school of the caller's reach (the register statistics, the phase
//! transfers, the reviews sorted by school) is kept for [`SCHOOLS_LIFETIME`]
//! per role, authority and school of the caller, so the overview and the
//! council's pages do not fetch an authority's 600 schools on every view. The
//! schools change with a GIAS import: a school's name, roll, phase or ages
//! is seen here at most that long after it changed. A caller acting for
//! another person, or reading a caseload, is not served from it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sen_platform::identity::{AttachIdentity, Identity, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use tonic::Code;
use tonic::transport::Channel;

use crate::domain::SchoolStage;
use crate::error::{Error, Result};

/// A school as the pupils service needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolInfo {
    /// URN.
    pub urn: Urn,
    /// Name.
    pub name: String,
    /// Phase and ages, for phase transfers.
    pub stage: SchoolStage,
    /// Number on roll, when known.
    pub number_on_roll: Option<u32>,
}

/// How long every school of a caller's reach is kept before it is asked again.
pub const SCHOOLS_LIFETIME: Duration = Duration::from_secs(60);

/// Whose schools an entry holds: the schools service answers by role,
/// authority and (for a SENCO) school, and by nothing else of the caller.
type Reach = (Role, LaCode, Option<Urn>);

/// Every school of a reach, and when it was fetched.
type Kept = HashMap<Reach, (Instant, Arc<[SchoolInfo]>)>;

/// A client of the schools service.
#[derive(Clone, Debug)]
pub struct Schools {
    channel: Channel,
    kept: Arc<Mutex<Kept>>,
}

/// The reach `who` is answered for, when their schools may be kept: not for
/// a service acting for a person, nor a caseload.
fn reach(who: &Identity) -> Option<Reach> {
    if who.on_behalf_of().is_some() {
        return None;
    }
    match who.scope().ok()? {
        Scope::Tenant(tenant) => Some((who.role(), tenant.la_code(), None)),
        Scope::School(school) => Some((who.role(), school.tenant().la_code(), Some(school.urn()))),
        Scope::Caseload(_) => None,
    }
}

fn unavailable(status: &tonic::Status) -> Error {
    Error::Unavailable(format!("schools service: {} {}", status.code(), status.message()))
}

fn info(school: pb::School) -> Option<SchoolInfo> {
    let urn = Urn::parse(&school.urn).ok()?;
    let phase_code = u8::try_from(school.phase - 1).ok()?;
    Some(SchoolInfo {
        urn,
        name: school.name,
        stage: SchoolStage {
            phase_code,
            low_age: school.statutory_low_age.and_then(|a| u8::try_from(a).ok()),
            high_age: school.statutory_high_age.and_then(|a| u8::try_from(a).ok()),
        },
        number_on_roll: school.number_on_roll,
    })
}

impl Schools {
    /// Calls the schools service over `channel`.
    pub fn new(channel: Channel) -> Self {
        Self { channel, kept: Arc::default() }
    }

    fn client(
        &self,
        token: &str,
    ) -> Result<SchoolsServiceClient<tonic::service::interceptor::InterceptedService<Channel, AttachIdentity>>> {
        let attach = AttachIdentity::new(token).map_err(Error::Unavailable)?;
        Ok(SchoolsServiceClient::with_interceptor(self.channel.clone(), attach))
    }

    /// The school, if the caller may see it (in their tenant, and for a SENCO their
    /// own); `None` when it is not there for them.
    pub async fn get(&self, token: &str, urn: Urn) -> Result<Option<SchoolInfo>> {
        match self.client(token)?.get_school(pb::GetSchoolRequest { urn: urn.to_string() }).await {
            Ok(response) => Ok(info(response.into_inner())),
            Err(status) if matches!(status.code(), Code::NotFound | Code::PermissionDenied) => Ok(None),
            Err(status) => Err(unavailable(&status)),
        }
    }

    /// Every school `who` may see; empty for roles that read no schools. Kept
    /// for [`SCHOOLS_LIFETIME`] per reach (see the module's documentation).
    pub async fn all(&self, who: &Identity) -> Result<Arc<[SchoolInfo]>> {
        let Some(reach) = reach(who) else { return Ok(self.fetch_all(who.token()).await?.into()) };
        let now = Instant::now();
        if let Some(schools) = self.kept().get(&reach).filter(|(at, _)| now.duration_since(*at) < SCHOOLS_LIFETIME) {
            return Ok(schools.1.clone());
        }
        let schools: Arc<[SchoolInfo]> = self.fetch_all(who.token()).await?.into();
        let mut kept = self.kept();
        kept.retain(|_, (at, _)| now.duration_since(*at) < SCHOOLS_LIFETIME);
        kept.insert(reach, (now, schools.clone()));
        Ok(schools)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        // A panic while holding the lock leaves the map whole: keep using it.
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn fetch_all(&self, token: &str) -> Result<Vec<SchoolInfo>> {
        let mut client = self.client(token)?;
        let mut schools = Vec::new();
        let mut page_token = String::new();
        loop {
            let request = pb::ListSchoolsRequest {
                page: Some(pb::PageRequest { page_size: 500, page_token }),
                ..Default::default()
            };
            let response = match client.list_schools(request).await {
                Ok(response) => response.into_inner(),
                Err(status) if status.code() == Code::PermissionDenied => return Ok(Vec::new()),
                Err(status) => return Err(unavailable(&status)),
            };
            schools.extend(response.schools.into_iter().filter_map(info));
            if response.next_page_token.is_empty() {
                return Ok(schools);
            }
            page_token = response.next_page_token;
        }
    }
}
