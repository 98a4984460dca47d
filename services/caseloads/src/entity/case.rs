//! `cases`: a referral allocated to a professional.

use sea_orm::entity::prelude::*;

/// A case as stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    /// Case id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The referral (referrals service id).
    pub referral_id: i64,
    /// The pupil (pupils service id).
    pub pupil_id: i64,
    /// The school.
    pub school_urn: i32,
    /// The referral's kind code.
    pub kind: String,
    /// When the referral (or EHC request) was received.
    pub received_on: Date,
    /// No longer written or read: older rows dated the advice 6 weeks from the
    /// EHC request; advice is now dated from the day it is asked for, in
    /// `advice_requests` (reg. 8(1)).
    pub advice_due: Option<Date>,
    /// The professional.
    pub professional_id: i32,
    /// pending (allocation under way), active or closed.
    pub status: String,
    /// Allocated on.
    pub allocated_on: Date,
    /// Outcome when closed.
    pub outcome: Option<String>,
    /// Why a professional at capacity was given it.
    pub override_reason: Option<String>,
    /// The client's key for the allocation (unique in the tenant).
    pub idempotency_key: String,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
    /// Who is finishing a pending case now (one attempt: a request or a
    /// reconciler pass), so that two never run its steps at once.
    pub claimed_by: Option<String>,
    /// Until when that claim holds; after it, another attempt may take the case.
    pub claimed_until: Option<DateTimeUtc>,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
