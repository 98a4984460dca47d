//! `appeals`: mediation and appeals to the First-tier Tribunal (SEND), one row
//! per dispute of a pupil's family with the council (Children and Families Act
//! 2014, ss. 51–55). The response date is stored when the appeal is registered
//! (computed, or as the Tribunal's directions set it), never recomputed at read.
//!
//! `ux_appeals_key` makes a retried RecordAppeal find the first row;
//! `ix_appeals_pupil` serves a pupil's appeals, `ix_appeals_open` the council's
//! list of open appeals (those with no outcome).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Appeals {
    Table,
    Id,
    LaCode,
    PupilId,
    Ground,
    Sections,
    DecisionOn,
    MediationRequestedOn,
    MediationOn,
    MediationOutcome,
    CertificateIssuedOn,
    RegisteredOn,
    ResponseDue,
    ResponseDueGiven,
    ResponseSentOn,
    HearingOn,
    DecidedOn,
    Outcome,
    IdempotencyKey,
    Version,
    RecordedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Pupils {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Appeals::Table)
                    .col(ColumnDef::new(Appeals::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Appeals::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(Appeals::PupilId).integer().not_null())
                    .col(ColumnDef::new(Appeals::Ground).string_len(24).not_null())
                    .col(ColumnDef::new(Appeals::Sections).string_len(3).not_null())
                    .col(ColumnDef::new(Appeals::DecisionOn).date().not_null())
                    .col(ColumnDef::new(Appeals::MediationRequestedOn).date().null())
                    .col(ColumnDef::new(Appeals::MediationOn).date().null())
                    .col(ColumnDef::new(Appeals::MediationOutcome).string_len(24).null())
                    .col(ColumnDef::new(Appeals::CertificateIssuedOn).date().null())
                    .col(ColumnDef::new(Appeals::RegisteredOn).date().null())
                    .col(ColumnDef::new(Appeals::ResponseDue).date().null())
                    .col(ColumnDef::new(Appeals::ResponseDueGiven).boolean().not_null().default(false))
                    .col(ColumnDef::new(Appeals::ResponseSentOn).date().null())
                    .col(ColumnDef::new(Appeals::HearingOn).date().null())
                    .col(ColumnDef::new(Appeals::DecidedOn).date().null())
                    .col(ColumnDef::new(Appeals::Outcome).string_len(24).null())
                    .col(ColumnDef::new(Appeals::IdempotencyKey).string_len(100).not_null())
                    .col(ColumnDef::new(Appeals::Version).big_integer().not_null())
                    .col(ColumnDef::new(Appeals::RecordedBy).string().not_null())
                    .col(ColumnDef::new(Appeals::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Appeals::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_appeals_pupil")
                            .from(Appeals::Table, Appeals::PupilId)
                            .to(Pupils::Table, Pupils::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_appeals_key")
                    .table(Appeals::Table)
                    .col(Appeals::LaCode)
                    .col(Appeals::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_appeals_pupil")
                    .table(Appeals::Table)
                    .col(Appeals::LaCode)
                    .col(Appeals::PupilId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_appeals_open")
                    .table(Appeals::Table)
                    .col(Appeals::LaCode)
                    .col(Appeals::Outcome)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Appeals::Table).to_owned()).await
    }
}
