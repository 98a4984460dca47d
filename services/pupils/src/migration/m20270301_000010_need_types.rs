//! Type-of-need codes as data. `need_types` holds the national DfE codes, the
//! same for every council and so without an `la_code` (readable by all, never
//! walled); this migration ships them, and a later one ships a code the DfE adds.
//! `council_need_types` holds a council's own additions of a code the DfE has
//! published before the platform ships it: tenant data, walled like the rest,
//! one row per authority and code.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NeedTypes {
    Table,
    Code,
    Name,
    BroadArea,
    SenSupportOnly,
    AddedOn,
    Position,
}

#[derive(DeriveIden)]
enum CouncilNeedTypes {
    Table,
    Id,
    LaCode,
    Code,
    Name,
    BroadArea,
    SenSupportOnly,
    AddedOn,
    AddedBy,
    AddedAt,
}

const ONE_PER_CODE: &str = "ux_council_need_types_code";

/// A national code: code, name, broad area, valid only with SEN support (K),
/// the January census the DfE introduced it in (year, day of January).
type National = (&'static str, &'static str, Option<&'static str>, bool, (i32, u32));

/// The national codes in census order.
const NATIONAL: &[National] = &[
    ("SPLD", "specific learning difficulty", Some("cognition_and_learning"), false, (2004, 15)),
    ("MLD", "moderate learning difficulty", Some("cognition_and_learning"), false, (2004, 15)),
    ("SLD", "severe learning difficulty", Some("cognition_and_learning"), false, (2004, 15)),
    ("PMLD", "profound and multiple learning difficulty", Some("cognition_and_learning"), false, (2004, 15)),
    ("SEMH", "social, emotional and mental health", Some("social_emotional_mental_health"), false, (2015, 15)),
    ("SLCN", "speech, language and communication needs", Some("communication_and_interaction"), false, (2004, 15)),
    ("ASD", "autistic spectrum disorder", Some("communication_and_interaction"), false, (2004, 15)),
    ("HI", "hearing impairment", Some("sensory_physical"), false, (2004, 15)),
    ("VI", "vision impairment", Some("sensory_physical"), false, (2004, 15)),
    ("MSI", "multi-sensory impairment", Some("sensory_physical"), false, (2004, 15)),
    ("PD", "physical disability", Some("sensory_physical"), false, (2004, 15)),
    ("OTH", "other difficulty or disability", None, false, (2004, 15)),
    ("NSA", "SEN support but no specialist assessment of type of need", None, true, (2015, 15)),
    ("DS", "Down syndrome", None, false, (2025, 16)),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CouncilNeedTypes as C;
        use NeedTypes as N;
        manager
            .create_table(
                Table::create()
                    .table(N::Table)
                    .col(ColumnDef::new(N::Code).string_len(6).not_null().primary_key())
                    .col(ColumnDef::new(N::Name).string_len(200).not_null())
                    .col(ColumnDef::new(N::BroadArea).string_len(40).null())
                    .col(ColumnDef::new(N::SenSupportOnly).boolean().not_null())
                    .col(ColumnDef::new(N::AddedOn).date().not_null())
                    .col(ColumnDef::new(N::Position).integer().not_null())
                    .to_owned(),
            )
            .await?;
        let mut rows = Query::insert()
            .into_table(N::Table)
            .columns([N::Code, N::Name, N::BroadArea, N::SenSupportOnly, N::AddedOn, N::Position])
            .to_owned();
        for (position, (code, name, area, only_k, (year, day))) in NATIONAL.iter().enumerate() {
            let added_on = chrono::NaiveDate::from_ymd_opt(*year, 1, *day)
                .ok_or_else(|| DbErr::Migration(format!("{code}: no such census day")))?;
            rows.values_panic([
                (*code).into(),
                (*name).into(),
                area.map(str::to_owned).into(),
                (*only_k).into(),
                added_on.into(),
                <i32 as TryFrom<usize>>::try_from(position + 1).unwrap_or(i32::MAX).into(),
            ]);
        }
        manager.exec_stmt(rows).await?;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(ColumnDef::new(C::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(C::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(C::Code).string_len(6).not_null())
                    .col(ColumnDef::new(C::Name).string_len(200).not_null())
                    .col(ColumnDef::new(C::BroadArea).string_len(40).null())
                    .col(ColumnDef::new(C::SenSupportOnly).boolean().not_null())
                    .col(ColumnDef::new(C::AddedOn).date().not_null())
                    .col(ColumnDef::new(C::AddedBy).string_len(200).not_null())
                    .col(ColumnDef::new(C::AddedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name(ONE_PER_CODE).table(C::Table).col(C::LaCode).col(C::Code).unique().to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CouncilNeedTypes::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(NeedTypes::Table).to_owned()).await
    }
}
