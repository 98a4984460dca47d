//! Indexes for the council's list of pupils by name, so that a page of an
//! authority's pupils (or of those with one SEN status) in alphabetical order is
//! read from an index in that order, however many pupils the authority has:
//!
//! - `ix_pupils_tenant_name` (tenant, legal surname, legal forename, id): every
//!   pupil, or those a filter other than the status narrows to;
//! - `ix_pupils_tenant_status_name` (tenant, SEN status, legal surname, legal
//!   forename, id): the pupils with an EHC plan, on SEN support, or not on the
//!   register, each in name order.
//!
//! A page continues after the last pupil's (surname, forename, id) as one row
//! comparison, which both engines read from the index. `tests/tests/query_plans.rs`
//! opens the list at national scale.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Pupils {
    Table,
    LaCode,
    SenStatus,
    LegalSurname,
    LegalForename,
    Id,
}

const BY_NAME: &str = "ix_pupils_tenant_name";
const BY_STATUS_AND_NAME: &str = "ix_pupils_tenant_status_name";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(BY_NAME)
                    .table(Pupils::Table)
                    .col(Pupils::LaCode)
                    .col(Pupils::LegalSurname)
                    .col(Pupils::LegalForename)
                    .col(Pupils::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(BY_STATUS_AND_NAME)
                    .table(Pupils::Table)
                    .col(Pupils::LaCode)
                    .col(Pupils::SenStatus)
                    .col(Pupils::LegalSurname)
                    .col(Pupils::LegalForename)
                    .col(Pupils::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(BY_STATUS_AND_NAME).table(Pupils::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name(BY_NAME).table(Pupils::Table).to_owned()).await
    }
}
