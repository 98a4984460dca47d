//! Authorities, schools and SENCO appointments.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Authorities {
    Table,
    LaCode,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Schools {
    Table,
    Id,
    LaCode,
    Urn,
    Laestab,
    Name,
    TypeCode,
    TypeName,
    TypeGroup,
    PhaseCode,
    StatusCode,
    LowAge,
    HighAge,
    NumberOnRoll,
    Postcode,
    OpenDate,
    CloseDate,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SencoAppointments {
    Table,
    Id,
    LaCode,
    SchoolId,
    Urn,
    PersonName,
    Email,
    QualifiedTeacher,
    Award,
    AwardAchievedOn,
    AppointedOn,
    #[sea_orm(iden = "prior_experience_over_12_months")]
    PriorExperienceOver12Months,
    AwardDeadline,
    EndedOn,
    EndReason,
    RecordedBy,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Authorities::Table)
                    .col(ColumnDef::new(Authorities::LaCode).string_len(3).not_null().primary_key())
                    .col(ColumnDef::new(Authorities::Name).string().not_null())
                    .col(ColumnDef::new(Authorities::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Schools::Table)
                    .col(ColumnDef::new(Schools::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Schools::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(Schools::Urn).integer().not_null())
                    .col(ColumnDef::new(Schools::Laestab).string_len(7).not_null())
                    .col(ColumnDef::new(Schools::Name).string().not_null())
                    .col(ColumnDef::new(Schools::TypeCode).integer().not_null())
                    .col(ColumnDef::new(Schools::TypeName).string().not_null())
                    .col(ColumnDef::new(Schools::TypeGroup).string().not_null())
                    .col(ColumnDef::new(Schools::PhaseCode).small_integer().not_null())
                    .col(ColumnDef::new(Schools::StatusCode).small_integer().not_null())
                    .col(ColumnDef::new(Schools::LowAge).small_integer().null())
                    .col(ColumnDef::new(Schools::HighAge).small_integer().null())
                    .col(ColumnDef::new(Schools::NumberOnRoll).integer().null())
                    .col(ColumnDef::new(Schools::Postcode).string_len(8).null())
                    .col(ColumnDef::new(Schools::OpenDate).date().null())
                    .col(ColumnDef::new(Schools::CloseDate).date().null())
                    .col(ColumnDef::new(Schools::Version).big_integer().not_null())
                    .col(ColumnDef::new(Schools::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Schools::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_schools_authority")
                            .from(Schools::Table, Schools::LaCode)
                            .to(Authorities::Table, Authorities::LaCode),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_schools_tenant_urn")
                    .table(Schools::Table)
                    .col(Schools::LaCode)
                    .col(Schools::Urn)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SencoAppointments::Table)
                    .col(ColumnDef::new(SencoAppointments::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(SencoAppointments::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(SencoAppointments::SchoolId).integer().not_null())
                    .col(ColumnDef::new(SencoAppointments::Urn).integer().not_null())
                    .col(ColumnDef::new(SencoAppointments::PersonName).string().not_null())
                    .col(ColumnDef::new(SencoAppointments::Email).string().not_null())
                    .col(ColumnDef::new(SencoAppointments::QualifiedTeacher).boolean().not_null())
                    .col(ColumnDef::new(SencoAppointments::Award).string_len(16).not_null())
                    .col(ColumnDef::new(SencoAppointments::AwardAchievedOn).date().null())
                    .col(ColumnDef::new(SencoAppointments::AppointedOn).date().not_null())
                    .col(ColumnDef::new(SencoAppointments::PriorExperienceOver12Months).boolean().not_null())
                    .col(ColumnDef::new(SencoAppointments::AwardDeadline).date().null())
                    .col(ColumnDef::new(SencoAppointments::EndedOn).date().null())
                    .col(ColumnDef::new(SencoAppointments::EndReason).string().null())
                    .col(ColumnDef::new(SencoAppointments::RecordedBy).string().not_null())
                    .col(ColumnDef::new(SencoAppointments::Version).big_integer().not_null())
                    .col(ColumnDef::new(SencoAppointments::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(SencoAppointments::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_senco_appointments_school")
                            .from(SencoAppointments::Table, SencoAppointments::SchoolId)
                            .to(Schools::Table, Schools::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_senco_appointments_school")
                    .table(SencoAppointments::Table)
                    .col(SencoAppointments::LaCode)
                    .col(SencoAppointments::SchoolId)
                    .to_owned(),
            )
            .await?;
        // One current SENCO per school, enforced by the database as well as the
        // service, so two managers appointing at once cannot both succeed. Partial
        // indexes read the same in SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_senco_appointments_current ON senco_appointments (school_id) WHERE ended_on IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SencoAppointments::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Schools::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Authorities::Table).to_owned()).await
    }
}
