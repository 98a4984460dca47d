//! What a phase-transfer decision can record beyond the next setting and the
//! day the amended plan was issued (SEN and Disability Regulations 2014, reg. 18):
//!
//! - `ehcps.staying_in_sixth_form`: a Year 11 pupil stays in their school's own
//!   sixth form, which is no transfer to a post-16 institution, so no 31 March
//!   deadline applies (reg. 18(1)(a));
//! - `ehcps.post16_move_on`: the day a young person moves from one post-16
//!   institution to another, whose amended plan is due five months before
//!   (reg. 18(2)); `ix_ehcps_post16_moves` over the few plans with one, so the
//!   transfer list finds the moves not yet made from an index.
//!
//! Plans already stored stay as they were: no pupil stays, none has a move date.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Ehcps {
    Table,
    StayingInSixthForm,
    Post16MoveOn,
}

const POST16_MOVES: &str = "ix_ehcps_post16_moves";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Ehcps::Table)
                    .add_column(ColumnDef::new(Ehcps::StayingInSixthForm).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Ehcps::Table)
                    .add_column(ColumnDef::new(Ehcps::Post16MoveOn).date().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(POST16_MOVES).table(Ehcps::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Ehcps::Table).drop_column(Ehcps::Post16MoveOn).to_owned()).await?;
        manager.alter_table(Table::alter().table(Ehcps::Table).drop_column(Ehcps::StayingInSixthForm).to_owned()).await
    }
}
