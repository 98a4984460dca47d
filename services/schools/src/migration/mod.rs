//! Schema migrations of the schools service, run at start. The migration table is
//! named for the service, so several services may share one database if an
//! operator chooses.

use sea_orm_migration::prelude::*;

mod m20261124_000001_create_schools;
mod m20261205_000001_create_gias_areas;
mod m20270114_000001_npq_senco_deadlines;

/// The schools service's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_schools::Migration),
            Box::new(m20261205_000001_create_gias_areas::Migration),
            Box::new(m20270114_000001_npq_senco_deadlines::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_schools").into_iden()
    }
}
