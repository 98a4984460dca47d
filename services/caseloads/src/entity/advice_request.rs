//! `advice_requests`: advice the council asked for in an EHC needs assessment.

use sea_orm::entity::prelude::*;

/// One request for advice.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "advice_requests")]
pub struct Model {
    /// Advice request id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The EHC needs assessment request (referrals service id).
    pub referral_id: i64,
    /// The pupil (pupils service id), for erasure and the late list.
    pub pupil_id: i64,
    /// The pupil's school when the request was made.
    pub school_urn: i32,
    /// Kind code (`AdviceKind`).
    pub kind: String,
    /// Who was asked, as the council names them.
    pub from_whom: String,
    /// The professional of the service asked, when it was one.
    pub professional_id: Option<i32>,
    /// When the advice was asked for.
    pub asked_on: Date,
    /// When it is due: 6 weeks after it was asked for (reg. 8(1)).
    pub due_on: Date,
    /// When it came in.
    pub received_on: Option<Date>,
    /// Who recorded the request.
    pub recorded_by: String,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
