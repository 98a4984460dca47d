//! Each school's share of the service's time for a term, from the term's model,
//! the schools' rolls (schools service), their SEN figures (pupils service) and the
//! sessions recorded against them. Only open schools share the time: a closed
//! school (GIAS) has no base and no share, and is listed (closed, allocated 0)
//! only when sessions were recorded against it this term, so the term's use
//! still adds up.

use std::collections::HashMap;

use sen_platform::fields::field;
use sen_platform::identity::Identity;
use sen_proto::v1 as pb;

use super::CaseloadsApi;
use crate::domain::{AcademicTerm, ModelSettings, SchoolFigures, Weights, allocate, balance};
use crate::error::Error;

impl CaseloadsApi {
    /// The term's allocations (this term when `term_code` is empty).
    pub(super) async fn school_allocations(
        &self,
        who: &Identity,
        term_code: &str,
    ) -> Result<pb::ListSchoolAllocationsResponse, Error> {
        let tenant = who.tenant_scope()?;
        let term = if term_code.is_empty() {
            AcademicTerm::containing((self.today)())
        } else {
            field("term", AcademicTerm::parse(term_code))?
        };
        let model = self
            .store
            .model(&tenant, &term.code())
            .await?
            .ok_or_else(|| Error::NotFound(format!("time-allocation model for {}", term.code())))?;
        let as_u32 = |n: i32| u32::try_from(n).unwrap_or(0);
        let weights = Weights {
            number_on_roll: as_u32(model.weight_roll),
            sen_support: as_u32(model.weight_support),
            ehc_plans: as_u32(model.weight_ehcp),
        };
        let settings = ModelSettings::new(as_u32(model.sessions_available), as_u32(model.base_per_school), weights)
            .map_err(|(_, e)| Error::Corrupt(e))?;
        let (schools, register) = tokio::join!(self.peers.schools(who.token()), self.peers.register(who.token()));
        let (schools, register) = (schools?, register?);
        let figures: Vec<SchoolFigures> = schools
            .iter()
            .filter(|school| !school.closed)
            .map(|school| {
                let (k, e) = register.get(&school.urn).copied().unwrap_or((0, 0));
                SchoolFigures {
                    urn: u32::try_from(school.urn).unwrap_or(0),
                    number_on_roll: school.roll,
                    sen_support: k,
                    ehc_plans: e,
                }
            })
            .collect();
        let allocations = allocate(&settings, &figures).map_err(Error::FailedPrecondition)?;
        let (_, used) = self.store.sessions_between(&tenant, term.starts_on(), term.ends_on()).await?;
        let used_at = |urn: i32| used.get(&urn).map_or(0, |u| u.counted);
        let names: HashMap<u32, &str> =
            schools.iter().map(|school| (u32::try_from(school.urn).unwrap_or(0), school.name.as_str())).collect();
        let open = allocations.iter().map(|a| {
            let used = used_at(i32::try_from(a.urn).unwrap_or(0));
            pb::SchoolAllocation {
                urn: a.urn.to_string(),
                name: names.get(&a.urn).copied().unwrap_or_default().to_owned(),
                allocated: a.sessions,
                used,
                balance: balance(a.sessions, used),
                base: a.base,
                by_number_on_roll: a.by_roll,
                by_sen_support: a.by_sen_support,
                by_ehc_plans: a.by_ehc_plans,
                closed: false,
            }
        });
        let closed = schools.iter().filter(|school| school.closed && used_at(school.urn) > 0).map(|school| {
            let used = used_at(school.urn);
            pb::SchoolAllocation {
                urn: school.urn.to_string(),
                name: school.name.clone(),
                used,
                balance: balance(0.0, used),
                closed: true,
                ..Default::default()
            }
        });
        Ok(pb::ListSchoolAllocationsResponse { term: term.code(), schools: open.chain(closed).collect() })
    }
}
