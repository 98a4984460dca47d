//! The referrals service's audit trail, `audit_events`: who read which referral
//! (its concern, consent and timeline carry a child's needs), and which
//! requests were refused. Indexed as the other services' trails are: by
//! tenant and referral, and by tenant and id for paging newest first.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    LaCode,
    Person,
    Role,
    ReferralId,
    Action,
    Detail,
    At,
    TraceId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(ColumnDef::new(AuditEvents::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(AuditEvents::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(AuditEvents::Person).string().not_null())
                    .col(ColumnDef::new(AuditEvents::Role).string_len(32).not_null())
                    .col(ColumnDef::new(AuditEvents::ReferralId).integer().null())
                    .col(ColumnDef::new(AuditEvents::Action).string_len(48).not_null())
                    .col(ColumnDef::new(AuditEvents::Detail).text().not_null())
                    .col(ColumnDef::new(AuditEvents::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuditEvents::TraceId).string_len(32).null())
                    .to_owned(),
            )
            .await?;
        for (name, column) in
            [("ix_audit_events_referral", AuditEvents::ReferralId), ("ix_audit_events_tenant_id", AuditEvents::Id)]
        {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditEvents::Table)
                        .col(AuditEvents::LaCode)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditEvents::Table).to_owned()).await
    }
}
