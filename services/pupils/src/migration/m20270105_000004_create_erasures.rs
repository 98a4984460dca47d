//! `erasures`: the pupils whose erasure at the end of their retention period has
//! begun and not yet finished (see `crate::entity::erasure`). The unique pupil
//! keeps a pupil from being marked twice by two passes at once.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Erasures {
    Table,
    Id,
    LaCode,
    PupilId,
    BegunAt,
    ClaimedBy,
    ClaimedUntil,
}

const ONE_PER_PUPIL: &str = "ux_erasures_pupil";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Erasures::Table)
                    .col(ColumnDef::new(Erasures::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Erasures::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(Erasures::PupilId).integer().not_null())
                    .col(ColumnDef::new(Erasures::BegunAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Erasures::ClaimedBy).string_len(100).null())
                    .col(ColumnDef::new(Erasures::ClaimedUntil).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name(ONE_PER_PUPIL).table(Erasures::Table).col(Erasures::PupilId).unique().to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Erasures::Table).to_owned()).await
    }
}
