//! Indexes for two lists an authority pages through by id, so that at national
//! scale (England: 2.5 million support cycles, and an audit log growing by
//! every read of a pupil's record) neither walks every authority's rows in id
//! order to find one authority's page:
//!
//! - support cycles awaiting review (tenant, id), over the cycles not yet
//!   reviewed only: the list of reviews overdue;
//! - the audit log (tenant, id): newest first, a manager's view of it.
//!
//! `tests/tests/query_plans.rs` found both reading other authorities' rows
//! through the primary key and discarding them. The partial index reads the
//! same in SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    LaCode,
    Id,
}

const OPEN_CYCLES: &str = "ix_support_cycles_unreviewed";
const AUDIT: &str = "ix_audit_events_tenant_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {OPEN_CYCLES} ON support_cycles (la_code, id) WHERE reviewed_on IS NULL"
            ))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(AUDIT)
                    .table(AuditEvents::Table)
                    .col(AuditEvents::LaCode)
                    .col(AuditEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(AUDIT).table(AuditEvents::Table).to_owned()).await?;
        manager.get_connection().execute_unprepared(&format!("DROP INDEX {OPEN_CYCLES}")).await?;
        Ok(())
    }
}
