//! Schema migrations of the pupils service, run at start, tracked in the
//! service's own migration table.

use sea_orm_migration::prelude::*;

mod m20261124_000001_create_pupils;
mod m20261222_000002_index_tenant_lists;

/// The pupils service's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_pupils::Migration),
            Box::new(m20261222_000002_index_tenant_lists::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_pupils").into_iden()
    }
}
