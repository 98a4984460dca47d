//! `schools`: one row per establishment per tenant, keyed by (la_code, urn).

use sea_orm::entity::prelude::*;

/// A school as stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schools")]
pub struct Model {
    /// Surrogate key, referenced by SENCO appointments.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// GIAS URN, unique within the tenant.
    pub urn: i32,
    /// Seven-digit LAESTAB.
    pub laestab: String,
    /// Establishment name.
    pub name: String,
    /// GIAS type code, name and group.
    pub type_code: i32,
    /// GIAS type name.
    pub type_name: String,
    /// GIAS type group name.
    pub type_group: String,
    /// GIAS phase code 0–7.
    pub phase_code: i16,
    /// GIAS status code 1–4.
    pub status_code: i16,
    /// Statutory low age.
    pub low_age: Option<i16>,
    /// Statutory high age.
    pub high_age: Option<i16>,
    /// Number on roll.
    pub number_on_roll: Option<i32>,
    /// Normalised postcode.
    pub postcode: Option<String>,
    /// Opening date.
    pub open_date: Option<Date>,
    /// Closing date.
    pub close_date: Option<Date>,
    /// Optimistic-concurrency version, bumped on every change.
    pub version: i64,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations run one way, from the appointment to its school
/// ([`super::senco_appointment::Relation::School`]), so the two tables' modules
/// never import each other.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
