//! Recomputes the stored award deadline of every NASENCO holder under reg. 49(7)
//! of the SEND Regulations 2014 as amended from 1 September 2024: a NASENCO no
//! longer counts for a SENCO appointed on or after that date (unless achieved
//! before it), nor when completed on or after 1 September 2027, so those SENCOs
//! have a deadline again.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sea_orm_migration::prelude::*;

use crate::domain::{SencoAward, award_deadline};
use crate::entity::senco_appointment;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let rows = senco_appointment::Entity::find()
            .filter(senco_appointment::Column::Award.eq(SencoAward::Nasenco.as_str()))
            .all(db)
            .await?;
        for row in rows {
            let deadline = award_deadline(
                row.appointed_on,
                row.prior_experience_over_12_months,
                SencoAward::Nasenco,
                row.award_achieved_on,
            );
            if deadline != row.award_deadline {
                let mut model: senco_appointment::ActiveModel = row.into();
                model.award_deadline = Set(deadline);
                model.update(db).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The deadlines recomputed are the rule in force; nothing to undo.
        Ok(())
    }
}
