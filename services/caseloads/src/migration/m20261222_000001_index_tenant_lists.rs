//! Indexes so that at national scale (England: about a million activities a
//! year, 40,000 school links) the pages read one authority's rows, not every
//! authority's:
//!
//! - activity (tenant, case): a case's activity, on the case page and the caseload;
//! - activity (tenant, day): the sessions recorded in a term, behind the caseload
//!   balance (dashboard, professionals page) and the time-allocation model;
//! - school links (tenant, professional): the professionals with their link
//!   schools, behind the same pages and the allocation suggestions.
//!
//! `tests/tests/query_plans.rs` found each as a sequential scan.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseActivities {
    Table,
    LaCode,
    CaseId,
    On,
}

#[derive(DeriveIden)]
enum SchoolLinks {
    Table,
    LaCode,
    ProfessionalId,
}

const BY_CASE: &str = "ix_case_activities_case";
const BY_DAY: &str = "ix_case_activities_on";
const LINKS: &str = "ix_school_links_tenant";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(BY_CASE)
                    .table(CaseActivities::Table)
                    .col(CaseActivities::LaCode)
                    .col(CaseActivities::CaseId)
                    .to_owned(),
            )
            .await?;
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
        manager
            .create_index(
                Index::create()
                    .name(LINKS)
                    .table(SchoolLinks::Table)
                    .col(SchoolLinks::LaCode)
                    .col(SchoolLinks::ProfessionalId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(LINKS).table(SchoolLinks::Table).to_owned()).await?;
        for name in [BY_DAY, BY_CASE] {
            manager.drop_index(Index::drop().name(name).table(CaseActivities::Table).to_owned()).await?;
        }
        Ok(())
    }
}
