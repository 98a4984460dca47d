//! The outbox of committed changes: on PostgreSQL each change is written here in
//! its own transaction and announced with `NOTIFY`, so watchers on every replica
//! hear of it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReferralChanges {
    Table,
    Id,
    LaCode,
    SchoolUrn,
    AllocatedTo,
    Message,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReferralChanges::Table)
                    .col(ColumnDef::new(ReferralChanges::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(ReferralChanges::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(ReferralChanges::SchoolUrn).integer().not_null())
                    .col(ColumnDef::new(ReferralChanges::AllocatedTo).string().null())
                    .col(ColumnDef::new(ReferralChanges::Message).binary().not_null())
                    .col(ColumnDef::new(ReferralChanges::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        // Old changes are deleted by age.
        manager
            .create_index(
                Index::create()
                    .name("ix_referral_changes_created_at")
                    .table(ReferralChanges::Table)
                    .col(ReferralChanges::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ReferralChanges::Table).to_owned()).await
    }
}
