//! Referrals and their timeline.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Referrals {
    Table,
    Id,
    LaCode,
    PupilId,
    SchoolUrn,
    Kind,
    BroadAreas,
    Concern,
    TriedSummary,
    SupportCycleIds,
    ProvisionIds,
    ConsentGivenBy,
    ConsentGivenOn,
    ConsentMethod,
    Priority,
    Status,
    SubmittedOn,
    SubmittedBy,
    AllocatedTo,
    CaseRef,
    Outcome,
    IdempotencyKey,
    Fingerprint,
    DecisionDue,
    NoPlanNoticeDue,
    FinalPlanDue,
    AssessmentDecision,
    AssessmentDecisionOn,
    PlanDecision,
    PlanDecisionOn,
    FinalPlanIssuedOn,
    ClockException,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReferralEvents {
    Table,
    Id,
    LaCode,
    ReferralId,
    At,
    By,
    ByRole,
    FromStatus,
    ToStatus,
    Note,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let text = |col: Referrals| ColumnDef::new(col).text().not_null().to_owned();
        let string = |col: Referrals| ColumnDef::new(col).string().not_null().to_owned();
        let maybe_date = |col: Referrals| ColumnDef::new(col).date().null().to_owned();
        let maybe_string = |col: Referrals| ColumnDef::new(col).string().null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(Referrals::Table)
                    .col(ColumnDef::new(Referrals::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Referrals::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(Referrals::PupilId).big_integer().not_null())
                    .col(ColumnDef::new(Referrals::SchoolUrn).integer().not_null())
                    .col(string(Referrals::Kind))
                    .col(string(Referrals::BroadAreas))
                    .col(text(Referrals::Concern))
                    .col(text(Referrals::TriedSummary))
                    .col(text(Referrals::SupportCycleIds))
                    .col(text(Referrals::ProvisionIds))
                    .col(string(Referrals::ConsentGivenBy))
                    .col(ColumnDef::new(Referrals::ConsentGivenOn).date().not_null())
                    .col(string(Referrals::ConsentMethod))
                    .col(string(Referrals::Priority))
                    .col(string(Referrals::Status))
                    .col(ColumnDef::new(Referrals::SubmittedOn).date().not_null())
                    .col(string(Referrals::SubmittedBy))
                    .col(maybe_string(Referrals::AllocatedTo))
                    .col(maybe_string(Referrals::CaseRef))
                    .col(ColumnDef::new(Referrals::Outcome).text().null())
                    .col(string(Referrals::IdempotencyKey))
                    .col(text(Referrals::Fingerprint))
                    .col(maybe_date(Referrals::DecisionDue))
                    .col(maybe_date(Referrals::NoPlanNoticeDue))
                    .col(maybe_date(Referrals::FinalPlanDue))
                    .col(maybe_string(Referrals::AssessmentDecision))
                    .col(maybe_date(Referrals::AssessmentDecisionOn))
                    .col(maybe_string(Referrals::PlanDecision))
                    .col(maybe_date(Referrals::PlanDecisionOn))
                    .col(maybe_date(Referrals::FinalPlanIssuedOn))
                    .col(maybe_string(Referrals::ClockException))
                    .col(ColumnDef::new(Referrals::Version).big_integer().not_null())
                    .col(ColumnDef::new(Referrals::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Referrals::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        // The idempotency key is unique per tenant: of many parallel submits with
        // one key, exactly one insert succeeds and the rest find it.
        manager
            .create_index(
                Index::create()
                    .name("ux_referrals_idempotency")
                    .table(Referrals::Table)
                    .col(Referrals::LaCode)
                    .col(Referrals::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_referrals_school")
                    .table(Referrals::Table)
                    .col(Referrals::LaCode)
                    .col(Referrals::SchoolUrn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReferralEvents::Table)
                    .col(ColumnDef::new(ReferralEvents::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(ReferralEvents::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(ReferralEvents::ReferralId).integer().not_null())
                    .col(ColumnDef::new(ReferralEvents::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ReferralEvents::By).string().not_null())
                    .col(ColumnDef::new(ReferralEvents::ByRole).string_len(32).not_null())
                    .col(ColumnDef::new(ReferralEvents::FromStatus).string_len(16).null())
                    .col(ColumnDef::new(ReferralEvents::ToStatus).string_len(16).not_null())
                    .col(ColumnDef::new(ReferralEvents::Note).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_referral_events_referral")
                            .from(ReferralEvents::Table, ReferralEvents::ReferralId)
                            .to(Referrals::Table, Referrals::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_referral_events_referral")
                    .table(ReferralEvents::Table)
                    .col(ReferralEvents::LaCode)
                    .col(ReferralEvents::ReferralId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ReferralEvents::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Referrals::Table).to_owned()).await
    }
}
