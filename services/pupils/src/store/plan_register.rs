//! The register's side of a final EHC plan issued (`crate::domain::final_plan`):
//! one transaction that moves the pupil to E, opens their EHCP from the issue
//! day, writes the history entry and the audit entry, and records the
//! registration under the request's key, so a retry changes nothing twice.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use sen_platform::error::on_unique;
use sen_platform::identity::{Scope, TenantScope};
use sen_platform::ids::Urn;

use super::pupils::{Entry, history, open_ehcp, sen_columns};
use super::{Actor, NewEhcp, Store, audit_one, convert, load_visible};
use crate::domain::{PlanRegistration, registration_for};
use crate::entity::{plan_registration, pupil};
use crate::error::{Error, Result};

/// A final plan for the register to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalPlan {
    /// The pupil.
    pub pupil_id: i64,
    /// The EHC needs assessment request it ends (the key).
    pub referral_id: i64,
    /// The day it was issued.
    pub issued_on: NaiveDate,
}

/// What registering a final plan did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registered {
    /// `moved_to_e`, `already_on_plan` or `no_primary_need`.
    pub outcome: String,
    /// The pupil's status after it.
    pub sen_status: String,
    /// Whether this call recorded it (false: a retry found it recorded).
    pub recorded_now: bool,
}

impl From<plan_registration::Model> for Registered {
    fn from(row: plan_registration::Model) -> Self {
        Self { outcome: row.outcome, sen_status: row.sen_status, recorded_now: false }
    }
}

/// The registration of `referral_id`'s plan, if recorded.
async fn recorded(
    db: &impl ConnectionTrait,
    la_code: &str,
    referral_id: i64,
) -> Result<Option<plan_registration::Model>> {
    Ok(plan_registration::Entity::find()
        .filter(plan_registration::Column::LaCode.eq(la_code))
        .filter(plan_registration::Column::ReferralId.eq(referral_id))
        .one(db)
        .await?)
}

/// Why the pupil's history changed: the reason names the request.
pub fn reason_for(referral_id: i64) -> String {
    format!("final EHC plan issued (EHC needs assessment request {referral_id})")
}

impl Store {
    /// The registration already recorded for `referral_id`, if any.
    pub async fn plan_registration(&self, tenant: &TenantScope, referral_id: i64) -> Result<Option<Registered>> {
        Ok(recorded(&self.read, &tenant.key(), referral_id).await?.map(Registered::from))
    }

    /// The school the pupil is on roll at (NOT_FOUND when they are not on the
    /// authority's register), unaudited: for naming the plan's setting.
    pub async fn school_of_pupil(&self, tenant: &TenantScope, pupil_id: i64) -> Result<Urn> {
        let row = load_visible(&self.read, &Scope::Tenant(tenant.clone()), pupil_id).await?;
        Urn::from_stored(row.school_urn).map_err(|e| Error::Corrupt(format!("pupil {pupil_id}: {e}")))
    }

    /// Records `plan` on the register as `actor`, naming `named_setting` in a
    /// new EHCP; a plan recorded before under the same request answers as it
    /// did then and changes nothing. NOT_FOUND when the pupil is not on the
    /// authority's register; FAILED_PRECONDITION while their erasure is under way.
    pub async fn register_final_plan(
        &self,
        tenant: &TenantScope,
        actor: &Actor,
        plan: &FinalPlan,
        named_setting: &str,
    ) -> Result<Registered> {
        let la_code = tenant.key();
        let scope = Scope::Tenant(tenant.clone());
        let txn = self.db.begin().await?;
        if let Some(row) = recorded(&txn, &la_code, plan.referral_id).await? {
            return Ok(row.into());
        }
        let row = load_visible(&txn, &scope, plan.pupil_id).await?;
        Self::refuse_while_erasing(&txn, &la_code, row.id).await?;
        let stored = convert::pupil(row.clone())?;
        let codes = super::need_types::need_types_of(&txn, &la_code).await?;
        let registration = registration_for(&stored.sen, &codes);
        let sen_status = match &registration {
            PlanRegistration::MoveToE(record) => record.status.code(),
            PlanRegistration::AlreadyOnPlan | PlanRegistration::NoPrimaryNeed => stored.sen.status.code(),
        };
        // The key first: of two attempts at once, the second waits here for the
        // first to commit (PostgreSQL; SQLite has one writer) and then finds the
        // key taken, undoes all of its own and is told to try again, when it
        // answers the first's outcome. Nothing below is done twice.
        let key = plan_registration::ActiveModel {
            la_code: Set(la_code.clone()),
            referral_id: Set(plan.referral_id),
            pupil_id: Set(row.id),
            issued_on: Set(plan.issued_on),
            outcome: Set(registration.code().to_owned()),
            sen_status: Set(sen_status.to_owned()),
            recorded_by: Set(actor.person.clone()),
            recorded_at: Set(Utc::now()),
            ..Default::default()
        };
        let taken = || Error::Aborted(format!("the plan of request {} was registered meanwhile", plan.referral_id));
        plan_registration::Entity::insert(key).exec(&txn).await.map_err(|e| on_unique(e, taken))?;
        if let PlanRegistration::MoveToE(record) = &registration {
            let ehcp = NewEhcp { issued_on: plan.issued_on, named_setting: named_setting.to_owned() };
            // A plan opened meanwhile by hand (`ChangeSenStatus`) takes the pupil's one EHCP row.
            open_ehcp(&txn, &scope, row.id, &ehcp).await.map_err(|e| match e {
                Error::Database(db) => {
                    on_unique(db, || Error::Aborted(format!("pupil {} changed meanwhile", plan.pupil_id)))
                }
                other => other,
            })?;
            let mut model = <pupil::ActiveModel as Default>::default();
            sen_columns(&mut model, record);
            model.updated_at = Set(Utc::now());
            // Conditional on the version read here: a change committed meanwhile
            // makes this attempt ABORTED and its caller try again.
            let moved = pupil::Entity::update_many()
                .set(model)
                .col_expr(pupil::Column::Version, Expr::col(pupil::Column::Version).add(1))
                .filter(pupil::Column::Id.eq(row.id))
                .filter(pupil::Column::Version.eq(row.version))
                .exec(&txn)
                .await?;
            if moved.rows_affected == 0 {
                return Err(Error::Aborted(format!("pupil {} changed meanwhile; try again", plan.pupil_id)));
            }
            let reason = reason_for(plan.referral_id);
            let entry = Entry {
                kind: "sen_status",
                effective_on: plan.issued_on,
                sen: record,
                school: stored.details.school_urn,
                reason: &reason,
            };
            history(&txn, &scope, actor, row.id, entry).await?;
            audit_one(&txn, &scope, actor, row.id, "pupil.sen_status").await?;
        }
        txn.commit().await?;
        Ok(Registered {
            outcome: registration.code().to_owned(),
            sen_status: sen_status.to_owned(),
            recorded_now: true,
        })
    }
}

/// Forgets the registrations of a pupil being erased, in the erasure's transaction.
pub(super) async fn forget(db: &impl ConnectionTrait, la_code: &str, pupil_id: i32) -> Result<u64> {
    Ok(plan_registration::Entity::delete_many()
        .filter(plan_registration::Column::LaCode.eq(la_code))
        .filter(plan_registration::Column::PupilId.eq(pupil_id))
        .exec(db)
        .await?
        .rows_affected)
}
