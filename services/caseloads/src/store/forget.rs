//! Forgetting a pupil erased at the end of their retention period: their cases
//! go, with every activity recorded on them (visits and notes) and the advice
//! asked for in their EHC needs assessments, in one transaction; a case still open gives its professional's capacity back.
//! Forgetting twice finds nothing the second time and is not an error. The audit
//! trail keeps what the service did to each case by case and referral id only.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use sen_platform::identity::TenantScope;

use super::Store;
use super::cases::release;
use crate::domain::CaseStatus;
use crate::entity::{advice_request, case, case_activity};
use crate::error::Result;

/// What forgetting a pupil removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Cases deleted.
    pub cases: u64,
    /// Activities deleted with them.
    pub activities: u64,
    /// Requests for advice deleted.
    pub advice: u64,
}

impl std::fmt::Display for Forgotten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "caseloads: {} cases, {} activities, {} advice requests", self.cases, self.activities, self.advice)
    }
}

impl Store {
    /// Deletes every case of `pupil_id` in `tenant`, with their activity, and the advice asked for them.
    pub async fn forget_pupil(&self, tenant: &TenantScope, pupil_id: i64) -> Result<Forgotten> {
        let txn = self.db.begin().await?;
        let cases = case::Entity::find()
            .filter(case::Column::LaCode.eq(tenant.key()))
            .filter(case::Column::PupilId.eq(pupil_id))
            .all(&txn)
            .await?;
        let advice = advice_request::Entity::delete_many()
            .filter(advice_request::Column::LaCode.eq(tenant.key()))
            .filter(advice_request::Column::PupilId.eq(pupil_id))
            .exec(&txn)
            .await?
            .rows_affected;
        let mut forgotten = Forgotten { advice, ..Forgotten::default() };
        for row in cases {
            forgotten.activities += case_activity::Entity::delete_many()
                .filter(case_activity::Column::LaCode.eq(tenant.key()))
                .filter(case_activity::Column::CaseId.eq(row.id))
                .exec(&txn)
                .await?
                .rows_affected;
            let deleted = case::Entity::delete_many()
                .filter(case::Column::LaCode.eq(tenant.key()))
                .filter(case::Column::Id.eq(row.id))
                .exec(&txn)
                .await?
                .rows_affected;
            // A case pending or active holds one of its professional's places.
            if deleted == 1 && row.status != CaseStatus::Closed.code() {
                release(&txn, row.professional_id).await?;
            }
            forgotten.cases += deleted;
        }
        txn.commit().await?;
        Ok(forgotten)
    }
}
