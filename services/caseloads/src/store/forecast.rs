//! What the breach forecast reads of this service's own records: every case
//! allocated in the tenant (open or closed), so that a professional's load on
//! the day advice was asked of them can be worked out, and which EHC request
//! each open case belongs to.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use sen_platform::identity::TenantScope;

use super::Store;
use crate::domain::CaseStatus;
use crate::entity::case;
use crate::error::Result;

/// A case as the forecast sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseSpan {
    /// The case's id.
    pub case_id: i32,
    /// Its referral.
    pub referral_id: i64,
    /// Its professional.
    pub professional_id: i32,
    /// Its referral's kind code.
    pub kind: String,
    /// Allocated on.
    pub allocated_on: NaiveDate,
    /// Closed on (the day it was last changed, once closed); `None` while open.
    pub closed_on: Option<NaiveDate>,
}

impl CaseSpan {
    /// Whether the case was open at the end of `day`.
    pub fn open_on(&self, day: NaiveDate) -> bool {
        self.allocated_on <= day && self.closed_on.is_none_or(|closed| closed > day)
    }
}

impl Store {
    /// Every allocated case of the tenant (not those still pending), oldest first.
    pub async fn case_spans(&self, tenant: &TenantScope) -> Result<Vec<CaseSpan>> {
        let rows = case::Entity::find()
            .filter(case::Column::LaCode.eq(tenant.key()))
            .filter(case::Column::Status.ne(CaseStatus::Pending.code()))
            .order_by_asc(case::Column::AllocatedOn)
            .order_by_asc(case::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| CaseSpan {
                case_id: row.id,
                referral_id: row.referral_id,
                professional_id: row.professional_id,
                closed_on: (row.status == CaseStatus::Closed.code()).then(|| row.updated_at.date_naive()),
                kind: row.kind,
                allocated_on: row.allocated_on,
            })
            .collect())
    }
}
