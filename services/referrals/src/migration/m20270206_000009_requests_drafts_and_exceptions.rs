//! What the statutory clock records beyond the SENCO's referral (SEN and
//! Disability Regulations 2014):
//!
//! - `referrals.requester`, `referrals.received_via`, `referrals.requester_name`:
//!   who made a request for an EHC needs assessment and how it reached the
//!   council (s. 36(1) Children and Families Act 2014; reg. 3). Rows stored before
//!   stay without them and read as a school's request made through the referral
//!   form, which is what every earlier request was;
//! - `referrals.draft_plan_sent_on`, `referrals.consultation_ends_on`: the draft
//!   plan sent, and the last day of the parent's or young person's period to
//!   comment and name a school (reg. 13(1));
//! - `referrals.clock_exception_on`, `referrals.clock_exception_note`: the day an
//!   exception to the time limits arose and the council's note of it (reg. 10(4)).
//!
//! Every column is nullable, so existing rows keep their meaning.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Referrals {
    Table,
    Requester,
    ReceivedVia,
    RequesterName,
    DraftPlanSentOn,
    ConsultationEndsOn,
    ClockExceptionOn,
    ClockExceptionNote,
}

fn columns() -> [ColumnDef; 7] {
    [
        ColumnDef::new(Referrals::Requester).string_len(20).null().to_owned(),
        ColumnDef::new(Referrals::ReceivedVia).string_len(20).null().to_owned(),
        ColumnDef::new(Referrals::RequesterName).string_len(200).null().to_owned(),
        ColumnDef::new(Referrals::DraftPlanSentOn).date().null().to_owned(),
        ColumnDef::new(Referrals::ConsultationEndsOn).date().null().to_owned(),
        ColumnDef::new(Referrals::ClockExceptionOn).date().null().to_owned(),
        ColumnDef::new(Referrals::ClockExceptionNote).text().null().to_owned(),
    ]
}

const NAMES: [Referrals; 7] = [
    Referrals::Requester,
    Referrals::ReceivedVia,
    Referrals::RequesterName,
    Referrals::DraftPlanSentOn,
    Referrals::ConsultationEndsOn,
    Referrals::ClockExceptionOn,
    Referrals::ClockExceptionNote,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        for mut column in columns() {
            manager.alter_table(Table::alter().table(Referrals::Table).add_column(&mut column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in NAMES.into_iter().rev() {
            manager.alter_table(Table::alter().table(Referrals::Table).drop_column(name).to_owned()).await?;
        }
        Ok(())
    }
}
