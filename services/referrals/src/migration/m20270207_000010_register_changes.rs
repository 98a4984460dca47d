//! `register_changes`: the outbox of the SEN register's side of final EHC plans
//! (see `crate::entity::register_change`). One row per request (unique), and an
//! index over the pending ones for the background task that finishes them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RegisterChanges {
    Table,
    Id,
    LaCode,
    ReferralId,
    PupilId,
    IssuedOn,
    State,
    Note,
    Attempts,
    ClaimedBy,
    ClaimedUntil,
    CreatedAt,
    FinishedAt,
}

const ONE_PER_REQUEST: &str = "ux_register_changes_referral";
const PENDING: &str = "ix_register_changes_state";
const BY_PUPIL: &str = "ix_register_changes_pupil";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RegisterChanges as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(ColumnDef::new(R::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(R::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(R::ReferralId).integer().not_null())
                    .col(ColumnDef::new(R::PupilId).big_integer().not_null())
                    .col(ColumnDef::new(R::IssuedOn).date().not_null())
                    .col(ColumnDef::new(R::State).string_len(20).not_null())
                    .col(ColumnDef::new(R::Note).text().null())
                    .col(ColumnDef::new(R::Attempts).integer().not_null().default(0))
                    .col(ColumnDef::new(R::ClaimedBy).string_len(100).null())
                    .col(ColumnDef::new(R::ClaimedUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(R::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(R::FinishedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name(ONE_PER_REQUEST).table(R::Table).col(R::ReferralId).unique().to_owned())
            .await?;
        manager.create_index(Index::create().name(PENDING).table(R::Table).col(R::State).to_owned()).await?;
        manager
            .create_index(Index::create().name(BY_PUPIL).table(R::Table).col(R::LaCode).col(R::PupilId).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RegisterChanges::Table).to_owned()).await
    }
}
