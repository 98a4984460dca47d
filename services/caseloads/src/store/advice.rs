//! Advice asked for in EHC needs assessments: recording a request and the day
//! it came in, both safe to retry, and reading them back within the caller's
//! tenant, for one EHC request, for a professional's cases, or late across
//! the authority.
//!
//! A request is one per EHC request, kind and person asked (a unique index):
//! a retry of the same record answers the first and writes nothing, and of two
//! sent at once the index lets one in and the other reads it back. Receipt is
//! written only while none is recorded, so a retry with the same day answers
//! the record as it stands, and another day is refused rather than silently
//! moving the date the late figures are judged on.

use std::collections::HashSet;

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, IntoCondition};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sen_platform::identity::TenantScope;

use super::Store;
use crate::domain::{AdviceKind, CaseStatus, advice_due};
use crate::entity::{advice_request, case};
use crate::error::{Error, Result};

/// A request for advice as the council records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAdviceRequest {
    /// The EHC needs assessment request.
    pub referral_id: i64,
    /// Its pupil.
    pub pupil_id: i64,
    /// Its school.
    pub school_urn: i32,
    /// Which advice.
    pub kind: AdviceKind,
    /// Who was asked.
    pub from_whom: String,
    /// The service's professional asked, when it was one.
    pub professional_id: Option<i32>,
    /// When it was asked for (checked against the request and today by the caller).
    pub asked_on: NaiveDate,
}

/// Which requests for advice to read.
#[derive(Clone, Debug, Default)]
pub struct AdviceFilter {
    /// Only those of this EHC request.
    pub referral_id: Option<i64>,
    /// Only those of these EHC requests (a professional's own cases).
    pub referrals: Option<Vec<i64>>,
    /// Only late ones on this day: past due and not in, or in after the due date.
    pub late_on: Option<NaiveDate>,
}

impl Store {
    /// Records a request for advice, due 6 weeks after it was asked for
    /// (reg. 8(1)). The same request again answers the first; the same person
    /// asked for the same advice on another day or as another professional is
    /// ALREADY_EXISTS.
    pub async fn record_advice_request(
        &self,
        tenant: &TenantScope,
        new: &NewAdviceRequest,
        by: &str,
    ) -> Result<advice_request::Model> {
        if let Some(first) = self.advice_asked(tenant, new).await? {
            return same_request(first, new);
        }
        let now = Utc::now();
        let inserted = advice_request::ActiveModel {
            la_code: Set(tenant.key()),
            referral_id: Set(new.referral_id),
            pupil_id: Set(new.pupil_id),
            school_urn: Set(new.school_urn),
            kind: Set(new.kind.code().to_owned()),
            from_whom: Set(new.from_whom.clone()),
            professional_id: Set(new.professional_id),
            asked_on: Set(new.asked_on),
            due_on: Set(advice_due(new.asked_on)),
            received_on: Set(None),
            recorded_by: Set(by.to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| sen_platform::error::on_unique(e, || Error::AlreadyExists("advice request".into())));
        match inserted {
            // Another record of the same request got in first: answer as its retry.
            Err(Error::AlreadyExists(_)) => match self.advice_asked(tenant, new).await? {
                Some(first) => same_request(first, new),
                None => Err(Error::Aborted("retry the record".into())),
            },
            saved => saved,
        }
    }

    async fn advice_asked(
        &self,
        tenant: &TenantScope,
        new: &NewAdviceRequest,
    ) -> Result<Option<advice_request::Model>> {
        Ok(advice_request::Entity::find()
            .filter(advice_request::Column::LaCode.eq(tenant.key()))
            .filter(advice_request::Column::ReferralId.eq(new.referral_id))
            .filter(advice_request::Column::Kind.eq(new.kind.code()))
            .filter(advice_request::Column::FromWhom.eq(new.from_whom.as_str()))
            .one(&self.db)
            .await?)
    }

    /// One request for advice of the tenant; NOT_FOUND otherwise.
    pub async fn advice_request(&self, tenant: &TenantScope, id: i64) -> Result<advice_request::Model> {
        let not_found = || Error::NotFound(format!("advice request {id}"));
        let id = i32::try_from(id).map_err(|_| not_found())?;
        advice_request::Entity::find_by_id(id)
            .filter(advice_request::Column::LaCode.eq(tenant.key()))
            .one(&self.db)
            .await?
            .ok_or_else(not_found)
    }

    /// Records the day the advice came in (checked against its asking and today
    /// by the caller). The same day again answers the record; another day, once
    /// one is recorded, is FAILED_PRECONDITION.
    pub async fn record_advice_received(
        &self,
        tenant: &TenantScope,
        id: i64,
        received: NaiveDate,
    ) -> Result<advice_request::Model> {
        let row = self.advice_request(tenant, id).await?;
        if row.received_on.is_none() {
            // Only while none is recorded: of two records at once, one writes.
            advice_request::Entity::update_many()
                .col_expr(advice_request::Column::ReceivedOn, Expr::value(received))
                .col_expr(advice_request::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(advice_request::Column::Id.eq(row.id))
                .filter(advice_request::Column::LaCode.eq(tenant.key()))
                .filter(advice_request::Column::ReceivedOn.is_null())
                .exec(&self.db)
                .await?;
        }
        let row = self.advice_request(tenant, id).await?;
        match row.received_on {
            Some(on) if on == received => Ok(row),
            Some(on) => {
                Err(Error::FailedPrecondition(format!("advice request {id} is already recorded as received on {on}")))
            }
            None => Err(Error::Aborted("retry the record".into())),
        }
    }

    /// Requests for advice of the tenant as `filter` narrows them, by due date.
    pub async fn advice_requests(
        &self,
        tenant: &TenantScope,
        filter: &AdviceFilter,
    ) -> Result<Vec<advice_request::Model>> {
        Ok(filtered(tenant, filter)
            .order_by_asc(advice_request::Column::DueOn)
            .order_by_asc(advice_request::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// How many requests for advice of the tenant `filter` lets through.
    pub async fn count_advice_requests(&self, tenant: &TenantScope, filter: &AdviceFilter) -> Result<u64> {
        Ok(filtered(tenant, filter).count(&self.db).await?)
    }

    /// The psychological advice asked for on each of `referrals`, by due date:
    /// what a statutory case's advice date is read from.
    pub async fn psychological_advice(
        &self,
        tenant: &TenantScope,
        referrals: &[i64],
    ) -> Result<Vec<advice_request::Model>> {
        if referrals.is_empty() {
            return Ok(Vec::new());
        }
        Ok(advice_request::Entity::find()
            .filter(advice_request::Column::LaCode.eq(tenant.key()))
            .filter(advice_request::Column::Kind.eq(AdviceKind::Psychological.code()))
            .filter(advice_request::Column::ReferralId.is_in(referrals.iter().copied()))
            .order_by_asc(advice_request::Column::DueOn)
            .order_by_asc(advice_request::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// How many of each professional's active cases have psychological advice
    /// overdue on `today` (past its own due date, not in), counted without
    /// reading the cases' details: the caseload balance needs the numbers.
    pub async fn overdue_advice_by_professional(
        &self,
        tenant: &TenantScope,
        today: NaiveDate,
    ) -> Result<std::collections::HashMap<i32, u32>> {
        let overdue: HashSet<i64> = advice_request::Entity::find()
            .select_only()
            .column(advice_request::Column::ReferralId)
            .filter(advice_request::Column::LaCode.eq(tenant.key()))
            .filter(advice_request::Column::Kind.eq(AdviceKind::Psychological.code()))
            .filter(advice_request::Column::ReceivedOn.is_null())
            .filter(advice_request::Column::DueOn.lt(today))
            .into_tuple::<i64>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let mut counts = std::collections::HashMap::new();
        if overdue.is_empty() {
            return Ok(counts);
        }
        let cases: Vec<(i32, i64)> = case::Entity::find()
            .select_only()
            .column(case::Column::ProfessionalId)
            .column(case::Column::ReferralId)
            .filter(case::Column::LaCode.eq(tenant.key()))
            .filter(case::Column::Status.eq(CaseStatus::Active.code()))
            .filter(case::Column::ReferralId.is_in(overdue.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        for (professional, _) in cases {
            *counts.entry(professional).or_insert(0u32) += 1;
        }
        Ok(counts)
    }

    /// The EHC requests of a professional's cases, open or closed: the advice
    /// they may read.
    pub async fn referrals_of(&self, tenant: &TenantScope, professional_id: i32) -> Result<Vec<i64>> {
        Ok(case::Entity::find()
            .select_only()
            .column(case::Column::ReferralId)
            .filter(case::Column::LaCode.eq(tenant.key()))
            .filter(case::Column::ProfessionalId.eq(professional_id))
            .filter(case::Column::Status.ne(CaseStatus::Pending.code()))
            .into_tuple::<i64>()
            .all(&self.db)
            .await?)
    }
}

/// Late on `today`: past due and not in, or in after its due date (reg. 8(1)).
/// The tenant's requests for advice as `filter` narrows them.
fn filtered(tenant: &TenantScope, filter: &AdviceFilter) -> sea_orm::Select<advice_request::Entity> {
    let mut query = advice_request::Entity::find().filter(advice_request::Column::LaCode.eq(tenant.key()));
    if let Some(referral) = filter.referral_id {
        query = query.filter(advice_request::Column::ReferralId.eq(referral));
    }
    if let Some(referrals) = &filter.referrals {
        query = query.filter(advice_request::Column::ReferralId.is_in(referrals.iter().copied()));
    }
    if let Some(today) = filter.late_on {
        query = query.filter(late_on(today));
    }
    query
}

fn late_on(today: NaiveDate) -> Condition {
    Condition::any().add(advice_request::Column::ReceivedOn.is_null().and(advice_request::Column::DueOn.lt(today))).add(
        Expr::col(advice_request::Column::ReceivedOn).gt(Expr::col(advice_request::Column::DueOn)).into_condition(),
    )
}

/// A retry (the same details under the same EHC request, kind and person)
/// answers the first record.
fn same_request(first: advice_request::Model, new: &NewAdviceRequest) -> Result<advice_request::Model> {
    if first.asked_on == new.asked_on && first.professional_id == new.professional_id {
        Ok(first)
    } else {
        Err(Error::AlreadyExists(format!(
            "{} was already asked for {} on {} (advice request {}); record when it comes in instead",
            first.from_whom,
            new.kind.name(),
            first.asked_on,
            first.id
        )))
    }
}
