//! The graduated approach: assess-plan-do-review cycles and the provision made.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use sen_platform::identity::Scope;
use sen_platform::paging::Page;

use super::{Actor, Store, audit_one, load_visible, of_pupils_within};
use crate::domain::SupportOutcome;
use crate::entity::{provision, pupil, support_cycle};
use crate::error::{Error, Result};

/// A new cycle of SEN support.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCycle {
    /// When it begins.
    pub started_on: NaiveDate,
    /// Outcomes sought.
    pub outcomes_sought: String,
    /// Provision planned.
    pub planned_provision: String,
    /// When it is to be reviewed.
    pub review_due: NaiveDate,
}

/// New provision for a pupil.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewProvision {
    /// What.
    pub provision_type: String,
    /// Who provides it.
    pub provider: String,
    /// Minutes a week.
    pub minutes_per_week: i32,
    /// From.
    pub start_on: NaiveDate,
    /// Until (planned).
    pub end_on: Option<NaiveDate>,
}

impl Store {
    /// Starts a cycle for a pupil within `scope`.
    pub async fn add_support_cycle(
        &self,
        scope: &Scope,
        actor: &Actor,
        pupil_id: i64,
        cycle: &NewCycle,
    ) -> Result<support_cycle::Model> {
        let txn = self.db.begin().await?;
        let pupil = load_visible(&txn, scope, pupil_id).await?;
        let row = support_cycle::ActiveModel {
            la_code: Set(scope.tenant().key()),
            pupil_id: Set(pupil.id),
            started_on: Set(cycle.started_on),
            outcomes_sought: Set(cycle.outcomes_sought.clone()),
            planned_provision: Set(cycle.planned_provision.clone()),
            review_due: Set(cycle.review_due),
            recorded_by: Set(actor.person.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit_one(&txn, scope, actor, pupil.id, "support.add_cycle").await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Records the review of a cycle (once).
    pub async fn record_support_review(
        &self,
        scope: &Scope,
        actor: &Actor,
        cycle_id: i64,
        reviewed_on: NaiveDate,
        outcome: SupportOutcome,
        notes: Option<String>,
    ) -> Result<support_cycle::Model> {
        let txn = self.db.begin().await?;
        let id = i32::try_from(cycle_id).map_err(|_| Error::NotFound(format!("support cycle {cycle_id}")))?;
        let cycle = support_cycle::Entity::find_by_id(id)
            .filter(support_cycle::Column::LaCode.eq(scope.tenant().key()))
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("support cycle {cycle_id}")))?;
        // The cycle is reachable only through a pupil the caller may see.
        load_visible(&txn, scope, i64::from(cycle.pupil_id))
            .await
            .map_err(|_| Error::NotFound(format!("support cycle {cycle_id}")))?;
        if let Some(done) = cycle.reviewed_on {
            return Err(Error::FailedPrecondition(format!("support cycle {cycle_id} was already reviewed on {done}")));
        }
        if reviewed_on < cycle.started_on {
            return Err(Error::invalid(
                "reviewed_on",
                format!("{reviewed_on} is before the cycle began on {}", cycle.started_on),
            ));
        }
        let pupil_id = cycle.pupil_id;
        let mut model: support_cycle::ActiveModel = cycle.into();
        model.reviewed_on = Set(Some(reviewed_on));
        model.outcome = Set(Some(outcome.code().to_owned()));
        model.review_notes = Set(notes);
        let row = model.update(&txn).await?;
        audit_one(&txn, scope, actor, pupil_id, "support.review").await?;
        txn.commit().await?;
        Ok(row)
    }

    /// A pupil's cycles, newest first.
    pub async fn support_cycles(
        &self,
        scope: &Scope,
        actor: &Actor,
        pupil_id: i64,
    ) -> Result<Vec<support_cycle::Model>> {
        let pupil = load_visible(&self.read, scope, pupil_id).await?;
        self.audit_read(scope, actor, &[pupil.id], "support.read").await?;
        Ok(support_cycle::Entity::find()
            .filter(support_cycle::Column::LaCode.eq(scope.tenant().key()))
            .filter(support_cycle::Column::PupilId.eq(pupil.id))
            .order_by_desc(support_cycle::Column::StartedOn)
            .order_by_desc(support_cycle::Column::Id)
            .all(&self.read)
            .await?)
    }

    /// Cycles within `scope` not reviewed by their review date, oldest due first
    /// (by cycle id within a page token).
    pub async fn overdue_support_reviews(
        &self,
        scope: &Scope,
        actor: &Actor,
        today: NaiveDate,
        page: &Page,
    ) -> Result<(Vec<(pupil::Model, support_cycle::Model)>, String)> {
        let overdue = sea_orm::Condition::all()
            .add(support_cycle::Column::LaCode.eq(scope.tenant().key()))
            .add(support_cycle::Column::ReviewedOn.is_null())
            .add(support_cycle::Column::ReviewDue.lt(today));
        let mut query =
            support_cycle::Entity::find().filter(of_pupils_within(overdue, scope, support_cycle::Column::PupilId));
        if let Some(after) = &page.after {
            let after: i32 =
                after.parse().map_err(|_| Error::invalid("page.page_token", "not a token for this list"))?;
            query = query.filter(support_cycle::Column::Id.gt(after));
        }
        let cycles = query.order_by_asc(support_cycle::Column::Id).limit(page.fetch_limit()).all(&self.read).await?;
        let (cycles, token) = page.finish(cycles, |c| c.id.to_string());
        let ids: Vec<i32> = cycles.iter().map(|c| c.pupil_id).collect();
        let pupils = pupil::Entity::find().filter(pupil::Column::Id.is_in(ids.clone())).all(&self.read).await?;
        self.audit_read(scope, actor, &ids, "support.overdue_list").await?;
        let rows = cycles
            .into_iter()
            .filter_map(|c| pupils.iter().find(|p| p.id == c.pupil_id).cloned().map(|p| (p, c)))
            .collect();
        Ok((rows, token))
    }

    /// Records provision for a pupil within `scope`.
    pub async fn add_provision(
        &self,
        scope: &Scope,
        actor: &Actor,
        pupil_id: i64,
        new: &NewProvision,
    ) -> Result<provision::Model> {
        let txn = self.db.begin().await?;
        let pupil = load_visible(&txn, scope, pupil_id).await?;
        let row = provision::ActiveModel {
            la_code: Set(scope.tenant().key()),
            pupil_id: Set(pupil.id),
            provision_type: Set(new.provision_type.clone()),
            provider: Set(new.provider.clone()),
            minutes_per_week: Set(new.minutes_per_week),
            start_on: Set(new.start_on),
            end_on: Set(new.end_on),
            recorded_by: Set(actor.person.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit_one(&txn, scope, actor, pupil.id, "provision.add").await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Ends a provision.
    pub async fn end_provision(
        &self,
        scope: &Scope,
        actor: &Actor,
        provision_id: i64,
        end_on: NaiveDate,
    ) -> Result<provision::Model> {
        let txn = self.db.begin().await?;
        let id = i32::try_from(provision_id).map_err(|_| Error::NotFound(format!("provision {provision_id}")))?;
        let row = provision::Entity::find_by_id(id)
            .filter(provision::Column::LaCode.eq(scope.tenant().key()))
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("provision {provision_id}")))?;
        load_visible(&txn, scope, i64::from(row.pupil_id))
            .await
            .map_err(|_| Error::NotFound(format!("provision {provision_id}")))?;
        if end_on < row.start_on {
            return Err(Error::invalid(
                "end_on",
                format!("{end_on} is before the provision started on {}", row.start_on),
            ));
        }
        let pupil_id = row.pupil_id;
        let mut model: provision::ActiveModel = row.into();
        model.end_on = Set(Some(end_on));
        let row = model.update(&txn).await?;
        audit_one(&txn, scope, actor, pupil_id, "provision.end").await?;
        txn.commit().await?;
        Ok(row)
    }

    /// A pupil's provision, current first.
    pub async fn provisions(&self, scope: &Scope, actor: &Actor, pupil_id: i64) -> Result<Vec<provision::Model>> {
        let pupil = load_visible(&self.read, scope, pupil_id).await?;
        self.audit_read(scope, actor, &[pupil.id], "provision.read").await?;
        Ok(provision::Entity::find()
            .filter(provision::Column::LaCode.eq(scope.tenant().key()))
            .filter(provision::Column::PupilId.eq(pupil.id))
            .order_by_desc(provision::Column::StartOn)
            .order_by_desc(provision::Column::Id)
            .all(&self.read)
            .await?)
    }
}
