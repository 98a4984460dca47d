//! What the reconciler needs: a claim on a pending case (who holds it, until
//! when), an index over the pending cases alone, and the service's audit trail.
//!
//! The claim is two nullable columns on `cases`, so every existing row starts
//! unclaimed. The partial index keeps the reconciler's look for old pending cases
//! cheap however many closed cases pile up; both engines support `WHERE` on an
//! index.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    ClaimedBy,
    ClaimedUntil,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    LaCode,
    Person,
    Role,
    CaseId,
    ReferralId,
    Action,
    Detail,
    At,
    TraceId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds a single column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(ColumnDef::new(Cases::ClaimedBy).string_len(80).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(ColumnDef::new(Cases::ClaimedUntil).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX ix_cases_pending ON cases (created_at) WHERE status = 'pending'")
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(ColumnDef::new(AuditEvents::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(AuditEvents::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(AuditEvents::Person).string().not_null())
                    .col(ColumnDef::new(AuditEvents::Role).string_len(32).not_null())
                    .col(ColumnDef::new(AuditEvents::CaseId).integer().null())
                    .col(ColumnDef::new(AuditEvents::ReferralId).big_integer().null())
                    .col(ColumnDef::new(AuditEvents::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditEvents::Detail).text().not_null())
                    .col(ColumnDef::new(AuditEvents::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuditEvents::TraceId).string_len(32).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_case")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::LaCode)
                    .col(AuditEvents::CaseId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditEvents::Table).to_owned()).await?;
        manager.get_connection().execute_unprepared("DROP INDEX ix_cases_pending").await?;
        for column in [Cases::ClaimedUntil, Cases::ClaimedBy] {
            manager.alter_table(Table::alter().table(Cases::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
