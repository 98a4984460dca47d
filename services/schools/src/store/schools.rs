//! Schools: create, read, update with optimistic concurrency, list with filters and
//! keyset paging, and the GIAS import as one transaction.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Set, TransactionTrait,
};
use sen_platform::identity::{Scope, TenantScope};
use sen_platform::ids::Urn;
use sen_platform::paging::Page;

use super::{Store, areas, convert};
use crate::domain::{Phase, School, SchoolFields, SencoAppointment};
use crate::entity::{school, senco_appointment};
use crate::error::{Error, Result};
use crate::gias::{GiasRow, Skipped};

/// Open or closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OpenFilter {
    /// Either.
    #[default]
    Any,
    /// Open, including open but proposed to close.
    Open,
    /// Closed.
    Closed,
}

/// What `list_schools` narrows to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolFilter {
    /// One phase.
    pub phase: Option<Phase>,
    /// One GIAS type code.
    pub type_code: Option<u16>,
    /// Open or closed.
    pub open: OpenFilter,
    /// With (or without) a current SENCO.
    pub has_current_senco: Option<bool>,
    /// Current SENCO's award deadline has passed.
    pub award_overdue: bool,
    /// Current SENCO's award falls due within this many days.
    pub award_due_within_days: Option<u32>,
    /// The day "overdue" and "due" are judged on.
    pub today: NaiveDate,
}

/// What an import did (or, in a dry run, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// New schools.
    pub created: u32,
    /// Schools whose GIAS fields changed.
    pub updated: u32,
    /// Schools already up to date.
    pub unchanged: u32,
    /// Rows not imported because another authority holds their URN.
    pub refused: Vec<Skipped>,
}

fn active(tenant: &TenantScope, urn: Urn, fields: &SchoolFields) -> school::ActiveModel {
    let now = Utc::now();
    school::ActiveModel {
        la_code: Set(tenant.key()),
        urn: Set(urn.as_i32()),
        laestab: Set(fields.laestab.to_string()),
        name: Set(fields.name.as_str().to_owned()),
        type_code: Set(i32::from(fields.establishment_type.code)),
        type_name: Set(fields.establishment_type.name.clone()),
        type_group: Set(fields.establishment_type.group.clone()),
        phase_code: Set(i16::from(fields.phase.gias_code())),
        status_code: Set(i16::from(fields.status.gias_code())),
        low_age: Set(fields.ages.map(|a| i16::from(a.low()))),
        high_age: Set(fields.ages.map(|a| i16::from(a.high()))),
        number_on_roll: Set(fields.number_on_roll.map(|n| i32::try_from(n).unwrap_or(i32::MAX))),
        postcode: Set(fields.postcode.as_ref().map(|p| p.as_str().to_owned())),
        open_date: Set(fields.open_date),
        close_date: Set(fields.close_date),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// The editable columns of `fields`, for an update that keeps id, tenant, URN and creation time.
fn changes(tenant: &TenantScope, urn: Urn, fields: &SchoolFields) -> school::ActiveModel {
    let mut model = active(tenant, urn, fields);
    model.la_code = sea_orm::ActiveValue::NotSet;
    model.urn = sea_orm::ActiveValue::NotSet;
    model.version = sea_orm::ActiveValue::NotSet;
    model.created_at = sea_orm::ActiveValue::NotSet;
    model
}

/// Rows of tenant schools within `scope`.
fn scoped(scope: &Scope) -> Condition {
    let condition = Condition::all().add(school::Column::LaCode.eq(scope.tenant().key()));
    match scope {
        Scope::Tenant(_) => condition,
        Scope::School(own) => condition.add(school::Column::Urn.eq(own.urn().as_i32())),
        // Which schools a professional serves is caseload data this service does
        // not hold: a caseload reaches no school here.
        Scope::Caseload(_) => condition.add(Expr::val(1).eq(0)),
    }
}

/// School ids with a current SENCO matching `extra`.
fn current_senco_schools(tenant_key: &str, extra: Condition) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(senco_appointment::Column::SchoolId)
        .from(senco_appointment::Entity)
        .cond_where(
            Condition::all()
                .add(senco_appointment::Column::LaCode.eq(tenant_key))
                .add(senco_appointment::Column::EndedOn.is_null())
                .add(extra),
        )
        .to_owned()
}

impl Store {
    /// Adds a school to the tenant.
    pub async fn create_school(&self, tenant: &TenantScope, urn: Urn, fields: &SchoolFields) -> Result<School> {
        if self.own_authority(tenant).await?.is_none() {
            return Err(Error::FailedPrecondition(format!(
                "authority {} is not registered; a platform operator must create it first",
                tenant.la_code()
            )));
        }
        let exists = school::Entity::find()
            .filter(school::Column::LaCode.eq(tenant.key()))
            .filter(school::Column::Urn.eq(urn.as_i32()))
            .one(&self.db)
            .await?;
        if exists.is_some() {
            return Err(Error::AlreadyExists(format!("school {urn} already exists")));
        }
        areas::check(&self.db, tenant, urn).await?;
        // The unique index on (tenant, URN) settles a race between two creators.
        let row = active(tenant, urn, fields)
            .insert(&self.db)
            .await
            .map_err(|e| super::on_unique(e, || Error::AlreadyExists(format!("school {urn} already exists"))))?;
        convert::school(row, None)
    }

    /// One school, if within `scope`.
    pub async fn get_school(&self, scope: &Scope, urn: Urn) -> Result<School> {
        if !scope.reaches(urn) {
            return Err(Error::NotFound(format!("school {urn}")));
        }
        // The school and its current SENCO in one statement: on SQLite each
        // statement is a round trip to the connection's thread, most of a read's cost.
        let tenant_key = scope.tenant().key();
        let current_senco = senco_appointment::Relation::School.def().rev().on_condition(move |_, _| {
            Condition::all()
                .add(Expr::col((senco_appointment::Entity, senco_appointment::Column::LaCode)).eq(tenant_key.clone()))
                .add(Expr::col((senco_appointment::Entity, senco_appointment::Column::EndedOn)).is_null())
        });
        let (row, senco) = school::Entity::find()
            .select_also(senco_appointment::Entity)
            .join(JoinType::LeftJoin, current_senco)
            .filter(scoped(scope))
            .filter(school::Column::Urn.eq(urn.as_i32()))
            .one(&self.read)
            .await?
            .ok_or_else(|| Error::NotFound(format!("school {urn}")))?;
        convert::school(row, senco.map(convert::appointment).transpose()?)
    }

    /// Replaces a school's fields if nobody changed it since `expected_version`.
    pub async fn update_school(
        &self,
        tenant: &TenantScope,
        urn: Urn,
        expected_version: i64,
        fields: &SchoolFields,
    ) -> Result<School> {
        // The version check and the write are one statement, so two managers saving
        // the same school cannot both succeed: the second matches no row.
        let result = school::Entity::update_many()
            .set(changes(tenant, urn, fields))
            .col_expr(school::Column::Version, Expr::col(school::Column::Version).add(1))
            .filter(school::Column::LaCode.eq(tenant.key()))
            .filter(school::Column::Urn.eq(urn.as_i32()))
            .filter(school::Column::Version.eq(expected_version))
            .exec(&self.db)
            .await?;
        let scope = Scope::Tenant(tenant.clone());
        let current = self.get_school(&scope, urn).await?;
        if result.rows_affected == 0 {
            return Err(Error::Aborted(format!(
                "school {urn} was changed by someone else (now version {}, you sent {expected_version}); reload it and try again",
                current.version
            )));
        }
        Ok(current)
    }

    /// Schools within `scope` matching `filter`, ordered by URN, one page.
    pub async fn list_schools(
        &self,
        scope: &Scope,
        filter: &SchoolFilter,
        page: &Page,
    ) -> Result<(Vec<School>, String)> {
        let tenant_key = scope.tenant().key();
        let mut condition = scoped(scope);
        if let Some(phase) = filter.phase {
            condition = condition.add(school::Column::PhaseCode.eq(i16::from(phase.gias_code())));
        }
        if let Some(code) = filter.type_code {
            condition = condition.add(school::Column::TypeCode.eq(i32::from(code)));
        }
        condition = match filter.open {
            OpenFilter::Any => condition,
            OpenFilter::Open => condition.add(school::Column::StatusCode.is_in([1i16, 3])),
            OpenFilter::Closed => condition.add(school::Column::StatusCode.eq(2i16)),
        };
        match filter.has_current_senco {
            Some(true) => {
                condition =
                    condition.add(school::Column::Id.in_subquery(current_senco_schools(&tenant_key, Condition::all())));
            }
            Some(false) => {
                condition = condition
                    .add(school::Column::Id.not_in_subquery(current_senco_schools(&tenant_key, Condition::all())));
            }
            None => {}
        }
        if filter.award_overdue {
            let overdue = Condition::all().add(senco_appointment::Column::AwardDeadline.lt(filter.today));
            condition = condition.add(school::Column::Id.in_subquery(current_senco_schools(&tenant_key, overdue)));
        }
        if let Some(days) = filter.award_due_within_days {
            let until = filter.today + Duration::days(i64::from(days));
            let due = Condition::all()
                .add(senco_appointment::Column::AwardDeadline.gte(filter.today))
                .add(senco_appointment::Column::AwardDeadline.lte(until));
            condition = condition.add(school::Column::Id.in_subquery(current_senco_schools(&tenant_key, due)));
        }
        if let Some(after) = &page.after {
            let after: i32 =
                after.parse().map_err(|_| Error::invalid("page.page_token", "not a token for this list"))?;
            condition = condition.add(school::Column::Urn.gt(after));
        }
        let rows = school::Entity::find()
            .filter(condition)
            .order_by_asc(school::Column::Urn)
            .limit(page.fetch_limit())
            .all(&self.read)
            .await?;
        let (rows, token) = page.finish(rows, |row| row.urn.to_string());
        let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
        let mut current = current_sencos(&self.read, scope.tenant(), &ids).await?;
        let schools = rows
            .into_iter()
            .map(|row| {
                let senco = current.remove(&row.id);
                convert::school(row, senco)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((schools, token))
    }

    /// Inserts or updates the tenant's schools from GIAS rows, all or nothing, and
    /// claims their URNs for the tenant; a row whose URN another authority holds is
    /// refused and reported. A dry run does the same work and rolls it back.
    pub async fn import_schools(&self, tenant: &TenantScope, rows: &[GiasRow], dry_run: bool) -> Result<ImportCounts> {
        if self.own_authority(tenant).await?.is_none() {
            return Err(Error::FailedPrecondition(format!("authority {} is not registered", tenant.la_code())));
        }
        let txn = self.db.begin().await?;
        let existing: HashMap<i32, school::Model> = school::Entity::find()
            .filter(school::Column::LaCode.eq(tenant.key()))
            .all(&txn)
            .await?
            .into_iter()
            .map(|row| (row.urn, row))
            .collect();
        let urns: Vec<i32> = rows.iter().map(|row| row.urn.as_i32()).collect();
        let (held_elsewhere, held) = areas::holders(&txn, tenant, &urns).await?;
        let mut counts = ImportCounts::default();
        let mut new_rows = Vec::new();
        let mut claims = Vec::new();
        for row in rows {
            let urn = row.urn.as_i32();
            if held_elsewhere.contains(&urn) {
                let reason = format!("{}; the row was not imported", areas::elsewhere(row.urn));
                counts.refused.push(Skipped { line: row.line, urn: row.urn.to_string(), reason });
                continue;
            }
            if !held.contains(&urn) {
                claims.push(urn);
            }
            match existing.get(&urn) {
                None => {
                    new_rows.push(active(tenant, row.urn, &row.fields));
                    counts.created += 1;
                }
                Some(stored) if convert::school(stored.clone(), None)?.fields == row.fields => counts.unchanged += 1,
                Some(stored) => {
                    school::Entity::update_many()
                        .set(changes(tenant, row.urn, &row.fields))
                        .col_expr(school::Column::Version, Expr::col(school::Column::Version).add(1))
                        .filter(school::Column::Id.eq(stored.id))
                        .exec(&txn)
                        .await?;
                    counts.updated += 1;
                }
            }
        }
        // Batches keep each INSERT well under SQLite's and PostgreSQL's bind-parameter limits.
        for batch in new_rows.chunks(500) {
            school::Entity::insert_many(batch.to_vec()).exec(&txn).await.map_err(|e| {
                super::on_unique(e, || {
                    Error::Aborted("schools were added while the import ran; run the import again".into())
                })
            })?;
        }
        areas::claim(&txn, tenant, &claims).await?;
        if dry_run {
            txn.rollback().await?;
        } else {
            txn.commit().await?;
        }
        Ok(counts)
    }
}

/// Current SENCOs of the given school rows, by school id, on any connection or transaction.
pub(super) async fn current_sencos(
    db: &impl ConnectionTrait,
    tenant: &TenantScope,
    school_ids: &[i32],
) -> Result<HashMap<i32, SencoAppointment>> {
    if school_ids.is_empty() {
        return Ok(HashMap::new());
    }
    senco_appointment::Entity::find()
        .filter(senco_appointment::Column::LaCode.eq(tenant.key()))
        .filter(senco_appointment::Column::EndedOn.is_null())
        .filter(senco_appointment::Column::SchoolId.is_in(school_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|row| Ok((row.school_id, convert::appointment(row)?)))
        .collect()
}
