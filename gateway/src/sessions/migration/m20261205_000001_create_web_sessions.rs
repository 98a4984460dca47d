//! Web sessions: one row per sign-in, found by a digest of its id.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebSessions {
    Table,
    IdDigest,
    Person,
    Role,
    Tenant,
    School,
    KeyId,
    CreatedAt,
    ExpiresAt,
    CheckedAt,
    EndedAt,
    EndedReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebSessions::Table)
                    .col(ColumnDef::new(WebSessions::IdDigest).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(WebSessions::Person).string().not_null())
                    .col(ColumnDef::new(WebSessions::Role).string_len(32).not_null())
                    .col(ColumnDef::new(WebSessions::Tenant).string_len(3).null())
                    .col(ColumnDef::new(WebSessions::School).string_len(8).null())
                    .col(ColumnDef::new(WebSessions::KeyId).string_len(32).not_null())
                    // Seconds since the Unix epoch (UTC): compared as numbers on both engines.
                    .col(ColumnDef::new(WebSessions::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(WebSessions::ExpiresAt).big_integer().not_null())
                    .col(ColumnDef::new(WebSessions::CheckedAt).big_integer().not_null())
                    .col(ColumnDef::new(WebSessions::EndedAt).big_integer().null())
                    .col(ColumnDef::new(WebSessions::EndedReason).string_len(32).null())
                    .to_owned(),
            )
            .await?;
        // Ending a person's sessions finds them by person.
        manager
            .create_index(
                Index::create()
                    .name("web_sessions_person")
                    .table(WebSessions::Table)
                    .col(WebSessions::Person)
                    .col(WebSessions::Tenant)
                    .to_owned(),
            )
            .await?;
        // Old rows are cleared by their expiry.
        manager
            .create_index(
                Index::create()
                    .name("web_sessions_expires_at")
                    .table(WebSessions::Table)
                    .col(WebSessions::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WebSessions::Table).to_owned()).await
    }
}
