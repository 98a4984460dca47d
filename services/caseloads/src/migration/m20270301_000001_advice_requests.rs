//! `advice_requests`: each request for advice in an EHC needs assessment
//! (reg. 6(1)), with the day it was asked for, its due date 6 weeks on
//! (reg. 8(1)) and the day it came in.
//!
//! One request per EHC request, kind and person asked: a retried record finds
//! the first instead of asking twice, on both engines. The late-advice list
//! reads one authority's rows by due date.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AdviceRequests {
    Table,
    Id,
    LaCode,
    ReferralId,
    PupilId,
    SchoolUrn,
    Kind,
    FromWhom,
    ProfessionalId,
    AskedOn,
    DueOn,
    ReceivedOn,
    RecordedBy,
    CreatedAt,
    UpdatedAt,
}

const ONE_A_PERSON: &str = "ux_advice_requests_asked";
const BY_DUE: &str = "ix_advice_requests_due";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AdviceRequests::Table)
                    .col(ColumnDef::new(AdviceRequests::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(AdviceRequests::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(AdviceRequests::ReferralId).big_integer().not_null())
                    .col(ColumnDef::new(AdviceRequests::PupilId).big_integer().not_null())
                    .col(ColumnDef::new(AdviceRequests::SchoolUrn).integer().not_null())
                    .col(ColumnDef::new(AdviceRequests::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(AdviceRequests::FromWhom).string_len(200).not_null())
                    .col(ColumnDef::new(AdviceRequests::ProfessionalId).integer().null())
                    .col(ColumnDef::new(AdviceRequests::AskedOn).date().not_null())
                    .col(ColumnDef::new(AdviceRequests::DueOn).date().not_null())
                    .col(ColumnDef::new(AdviceRequests::ReceivedOn).date().null())
                    .col(ColumnDef::new(AdviceRequests::RecordedBy).string().not_null())
                    .col(ColumnDef::new(AdviceRequests::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AdviceRequests::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(ONE_A_PERSON)
                    .table(AdviceRequests::Table)
                    .col(AdviceRequests::LaCode)
                    .col(AdviceRequests::ReferralId)
                    .col(AdviceRequests::Kind)
                    .col(AdviceRequests::FromWhom)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(BY_DUE)
                    .table(AdviceRequests::Table)
                    .col(AdviceRequests::LaCode)
                    .col(AdviceRequests::DueOn)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AdviceRequests::Table).to_owned()).await
    }
}
