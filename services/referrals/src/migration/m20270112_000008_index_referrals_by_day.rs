//! Indexes for the lists behind the dashboard's referral figures, so that an
//! authority's referrals of one month, or its final plans of one year, are read
//! through their days rather than by walking every referral of the authority:
//!
//! - `ix_referrals_tenant_submitted` (tenant, day submitted): the referrals
//!   submitted in a month (a bar of "referrals per month");
//! - `ix_referrals_plans_issued` (tenant, day the final plan was issued), over
//!   the requests whose final plan has been issued only: the plans behind the
//!   20-week timeliness figure and its monthly bars.
//!
//! `tests/tests/query_plans.rs` opens both lists at national scale. The partial
//! index reads the same in SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Referrals {
    Table,
    LaCode,
    SubmittedOn,
}

const SUBMITTED: &str = "ix_referrals_tenant_submitted";
const PLANS_ISSUED: &str = "ix_referrals_plans_issued";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(SUBMITTED)
                    .table(Referrals::Table)
                    .col(Referrals::LaCode)
                    .col(Referrals::SubmittedOn)
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {PLANS_ISSUED} ON referrals (la_code, final_plan_issued_on) \
                 WHERE final_plan_issued_on IS NOT NULL"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(&format!("DROP INDEX {PLANS_ISSUED}")).await?;
        manager.drop_index(Index::drop().name(SUBMITTED).table(Referrals::Table).to_owned()).await
    }
}
