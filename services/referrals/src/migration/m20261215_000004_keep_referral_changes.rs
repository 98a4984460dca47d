//! Resumable watches: the outbox of changes (`referral_changes`) becomes the
//! feed's record on both engines, each row's id its position, and
//! `referral_change_horizon` remembers up to which position changes have been
//! forgotten (deleted after the retention, see `crate::feed`), so that a watcher
//! resuming from an older position is told it missed changes rather than given
//! a stream with a hole in it. One row, id 1.
//!
//! On a database that already holds changes, the positions below the oldest
//! kept one count as forgotten: the outbox deleted old rows before.
//!
//! Also an index on (tenant, position), the order a watcher's replay reads.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReferralChangeHorizon {
    Table,
    Id,
    ForgottenThrough,
}

#[derive(DeriveIden)]
enum ReferralChanges {
    Table,
    Id,
    LaCode,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReferralChangeHorizon::Table)
                    .col(ColumnDef::new(ReferralChangeHorizon::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(ReferralChangeHorizon::ForgottenThrough).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let horizon = "INSERT INTO referral_change_horizon (id, forgotten_through) \
                       SELECT 1, COALESCE(MIN(id) - 1, 0) FROM referral_changes";
        db.execute(Statement::from_string(db.get_database_backend(), horizon)).await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_referral_changes_la_code_id")
                    .table(ReferralChanges::Table)
                    .col(ReferralChanges::LaCode)
                    .col(ReferralChanges::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_referral_changes_la_code_id").table(ReferralChanges::Table).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(ReferralChangeHorizon::Table).to_owned()).await
    }
}
