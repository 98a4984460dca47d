//! Loading a whole register in one transaction: the embedded mode's demo data,
//! and any bulk load that must land entirely or not at all.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait};
use sen_platform::identity::TenantScope;

use super::Store;
use super::ehcp::TransferDecision;
use super::pupils::{details_columns, sen_columns};
use super::support::{NewCycle, NewProvision};
use crate::domain::{PupilDetails, SenRecord, SenStatus, SupportOutcome, next_review_due};
use crate::entity::{ehcp, provision, pupil, pupil_history, support_cycle};
use crate::error::Result;

/// A pupil's plan as loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedPlan {
    /// Issued.
    pub issued_on: NaiveDate,
    /// Named setting.
    pub named_setting: String,
    /// Last annual review meeting.
    pub last_review_on: Option<NaiveDate>,
    /// A phase-transfer decision already recorded.
    pub transfer_decision: Option<TransferDecision>,
}

/// A pupil with everything recorded about them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedPupil {
    /// Who and where.
    pub details: PupilDetails,
    /// Status and needs.
    pub sen: SenRecord,
    /// Plan, for status E.
    pub plan: Option<SeedPlan>,
    /// Support cycles, with their review when done.
    pub cycles: Vec<(NewCycle, Option<(NaiveDate, SupportOutcome)>)>,
    /// Provision.
    pub provision: Vec<NewProvision>,
}

const BATCH: usize = 400;

impl Store {
    /// Loads `pupils` into the tenant's register in one transaction, recorded as
    /// added by `by` on `today`.
    pub async fn load_register(
        &self,
        tenant: &TenantScope,
        by: &str,
        pupils: &[SeedPupil],
        today: NaiveDate,
    ) -> Result<usize> {
        let txn = self.db.begin().await?;
        let now = Utc::now();
        let rows: Vec<pupil::ActiveModel> = pupils
            .iter()
            .map(|p| {
                let mut model = pupil::ActiveModel {
                    la_code: Set(tenant.key()),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                };
                details_columns(&mut model, &p.details);
                sen_columns(&mut model, &p.sen);
                model
            })
            .collect();
        for batch in rows.chunks(BATCH) {
            pupil::Entity::insert_many(batch.to_vec()).exec(&txn).await?;
        }
        // Bulk inserts do not return every id: read them back by UPN, unique in the tenant.
        let ids: HashMap<String, i32> = pupil::Entity::find()
            .select_only()
            .column(pupil::Column::Upn)
            .column(pupil::Column::Id)
            .filter(pupil::Column::LaCode.eq(tenant.key()))
            .into_tuple::<(String, i32)>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let mut history = Vec::new();
        let mut plans = Vec::new();
        let mut cycles = Vec::new();
        let mut provisions = Vec::new();
        for p in pupils {
            let Some(&id) = ids.get(p.details.upn.as_str()) else { continue };
            history.push(pupil_history::ActiveModel {
                la_code: Set(tenant.key()),
                pupil_id: Set(id),
                kind: Set("added".into()),
                effective_on: Set(today),
                sen_status: Set(p.sen.status.code().into()),
                primary_need: Set(p.sen.primary.map(|n| n.as_str().to_owned())),
                secondary_need: Set(p.sen.secondary.map(|n| n.as_str().to_owned())),
                school_urn: Set(p.details.school_urn.as_i32()),
                reason: Set("loaded with the register".into()),
                changed_by: Set(by.to_owned()),
                changed_by_role: Set("service".into()),
                recorded_at: Set(now),
                ..Default::default()
            });
            if let (Some(plan), SenStatus::EhcPlan) = (&p.plan, p.sen.status) {
                let last = plan.last_review_on;
                plans.push(ehcp::ActiveModel {
                    la_code: Set(tenant.key()),
                    pupil_id: Set(id),
                    issued_on: Set(plan.issued_on),
                    named_setting: Set(plan.named_setting.clone()),
                    status: Set("active".into()),
                    ceased_on: Set(None),
                    ceased_reason: Set(None),
                    last_review_on: Set(last),
                    next_review_due: Set(next_review_due(last.unwrap_or(plan.issued_on))),
                    transfer_year: Set(plan.transfer_decision.as_ref().and_then(|d| d.transfer_year)),
                    next_setting: Set(plan.transfer_decision.as_ref().map(|d| d.next_setting.clone())),
                    amended_plan_issued_on: Set(plan.transfer_decision.as_ref().and_then(|d| d.amended_plan_issued_on)),
                    staying_in_sixth_form: Set(plan
                        .transfer_decision
                        .as_ref()
                        .is_some_and(|d| d.staying_in_sixth_form)),
                    post16_move_on: Set(plan.transfer_decision.as_ref().and_then(|d| d.post16_move_on)),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                });
            }
            for (cycle, review) in &p.cycles {
                cycles.push(support_cycle::ActiveModel {
                    la_code: Set(tenant.key()),
                    pupil_id: Set(id),
                    started_on: Set(cycle.started_on),
                    outcomes_sought: Set(cycle.outcomes_sought.clone()),
                    planned_provision: Set(cycle.planned_provision.clone()),
                    review_due: Set(cycle.review_due),
                    reviewed_on: Set(review.map(|r| r.0)),
                    outcome: Set(review.map(|r| r.1.code().to_owned())),
                    review_notes: Set(None),
                    recorded_by: Set(by.to_owned()),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
            for new in &p.provision {
                provisions.push(provision::ActiveModel {
                    la_code: Set(tenant.key()),
                    pupil_id: Set(id),
                    provision_type: Set(new.provision_type.clone()),
                    provider: Set(new.provider.clone()),
                    minutes_per_week: Set(new.minutes_per_week),
                    start_on: Set(new.start_on),
                    end_on: Set(new.end_on),
                    recorded_by: Set(by.to_owned()),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
        }
        for batch in history.chunks(BATCH) {
            pupil_history::Entity::insert_many(batch.to_vec()).exec(&txn).await?;
        }
        for batch in plans.chunks(BATCH) {
            ehcp::Entity::insert_many(batch.to_vec()).exec(&txn).await?;
        }
        for batch in cycles.chunks(BATCH) {
            support_cycle::Entity::insert_many(batch.to_vec()).exec(&txn).await?;
        }
        for batch in provisions.chunks(BATCH) {
            provision::Entity::insert_many(batch.to_vec()).exec(&txn).await?;
        }
        txn.commit().await?;
        Ok(pupils.len())
    }

    /// True when no pupil of any tenant is recorded.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(pupil::Entity::find().one(&self.db).await?.is_none())
    }
}

impl Store {
    /// Each pupil of the tenant with their school and status: identifiers only,
    /// for loading demo data into the other services.
    pub async fn register_index(&self, tenant: &TenantScope) -> Result<Vec<(i64, i32, String)>> {
        Ok(pupil::Entity::find()
            .select_only()
            .column(pupil::Column::Id)
            .column(pupil::Column::SchoolUrn)
            .column(pupil::Column::SenStatus)
            .filter(pupil::Column::LaCode.eq(tenant.key()))
            .into_tuple::<(i32, i32, String)>()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|(id, urn, status)| (i64::from(id), urn, status))
            .collect())
    }
}
