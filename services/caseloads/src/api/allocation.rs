//! The allocation's answer to the client (its steps are `crate::completion`'s),
//! and the lookups the handlers share.

use std::collections::HashMap;

use sen_platform::identity::{Identity, TenantScope};

use super::CaseloadsApi;
use crate::completion::Finished;
use crate::domain::{AcademicTerm, Candidate, ProfessionalRole};
use crate::entity::{case, professional};
use crate::error::Error;
use crate::store::{Claim, capacity_of};

impl CaseloadsApi {
    /// The professionals of the tenant as ranking candidates, with sessions used this term.
    pub(super) async fn candidates(
        &self,
        tenant: &TenantScope,
        school: i32,
    ) -> Result<Vec<(professional::Model, Candidate)>, Error> {
        let (used, professionals) = tokio::try_join!(
            self.store.sessions_used(tenant, AcademicTerm::containing((self.today)())),
            self.store.professionals(tenant, true),
        )?;
        let mut rows = Vec::new();
        for (p, links) in professionals {
            let Ok(role) = ProfessionalRole::parse(&p.role) else { continue };
            let candidate = Candidate {
                id: i64::from(p.id),
                name: p.name.clone(),
                role,
                active: p.active,
                open_cases: u32::try_from(p.open_cases).unwrap_or(0),
                capacity: capacity_of(&p),
                sessions_used_this_term: used.get(&p.id).copied().unwrap_or(0),
                linked_to_school: links.contains(&school),
            };
            rows.push((p, candidate));
        }
        Ok(rows)
    }

    /// The professional `p` as a candidate for a referral at `school`, with the
    /// sessions they have used this term.
    pub(super) async fn candidate(
        &self,
        tenant: &TenantScope,
        p: &professional::Model,
        school: i32,
    ) -> Result<Candidate, Error> {
        self.candidates(tenant, school)
            .await?
            .into_iter()
            .find_map(|(row, candidate)| (row.id == p.id).then_some(candidate))
            .ok_or_else(|| Error::NotFound(format!("professional {}", p.id)))
    }

    /// Finishes the pending case `row` (of the professional `person`) as the
    /// holder of `claim`, for `caller`'s request (the other services record the
    /// steps as theirs), answering as the client's call does: the active case, or
    /// what happened and what to do. A case left pending is let go at once, so the
    /// client's retry need not wait for the claim to run out.
    pub(super) async fn finish(
        &self,
        (tenant, caller): (&TenantScope, &Identity),
        row: &case::Model,
        person: &str,
        claim: &Claim,
    ) -> Result<case::Model, Error> {
        match self.completion.finish_for(tenant, row, person, claim, None, Some(caller)).await {
            Finished::Completed(row) => Ok(row),
            Finished::Undone(Error::Unavailable(_)) => Err(Error::Incomplete(
                "another service did not answer, so nothing was allocated: try again with the same idempotency key"
                    .into(),
            )),
            Finished::Undone(refused) => Err(refused),
            Finished::LeftPending(_) => {
                if let Err(e) = self.store.release_claim(tenant, row.id, claim).await {
                    tracing::warn!(case_id = row.id, error = %e, "could not let go of the claim; it runs out by itself");
                }
                Err(Error::Incomplete(format!(
                    "the allocation of case {} is incomplete: try again with the same idempotency key to complete it \
                     (otherwise the service completes or undoes it by itself within minutes)",
                    row.id
                )))
            }
        }
    }

    pub(super) async fn own_case(
        &self,
        who: &Identity,
        case_id: i64,
    ) -> Result<(TenantScope, case::Model, professional::Model), Error> {
        let tenant = who.scope()?.tenant().clone();
        let row = self.store.case(&tenant, case_id).await?;
        let owner = self.store.professional(&tenant, i64::from(row.professional_id)).await?;
        if who.role() != sen_platform::identity::Role::LaManager && owner.person != who.person() {
            return Err(Error::NotFound(format!("case {case_id}")));
        }
        Ok((tenant, row, owner))
    }

    /// The names of the pupils and schools of `rows`, as `who` may see them: the
    /// pupils' with their own access (in one call), the schools' asked by this
    /// service for them. A service that does not answer leaves its names out
    /// rather than the caseload.
    pub(super) async fn caseload_names(
        &self,
        who: &Identity,
        rows: &[case::Model],
    ) -> (HashMap<i64, String>, HashMap<i32, String>) {
        if rows.is_empty() {
            return (HashMap::new(), HashMap::new());
        }
        let mut ids: Vec<i64> = rows.iter().map(|r| r.pupil_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let (pupils, schools) = tokio::join!(self.peers.pupil_names(who.token(), &ids), self.peers.school_names(who));
        let pupils = pupils.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the caseload goes without its pupils' names");
            HashMap::new()
        });
        let schools = schools.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the caseload goes without its schools' names");
            HashMap::new()
        });
        (pupils, schools)
    }

    pub(super) async fn sessions_on(&self, tenant: &TenantScope, case_id: i32) -> Result<u32, Error> {
        Ok(self.store.activity(tenant, case_id).await?.iter().map(|a| u32::try_from(a.sessions).unwrap_or(0)).sum())
    }
}
