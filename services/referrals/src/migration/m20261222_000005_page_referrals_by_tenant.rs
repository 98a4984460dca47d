//! An index on (tenant, id): the referrals list pages through an authority's
//! referrals newest first (`ORDER BY id DESC`, keyset on the id), whatever the
//! filters. Without it, at national scale PostgreSQL walked the primary key
//! backwards through every other authority's referrals to find one authority's
//! first page (England: 600,000 referrals, the largest authority 3 % of them).
//! `tests/tests/query_plans.rs` found it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Referrals {
    Table,
    LaCode,
    Id,
}

const NAME: &str = "ix_referrals_tenant_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create().name(NAME).table(Referrals::Table).col(Referrals::LaCode).col(Referrals::Id).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NAME).table(Referrals::Table).to_owned()).await
    }
}
