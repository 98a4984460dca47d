//! Persistence of the caseloads service, always scoped to the caller's tenant.
//! The capacity check and the allocation are one conditional update of the
//! professional's open-case count, so two managers allocating at once cannot both
//! take a professional past capacity.

mod cases;
mod professionals;

pub use cases::{CaseDraft, NewActivity, SchoolUse};
pub use professionals::NewProfessional;

use sea_orm::{DatabaseConnection, DbErr, SqlErr};
use sen_platform::config::PoolConfig;

use crate::error::Error;
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

/// A unique-constraint violation becomes `conflict()`.
fn on_unique(e: DbErr, conflict: impl FnOnce() -> Error) -> Error {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => conflict(),
        _ => Error::Database(e),
    }
}
