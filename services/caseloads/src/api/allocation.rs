//! The allocation's steps across services, and the lookups the handlers share.

use sen_platform::identity::{Identity, TenantScope};

use super::CaseloadsApi;
use crate::domain::{AcademicTerm, Candidate, ProfessionalRole};
use crate::entity::{case, professional};
use crate::error::Error;
use crate::store::capacity_of;

/// The reference a case is known by in the other services.
pub(super) fn case_ref(row: &case::Model) -> String {
    format!("CASE-{}", row.id)
}

impl CaseloadsApi {
    /// The professionals of the tenant as ranking candidates, with sessions used this term.
    pub(super) async fn candidates(
        &self,
        tenant: &TenantScope,
        school: i32,
    ) -> Result<Vec<(professional::Model, Candidate)>, Error> {
        let used = self.store.sessions_used(tenant, AcademicTerm::containing((self.today)())).await?;
        let mut rows = Vec::new();
        for (p, links) in self.store.professionals(tenant, true).await? {
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

    /// Opens the access, marks the referral, confirms the case; undoes what it can
    /// when a step fails before the referral is marked.
    pub(super) async fn complete(
        &self,
        tenant: &TenantScope,
        row: case::Model,
        person: &str,
    ) -> Result<case::Model, Error> {
        let la = tenant.la_code();
        let reference = case_ref(&row);
        if let Err(failure) = self.peers.grant(la, row.pupil_id, person, &reference).await {
            return Err(self.undo(tenant, &row, person, failure).await);
        }
        if let Err(failure) = self.peers.mark_allocated(la, row.referral_id, person, &reference).await {
            return Err(self.undo(tenant, &row, person, failure).await);
        }
        self.store.confirm_allocation(tenant, row.id).await
    }

    async fn undo(&self, tenant: &TenantScope, row: &case::Model, person: &str, failure: Error) -> Error {
        let undone = match self.peers.revoke(tenant.la_code(), row.pupil_id, person, &case_ref(row)).await {
            Ok(()) => self.store.abandon_allocation(tenant, row).await,
            Err(e) => Err(e),
        };
        // Only an undo that removed the pending case itself may say nothing was
        // allocated: one that found it gone or no longer pending raced another
        // attempt under the same key, which the caller's retry will find.
        let undone = matches!(undone, Ok(true));
        tracing::warn!(case_id = row.id, undone, error = %failure, "allocation could not be completed");
        match (undone, failure) {
            (true, Error::Unavailable(_)) => Error::Incomplete(
                "another service did not answer, so nothing was allocated: try again with the same idempotency key"
                    .into(),
            ),
            (true, other) => other,
            (false, _) => Error::Incomplete(format!(
                "the allocation of case {} is incomplete: try again with the same idempotency key to complete it",
                row.id
            )),
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

    pub(super) async fn sessions_on(&self, tenant: &TenantScope, case_id: i32) -> Result<u32, Error> {
        Ok(self.store.activity(tenant, case_id).await?.iter().map(|a| u32::try_from(a.sessions).unwrap_or(0)).sum())
    }
}
