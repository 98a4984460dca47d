//! What the pages of several areas read from the services to fill their tables:
//! the authority's school names, pupils' names, and every referral a list request
//! matches. Each asks as the signed-in person, so a name the reader may not see
//! is simply left out. The schools are kept in the gateway a short while per
//! caller scope ([`sen_gateway::schools_cache`]).

use std::collections::HashMap;
use std::sync::Arc;

use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use crate::backend::Backend;
use crate::fields::pupil_name;
use crate::lists;

/// Every school of the authority the caller may list, as the schools service
/// answers them (kept in the gateway for up to a minute, per caller scope).
pub async fn schools(backend: &Backend) -> Result<Arc<Vec<pb::School>>, tonic::Status> {
    let client = backend.schools()?;
    let fill = || {
        lists::fetch_all(|page| {
            let mut client = client.clone();
            let request = backend.request(pb::ListSchoolsRequest { page: Some(page), ..Default::default() });
            async move {
                let answer = client.list_schools(request).await?.into_inner();
                Ok::<_, tonic::Status>((answer.schools, answer.next_page_token))
            }
        })
    };
    backend.schools_cache().schools(backend.grant(), fill).await
}

/// The authority's school names by URN, for whoever may list schools (none otherwise).
pub async fn school_names(backend: &Backend, role: Role) -> HashMap<String, String> {
    if !matches!(role, Role::LaManager | Role::CaseOfficer | Role::Senco) {
        return HashMap::new();
    }
    let Ok(schools) = schools(backend).await else { return HashMap::new() };
    schools.iter().map(|s| (s.urn.clone(), s.name.clone())).collect()
}

/// The URNs of `names` (URN to school name) sorted by name, then URN: the
/// order a service sorts a list "by school" in, since it holds no names.
pub fn school_order(names: &HashMap<String, String>) -> Vec<String> {
    let mut named: Vec<(&String, &String)> = names.iter().collect();
    named.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    named.into_iter().map(|(urn, _)| urn.clone()).collect()
}

/// The type-of-need codes of the reader's authority (none when the pupils
/// service does not answer: needs then show as their codes).
pub async fn need_types(backend: &Backend) -> crate::fields::Needs {
    let Ok(mut client) = backend.pupils() else { return crate::fields::Needs::default() };
    let answer = client.list_need_types(backend.request(pb::ListNeedTypesRequest {})).await;
    crate::fields::Needs(answer.map(|a| a.into_inner().need_types).unwrap_or_default())
}

/// The most pupils one list call names (the pupils service's largest page).
const NAMES_AT_ONCE: usize = 500;

/// The names of the pupils `ids`, asked in one call for up to 500 (the pupils
/// service audits it as the reader's list); a pupil the service does not show
/// the reader is left out.
pub async fn pupil_names(backend: &Backend, ids: impl IntoIterator<Item = i64>) -> HashMap<i64, String> {
    let Ok(client) = backend.pupils() else { return HashMap::new() };
    let mut ids: Vec<i64> = ids.into_iter().filter(|id| *id > 0).collect();
    ids.sort_unstable();
    ids.dedup();
    let lookups = ids.chunks(NAMES_AT_ONCE).map(|chunk| {
        let mut client = client.clone();
        let page = pb::PageRequest { page_size: u32::try_from(chunk.len()).unwrap_or(500), page_token: String::new() };
        let request =
            backend.request(pb::ListPupilsRequest { ids: chunk.to_vec(), page: Some(page), ..Default::default() });
        async move { client.list_pupils(request).await.map(|p| p.into_inner().pupils).unwrap_or_default() }
    });
    futures::future::join_all(lookups).await.into_iter().flatten().map(|p| (p.id, pupil_name(&p))).collect()
}

/// Every referral `filter` matches (paging added here), as the reader may see them.
pub async fn referrals(
    backend: &Backend,
    filter: pb::ListReferralsRequest,
) -> Result<Vec<pb::Referral>, tonic::Status> {
    let client = backend.referrals()?;
    lists::fetch_all(|page| {
        let mut client = client.clone();
        let request = backend.request(pb::ListReferralsRequest { page: Some(page), ..filter.clone() });
        async move {
            let answer = client.list_referrals(request).await?.into_inner();
            Ok::<_, tonic::Status>((answer.referrals, answer.next_page_token))
        }
    })
    .await
}
