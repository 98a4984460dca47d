//! The URNs GIAS places in each authority's area, as imported. The URN is the
//! primary key, so two authorities importing the same URN at once cannot both
//! hold it: the second transaction fails on the key and writes nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GiasAreas {
    Table,
    Urn,
    LaCode,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Authorities {
    Table,
    LaCode,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GiasAreas::Table)
                    .col(ColumnDef::new(GiasAreas::Urn).integer().not_null().primary_key())
                    .col(ColumnDef::new(GiasAreas::LaCode).string_len(3).not_null())
                    .col(ColumnDef::new(GiasAreas::RecordedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_gias_areas_authority")
                            .from(GiasAreas::Table, GiasAreas::LaCode)
                            .to(Authorities::Table, Authorities::LaCode),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(GiasAreas::Table).to_owned()).await
    }
}
