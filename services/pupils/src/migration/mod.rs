//! Schema migrations of the pupils service, run at start, tracked in the
//! service's own migration table.

use sea_orm_migration::prelude::*;

mod m20261124_000001_create_pupils;
mod m20261222_000002_index_tenant_lists;
mod m20261230_000003_audit_detail;
mod m20270105_000004_create_erasures;
mod m20270108_000005_register_tallies;
mod m20270112_000006_index_pupils_by_name;
mod m20270120_000007_transfer_outcomes;
mod m20270201_000008_review_outcomes;
mod m20270207_000008_plan_registrations;
mod m20270210_000009_appeals;
mod m20270301_000010_need_types;
mod m20270310_000011_index_post16_moves;

/// The pupils service's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_pupils::Migration),
            Box::new(m20261222_000002_index_tenant_lists::Migration),
            Box::new(m20261230_000003_audit_detail::Migration),
            Box::new(m20270105_000004_create_erasures::Migration),
            Box::new(m20270108_000005_register_tallies::Migration),
            Box::new(m20270112_000006_index_pupils_by_name::Migration),
            Box::new(m20270120_000007_transfer_outcomes::Migration),
            Box::new(m20270201_000008_review_outcomes::Migration),
            Box::new(m20270207_000008_plan_registrations::Migration),
            Box::new(m20270210_000009_appeals::Migration),
            Box::new(m20270301_000010_need_types::Migration),
            Box::new(m20270310_000011_index_post16_moves::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_pupils").into_iden()
    }
}
