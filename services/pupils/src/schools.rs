//! What the pupils service asks the schools service: whether a school belongs to
//! the tenant, and each school's phase, age range and roll. Calls carry the
//! caller's own identity token, so the schools service applies the caller's scope.

use sen_platform::identity::AttachIdentity;
use sen_platform::ids::Urn;
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

/// A client of the schools service.
#[derive(Clone, Debug)]
pub struct Schools {
    channel: Channel,
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
        Self { channel }
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

    /// Every school the caller may see; empty for roles that read no schools.
    pub async fn all(&self, token: &str) -> Result<Vec<SchoolInfo>> {
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
