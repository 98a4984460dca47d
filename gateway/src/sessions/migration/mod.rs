//! Schema migrations of the gateway's session store, run when the gateway
//! starts. The migration table is named for the gateway, so the store may share
//! a database with a service's tables if an operator chooses.

use sea_orm_migration::prelude::*;

mod m20261205_000001_create_web_sessions;
mod m20261206_000002_create_web_exports;

/// The session store's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261205_000001_create_web_sessions::Migration),
            Box::new(m20261206_000002_create_web_exports::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_gateway").into_iden()
    }
}
