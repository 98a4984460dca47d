//! Persistence of the schools service. Every function touching tenant data takes a
//! [`TenantScope`] or [`Scope`](sen_platform::identity::Scope) made from the caller's verified identity and filters
//! on it; a record outside the scope is reported as not found, exactly as a record
//! that does not exist.

mod areas;
mod convert;
mod schools;
mod sencos;

pub use schools::{ImportCounts, OpenFilter, SchoolFilter};
pub use sencos::{ComplianceItem, ComplianceReport, NewAppointment};

use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, QueryOrder, Set};
use sen_platform::config::PoolConfig;
use sen_platform::db::Db;
use sen_platform::error::on_unique;
use sen_platform::identity::TenantScope;
use sen_platform::ids::LaCode;

use crate::entity::authority;
use crate::error::{Error, Result};
use crate::migration::Migrator;

/// A registered authority.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authority {
    /// Its LA code.
    pub la_code: LaCode,
    /// Its name.
    pub name: String,
}

/// The schools service's database.
#[derive(Clone, Debug)]
pub struct Store {
    /// Changes, and reads inside a change's transaction.
    db: DatabaseConnection,
    /// Reads outside a transaction ([`Db`]).
    read: DatabaseConnection,
}

impl Store {
    /// Connects to `url` and brings the schema up to date.
    pub async fn connect(url: &str, pool: &PoolConfig) -> anyhow::Result<Self> {
        let db = Db::connect_and_migrate::<Migrator>(url, pool).await?;
        Ok(Self { db: db.write, read: db.read })
    }

    /// A store over `db`, already opened and migrated, for reads and writes alike:
    /// for callers that watch the statements it runs (the query-plan test sets a
    /// metric callback on it).
    pub fn from_connection(db: DatabaseConnection) -> Self {
        Self { read: db.clone(), db }
    }

    /// Registers an authority (platform operators only; checked by the caller).
    pub async fn create_authority(&self, la_code: LaCode, name: &str) -> Result<Authority> {
        if authority::Entity::find_by_id(la_code.to_string()).one(&self.db).await?.is_some() {
            return Err(Error::AlreadyExists(format!("authority {la_code} is already registered")));
        }
        let row = authority::ActiveModel {
            la_code: Set(la_code.to_string()),
            name: Set(name.to_owned()),
            created_at: Set(Utc::now()),
        }
        .insert(&self.db)
        .await
        .map_err(|e| on_unique(e, || Error::AlreadyExists(format!("authority {la_code} is already registered"))))?;
        convert::authority(row)
    }

    /// Every authority (platform operators only; checked by the caller).
    pub async fn list_authorities(&self) -> Result<Vec<Authority>> {
        authority::Entity::find()
            .order_by_asc(authority::Column::LaCode)
            .all(&self.read)
            .await?
            .into_iter()
            .map(convert::authority)
            .collect()
    }

    /// The caller's own authority, if registered.
    pub async fn own_authority(&self, tenant: &TenantScope) -> Result<Option<Authority>> {
        authority::Entity::find_by_id(tenant.key()).one(&self.read).await?.map(convert::authority).transpose()
    }
}
