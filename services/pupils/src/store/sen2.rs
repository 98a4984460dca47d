//! The SEN2 return's persons: the pupils whose EHC plan was in force in the
//! year the return describes (or ceased in it), and pupils the caller names
//! (those with requests in the return), each with their plan, their latest
//! annual review, the cessation's SEN2 reason, their appeals and the day their
//! current spell at their school began. Read within the caller's scope; the
//! caller audits what it answers ([`Store::audit_reads`]).

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sen_platform::identity::Scope;

use super::{Store, visible};
use crate::entity::{annual_review, appeal, ehcp, pupil, pupil_history};
use crate::error::Result;

/// The most pupils one call may name.
pub const MOST_NAMED: usize = 500;

/// One person of the return, as stored.
#[derive(Clone, Debug)]
pub struct Sen2Row {
    pub pupil: pupil::Model,
    /// The plan in force in the period (the latest issued by the census day).
    pub plan: Option<ehcp::Model>,
    /// The SEN2 reason of the review that ceased the plan, if one did.
    pub cease_reason: Option<i16>,
    /// The latest annual review meeting on or before the census day.
    pub last_review: Option<annual_review::Model>,
    pub appeals: Vec<appeal::Model>,
    /// The first day of the pupil's current spell at their school, by the history.
    pub school_entry_on: Option<NaiveDate>,
}

/// Which pupils a read of the return's persons asks for.
#[derive(Clone, Debug)]
pub enum Sen2Selection<'a> {
    /// Pupils whose plan was in force on a day from `from` to `to`, by pupil id
    /// after `after`, at most `limit` of them.
    WithPlans { from: NaiveDate, to: NaiveDate, after: Option<i32>, limit: u64 },
    /// These pupils (at most [`MOST_NAMED`]), those outside the scope left out.
    Named(&'a [i32]),
}

/// A plan in force on some day from `from` to `to`: issued by `to`, and not
/// ceased before `from`.
fn plan_in_force(from: NaiveDate, to: NaiveDate) -> Condition {
    Condition::all()
        .add(ehcp::Column::IssuedOn.lte(to))
        .add(Condition::any().add(ehcp::Column::CeasedOn.is_null()).add(ehcp::Column::CeasedOn.gte(from)))
}

impl Store {
    /// The persons `selection` asks for within `scope`, by pupil id, with what
    /// the return says of each up to `reference_date`.
    pub async fn sen2_persons(
        &self,
        scope: &Scope,
        selection: Sen2Selection<'_>,
        reference_date: NaiveDate,
    ) -> Result<Vec<Sen2Row>> {
        let tenant = scope.tenant().key();
        let mut query = pupil::Entity::find().filter(visible(scope)).order_by_asc(pupil::Column::Id);
        query = match selection {
            Sen2Selection::WithPlans { from, to, after, limit } => {
                let planned = Query::select()
                    .column(ehcp::Column::PupilId)
                    .from(ehcp::Entity)
                    .cond_where(
                        Condition::all().add(ehcp::Column::LaCode.eq(tenant.clone())).add(plan_in_force(from, to)),
                    )
                    .to_owned();
                let mut query = query.filter(pupil::Column::Id.in_subquery(planned)).limit(limit);
                if let Some(after) = after {
                    query = query.filter(pupil::Column::Id.gt(after));
                }
                query
            }
            Sen2Selection::Named(ids) => {
                let ids: Vec<i32> = ids.iter().copied().take(MOST_NAMED).collect();
                query.filter(pupil::Column::Id.is_in(ids))
            }
        };
        let pupils = query.all(&self.read).await?;
        if pupils.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i32> = pupils.iter().map(|p| p.id).collect();
        let mut plans: HashMap<i32, ehcp::Model> = HashMap::new();
        for plan in ehcp::Entity::find()
            .filter(ehcp::Column::LaCode.eq(tenant.clone()))
            .filter(ehcp::Column::PupilId.is_in(ids.clone()))
            .filter(ehcp::Column::IssuedOn.lte(reference_date))
            .order_by_asc(ehcp::Column::IssuedOn)
            .order_by_asc(ehcp::Column::Id)
            .all(&self.read)
            .await?
        {
            // The latest issued wins.
            plans.insert(plan.pupil_id, plan);
        }
        let mut last_review: HashMap<i32, annual_review::Model> = HashMap::new();
        let mut cease_reason: HashMap<i32, i16> = HashMap::new();
        for review in annual_review::Entity::find()
            .filter(annual_review::Column::LaCode.eq(tenant.clone()))
            .filter(annual_review::Column::PupilId.is_in(ids.clone()))
            .filter(annual_review::Column::MeetingOn.lte(reference_date))
            .order_by_asc(annual_review::Column::MeetingOn)
            .order_by_asc(annual_review::Column::Id)
            .all(&self.read)
            .await?
        {
            if let (Some(reason), Some(_)) = (review.cease_reason, review.ceased_on) {
                cease_reason.insert(review.pupil_id, reason);
            }
            last_review.insert(review.pupil_id, review);
        }
        let mut appeals: HashMap<i32, Vec<appeal::Model>> = HashMap::new();
        for row in appeal::Entity::find()
            .filter(appeal::Column::LaCode.eq(tenant.clone()))
            .filter(appeal::Column::PupilId.is_in(ids.clone()))
            .filter(appeal::Column::DecisionOn.lte(reference_date))
            .order_by_asc(appeal::Column::DecisionOn)
            .order_by_asc(appeal::Column::Id)
            .all(&self.read)
            .await?
        {
            appeals.entry(row.pupil_id).or_default().push(row);
        }
        let mut history: HashMap<i32, Vec<(NaiveDate, i32)>> = HashMap::new();
        for row in pupil_history::Entity::find()
            .filter(pupil_history::Column::LaCode.eq(tenant))
            .filter(pupil_history::Column::PupilId.is_in(ids))
            .order_by_asc(pupil_history::Column::EffectiveOn)
            .order_by_asc(pupil_history::Column::Id)
            .all(&self.read)
            .await?
        {
            history.entry(row.pupil_id).or_default().push((row.effective_on, row.school_urn));
        }
        Ok(pupils
            .into_iter()
            .map(|pupil| {
                let id = pupil.id;
                let school_entry_on = history.get(&id).and_then(|rows| spell_start(rows, pupil.school_urn));
                let plan = plans.remove(&id);
                let ceased = plan.as_ref().is_some_and(|p| p.ceased_on.is_some());
                Sen2Row {
                    school_entry_on,
                    cease_reason: if ceased { cease_reason.get(&id).copied() } else { None },
                    plan,
                    last_review: last_review.remove(&id),
                    appeals: appeals.remove(&id).unwrap_or_default(),
                    pupil,
                }
            })
            .collect())
    }
}

/// The first day of the latest unbroken run of history entries at `school`
/// (entries oldest first), if the latest entry is there.
fn spell_start(rows: &[(NaiveDate, i32)], school: i32) -> Option<NaiveDate> {
    let mut start = None;
    for &(on, urn) in rows {
        match (urn == school, start) {
            (true, None) => start = Some(on),
            (false, _) => start = None,
            (true, Some(_)) => {}
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::spell_start;
    use chrono::NaiveDate;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn a_pupil_who_moved_back_starts_their_spell_on_the_return() {
        let rows = [(d(1, 5), 100001), (d(3, 1), 100001), (d(4, 2), 100002), (d(6, 9), 100001), (d(7, 1), 100001)];
        assert_eq!(spell_start(&rows, 100001), Some(d(6, 9)));
        assert_eq!(spell_start(&rows, 100002), None);
        assert_eq!(spell_start(&rows[..3], 100002), Some(d(4, 2)));
    }
}
