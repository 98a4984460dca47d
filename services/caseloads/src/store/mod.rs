//! Persistence of the caseloads service, always scoped to the caller's tenant.
//! The capacity check and the allocation are one transaction that begins with a
//! conditional update of the professional's open-case count, so two managers
//! allocating at once cannot both take a professional past capacity, whether it
//! is counted in open cases or in sessions a term. A pending case is finished by
//! one attempt at a time, the holder of its claim (`claims`); what the service
//! does to an allocation by itself is kept in its audit trail (`audit`). The
//! advice asked for in EHC needs assessments, with its own clock, is `advice`.

mod advice;
mod allocations;
mod audit;
mod cases;
mod claims;
mod forecast;
mod forget;
mod professionals;
mod sessions;

pub use advice::{AdviceFilter, NewAdviceRequest};
pub use allocations::CaseDraft;
pub use audit::{AuditAction, AuditNote, ReadAction};
pub use cases::{NewActivity, case_status};
pub use claims::{Claim, PendingAllocation};
pub use forecast::CaseSpan;
pub use forget::Forgotten;
pub use professionals::{NewProfessional, capacity_of};
pub use sessions::SchoolUse;

use sea_orm::DatabaseConnection;
use sen_platform::config::PoolConfig;
use sen_platform::error::on_unique;

use crate::migration::Migrator;

/// The caseloads service's database.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// The writer of reads' and refusals' audit entries.
    audits: audit::Audits,
}

impl Store {
    /// Connects to `url` and brings the schema up to date. Must be called on a
    /// tokio runtime (it starts the writer of the audit entries).
    pub async fn connect(url: &str, pool: &PoolConfig) -> anyhow::Result<Self> {
        let db = sen_platform::db::connect_and_migrate::<Migrator>(url, pool).await?;
        Ok(Self::from_connection(db))
    }

    /// A store over `db`, already opened and migrated: for callers that watch the
    /// statements it runs (the query-plan test sets a metric callback on it).
    /// Must be called on a tokio runtime.
    pub fn from_connection(db: DatabaseConnection) -> Self {
        Self { audits: audit::Audits::start(db.clone()), db }
    }
}
