//! The counts behind the council's referral overview, as grouped queries over the
//! tenant's referrals: how many are in each status, and how many were submitted
//! on each day of a window, by kind. Days, not months, are grouped in SQL because
//! SQLite and PostgreSQL name their date functions differently; the caller rolls
//! the days up into months. Plans issued in the window are few (hundreds a year
//! at council scale), so those rows are read whole and judged by the domain's
//! timeliness rule, exactly as the statutory clock report judges them.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sen_platform::identity::TenantScope;

use super::Store;
use crate::domain::{ReferralKind, Status};
use crate::entity::referral;
use crate::error::{Error, Result};

/// Referrals of one kind submitted on one day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaySubmissions {
    /// The day.
    pub on: NaiveDate,
    /// Their kind.
    pub kind: ReferralKind,
    /// How many.
    pub count: u32,
}

/// A database count as a wire count, saturating.
fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

impl Store {
    /// How many of the tenant's referrals are in each status now; a status with none is absent.
    pub async fn status_counts(&self, tenant: &TenantScope) -> Result<HashMap<Status, u32>> {
        let rows: Vec<(String, i64)> = referral::Entity::find()
            .select_only()
            .column(referral::Column::Status)
            .column_as(referral::Column::Id.count(), "referrals")
            .filter(referral::Column::LaCode.eq(tenant.key()))
            .group_by(referral::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut counts = HashMap::new();
        for (code, n) in rows {
            let status =
                Status::parse(&code).map_err(|e| Error::Corrupt(format!("a referral of {}: {e}", tenant.key())))?;
            let total: &mut u32 = counts.entry(status).or_default();
            *total = total.saturating_add(count(n));
        }
        Ok(counts)
    }

    /// The tenant's referrals submitted on the days of `days`, counted per day and
    /// kind, by day.
    pub async fn submissions_per_day(
        &self,
        tenant: &TenantScope,
        days: RangeInclusive<NaiveDate>,
    ) -> Result<Vec<DaySubmissions>> {
        let rows: Vec<(NaiveDate, String, i64)> = referral::Entity::find()
            .select_only()
            .column(referral::Column::SubmittedOn)
            .column(referral::Column::Kind)
            .column_as(referral::Column::Id.count(), "referrals")
            .filter(referral::Column::LaCode.eq(tenant.key()))
            .filter(referral::Column::SubmittedOn.between(*days.start(), *days.end()))
            .group_by(referral::Column::SubmittedOn)
            .group_by(referral::Column::Kind)
            .order_by_asc(referral::Column::SubmittedOn)
            .order_by_asc(referral::Column::Kind)
            .into_tuple()
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|(on, code, n)| {
                let kind = ReferralKind::parse(&code)
                    .map_err(|e| Error::Corrupt(format!("a referral of {} submitted on {on}: {e}", tenant.key())))?;
                Ok(DaySubmissions { on, kind, count: count(n) })
            })
            .collect()
    }

    /// The tenant's EHC needs assessment requests whose final plan was issued on a
    /// day of `days`, oldest request first.
    pub async fn plans_issued_in(
        &self,
        tenant: &TenantScope,
        days: RangeInclusive<NaiveDate>,
    ) -> Result<Vec<referral::Model>> {
        Ok(referral::Entity::find()
            .filter(referral::Column::LaCode.eq(tenant.key()))
            .filter(referral::Column::DecisionDue.is_not_null())
            .filter(referral::Column::FinalPlanIssuedOn.between(*days.start(), *days.end()))
            .order_by_asc(referral::Column::SubmittedOn)
            .order_by_asc(referral::Column::Id)
            .all(&self.db)
            .await?)
    }
}
