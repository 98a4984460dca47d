//! Pupils: create, read, update (moving school within the tenant), change SEN
//! status, and the history of every change (their lists are in `lists`).

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use sen_platform::identity::Scope;
use sen_platform::ids::Urn;

use super::{Actor, Store, audit_one, convert, insert, load_visible};
use crate::domain::{NcYear, Pupil, PupilDetails, SenRecord, SenStatus, birth_cohort, next_review_due};
use crate::entity::{ehcp, pupil, pupil_history};
use crate::error::{Error, Result};

/// The EHCP a pupil moving to status E starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEhcp {
    /// When the plan was issued.
    pub issued_on: NaiveDate,
    /// The setting it names.
    pub named_setting: String,
}

/// A change of SEN status or needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenChange {
    /// The new status and needs.
    pub sen: SenRecord,
    /// When it takes effect.
    pub effective_on: NaiveDate,
    /// Why.
    pub reason: String,
    /// The plan, when moving to E.
    pub ehcp: Option<NewEhcp>,
}

pub(super) fn details_columns(model: &mut pupil::ActiveModel, details: &PupilDetails) {
    model.upn = Set(details.upn.as_str().to_owned());
    model.legal_forename = Set(details.legal_forename.clone());
    model.legal_surname = Set(details.legal_surname.clone());
    model.preferred_forename = Set(details.preferred_forename.clone());
    model.preferred_surname = Set(details.preferred_surname.clone());
    model.date_of_birth = Set(details.date_of_birth);
    model.birth_cohort = Set(birth_cohort(details.date_of_birth));
    model.nc_year_override = Set(details.nc_year_override.map(NcYear::code));
    model.school_urn = Set(details.school_urn.as_i32());
    model.looked_after = Set(details.looked_after);
}

pub(super) fn sen_columns(model: &mut pupil::ActiveModel, sen: &SenRecord) {
    model.sen_status = Set(sen.status.code().to_owned());
    model.primary_need = Set(sen.primary.map(|n| n.as_str().to_owned()));
    model.secondary_need = Set(sen.secondary.map(|n| n.as_str().to_owned()));
}

/// One history entry, written beside the change it records.
pub(super) struct Entry<'a> {
    pub(super) kind: &'static str,
    pub(super) effective_on: NaiveDate,
    pub(super) sen: &'a SenRecord,
    pub(super) school: Urn,
    pub(super) reason: &'a str,
}

pub(super) async fn history(
    db: &impl ConnectionTrait,
    scope: &Scope,
    actor: &Actor,
    pupil_id: i32,
    entry: Entry<'_>,
) -> Result<()> {
    pupil_history::ActiveModel {
        la_code: Set(scope.tenant().key()),
        pupil_id: Set(pupil_id),
        kind: Set(entry.kind.to_owned()),
        effective_on: Set(entry.effective_on),
        sen_status: Set(entry.sen.status.code().to_owned()),
        primary_need: Set(entry.sen.primary.map(|n| n.as_str().to_owned())),
        secondary_need: Set(entry.sen.secondary.map(|n| n.as_str().to_owned())),
        school_urn: Set(entry.school.as_i32()),
        reason: Set(entry.reason.to_owned()),
        changed_by: Set(actor.person.clone()),
        changed_by_role: Set(actor.role.as_str().to_owned()),
        recorded_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Opens the pupil's EHCP record, or reopens a ceased one with the new plan.
pub(super) async fn open_ehcp(db: &impl ConnectionTrait, scope: &Scope, pupil_id: i32, plan: &NewEhcp) -> Result<()> {
    let now = Utc::now();
    let existing = ehcp::Entity::find().filter(ehcp::Column::PupilId.eq(pupil_id)).one(db).await?;
    let mut model = match existing {
        Some(row) => {
            let version = row.version;
            let mut model: ehcp::ActiveModel = row.into();
            model.version = Set(version + 1);
            model
        }
        None => ehcp::ActiveModel {
            la_code: Set(scope.tenant().key()),
            pupil_id: Set(pupil_id),
            version: Set(1),
            created_at: Set(now),
            ..Default::default()
        },
    };
    model.issued_on = Set(plan.issued_on);
    model.named_setting = Set(plan.named_setting.clone());
    model.status = Set("active".into());
    model.ceased_on = Set(None);
    model.ceased_reason = Set(None);
    model.last_review_on = Set(None);
    model.next_review_due = Set(next_review_due(plan.issued_on));
    model.transfer_year = Set(None);
    model.next_setting = Set(None);
    model.amended_plan_issued_on = Set(None);
    model.staying_in_sixth_form = Set(false);
    model.post16_move_on = Set(None);
    model.updated_at = Set(now);
    model.save(db).await?;
    Ok(())
}

impl Store {
    /// Adds a pupil to the register (with their EHCP when the status is E).
    pub async fn create_pupil(
        &self,
        scope: &Scope,
        actor: &Actor,
        details: &PupilDetails,
        sen: &SenRecord,
        plan: Option<&NewEhcp>,
        today: NaiveDate,
    ) -> Result<Pupil> {
        if !scope.reaches(details.school_urn) {
            return Err(Error::NotFound(format!("school {}", details.school_urn)));
        }
        let txn = self.db.begin().await?;
        let now = Utc::now();
        let mut model = pupil::ActiveModel {
            la_code: Set(scope.tenant().key()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        details_columns(&mut model, details);
        sen_columns(&mut model, sen);
        let upn = details.upn.clone();
        let row = insert(&txn, model, || taken_upn(scope, &upn)).await?;
        if let Some(plan) = plan.filter(|_| sen.status == SenStatus::EhcPlan) {
            open_ehcp(&txn, scope, row.id, plan).await?;
        }
        let entry = Entry {
            kind: "added",
            effective_on: today,
            sen,
            school: details.school_urn,
            reason: "added to the register",
        };
        history(&txn, scope, actor, row.id, entry).await?;
        audit_one(&txn, scope, actor, row.id, "pupil.create").await?;
        txn.commit().await?;
        convert::pupil(row)
    }

    /// One pupil within `scope`.
    pub async fn get_pupil(&self, scope: &Scope, actor: &Actor, id: i64) -> Result<Pupil> {
        let row = load_visible(&self.read, scope, id).await?;
        self.audit_read(scope, actor, &[row.id], "pupil.read").await?;
        convert::pupil(row)
    }

    /// Replaces a pupil's details if unchanged since `expected_version`. A new
    /// school (which `scope` must reach) is a move within the tenant: the history,
    /// support, provision and plan stay with the pupil.
    pub async fn update_pupil(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        expected_version: i64,
        details: &PupilDetails,
        today: NaiveDate,
    ) -> Result<Pupil> {
        let txn = self.db.begin().await?;
        let stored = convert::pupil(load_visible(&txn, scope, id).await?)?;
        let moving = stored.details.school_urn != details.school_urn;
        if moving && !scope.reaches(details.school_urn) {
            return Err(Error::NotFound(format!("school {}", details.school_urn)));
        }
        let mut model = <pupil::ActiveModel as Default>::default();
        details_columns(&mut model, details);
        model.updated_at = Set(Utc::now());
        let row_id = stored.id as i32;
        let upn = details.upn.clone();
        // Version check and write in one statement: of two editors, the second matches no row.
        let result = pupil::Entity::update_many()
            .set(model)
            .col_expr(pupil::Column::Version, Expr::col(pupil::Column::Version).add(1))
            .filter(pupil::Column::Id.eq(row_id))
            .filter(pupil::Column::Version.eq(expected_version))
            .exec(&txn)
            .await
            .map_err(|e| super::on_unique(e, || taken_upn(scope, &upn)))?;
        if result.rows_affected == 0 {
            return Err(Error::Aborted(format!(
                "pupil {id} was changed by someone else (now version {}, you sent {expected_version}); reload and try again",
                stored.version
            )));
        }
        if moving {
            let entry = Entry {
                kind: "school_move",
                effective_on: today,
                sen: &stored.sen,
                school: details.school_urn,
                reason: "moved school within the authority",
            };
            history(&txn, scope, actor, row_id, entry).await?;
        }
        audit_one(&txn, scope, actor, row_id, "pupil.update").await?;
        let row =
            pupil::Entity::find_by_id(row_id).one(&txn).await?.ok_or_else(|| Error::NotFound(format!("pupil {id}")))?;
        txn.commit().await?;
        convert::pupil(row)
    }

    /// Changes SEN status and needs. Moving to E opens the EHCP; moving from E ceases it.
    pub async fn change_sen_status(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        expected_version: i64,
        change: &SenChange,
    ) -> Result<Pupil> {
        let txn = self.db.begin().await?;
        let stored = convert::pupil(load_visible(&txn, scope, id).await?)?;
        if stored.version != expected_version {
            return Err(Error::Aborted(format!(
                "pupil {id} was changed by someone else (now version {}, you sent {expected_version}); reload and try again",
                stored.version
            )));
        }
        let row_id = stored.id as i32;
        let was_e = stored.sen.status == SenStatus::EhcPlan;
        let is_e = change.sen.status == SenStatus::EhcPlan;
        match (was_e, is_e, &change.ehcp) {
            (false, true, Some(plan)) => open_ehcp(&txn, scope, row_id, plan).await?,
            (false, true, None) => return Err(Error::invalid("ehcp", "is required when the status becomes E")),
            (true, false, _) => {
                ehcp::Entity::update_many()
                    .col_expr(ehcp::Column::Status, Expr::value("ceased"))
                    .col_expr(ehcp::Column::CeasedOn, Expr::value(change.effective_on))
                    .col_expr(ehcp::Column::CeasedReason, Expr::value(change.reason.clone()))
                    .col_expr(ehcp::Column::Version, Expr::col(ehcp::Column::Version).add(1))
                    .filter(ehcp::Column::PupilId.eq(row_id))
                    .exec(&txn)
                    .await?;
            }
            _ => {}
        }
        let mut model = <pupil::ActiveModel as Default>::default();
        sen_columns(&mut model, &change.sen);
        model.updated_at = Set(Utc::now());
        let result = pupil::Entity::update_many()
            .set(model)
            .col_expr(pupil::Column::Version, Expr::col(pupil::Column::Version).add(1))
            .filter(pupil::Column::Id.eq(row_id))
            .filter(pupil::Column::Version.eq(expected_version))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(Error::Aborted(format!("pupil {id} was changed by someone else; reload and try again")));
        }
        let entry = Entry {
            kind: "sen_status",
            effective_on: change.effective_on,
            sen: &change.sen,
            school: stored.details.school_urn,
            reason: &change.reason,
        };
        history(&txn, scope, actor, row_id, entry).await?;
        audit_one(&txn, scope, actor, row_id, "pupil.sen_status").await?;
        let row =
            pupil::Entity::find_by_id(row_id).one(&txn).await?.ok_or_else(|| Error::NotFound(format!("pupil {id}")))?;
        txn.commit().await?;
        convert::pupil(row)
    }

    /// Every addition, status change and school move of a pupil, most recently
    /// recorded first (each entry carries the date it took effect, which may be
    /// earlier than when it was recorded).
    pub async fn pupil_history(&self, scope: &Scope, actor: &Actor, id: i64) -> Result<Vec<pupil_history::Model>> {
        let row = load_visible(&self.read, scope, id).await?;
        self.audit_read(scope, actor, &[row.id], "pupil.history").await?;
        Ok(pupil_history::Entity::find()
            .filter(pupil_history::Column::LaCode.eq(scope.tenant().key()))
            .filter(pupil_history::Column::PupilId.eq(row.id))
            .order_by_desc(pupil_history::Column::Id)
            .all(&self.read)
            .await?)
    }
}

/// The refusal of a UPN another pupil of the authority has. The council's team
/// is told which UPN; a school is told only that the pupil cannot be added
/// there, since the pupil it clashes with may be at another school, which is
/// not the school's to know: the council resolves it.
fn taken_upn(scope: &Scope, upn: &impl std::fmt::Display) -> Error {
    match scope {
        Scope::School(_) => Error::AlreadyExists(
            "this pupil cannot be added to your school's register: ask the council's SEN team, who can add or move them"
                .to_owned(),
        ),
        _ => Error::AlreadyExists(format!("a pupil with UPN {upn} is already on this authority's register")),
    }
}
