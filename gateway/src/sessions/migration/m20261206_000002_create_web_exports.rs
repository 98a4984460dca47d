//! The record of every list exported from the web pages: who, which list, with
//! which filters, in which format, and how many rows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebExports {
    Table,
    Id,
    Person,
    Role,
    Tenant,
    School,
    List,
    Format,
    Filters,
    StartedAt,
    FinishedAt,
    Rows,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebExports::Table)
                    .col(ColumnDef::new(WebExports::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(WebExports::Person).string().not_null())
                    .col(ColumnDef::new(WebExports::Role).string_len(32).not_null())
                    .col(ColumnDef::new(WebExports::Tenant).string_len(3).null())
                    .col(ColumnDef::new(WebExports::School).string_len(8).null())
                    .col(ColumnDef::new(WebExports::List).string_len(64).not_null())
                    .col(ColumnDef::new(WebExports::Format).string_len(8).not_null())
                    .col(ColumnDef::new(WebExports::Filters).text().not_null())
                    // Seconds since the Unix epoch (UTC), as the sessions' times.
                    .col(ColumnDef::new(WebExports::StartedAt).big_integer().not_null())
                    .col(ColumnDef::new(WebExports::FinishedAt).big_integer().null())
                    .col(ColumnDef::new(WebExports::Rows).big_integer().null())
                    .to_owned(),
            )
            .await?;
        // An authority's exports are read by authority, newest first.
        manager
            .create_index(
                Index::create()
                    .name("web_exports_tenant_started_at")
                    .table(WebExports::Table)
                    .col(WebExports::Tenant)
                    .col(WebExports::StartedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WebExports::Table).to_owned()).await
    }
}
