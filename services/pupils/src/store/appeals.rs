//! Appeals to the First-tier Tribunal (SEND) and the mediation before them
//! (`domain::appeal`): recorded under the client's idempotency key, changed
//! under a version, read per pupil and for the authority's lists and counts.
//! Every read or change of a pupil's appeals is audited like the rest of their
//! record.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use sen_platform::error::on_unique;
use sen_platform::identity::Scope;

use super::{Actor, Store, audit_one, load_visible, of_pupils_within};
use crate::domain::{AppealFacts, AppealGround, AppealOutcome, MediationOutcome, PlanSections};
use crate::entity::{appeal, pupil};
use crate::error::{Error, Result};

/// An appeal with the pupil it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppealView {
    /// The pupil.
    pub pupil: pupil::Model,
    /// The appeal.
    pub appeal: appeal::Model,
}

/// The facts a stored row records (a row that no longer parses is corrupt).
pub fn appeal_facts(row: &appeal::Model) -> Result<AppealFacts> {
    let corrupt = |what: &str, value: &str| Error::Corrupt(format!("appeal {}: {what} '{value}'", row.id));
    Ok(AppealFacts {
        ground: AppealGround::from_code(&row.ground).ok_or_else(|| corrupt("ground", &row.ground))?,
        sections: PlanSections::from_code(&row.sections).ok_or_else(|| corrupt("sections", &row.sections))?,
        decision_on: row.decision_on,
        mediation_requested_on: row.mediation_requested_on,
        mediation_on: row.mediation_on,
        mediation_outcome: row
            .mediation_outcome
            .as_deref()
            .map(|code| MediationOutcome::from_code(code).ok_or_else(|| corrupt("mediation outcome", code)))
            .transpose()?,
        certificate_issued_on: row.certificate_issued_on,
        registered_on: row.registered_on,
        response_due_given: row.response_due.filter(|_| row.response_due_given),
        response_sent_on: row.response_sent_on,
        hearing_on: row.hearing_on,
        decided_on: row.decided_on,
        outcome: row
            .outcome
            .as_deref()
            .map(|code| AppealOutcome::from_code(code).ok_or_else(|| corrupt("outcome", code)))
            .transpose()?,
    })
}

/// Writes `facts` into `model`; the response date is fixed here, from the
/// registration or as the Tribunal gave it, and stored.
fn set_facts(model: &mut appeal::ActiveModel, facts: &AppealFacts) {
    model.ground = Set(facts.ground.code().to_owned());
    model.sections = Set(facts.sections.code());
    model.decision_on = Set(facts.decision_on);
    model.mediation_requested_on = Set(facts.mediation_requested_on);
    model.mediation_on = Set(facts.mediation_on);
    model.mediation_outcome = Set(facts.mediation_outcome.map(|o| o.code().to_owned()));
    model.certificate_issued_on = Set(facts.certificate_issued_on);
    model.registered_on = Set(facts.registered_on);
    model.response_due = Set(facts.response_due());
    model.response_due_given = Set(facts.response_due_given.is_some());
    model.response_sent_on = Set(facts.response_sent_on);
    model.hearing_on = Set(facts.hearing_on);
    model.decided_on = Set(facts.decided_on);
    model.outcome = Set(facts.outcome.map(|o| o.code().to_owned()));
}

/// Appeals of pupils within `scope`.
fn appeals_within(scope: &Scope) -> sea_orm::Condition {
    let rows = sea_orm::Condition::all().add(appeal::Column::LaCode.eq(scope.tenant().key()));
    of_pupils_within(rows, scope, appeal::Column::PupilId)
}

async fn by_key(db: &impl ConnectionTrait, scope: &Scope, key: &str) -> Result<Option<appeal::Model>> {
    Ok(appeal::Entity::find()
        .filter(appeal::Column::LaCode.eq(scope.tenant().key()))
        .filter(appeal::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// The first appeal recorded under `key`, if `pupil_id` and `facts` are what it
/// was recorded with (a retry); another appeal under the key is ALREADY_EXISTS.
fn same_appeal(first: appeal::Model, pupil_id: i32, facts: &AppealFacts, key: &str) -> Result<appeal::Model> {
    if first.pupil_id == pupil_id && appeal_facts(&first)? == *facts {
        Ok(first)
    } else {
        Err(Error::AlreadyExists(format!(
            "idempotency key '{key}' was used for a different appeal ({}); use a new key for a new appeal",
            first.id
        )))
    }
}

impl Store {
    /// Records a pupil's appeal under the client's `key`. A retry with the same
    /// pupil and facts returns the first appeal and writes nothing; parallel
    /// records under one key: the unique index lets one in, and the other
    /// answers as its retry.
    pub async fn record_appeal(
        &self,
        scope: &Scope,
        actor: &Actor,
        pupil_id: i64,
        facts: &AppealFacts,
        key: &str,
    ) -> Result<appeal::Model> {
        let pupil = load_visible(&self.db, scope, pupil_id).await?;
        if let Some(first) = by_key(&self.db, scope, key).await? {
            return same_appeal(first, pupil.id, facts, key);
        }
        let txn = self.db.begin().await?;
        let now = Utc::now();
        let mut model = appeal::ActiveModel {
            la_code: Set(scope.tenant().key()),
            pupil_id: Set(pupil.id),
            idempotency_key: Set(key.to_owned()),
            version: Set(1),
            recorded_by: Set(actor.person.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        set_facts(&mut model, facts);
        let inserted = model.insert(&txn).await.map_err(|e| on_unique(e, || Error::AlreadyExists(key.to_owned())));
        let row = match inserted {
            Ok(row) => row,
            Err(Error::AlreadyExists(_)) => {
                drop(txn);
                return match by_key(&self.db, scope, key).await? {
                    Some(first) => same_appeal(first, pupil.id, facts, key),
                    None => Err(Error::Aborted("retry the appeal".into())),
                };
            }
            Err(e) => return Err(e),
        };
        audit_one(&txn, scope, actor, pupil.id, "appeal.record").await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Replaces an appeal's facts if unchanged since `expected_version`. A stale
    /// version is ABORTED, unless the appeal already records exactly these facts
    /// (a retry of the change that made it so), which answers it as it is.
    pub async fn update_appeal(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        expected_version: i64,
        facts: &AppealFacts,
    ) -> Result<appeal::Model> {
        let row_id = i32::try_from(id).map_err(|_| Error::NotFound(format!("appeal {id}")))?;
        let txn = self.db.begin().await?;
        let stored = appeal::Entity::find()
            .filter(appeals_within(scope))
            .filter(appeal::Column::Id.eq(row_id))
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("appeal {id}")))?;
        if appeal_facts(&stored)? == *facts {
            return Ok(stored);
        }
        if stored.version != expected_version {
            return Err(Error::Aborted(format!(
                "appeal {id} was changed by someone else (now version {}, you sent {expected_version}); reload and try again",
                stored.version
            )));
        }
        let mut model = <appeal::ActiveModel as Default>::default();
        set_facts(&mut model, facts);
        model.recorded_by = Set(actor.person.clone());
        model.updated_at = Set(Utc::now());
        // Version check and write in one statement: of two editors, the second matches no row.
        let result = appeal::Entity::update_many()
            .set(model)
            .col_expr(appeal::Column::Version, Expr::col(appeal::Column::Version).add(1))
            .filter(appeal::Column::Id.eq(row_id))
            .filter(appeal::Column::Version.eq(expected_version))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(Error::Aborted(format!("appeal {id} was changed by someone else; reload and try again")));
        }
        audit_one(&txn, scope, actor, stored.pupil_id, "appeal.update").await?;
        let row = appeal::Entity::find_by_id(row_id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("appeal {id}")))?;
        txn.commit().await?;
        Ok(row)
    }

    /// A pupil's appeals, the latest decision notice first.
    pub async fn appeals_of(&self, scope: &Scope, actor: &Actor, pupil_id: i64) -> Result<Vec<appeal::Model>> {
        let pupil = load_visible(&self.read, scope, pupil_id).await?;
        self.audit_read(scope, actor, &[pupil.id], "appeal.read").await?;
        Ok(appeal::Entity::find()
            .filter(appeal::Column::LaCode.eq(scope.tenant().key()))
            .filter(appeal::Column::PupilId.eq(pupil.id))
            .order_by_desc(appeal::Column::DecisionOn)
            .order_by_desc(appeal::Column::Id)
            .all(&self.read)
            .await?)
    }

    /// Every appeal within `scope` with no outcome yet, with its pupil, for the
    /// caller to judge by stage (those resolved in mediation included) and page;
    /// the caller audits the pupils it shows ([`Store::audit_reads`]).
    pub async fn appeals_without_outcome(&self, scope: &Scope) -> Result<Vec<AppealView>> {
        let appeals = appeal::Entity::find()
            .filter(appeals_within(scope))
            .filter(appeal::Column::Outcome.is_null())
            .all(&self.read)
            .await?;
        self.with_pupils(appeals).await
    }

    /// Every appeal within `scope` with its pupil, for the yearly counts (the
    /// caller audits the pupils it names).
    pub async fn all_appeals(&self, scope: &Scope) -> Result<Vec<AppealView>> {
        let appeals = appeal::Entity::find().filter(appeals_within(scope)).all(&self.read).await?;
        self.with_pupils(appeals).await
    }

    async fn with_pupils(&self, appeals: Vec<appeal::Model>) -> Result<Vec<AppealView>> {
        let mut ids: Vec<i32> = appeals.iter().map(|a| a.pupil_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut pupils = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            for row in pupil::Entity::find().filter(pupil::Column::Id.is_in(chunk.to_vec())).all(&self.read).await? {
                pupils.insert(row.id, row);
            }
        }
        Ok(appeals
            .into_iter()
            .filter_map(|appeal| pupils.get(&appeal.pupil_id).cloned().map(|pupil| AppealView { pupil, appeal }))
            .collect())
    }
}

/// Deletes a pupil's appeals, in the erasure's transaction (the pupil is past
/// their authority's retention period).
pub(super) async fn forget(db: &impl ConnectionTrait, la_code: &str, pupil_id: i32) -> Result<u64> {
    let deleted = appeal::Entity::delete_many()
        .filter(appeal::Column::LaCode.eq(la_code))
        .filter(appeal::Column::PupilId.eq(pupil_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
