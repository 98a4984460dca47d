//! A school's Common Transfer File into the register, in one transaction: each
//! pupil found by UPN in the authority is created, updated (a pupil on another
//! school's roll moves, history kept) or left alone; the SEN history the file
//! carries is added where the register lacks it; status E opens the plan record
//! and leaving E ceases it, as `ChangeSenStatus` does. A dry run, or a file with
//! any pupil refused, is rolled back: nothing of it is written. Every pupil
//! written is audited, and the import itself (who, which school, the counts).

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait};
use sen_platform::identity::Scope;
use sen_platform::ids::Urn;

use super::pupils::{details_columns, open_ehcp, sen_columns};
use super::{Actor, NewEhcp, Store, audit, convert};
use crate::ctf::{CtfFile, CtfPupil, Refused};
use crate::domain::{Pupil, PupilDetails, SenRecord, SenStatus};
use crate::entity::{audit_event, ehcp, pupil, pupil_history};
use crate::error::{Error, Result};

/// Rows written in one statement (well under both engines' bound-value limits).
const ROWS_PER_INSERT: usize = 500;
/// The audit action of an import, one per file.
pub const IMPORT_ACTION: &str = "pupils.ctf_import";
/// The audit action on each pupil an import created or changed.
const PUPIL_ACTION: &str = "pupil.ctf_import";

/// What an import did, or would do, to one pupil.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Added to the register.
    Created,
    /// Changed at the same school.
    Updated,
    /// Moved from another school of the authority.
    Moved {
        /// The school they were on roll at.
        from: Urn,
    },
}

/// One pupil created or changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtfChange {
    /// Line of `<Pupil>`.
    pub line: u64,
    /// The pupil's UPN.
    pub upn: String,
    /// What happened.
    pub kind: ChangeKind,
    /// What changed, in words: "name", "SEN provision", "2 SEN history entries", ….
    pub what: Vec<String>,
}

/// The outcome of an import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CtfImport {
    /// Pupils added.
    pub created: u32,
    /// Pupils changed (moves included).
    pub updated: u32,
    /// Pupils already as the file has them.
    pub unchanged: u32,
    /// Every pupil created or changed, in file order.
    pub changes: Vec<CtfChange>,
    /// Every pupil refused, in file order: any refusal leaves the file unwritten.
    pub refused: Vec<Refused>,
    /// The file was written (not a dry run, nothing refused).
    pub written: bool,
}

/// A pupil of the file with what the register holds of them.
struct Planned<'a> {
    from_file: &'a CtfPupil,
    stored: Option<Pupil>,
    details: PupilDetails,
    /// History entries to add: the spell's start and its record.
    history: Vec<(NaiveDate, SenRecord)>,
    change: Option<CtfChange>,
}

impl Store {
    /// Imports `file` (already checked by the register's rules) for the
    /// caller in `scope`, whose reach must include the file's school. A
    /// SENCO takes a pupil from another school only when the file's date of
    /// birth and legal surname match the authority's record of that UPN.
    pub async fn import_ctf(
        &self,
        scope: &Scope,
        actor: &Actor,
        file: &CtfFile,
        dry_run: bool,
        today: NaiveDate,
    ) -> Result<CtfImport> {
        let school = file.school.urn;
        if !scope.reaches(school) {
            return Err(Error::NotFound(format!("school {school}")));
        }
        let tenant = scope.tenant().key();
        let txn = self.db.begin().await?;
        let upns: Vec<String> = file.pupils.iter().map(|p| p.details.upn.as_str().to_owned()).collect();
        let mut stored: HashMap<String, pupil::Model> = HashMap::with_capacity(upns.len());
        for chunk in upns.chunks(ROWS_PER_INSERT) {
            let rows = pupil::Entity::find()
                .filter(pupil::Column::LaCode.eq(tenant.clone()))
                .filter(pupil::Column::Upn.is_in(chunk.iter().cloned()))
                .all(&txn)
                .await?;
            stored.extend(rows.into_iter().map(|row| (row.upn.clone(), row)));
        }
        let known = recorded_spells(&txn, &tenant, stored.values().map(|row| row.id).collect()).await?;
        let mut report = CtfImport { refused: file.refused.clone(), ..Default::default() };
        let mut planned = Vec::with_capacity(file.pupils.len());
        for from_file in &file.pupils {
            let row = stored.remove(from_file.details.upn.as_str());
            let stored = row.map(convert::pupil).transpose()?;
            if let Some(refusal) = stored.as_ref().and_then(|stored| refuse_move(scope, from_file, stored)) {
                report.refused.push(refusal);
                continue;
            }
            let plan = plan(from_file, stored, &known, today);
            match &plan.change {
                None => report.unchanged += 1,
                Some(change) if change.kind == ChangeKind::Created => report.created += 1,
                Some(_) => report.updated += 1,
            }
            report.changes.extend(plan.change.clone());
            planned.push(plan);
        }
        report.refused.sort_by_key(|r| r.line);
        let write = !dry_run && report.refused.is_empty();
        if write {
            write_all(&txn, scope, actor, &planned, &file.school.name, today).await?;
        }
        let detail = format!(
            "school {school}, CTF {}: created {}, updated {}, unchanged {}, refused {}{}",
            file.school.version,
            report.created,
            report.updated,
            report.unchanged,
            report.refused.len(),
            if dry_run {
                ", dry run"
            } else if write {
                ""
            } else {
                ", nothing written"
            }
        );
        if write {
            audit_import(&txn, scope, actor, &detail).await?;
            txn.commit().await?;
        } else {
            txn.rollback().await?;
            audit_import(&self.db, scope, actor, &detail).await?;
        }
        report.written = write;
        Ok(report)
    }
}

/// A SENCO may not take another school's pupil on the UPN alone: the file
/// must agree with the authority's record on the date of birth and surname.
/// The refusal names no other school and no detail of the record.
fn refuse_move(scope: &Scope, from_file: &CtfPupil, stored: &Pupil) -> Option<Refused> {
    let moving = stored.details.school_urn != from_file.details.school_urn;
    let school_only = matches!(scope, Scope::School(_));
    let agrees = stored.details.date_of_birth == from_file.details.date_of_birth
        && stored.details.legal_surname.to_lowercase() == from_file.details.legal_surname.to_lowercase();
    (moving && school_only && !agrees).then(|| Refused {
        line: from_file.line,
        element: "Pupil/UPN".into(),
        upn: from_file.details.upn.as_str().to_owned(),
        reason: "Pupil/UPN: this pupil cannot be added to your school's register from this file: the council's SEN team can move them".into(),
    })
}

/// The spells already in each pupil's history: (pupil, start, status).
async fn recorded_spells(
    db: &impl ConnectionTrait,
    tenant: &str,
    ids: Vec<i32>,
) -> Result<HashSet<(i32, NaiveDate, String)>> {
    let mut known = HashSet::new();
    for chunk in ids.chunks(ROWS_PER_INSERT) {
        let rows: Vec<(i32, NaiveDate, String)> = pupil_history::Entity::find()
            .select_only()
            .column(pupil_history::Column::PupilId)
            .column(pupil_history::Column::EffectiveOn)
            .column(pupil_history::Column::SenStatus)
            .filter(pupil_history::Column::LaCode.eq(tenant))
            .filter(pupil_history::Column::PupilId.is_in(chunk.iter().copied()))
            .filter(pupil_history::Column::Kind.is_in(["added", "sen_status"]))
            .into_tuple()
            .all(db)
            .await?;
        known.extend(rows);
    }
    Ok(known)
}

/// What the file would change for one pupil.
fn plan<'a>(
    from_file: &'a CtfPupil,
    stored: Option<Pupil>,
    known: &HashSet<(i32, NaiveDate, String)>,
    today: NaiveDate,
) -> Planned<'a> {
    let mut details = from_file.details.clone();
    if let Some(stored) = &stored {
        // The file says nothing of being looked after: the register's record stands.
        details.looked_after = from_file.looked_after.unwrap_or(stored.details.looked_after);
    }
    let id = stored.as_ref().map(|p| p.id as i32);
    let history: Vec<(NaiveDate, SenRecord)> = from_file
        .spells
        .iter()
        .filter(|spell| spell.start <= today)
        .filter(|spell| id.is_none_or(|id| !known.contains(&(id, spell.start, spell.status.code().to_owned()))))
        .filter_map(|spell| Some((spell.start, from_file.spell_record(spell)?)))
        .collect();
    let upn = from_file.details.upn.as_str().to_owned();
    let change = match &stored {
        None => Some(CtfChange { line: from_file.line, upn, kind: ChangeKind::Created, what: Vec::new() }),
        Some(stored) => {
            let mut what = Vec::new();
            let (was, now) = (&stored.details, &details);
            if (&was.legal_forename, &was.legal_surname) != (&now.legal_forename, &now.legal_surname) {
                what.push("legal name".to_owned());
            }
            if (&was.preferred_forename, &was.preferred_surname) != (&now.preferred_forename, &now.preferred_surname) {
                what.push("preferred name".to_owned());
            }
            if was.date_of_birth != now.date_of_birth {
                what.push("date of birth".to_owned());
            }
            if was.nc_year_override != now.nc_year_override {
                what.push("year group".to_owned());
            }
            if was.looked_after != now.looked_after {
                what.push("looked after".to_owned());
            }
            if stored.sen != from_file.sen {
                what.push("SEN provision and needs".to_owned());
            }
            match history.len() {
                0 => {}
                1 => what.push("1 SEN history entry".to_owned()),
                n => what.push(format!("{n} SEN history entries")),
            }
            let kind = if was.school_urn != now.school_urn {
                ChangeKind::Moved { from: was.school_urn }
            } else {
                ChangeKind::Updated
            };
            (kind != ChangeKind::Updated || !what.is_empty()).then_some(CtfChange {
                line: from_file.line,
                upn,
                kind,
                what,
            })
        }
    };
    Planned { from_file, stored, details, history, change }
}

/// Writes every planned change in the caller's transaction.
async fn write_all(
    txn: &impl ConnectionTrait,
    scope: &Scope,
    actor: &Actor,
    planned: &[Planned<'_>],
    school_name: &str,
    today: NaiveDate,
) -> Result<()> {
    let tenant = scope.tenant().key();
    let now = Utc::now();
    let new: Vec<&Planned<'_>> = planned.iter().filter(|p| p.stored.is_none() && p.change.is_some()).collect();
    for chunk in new.chunks(ROWS_PER_INSERT) {
        let rows = chunk.iter().map(|p| {
            let mut model = pupil::ActiveModel {
                la_code: Set(tenant.clone()),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            details_columns(&mut model, &p.details);
            sen_columns(&mut model, &p.from_file.sen);
            model
        });
        pupil::Entity::insert_many(rows).exec(txn).await?;
    }
    let mut ids: HashMap<String, i32> = HashMap::with_capacity(planned.len());
    let new_upns: Vec<String> = new.iter().map(|p| p.details.upn.as_str().to_owned()).collect();
    for chunk in new_upns.chunks(ROWS_PER_INSERT) {
        let rows: Vec<(i32, String)> = pupil::Entity::find()
            .select_only()
            .column(pupil::Column::Id)
            .column(pupil::Column::Upn)
            .filter(pupil::Column::LaCode.eq(tenant.clone()))
            .filter(pupil::Column::Upn.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(txn)
            .await?;
        ids.extend(rows.into_iter().map(|(id, upn)| (upn, id)));
    }
    let mut history = Vec::new();
    let mut touched = Vec::new();
    let entry = |pupil_id: i32, kind: &str, effective_on: NaiveDate, sen: &SenRecord, school: Urn, reason: String| {
        pupil_history::ActiveModel {
            la_code: Set(tenant.clone()),
            pupil_id: Set(pupil_id),
            kind: Set(kind.to_owned()),
            effective_on: Set(effective_on),
            sen_status: Set(sen.status.code().to_owned()),
            primary_need: Set(sen.primary.map(|n| n.as_str().to_owned())),
            secondary_need: Set(sen.secondary.map(|n| n.as_str().to_owned())),
            school_urn: Set(school.as_i32()),
            reason: Set(reason),
            changed_by: Set(actor.person.clone()),
            changed_by_role: Set(actor.role.as_str().to_owned()),
            recorded_at: Set(now),
            ..Default::default()
        }
    };
    for p in planned.iter().filter(|p| p.change.is_some()) {
        let school = p.details.school_urn;
        let sen = &p.from_file.sen;
        let id = match &p.stored {
            None => {
                let id = *ids
                    .get(p.details.upn.as_str())
                    .ok_or_else(|| Error::Corrupt(format!("pupil {} was not added", p.details.upn)))?;
                let reason = format!("added from the Common Transfer File of school {school}");
                history.push(entry(id, "added", today, sen, school, reason));
                if sen.status == SenStatus::EhcPlan {
                    open_ehcp(txn, scope, id, &plan_for(p, school_name, today)).await?;
                }
                id
            }
            Some(stored) => {
                let id = stored.id as i32;
                update(txn, stored, p).await?;
                if stored.details.school_urn != school {
                    let reason = format!("moved school: on the roll in the Common Transfer File of school {school}");
                    history.push(entry(id, "school_move", today, &stored.sen, school, reason));
                }
                let (was_e, is_e) = (stored.sen.status == SenStatus::EhcPlan, sen.status == SenStatus::EhcPlan);
                if !was_e && is_e {
                    open_ehcp(txn, scope, id, &plan_for(p, school_name, today)).await?;
                } else if was_e && !is_e {
                    let reason =
                        format!("SEN provision {} in the Common Transfer File of school {school}", sen.status.code());
                    cease_plan(txn, id, p.from_file.sen_since.unwrap_or(today), &reason).await?;
                }
                if stored.sen != *sen {
                    let reason = format!("SEN provision and needs from the Common Transfer File of school {school}");
                    let since = p.from_file.sen_since.unwrap_or(today);
                    // The change itself, unless the file's history already records it on that day.
                    if !p.history.iter().any(|(start, record)| *start == since && record.status == sen.status) {
                        history.push(entry(id, "sen_status", since, sen, school, reason));
                    }
                }
                id
            }
        };
        for (start, record) in &p.history {
            let spell = p.from_file.spells.iter().find(|s| s.start == *start && s.status == record.status);
            let to = spell.and_then(|s| s.end).map(|end| format!(" to {end}")).unwrap_or_default();
            let reason = format!(
                "SEN history from the Common Transfer File of school {school}: {} from {start}{to}",
                record.status.code()
            );
            history.push(entry(id, "sen_status", *start, record, school, reason));
        }
        touched.push(id);
    }
    for chunk in history.chunks(ROWS_PER_INSERT) {
        pupil_history::Entity::insert_many(chunk.to_vec()).exec(txn).await?;
    }
    audit(txn, scope, actor, &touched, PUPIL_ACTION).await
}

/// The plan record a pupil with status E starts with: from the day their E
/// provision began, naming the file's school (a CTF carries no plan details;
/// the council corrects them on the plan's page).
fn plan_for(p: &Planned<'_>, school_name: &str, today: NaiveDate) -> NewEhcp {
    let named_setting = match school_name.trim() {
        "" => format!("school {}", p.details.school_urn),
        name => name.chars().take(200).collect(),
    };
    NewEhcp { issued_on: p.from_file.sen_since.unwrap_or(today), named_setting }
}

/// Replaces a stored pupil's details and SEN record, if unchanged since read.
async fn update(txn: &impl ConnectionTrait, stored: &Pupil, p: &Planned<'_>) -> Result<()> {
    let mut model = <pupil::ActiveModel as Default>::default();
    details_columns(&mut model, &p.details);
    sen_columns(&mut model, &p.from_file.sen);
    model.updated_at = Set(Utc::now());
    let result = pupil::Entity::update_many()
        .set(model)
        .col_expr(pupil::Column::Version, Expr::col(pupil::Column::Version).add(1))
        .filter(pupil::Column::Id.eq(stored.id as i32))
        .filter(pupil::Column::Version.eq(stored.version))
        .exec(txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::Aborted(format!(
            "pupil {} was changed by someone else during the import; import the file again",
            stored.id
        )));
    }
    Ok(())
}

/// Ceases a pupil's plan, as leaving status E does.
async fn cease_plan(txn: &impl ConnectionTrait, pupil_id: i32, on: NaiveDate, reason: &str) -> Result<()> {
    ehcp::Entity::update_many()
        .col_expr(ehcp::Column::Status, Expr::value("ceased"))
        .col_expr(ehcp::Column::CeasedOn, Expr::value(on))
        .col_expr(ehcp::Column::CeasedReason, Expr::value(reason.to_owned()))
        .col_expr(ehcp::Column::Version, Expr::col(ehcp::Column::Version).add(1))
        .filter(ehcp::Column::PupilId.eq(pupil_id))
        .filter(ehcp::Column::Status.eq("active"))
        .exec(txn)
        .await?;
    Ok(())
}

/// The import's own audit entry: who, which school, the counts.
async fn audit_import(db: &impl ConnectionTrait, scope: &Scope, actor: &Actor, detail: &str) -> Result<()> {
    audit_event::Entity::insert(audit_event::ActiveModel {
        la_code: Set(scope.tenant().key()),
        person: Set(actor.person.clone()),
        role: Set(actor.role.as_str().to_owned()),
        pupil_id: Set(None),
        action: Set(IMPORT_ACTION.to_owned()),
        detail: Set(Some(detail.to_owned())),
        at: Set(Utc::now()),
        trace_id: Set(actor.trace_id.clone()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}
