//! The sessions recorded in a term, read from the index alone: activity
//! (tenant, day, case, sessions) replaces activity (tenant, day).
//!
//! The caseload balance (the overview, the dashboard, the professionals page)
//! sums each professional's sessions this term over their active cases. With
//! (tenant, day) alone PostgreSQL looked up each active case's activity and
//! its rows (Kent: 4,469 cases, 18,351 buffers, 19 ms in three processes);
//! with the case and sessions in the index it reads the term's entries from
//! the index and joins them to the cases (412 buffers, 5 ms in one).
//! Every query the old index served (a term's activity, the time-allocation
//! model's days) is served by this one's leading columns.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseActivities {
    Table,
    LaCode,
    On,
    CaseId,
    Sessions,
}

const BY_DAY: &str = "ix_case_activities_on";
const SESSIONS_BY_DAY: &str = "ix_case_activities_on_sessions";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(SESSIONS_BY_DAY)
                    .table(CaseActivities::Table)
                    .col(CaseActivities::LaCode)
                    .col(CaseActivities::On)
                    .col(CaseActivities::CaseId)
                    .col(CaseActivities::Sessions)
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(BY_DAY).table(CaseActivities::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(BY_DAY)
                    .table(CaseActivities::Table)
                    .col(CaseActivities::LaCode)
                    .col(CaseActivities::On)
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(SESSIONS_BY_DAY).table(CaseActivities::Table).to_owned()).await
    }
}
