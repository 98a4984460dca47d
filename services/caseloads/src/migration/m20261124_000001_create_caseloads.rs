//! Professionals, their school links, cases, activity and the time-allocation models.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Professionals {
    Table,
    Id,
    LaCode,
    Person,
    Name,
    Role,
    Fte,
    CapacityKind,
    Capacity,
    Active,
    OpenCases,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SchoolLinks {
    Table,
    Id,
    LaCode,
    ProfessionalId,
    Urn,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    LaCode,
    ReferralId,
    PupilId,
    SchoolUrn,
    Kind,
    ReceivedOn,
    AdviceDue,
    ProfessionalId,
    Status,
    AllocatedOn,
    Outcome,
    OverrideReason,
    IdempotencyKey,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CaseActivities {
    Table,
    Id,
    LaCode,
    CaseId,
    SchoolUrn,
    On,
    Kind,
    Sessions,
    Note,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AllocationModels {
    Table,
    Id,
    LaCode,
    Term,
    SessionsAvailable,
    BasePerSchool,
    WeightRoll,
    WeightSupport,
    WeightEhcp,
    UpdatedAt,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().auto_increment().primary_key().to_owned()
}

fn tenant(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string_len(3).not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Professionals::Table)
                    .col(id(Professionals::Id))
                    .col(tenant(Professionals::LaCode))
                    .col(ColumnDef::new(Professionals::Person).string().not_null())
                    .col(ColumnDef::new(Professionals::Name).string().not_null())
                    .col(ColumnDef::new(Professionals::Role).string().not_null())
                    .col(ColumnDef::new(Professionals::Fte).double().not_null())
                    .col(ColumnDef::new(Professionals::CapacityKind).string_len(24).not_null())
                    .col(ColumnDef::new(Professionals::Capacity).integer().not_null())
                    .col(ColumnDef::new(Professionals::Active).boolean().not_null())
                    .col(ColumnDef::new(Professionals::OpenCases).integer().not_null())
                    .col(ColumnDef::new(Professionals::Version).big_integer().not_null())
                    .col(ColumnDef::new(Professionals::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Professionals::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_professionals_person")
                    .table(Professionals::Table)
                    .col(Professionals::LaCode)
                    .col(Professionals::Person)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SchoolLinks::Table)
                    .col(id(SchoolLinks::Id))
                    .col(tenant(SchoolLinks::LaCode))
                    .col(ColumnDef::new(SchoolLinks::ProfessionalId).integer().not_null())
                    .col(ColumnDef::new(SchoolLinks::Urn).integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_school_links_professional")
                            .from(SchoolLinks::Table, SchoolLinks::ProfessionalId)
                            .to(Professionals::Table, Professionals::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_school_links")
                    .table(SchoolLinks::Table)
                    .col(SchoolLinks::ProfessionalId)
                    .col(SchoolLinks::Urn)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Cases::Table)
                    .col(id(Cases::Id))
                    .col(tenant(Cases::LaCode))
                    .col(ColumnDef::new(Cases::ReferralId).big_integer().not_null())
                    .col(ColumnDef::new(Cases::PupilId).big_integer().not_null())
                    .col(ColumnDef::new(Cases::SchoolUrn).integer().not_null())
                    .col(ColumnDef::new(Cases::Kind).string().not_null())
                    .col(ColumnDef::new(Cases::ReceivedOn).date().not_null())
                    .col(ColumnDef::new(Cases::AdviceDue).date().null())
                    .col(ColumnDef::new(Cases::ProfessionalId).integer().not_null())
                    .col(ColumnDef::new(Cases::Status).string_len(8).not_null())
                    .col(ColumnDef::new(Cases::AllocatedOn).date().not_null())
                    .col(ColumnDef::new(Cases::Outcome).text().null())
                    .col(ColumnDef::new(Cases::OverrideReason).text().null())
                    .col(ColumnDef::new(Cases::IdempotencyKey).string().not_null())
                    .col(ColumnDef::new(Cases::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Cases::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_cases_professional")
                            .from(Cases::Table, Cases::ProfessionalId)
                            .to(Professionals::Table, Professionals::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_cases_idempotency")
                    .table(Cases::Table)
                    .col(Cases::LaCode)
                    .col(Cases::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // One open case per referral: two managers allocating the same referral
        // under different keys cannot both succeed.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_cases_open_referral ON cases (la_code, referral_id) WHERE status <> 'closed'",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseActivities::Table)
                    .col(id(CaseActivities::Id))
                    .col(tenant(CaseActivities::LaCode))
                    .col(ColumnDef::new(CaseActivities::CaseId).integer().not_null())
                    .col(ColumnDef::new(CaseActivities::SchoolUrn).integer().not_null())
                    .col(ColumnDef::new(CaseActivities::On).date().not_null())
                    .col(ColumnDef::new(CaseActivities::Kind).string_len(24).not_null())
                    .col(ColumnDef::new(CaseActivities::Sessions).integer().not_null())
                    .col(ColumnDef::new(CaseActivities::Note).text().not_null())
                    .col(ColumnDef::new(CaseActivities::RecordedBy).string().not_null())
                    .col(ColumnDef::new(CaseActivities::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_case_activities_case")
                            .from(CaseActivities::Table, CaseActivities::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AllocationModels::Table)
                    .col(id(AllocationModels::Id))
                    .col(tenant(AllocationModels::LaCode))
                    .col(ColumnDef::new(AllocationModels::Term).string_len(16).not_null())
                    .col(ColumnDef::new(AllocationModels::SessionsAvailable).integer().not_null())
                    .col(ColumnDef::new(AllocationModels::BasePerSchool).integer().not_null())
                    .col(ColumnDef::new(AllocationModels::WeightRoll).integer().not_null())
                    .col(ColumnDef::new(AllocationModels::WeightSupport).integer().not_null())
                    .col(ColumnDef::new(AllocationModels::WeightEhcp).integer().not_null())
                    .col(ColumnDef::new(AllocationModels::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_allocation_models_term")
                    .table(AllocationModels::Table)
                    .col(AllocationModels::LaCode)
                    .col(AllocationModels::Term)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AllocationModels::Table.into_iden(),
            CaseActivities::Table.into_iden(),
            Cases::Table.into_iden(),
            SchoolLinks::Table.into_iden(),
            Professionals::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
