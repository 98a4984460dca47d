//! `plan_registrations`: the final EHC plans the referrals service has told the
//! register about (see `crate::entity::plan_registration`). The unique index on
//! the authority and the request makes a registration happen once, whichever of
//! two attempts at once commits first.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PlanRegistrations {
    Table,
    Id,
    LaCode,
    ReferralId,
    PupilId,
    IssuedOn,
    Outcome,
    SenStatus,
    RecordedBy,
    RecordedAt,
}

const ONE_PER_REQUEST: &str = "ux_plan_registrations_referral";
const BY_PUPIL: &str = "ix_plan_registrations_pupil";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PlanRegistrations as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(ColumnDef::new(P::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(P::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(P::ReferralId).big_integer().not_null())
                    .col(ColumnDef::new(P::PupilId).integer().not_null())
                    .col(ColumnDef::new(P::IssuedOn).date().not_null())
                    .col(ColumnDef::new(P::Outcome).string_len(30).not_null())
                    .col(ColumnDef::new(P::SenStatus).string_len(1).not_null())
                    .col(ColumnDef::new(P::RecordedBy).string_len(200).not_null())
                    .col(ColumnDef::new(P::RecordedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(ONE_PER_REQUEST)
                    .table(P::Table)
                    .col(P::LaCode)
                    .col(P::ReferralId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name(BY_PUPIL).table(P::Table).col(P::LaCode).col(P::PupilId).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PlanRegistrations::Table).to_owned()).await
    }
}
