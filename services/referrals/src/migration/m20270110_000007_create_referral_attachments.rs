//! `referral_attachments`: the documents a referral carries (an earlier report,
//! a therapy assessment, a scanned consent form), kept in the service's own
//! database with the authority's code like every table of tenant data, so a
//! backup, an erasure and the tenant walls cover them as they cover the
//! referral. The content is a BLOB on SQLite and `bytea` on PostgreSQL (at most
//! 10 MiB each, checked before writing). Indexed by (tenant, referral) for a
//! referral's list, and unique on (tenant, idempotency key) so a retried upload
//! stores one copy.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReferralAttachments {
    Table,
    Id,
    LaCode,
    ReferralId,
    FileName,
    Kind,
    SizeBytes,
    Sha256,
    Content,
    UploadedBy,
    UploadedByRole,
    UploadedAt,
    IdempotencyKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ReferralAttachments as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(ColumnDef::new(A::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(A::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(A::ReferralId).integer().not_null())
                    .col(ColumnDef::new(A::FileName).string_len(200).not_null())
                    .col(ColumnDef::new(A::Kind).string_len(8).not_null())
                    .col(ColumnDef::new(A::SizeBytes).big_integer().not_null())
                    .col(ColumnDef::new(A::Sha256).string_len(64).not_null())
                    .col(ColumnDef::new(A::Content).blob().not_null())
                    .col(ColumnDef::new(A::UploadedBy).string().not_null())
                    .col(ColumnDef::new(A::UploadedByRole).string_len(32).not_null())
                    .col(ColumnDef::new(A::UploadedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(A::IdempotencyKey).string_len(200).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_referral_attachments_referral")
                    .table(A::Table)
                    .col(A::LaCode)
                    .col(A::ReferralId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_referral_attachments_key")
                    .table(A::Table)
                    .col(A::LaCode)
                    .col(A::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ReferralAttachments::Table).to_owned()).await
    }
}
