//! What an annual review's decision led to (SEN and Disability Regulations 2014,
//! regs. 20(10), 22 and 31; Children and Families Act 2014, s. 45):
//!
//! - `annual_reviews.amendments_proposed_on`: the day the council sent the plan
//!   with its proposed amendments (reg. 22(2)(a));
//! - `annual_reviews.amended_plan_issued_on`: the day it issued the amended plan;
//! - `annual_reviews.amended_plan_due`: the earlier of 8 weeks after the proposal
//!   (reg. 22(3)) and 12 weeks after the meeting, recomputed by the domain rule on
//!   every write so the list of late amendments filters on it in SQL
//!   (`ix_annual_reviews_amendments_due`, over the reviews that amend a plan);
//! - `annual_reviews.cease_reason`, `ceased_on`, `ceased_to`: why the plan ended
//!   (the SEN2 return's CeaseReason code, 1–9), the day it did, and the status
//!   (K or N) the pupil moved to.
//!
//! Reviews already stored stay as they were: none has a proposal or a cessation;
//! those that decided to amend get their due date, 12 weeks after the meeting.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AnnualReviews {
    Table,
    AmendmentsProposedOn,
    AmendedPlanIssuedOn,
    AmendedPlanDue,
    CeaseReason,
    CeasedOn,
    CeasedTo,
}

const AMENDMENTS_DUE: &str = "ix_annual_reviews_amendments_due";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        let columns = [
            ColumnDef::new(AnnualReviews::AmendmentsProposedOn).date().null().to_owned(),
            ColumnDef::new(AnnualReviews::AmendedPlanIssuedOn).date().null().to_owned(),
            ColumnDef::new(AnnualReviews::AmendedPlanDue).date().null().to_owned(),
            ColumnDef::new(AnnualReviews::CeaseReason).small_integer().null().to_owned(),
            ColumnDef::new(AnnualReviews::CeasedOn).date().null().to_owned(),
            ColumnDef::new(AnnualReviews::CeasedTo).string_len(1).null().to_owned(),
        ];
        for mut column in columns {
            manager.alter_table(Table::alter().table(AnnualReviews::Table).add_column(&mut column).to_owned()).await?;
        }
        let db = manager.get_connection();
        // 84 days after the meeting, spelled for each engine.
        let backfill = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                "UPDATE annual_reviews SET amended_plan_due = meeting_on + 84 WHERE decision = 'amend'"
            }
            _ => "UPDATE annual_reviews SET amended_plan_due = date(meeting_on, '+84 days') WHERE decision = 'amend'",
        };
        db.execute_unprepared(backfill).await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX {AMENDMENTS_DUE} ON annual_reviews (la_code, amended_plan_due) WHERE decision = 'amend'"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(AMENDMENTS_DUE).table(AnnualReviews::Table).to_owned()).await?;
        let columns = [
            AnnualReviews::CeasedTo,
            AnnualReviews::CeasedOn,
            AnnualReviews::CeaseReason,
            AnnualReviews::AmendedPlanDue,
            AnnualReviews::AmendedPlanIssuedOn,
            AnnualReviews::AmendmentsProposedOn,
        ];
        for column in columns {
            manager.alter_table(Table::alter().table(AnnualReviews::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
