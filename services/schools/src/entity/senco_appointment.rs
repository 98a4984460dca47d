//! `senco_appointments`: every SENCO a school has had; at most one without an end date.

use sea_orm::entity::prelude::*;

/// One appointment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "senco_appointments")]
pub struct Model {
    /// Appointment id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant (repeated from the school so every query filters on it directly).
    pub la_code: String,
    /// The school row.
    pub school_id: i32,
    /// The school's URN (repeated for reporting).
    pub urn: i32,
    /// SENCO's name.
    pub person_name: String,
    /// SENCO's work email.
    pub email: String,
    /// Holds qualified teacher status.
    pub qualified_teacher: bool,
    /// Award status (`none`, `in_progress`, `nasenco`, `npq_senco`).
    pub award: String,
    /// When the award was achieved.
    pub award_achieved_on: Option<Date>,
    /// First day in post.
    pub appointed_on: Date,
    /// More than 12 months as a SENCO before: exempt from the award deadline.
    pub prior_experience_over_12_months: bool,
    /// Award deadline, recomputed from the domain rule on every write so that
    /// reports can filter on it in SQL; none when exempt or achieved.
    pub award_deadline: Option<Date>,
    /// Last day in post.
    pub ended_on: Option<Date>,
    /// Why the appointment ended.
    pub end_reason: Option<String>,
    /// Person who recorded the appointment.
    pub recorded_by: String,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// Each appointment belongs to a school.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The school.
    #[sea_orm(belongs_to = "super::school::Entity", from = "Column::SchoolId", to = "super::school::Column::Id")]
    School,
}

impl Related<super::school::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::School.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
