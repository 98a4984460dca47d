//! Schema migrations of the caseloads service, run at start, tracked in the
//! service's own migration table.

use sea_orm_migration::prelude::*;

mod m20261124_000001_create_caseloads;
mod m20261201_000001_claim_pending_allocations;
mod m20261222_000001_index_tenant_lists;
mod m20270110_000001_activity_idempotency_keys;
mod m20270301_000001_advice_requests;
mod m20270310_000001_index_sessions_by_day;

/// The caseloads service's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_caseloads::Migration),
            Box::new(m20261201_000001_claim_pending_allocations::Migration),
            Box::new(m20261222_000001_index_tenant_lists::Migration),
            Box::new(m20270110_000001_activity_idempotency_keys::Migration),
            Box::new(m20270301_000001_advice_requests::Migration),
            Box::new(m20270310_000001_index_sessions_by_day::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_caseloads").into_iden()
    }
}
