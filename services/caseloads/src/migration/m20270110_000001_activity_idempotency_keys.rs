//! A retried `RecordCaseActivity` records the work once: each activity may
//! carry the client's idempotency key, unique within the authority. The column
//! is nullable, so the activity already recorded (and any call without a key)
//! is untouched: a unique index lets any number of NULLs through on both
//! SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseActivities {
    Table,
    LaCode,
    IdempotencyKey,
}

const INDEX: &str = "ux_case_activities_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CaseActivities::Table)
                    .add_column(ColumnDef::new(CaseActivities::IdempotencyKey).string_len(200).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(CaseActivities::Table)
                    .col(CaseActivities::LaCode)
                    .col(CaseActivities::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(CaseActivities::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter().table(CaseActivities::Table).drop_column(CaseActivities::IdempotencyKey).to_owned(),
            )
            .await
    }
}
