//! The counts behind the council's referral overview. How many referrals are in
//! each status, how many were submitted in each month by kind, and the final
//! plans issued in each month by timeliness are read from the tallies that
//! triggers keep with every change of a referral (migration
//! `m20270214_000011_referral_tallies`): a few hundred rows for the largest
//! authority rather than every referral grouped on each request. The grouped
//! counts by day, and the plans issued in a window read whole, remain for the
//! callers that need the rows themselves.

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, StatementBuilder,
};
use sen_platform::identity::TenantScope;

use super::Store;
use crate::domain::{CalendarMonth, IssuedPlans, ReferralKind, Status, Timeliness, timeliness_of};
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

/// A status's referrals in the tallies.
#[derive(FromQueryResult)]
struct StatusTally {
    status: String,
    referrals: i64,
}

/// A month's referrals of a kind in the tallies.
#[derive(FromQueryResult)]
struct MonthTally {
    submitted_month: NaiveDate,
    kind: String,
    referrals: i64,
}

/// A month's plans of one timeliness in the tallies.
#[derive(FromQueryResult)]
struct PlanTally {
    issued_month: NaiveDate,
    within_20_weeks: i32,
    exception: i32,
    plans: i64,
}

impl PlanTally {
    fn counted(&self) -> IssuedPlans {
        IssuedPlans {
            within_20_weeks: self.within_20_weeks != 0,
            exception: self.exception != 0,
            plans: count(self.plans),
        }
    }
}

impl Store {
    /// How many of the tenant's referrals are in each status now; a status with
    /// none is absent. Read from the tallies.
    pub async fn status_counts(&self, tenant: &TenantScope) -> Result<HashMap<Status, u32>> {
        let mut query = Query::select();
        query
            .column(Alias::new("status"))
            .expr_as(Expr::cust("CAST(SUM(referrals) AS BIGINT)"), Alias::new("referrals"))
            .from(Alias::new("referral_tallies"))
            .and_where(Expr::col(Alias::new("la_code")).eq(tenant.key()))
            .group_by_col(Alias::new("status"));
        let rows = StatusTally::find_by_statement(self.build(&query)).all(&self.db).await?;
        let mut counts = HashMap::new();
        for row in rows {
            let status = Status::parse(&row.status)
                .map_err(|e| Error::Corrupt(format!("a referral of {}: {e}", tenant.key())))?;
            let total: &mut u32 = counts.entry(status).or_default();
            *total = total.saturating_add(count(row.referrals));
        }
        counts.retain(|_, n| *n > 0);
        Ok(counts)
    }

    /// The tenant's referrals submitted in the months of `days` (every month
    /// with a day in it, whole), counted per month and kind, by month; each
    /// count's day is the first of its month. Read from the tallies.
    pub async fn submissions_per_month(
        &self,
        tenant: &TenantScope,
        days: RangeInclusive<NaiveDate>,
    ) -> Result<Vec<DaySubmissions>> {
        let months = CalendarMonth::containing(*days.start()).first_day()..=*days.end();
        let mut query = Query::select();
        query
            .columns([Alias::new("submitted_month"), Alias::new("kind")])
            .expr_as(Expr::cust("CAST(SUM(referrals) AS BIGINT)"), Alias::new("referrals"))
            .from(Alias::new("referral_tallies"))
            .and_where(Expr::col(Alias::new("la_code")).eq(tenant.key()))
            .and_where(Expr::col(Alias::new("submitted_month")).between(*months.start(), *months.end()))
            .group_by_columns([Alias::new("submitted_month"), Alias::new("kind")])
            .order_by(Alias::new("submitted_month"), Order::Asc)
            .order_by(Alias::new("kind"), Order::Asc);
        let rows = MonthTally::find_by_statement(self.build(&query)).all(&self.db).await?;
        rows.into_iter()
            .filter(|row| row.referrals != 0)
            .map(|row| {
                let on = row.submitted_month;
                let kind = ReferralKind::parse(&row.kind)
                    .map_err(|e| Error::Corrupt(format!("a referral of {} submitted in {on}: {e}", tenant.key())))?;
                Ok(DaySubmissions { on, kind, count: count(row.referrals) })
            })
            .collect()
    }

    /// The 20-week timeliness of the tenant's final plans issued in each month
    /// of `days` (every month with a day in it, whole), by the month's first
    /// day; a month with none issued is absent. Read from the tallies.
    pub async fn plan_timeliness_by_month(
        &self,
        tenant: &TenantScope,
        days: RangeInclusive<NaiveDate>,
    ) -> Result<BTreeMap<CalendarMonth, Timeliness>> {
        let mut by_month: BTreeMap<CalendarMonth, Vec<IssuedPlans>> = BTreeMap::new();
        for row in self.plan_tallies(tenant, days).await? {
            by_month.entry(CalendarMonth::containing(row.issued_month)).or_default().push(row.counted());
        }
        Ok(by_month.into_iter().map(|(month, counts)| (month, timeliness_of(&counts))).collect())
    }

    /// The 20-week timeliness of the tenant's final plans issued in the months
    /// of `days` (every month with a day in it, whole: a calendar year is
    /// twelve), all together. Read from the tallies.
    pub async fn plan_timeliness(&self, tenant: &TenantScope, days: RangeInclusive<NaiveDate>) -> Result<Timeliness> {
        let counts: Vec<IssuedPlans> =
            self.plan_tallies(tenant, days).await?.into_iter().map(|row| row.counted()).collect();
        Ok(timeliness_of(&counts))
    }

    /// The tallies of plans issued in the months of `days`.
    async fn plan_tallies(&self, tenant: &TenantScope, days: RangeInclusive<NaiveDate>) -> Result<Vec<PlanTally>> {
        let months = CalendarMonth::containing(*days.start()).first_day()..=*days.end();
        let mut query = Query::select();
        query
            .column(Alias::new("issued_month"))
            .expr_as(Expr::cust("CAST(within_20_weeks AS INTEGER)"), Alias::new("within_20_weeks"))
            .expr_as(Expr::cust("CAST(exception AS INTEGER)"), Alias::new("exception"))
            .expr_as(Expr::cust("CAST(plans AS BIGINT)"), Alias::new("plans"))
            .from(Alias::new("plan_issue_tallies"))
            .and_where(Expr::col(Alias::new("la_code")).eq(tenant.key()))
            .and_where(Expr::col(Alias::new("issued_month")).between(*months.start(), *months.end()));
        Ok(PlanTally::find_by_statement(self.build(&query)).all(&self.db).await?)
    }

    /// `query` in the store's engine's SQL.
    pub(super) fn build(&self, query: &SelectStatement) -> sea_orm::Statement {
        StatementBuilder::build(query, &self.db.get_database_backend())
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
