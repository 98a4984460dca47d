//! `ix_ehcps_post16_moves` (tenant, day of the move) over the few plans with
//! a post-16 move recorded: the phase-transfer list reads the plans whose
//! move is still to come through it, instead of every active plan of the
//! authority (Kent: none of 20,600, 0.1 ms instead of 3 ms at England's
//! scale; docs/PERFORMANCE.md, "The transfers' reads").

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CREATE: &str =
    "CREATE INDEX ix_ehcps_post16_moves ON ehcps (la_code, post16_move_on) WHERE post16_move_on IS NOT NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(CREATE).await.map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP INDEX ix_ehcps_post16_moves").await.map(|_| ())
    }
}
