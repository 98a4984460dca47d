//! SENCO appointments: appoint (one current per school), correct or record award
//! progress with optimistic concurrency, end, list a school's history, and the
//! authority's compliance report.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait};
use sen_platform::identity::{Scope, TenantScope};
use sen_platform::ids::Urn;

use super::{Store, convert};
use crate::domain::{
    EstablishmentStatus, School, SencoAppointment, SencoDetails, award_deadline, days_to_deadline, is_award_due_within,
    is_award_overdue,
};
use crate::entity::{school, senco_appointment};
use crate::error::{Error, Result};

/// A new appointment, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAppointment {
    /// Name, email, teacher status, award.
    pub details: SencoDetails,
    /// First day in post.
    pub appointed_on: NaiveDate,
    /// More than 12 months as a SENCO before.
    pub prior_experience_over_12_months: bool,
}

/// One school's line in the compliance report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComplianceItem {
    /// The school.
    pub school: School,
    /// Its current SENCO.
    pub senco: SencoAppointment,
    /// Days to the award deadline (negative when overdue); 0 when none is due.
    pub days_to_deadline: i64,
}

/// SENCO compliance across an authority on one day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComplianceReport {
    /// Open schools that must have a SENCO and have none.
    pub without_senco: Vec<School>,
    /// Award deadline passed.
    pub awards_overdue: Vec<ComplianceItem>,
    /// Award deadline within the window.
    pub awards_due_soon: Vec<ComplianceItem>,
    /// Current SENCOs not recorded as qualified teachers.
    pub not_qualified_teacher: Vec<ComplianceItem>,
}

fn details_columns(model: &mut senco_appointment::ActiveModel, details: &SencoDetails) {
    model.person_name = Set(details.person_name.as_str().to_owned());
    model.email = Set(details.email.as_str().to_owned());
    model.qualified_teacher = Set(details.qualified_teacher);
    model.award = Set(details.award.as_str().to_owned());
    model.award_achieved_on = Set(details.award_achieved_on);
}

impl Store {
    /// Appoints the school's SENCO; refused while another is current.
    pub async fn appoint_senco(
        &self,
        tenant: &TenantScope,
        urn: Urn,
        new: &NewAppointment,
        recorded_by: &str,
    ) -> Result<SencoAppointment> {
        let txn = self.db.begin().await?;
        let school = school::Entity::find()
            .filter(school::Column::LaCode.eq(tenant.key()))
            .filter(school::Column::Urn.eq(urn.as_i32()))
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("school {urn}")))?;
        if school.status_code == i16::from(EstablishmentStatus::Closed.gias_code()) {
            return Err(Error::FailedPrecondition(format!(
                "school {urn} is closed: a SENCO is appointed at an open school"
            )));
        }
        let current = super::schools::current_sencos(&txn, tenant, &[school.id]).await?;
        if let Some(existing) = current.get(&school.id) {
            return Err(already_has_senco(urn, existing.id));
        }
        let now = Utc::now();
        let mut model = senco_appointment::ActiveModel {
            la_code: Set(tenant.key()),
            school_id: Set(school.id),
            urn: Set(urn.as_i32()),
            appointed_on: Set(new.appointed_on),
            prior_experience_over_12_months: Set(new.prior_experience_over_12_months),
            award_deadline: Set(award_deadline(
                new.appointed_on,
                new.prior_experience_over_12_months,
                new.details.award,
                new.details.award_achieved_on,
            )),
            ended_on: Set(None),
            end_reason: Set(None),
            recorded_by: Set(recorded_by.to_owned()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        details_columns(&mut model, &new.details);
        // The partial unique index catches an appointment made concurrently.
        let row = model.insert(&txn).await.map_err(|e| {
            super::on_unique(e, || {
                Error::FailedPrecondition(format!(
                    "school {urn} already has a current SENCO; end that appointment first"
                ))
            })
        })?;
        txn.commit().await?;
        convert::appointment(row)
    }

    /// Replaces an appointment's details if unchanged since `expected_version`.
    pub async fn update_senco(
        &self,
        tenant: &TenantScope,
        id: i64,
        expected_version: i64,
        details: &SencoDetails,
    ) -> Result<SencoAppointment> {
        let stored = self.appointment(tenant, id).await?;
        let mut model = <senco_appointment::ActiveModel as Default>::default();
        details_columns(&mut model, details);
        model.award_deadline = Set(award_deadline(
            stored.appointed_on,
            stored.prior_experience_over_12_months,
            details.award,
            details.award_achieved_on,
        ));
        model.updated_at = Set(Utc::now());
        let result = senco_appointment::Entity::update_many()
            .set(model)
            .col_expr(senco_appointment::Column::Version, Expr::col(senco_appointment::Column::Version).add(1))
            .filter(senco_appointment::Column::LaCode.eq(tenant.key()))
            .filter(senco_appointment::Column::Id.eq(row_id(id)?))
            .filter(senco_appointment::Column::Version.eq(expected_version))
            .exec(&self.db)
            .await?;
        let now = self.appointment(tenant, id).await?;
        if result.rows_affected == 0 {
            return Err(Error::Aborted(format!(
                "SENCO appointment {id} was changed by someone else (now version {}, you sent {expected_version}); reload it and try again",
                now.version
            )));
        }
        Ok(now)
    }

    /// Ends a current appointment.
    pub async fn end_senco(
        &self,
        tenant: &TenantScope,
        id: i64,
        ended_on: NaiveDate,
        reason: &str,
    ) -> Result<SencoAppointment> {
        let stored = self.appointment(tenant, id).await?;
        if let Some(ended) = stored.ended_on {
            return Err(Error::FailedPrecondition(format!("SENCO appointment {id} already ended on {ended}")));
        }
        if ended_on < stored.appointed_on {
            return Err(Error::invalid(
                "ended_on",
                format!("{ended_on} is before the appointment began on {}", stored.appointed_on),
            ));
        }
        let model = senco_appointment::ActiveModel {
            ended_on: Set(Some(ended_on)),
            end_reason: Set(Some(reason.to_owned())),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        let result = senco_appointment::Entity::update_many()
            .set(model)
            .col_expr(senco_appointment::Column::Version, Expr::col(senco_appointment::Column::Version).add(1))
            .filter(senco_appointment::Column::LaCode.eq(tenant.key()))
            .filter(senco_appointment::Column::Id.eq(row_id(id)?))
            .filter(senco_appointment::Column::EndedOn.is_null())
            .exec(&self.db)
            .await?;
        if result.rows_affected == 0 {
            return Err(Error::FailedPrecondition(format!("SENCO appointment {id} was ended by someone else")));
        }
        self.appointment(tenant, id).await
    }

    /// Every appointment of a school within `scope`, newest first.
    pub async fn senco_history(&self, scope: &Scope, urn: Urn) -> Result<Vec<SencoAppointment>> {
        // Resolving the school first makes an out-of-scope URN NOT_FOUND, not an empty list.
        self.get_school(scope, urn).await?;
        senco_appointment::Entity::find()
            .filter(senco_appointment::Column::LaCode.eq(scope.tenant().key()))
            .filter(senco_appointment::Column::Urn.eq(urn.as_i32()))
            .order_by_desc(senco_appointment::Column::AppointedOn)
            .order_by_desc(senco_appointment::Column::Id)
            .all(&self.read)
            .await?
            .into_iter()
            .map(convert::appointment)
            .collect()
    }

    /// SENCO compliance of the tenant's open schools on `today`: a closed school
    /// (or one not yet open) is in none of its lists, whatever its SENCO's state.
    pub async fn compliance(
        &self,
        tenant: &TenantScope,
        today: NaiveDate,
        due_within_days: u32,
    ) -> Result<ComplianceReport> {
        let open = [EstablishmentStatus::Open, EstablishmentStatus::OpenProposedToClose];
        let rows = school::Entity::find()
            .filter(school::Column::LaCode.eq(tenant.key()))
            .filter(school::Column::StatusCode.is_in(open.map(|s| i16::from(s.gias_code()))))
            .order_by_asc(school::Column::Urn)
            .all(&self.read)
            .await?;
        let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
        let mut current = super::schools::current_sencos(&self.read, tenant, &ids).await?;
        let mut report = ComplianceReport::default();
        for row in rows {
            let senco = current.remove(&row.id);
            let school = convert::school(row, senco.clone())?;
            let Some(senco) = senco else {
                if school.fields.requires_senco() {
                    report.without_senco.push(school);
                }
                continue;
            };
            let deadline = senco.award_deadline();
            let item = ComplianceItem {
                days_to_deadline: deadline.map(|d| days_to_deadline(d, today)).unwrap_or(0),
                school,
                senco,
            };
            if !item.senco.details.qualified_teacher {
                report.not_qualified_teacher.push(item.clone());
            }
            if is_award_overdue(deadline, today) {
                report.awards_overdue.push(item);
            } else if is_award_due_within(deadline, today, due_within_days) {
                report.awards_due_soon.push(item);
            }
        }
        Ok(report)
    }

    async fn appointment(&self, tenant: &TenantScope, id: i64) -> Result<SencoAppointment> {
        let row = senco_appointment::Entity::find_by_id(row_id(id)?)
            .filter(senco_appointment::Column::LaCode.eq(tenant.key()))
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("SENCO appointment {id}")))?;
        convert::appointment(row)
    }
}

fn already_has_senco(urn: Urn, existing: i64) -> Error {
    Error::FailedPrecondition(format!(
        "school {urn} already has a current SENCO (appointment {existing}); end that appointment first"
    ))
}

fn row_id(id: i64) -> Result<i32> {
    i32::try_from(id).map_err(|_| Error::NotFound(format!("SENCO appointment {id}")))
}
