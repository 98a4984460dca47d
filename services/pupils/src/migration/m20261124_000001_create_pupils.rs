//! Pupils, their history, SEN support, provision, EHCPs, annual reviews, case
//! access grants and the audit log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Pupils {
    Table,
    Id,
    LaCode,
    Upn,
    LegalForename,
    LegalSurname,
    PreferredForename,
    PreferredSurname,
    DateOfBirth,
    BirthCohort,
    NcYearOverride,
    SchoolUrn,
    SenStatus,
    PrimaryNeed,
    SecondaryNeed,
    LookedAfter,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PupilHistory {
    Table,
    Id,
    LaCode,
    PupilId,
    Kind,
    EffectiveOn,
    SenStatus,
    PrimaryNeed,
    SecondaryNeed,
    SchoolUrn,
    Reason,
    ChangedBy,
    ChangedByRole,
    RecordedAt,
}

#[derive(DeriveIden)]
enum SupportCycles {
    Table,
    Id,
    LaCode,
    PupilId,
    StartedOn,
    OutcomesSought,
    PlannedProvision,
    ReviewDue,
    ReviewedOn,
    Outcome,
    ReviewNotes,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Provisions {
    Table,
    Id,
    LaCode,
    PupilId,
    ProvisionType,
    Provider,
    MinutesPerWeek,
    StartOn,
    EndOn,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Ehcps {
    Table,
    Id,
    LaCode,
    PupilId,
    IssuedOn,
    NamedSetting,
    Status,
    CeasedOn,
    CeasedReason,
    LastReviewOn,
    NextReviewDue,
    TransferYear,
    NextSetting,
    AmendedPlanIssuedOn,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AnnualReviews {
    Table,
    Id,
    LaCode,
    PupilId,
    MeetingOn,
    ReportSentOn,
    Decision,
    DecisionOn,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CaseAccess {
    Table,
    Id,
    LaCode,
    PupilId,
    Person,
    CaseRef,
    GrantedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    LaCode,
    Person,
    Role,
    PupilId,
    Action,
    At,
    TraceId,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().auto_increment().primary_key().to_owned()
}

fn tenant(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string_len(3).not_null().to_owned()
}

fn pupil_fk(table: impl IntoIden + 'static, col: impl IntoIden + 'static, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(table.into_iden(), col.into_iden()).to(Pupils::Table, Pupils::Id).to_owned()
}

fn index(name: &str, table: impl IntoIden + 'static, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Pupils::Table)
                    .col(id(Pupils::Id))
                    .col(tenant(Pupils::LaCode))
                    .col(ColumnDef::new(Pupils::Upn).string_len(13).not_null())
                    .col(ColumnDef::new(Pupils::LegalForename).string().not_null())
                    .col(ColumnDef::new(Pupils::LegalSurname).string().not_null())
                    .col(ColumnDef::new(Pupils::PreferredForename).string().null())
                    .col(ColumnDef::new(Pupils::PreferredSurname).string().null())
                    .col(ColumnDef::new(Pupils::DateOfBirth).date().not_null())
                    .col(ColumnDef::new(Pupils::BirthCohort).integer().not_null())
                    .col(ColumnDef::new(Pupils::NcYearOverride).string_len(2).null())
                    .col(ColumnDef::new(Pupils::SchoolUrn).integer().not_null())
                    .col(ColumnDef::new(Pupils::SenStatus).string_len(1).not_null())
                    .col(ColumnDef::new(Pupils::PrimaryNeed).string_len(8).null())
                    .col(ColumnDef::new(Pupils::SecondaryNeed).string_len(8).null())
                    .col(ColumnDef::new(Pupils::LookedAfter).boolean().not_null())
                    .col(ColumnDef::new(Pupils::Version).big_integer().not_null())
                    .col(ColumnDef::new(Pupils::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Pupils::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("ux_pupils_tenant_upn", Pupils::Table, vec![Pupils::LaCode.into_iden(), Pupils::Upn.into_iden()])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_pupils_tenant_school",
                Pupils::Table,
                vec![Pupils::LaCode.into_iden(), Pupils::SchoolUrn.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PupilHistory::Table)
                    .col(id(PupilHistory::Id))
                    .col(tenant(PupilHistory::LaCode))
                    .col(ColumnDef::new(PupilHistory::PupilId).integer().not_null())
                    .col(ColumnDef::new(PupilHistory::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(PupilHistory::EffectiveOn).date().not_null())
                    .col(ColumnDef::new(PupilHistory::SenStatus).string_len(1).not_null())
                    .col(ColumnDef::new(PupilHistory::PrimaryNeed).string_len(8).null())
                    .col(ColumnDef::new(PupilHistory::SecondaryNeed).string_len(8).null())
                    .col(ColumnDef::new(PupilHistory::SchoolUrn).integer().not_null())
                    .col(ColumnDef::new(PupilHistory::Reason).string().not_null())
                    .col(ColumnDef::new(PupilHistory::ChangedBy).string().not_null())
                    .col(ColumnDef::new(PupilHistory::ChangedByRole).string_len(32).not_null())
                    .col(ColumnDef::new(PupilHistory::RecordedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut pupil_fk(PupilHistory::Table, PupilHistory::PupilId, "fk_pupil_history_pupil"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_pupil_history_pupil",
                PupilHistory::Table,
                vec![PupilHistory::LaCode.into_iden(), PupilHistory::PupilId.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SupportCycles::Table)
                    .col(id(SupportCycles::Id))
                    .col(tenant(SupportCycles::LaCode))
                    .col(ColumnDef::new(SupportCycles::PupilId).integer().not_null())
                    .col(ColumnDef::new(SupportCycles::StartedOn).date().not_null())
                    .col(ColumnDef::new(SupportCycles::OutcomesSought).text().not_null())
                    .col(ColumnDef::new(SupportCycles::PlannedProvision).text().not_null())
                    .col(ColumnDef::new(SupportCycles::ReviewDue).date().not_null())
                    .col(ColumnDef::new(SupportCycles::ReviewedOn).date().null())
                    .col(ColumnDef::new(SupportCycles::Outcome).string_len(16).null())
                    .col(ColumnDef::new(SupportCycles::ReviewNotes).text().null())
                    .col(ColumnDef::new(SupportCycles::RecordedBy).string().not_null())
                    .col(ColumnDef::new(SupportCycles::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut pupil_fk(SupportCycles::Table, SupportCycles::PupilId, "fk_support_cycles_pupil"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_support_cycles_pupil",
                SupportCycles::Table,
                vec![SupportCycles::LaCode.into_iden(), SupportCycles::PupilId.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Provisions::Table)
                    .col(id(Provisions::Id))
                    .col(tenant(Provisions::LaCode))
                    .col(ColumnDef::new(Provisions::PupilId).integer().not_null())
                    .col(ColumnDef::new(Provisions::ProvisionType).string().not_null())
                    .col(ColumnDef::new(Provisions::Provider).string().not_null())
                    .col(ColumnDef::new(Provisions::MinutesPerWeek).integer().not_null())
                    .col(ColumnDef::new(Provisions::StartOn).date().not_null())
                    .col(ColumnDef::new(Provisions::EndOn).date().null())
                    .col(ColumnDef::new(Provisions::RecordedBy).string().not_null())
                    .col(ColumnDef::new(Provisions::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut pupil_fk(Provisions::Table, Provisions::PupilId, "fk_provisions_pupil"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_provisions_pupil",
                Provisions::Table,
                vec![Provisions::LaCode.into_iden(), Provisions::PupilId.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Ehcps::Table)
                    .col(id(Ehcps::Id))
                    .col(tenant(Ehcps::LaCode))
                    .col(ColumnDef::new(Ehcps::PupilId).integer().not_null())
                    .col(ColumnDef::new(Ehcps::IssuedOn).date().not_null())
                    .col(ColumnDef::new(Ehcps::NamedSetting).string().not_null())
                    .col(ColumnDef::new(Ehcps::Status).string_len(8).not_null())
                    .col(ColumnDef::new(Ehcps::CeasedOn).date().null())
                    .col(ColumnDef::new(Ehcps::CeasedReason).string().null())
                    .col(ColumnDef::new(Ehcps::LastReviewOn).date().null())
                    .col(ColumnDef::new(Ehcps::NextReviewDue).date().not_null())
                    .col(ColumnDef::new(Ehcps::TransferYear).integer().null())
                    .col(ColumnDef::new(Ehcps::NextSetting).string().null())
                    .col(ColumnDef::new(Ehcps::AmendedPlanIssuedOn).date().null())
                    .col(ColumnDef::new(Ehcps::Version).big_integer().not_null())
                    .col(ColumnDef::new(Ehcps::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Ehcps::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut pupil_fk(Ehcps::Table, Ehcps::PupilId, "fk_ehcps_pupil"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("ux_ehcps_pupil", Ehcps::Table, vec![Ehcps::PupilId.into_iden()]).unique().to_owned())
            .await?;
        manager
            .create_index(index(
                "ix_ehcps_review_due",
                Ehcps::Table,
                vec![Ehcps::LaCode.into_iden(), Ehcps::NextReviewDue.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AnnualReviews::Table)
                    .col(id(AnnualReviews::Id))
                    .col(tenant(AnnualReviews::LaCode))
                    .col(ColumnDef::new(AnnualReviews::PupilId).integer().not_null())
                    .col(ColumnDef::new(AnnualReviews::MeetingOn).date().not_null())
                    .col(ColumnDef::new(AnnualReviews::ReportSentOn).date().null())
                    .col(ColumnDef::new(AnnualReviews::Decision).string_len(16).null())
                    .col(ColumnDef::new(AnnualReviews::DecisionOn).date().null())
                    .col(ColumnDef::new(AnnualReviews::RecordedBy).string().not_null())
                    .col(ColumnDef::new(AnnualReviews::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut pupil_fk(AnnualReviews::Table, AnnualReviews::PupilId, "fk_annual_reviews_pupil"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ux_annual_reviews_meeting",
                    AnnualReviews::Table,
                    vec![AnnualReviews::PupilId.into_iden(), AnnualReviews::MeetingOn.into_iden()],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaseAccess::Table)
                    .col(id(CaseAccess::Id))
                    .col(tenant(CaseAccess::LaCode))
                    .col(ColumnDef::new(CaseAccess::PupilId).integer().not_null())
                    .col(ColumnDef::new(CaseAccess::Person).string().not_null())
                    .col(ColumnDef::new(CaseAccess::CaseRef).string().not_null())
                    .col(ColumnDef::new(CaseAccess::GrantedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(CaseAccess::RevokedAt).timestamp_with_time_zone().null())
                    .foreign_key(&mut pupil_fk(CaseAccess::Table, CaseAccess::PupilId, "fk_case_access_pupil"))
                    .to_owned(),
            )
            .await?;
        // One open grant per (pupil, professional, case): a retried grant finds it.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_case_access_open ON case_access (pupil_id, person, case_ref) WHERE revoked_at IS NULL",
            )
            .await?;
        manager
            .create_index(index(
                "ix_case_access_person",
                CaseAccess::Table,
                vec![CaseAccess::LaCode.into_iden(), CaseAccess::Person.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(id(AuditEvents::Id))
                    .col(tenant(AuditEvents::LaCode))
                    .col(ColumnDef::new(AuditEvents::Person).string().not_null())
                    .col(ColumnDef::new(AuditEvents::Role).string_len(32).not_null())
                    .col(ColumnDef::new(AuditEvents::PupilId).integer().null())
                    .col(ColumnDef::new(AuditEvents::Action).string_len(48).not_null())
                    .col(ColumnDef::new(AuditEvents::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuditEvents::TraceId).string_len(32).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_audit_events_pupil",
                AuditEvents::Table,
                vec![AuditEvents::LaCode.into_iden(), AuditEvents::PupilId.into_iden()],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEvents::Table.into_iden(),
            CaseAccess::Table.into_iden(),
            AnnualReviews::Table.into_iden(),
            Ehcps::Table.into_iden(),
            Provisions::Table.into_iden(),
            SupportCycles::Table.into_iden(),
            PupilHistory::Table.into_iden(),
            Pupils::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
