//! Schema migrations of the referrals service, run at start, tracked in the
//! service's own migration table.

use sea_orm_migration::prelude::*;

mod m20261124_000001_create_referrals;
mod m20261124_000002_create_referral_changes;
mod m20261201_000003_one_open_ehc_request_per_pupil;
mod m20261215_000004_keep_referral_changes;
mod m20261222_000005_page_referrals_by_tenant;
mod m20261230_000006_create_audit_events;
mod m20270110_000007_create_referral_attachments;
mod m20270112_000008_index_referrals_by_day;
mod m20270206_000009_requests_drafts_and_exceptions;
mod m20270207_000010_register_changes;
mod m20270214_000011_referral_tallies;

/// The referrals service's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_referrals::Migration),
            Box::new(m20261124_000002_create_referral_changes::Migration),
            Box::new(m20261201_000003_one_open_ehc_request_per_pupil::Migration),
            Box::new(m20261215_000004_keep_referral_changes::Migration),
            Box::new(m20261222_000005_page_referrals_by_tenant::Migration),
            Box::new(m20261230_000006_create_audit_events::Migration),
            Box::new(m20270110_000007_create_referral_attachments::Migration),
            Box::new(m20270112_000008_index_referrals_by_day::Migration),
            Box::new(m20270206_000009_requests_drafts_and_exceptions::Migration),
            Box::new(m20270207_000010_register_changes::Migration),
            Box::new(m20270214_000011_referral_tallies::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_referrals").into_iden()
    }
}
