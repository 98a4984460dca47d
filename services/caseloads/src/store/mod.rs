//! Persistence of the caseloads service, always scoped to the caller's tenant.
//! The capacity check and the allocation are one conditional update of the
//! professional's open-case count, so two managers allocating at once cannot both
//! take a professional past capacity.

mod cases;
mod professionals;

pub use cases::{CaseDraft, NewActivity, SchoolUse, case_status};
pub use professionals::NewProfessional;

use sea_orm::DatabaseConnection;
use sen_platform::config::PoolConfig;
use sen_platform::error::on_unique;

use crate::migration::Migrator;

/// The caseloads service's database.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
}

impl Store {
    /// Connects to `url` and brings the schema up to date.
    pub async fn connect(url: &str, pool: &PoolConfig) -> anyhow::Result<Self> {
        let db = sen_platform::db::connect_and_migrate::<Migrator>(url, pool).await?;
        Ok(Self { db })
    }
}
