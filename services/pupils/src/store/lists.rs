//! Lists of pupils: filtered by school, status, need, year group and more, paged
//! by keyset in id order or by name, and counted.
//!
//! By name the keyset is (legal surname, legal forename, id), read from the
//! indexes `ix_pupils_tenant_name` and `ix_pupils_tenant_status_name` (migration
//! `m20270112_000006_index_pupils_by_name`) as one row comparison. The page
//! token names only the last pupil's id, never a name (tokens travel in
//! addresses): the next page looks that pupil up, within the caller's scope, to
//! continue after their name.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use sen_platform::identity::Scope;
use sen_platform::ids::Urn;
use sen_platform::paging::Page;

use super::{Actor, Store, convert, visible};
use crate::domain::{NcYear, NeedCode, Pupil, PupilSearch, SenStatus, Upn, academic_year_start, cohort_in_year};
use crate::entity::pupil;
use crate::error::{Error, Result};

/// What `list_pupils` narrows to, and the order it lists in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PupilFilter {
    /// One school.
    pub school: Option<Urn>,
    /// One status.
    pub status: Option<SenStatus>,
    /// One primary need.
    pub primary_need: Option<NeedCode>,
    /// One year group (this academic year).
    pub nc_year: Option<NcYear>,
    /// Looked-after or not.
    pub looked_after: Option<bool>,
    /// One UPN.
    pub upn: Option<Upn>,
    /// Only these pupils (none: any pupil).
    pub ids: Vec<i32>,
    /// Only pupils on the SEN register (K or E).
    pub on_register: bool,
    /// The order of the list.
    pub order: PupilOrder,
    /// A name or UPN as typed (none: any pupil).
    pub search: Option<PupilSearch>,
}

/// The order of a list of pupils.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PupilOrder {
    /// By id: the order they were recorded in.
    #[default]
    Id,
    /// By legal surname, legal forename, then id.
    Name,
}

/// The page token's key of a pupil in a list by name.
const BY_NAME: &str = "name:";

impl Store {
    /// Pupils within `scope` matching `filter`, in its order, one page.
    pub async fn list_pupils(
        &self,
        scope: &Scope,
        actor: &Actor,
        filter: &PupilFilter,
        page: &Page,
        today: NaiveDate,
    ) -> Result<(Vec<Pupil>, String)> {
        let mut condition = matching(scope, filter, today);
        let rows = match filter.order {
            PupilOrder::Id => {
                if let Some(after) = &page.after {
                    let after: i32 = after.parse().map_err(|_| not_this_lists_token())?;
                    condition = condition.add(pupil::Column::Id.gt(after));
                }
                let rows = pupil::Entity::find()
                    .filter(condition)
                    .order_by_asc(pupil::Column::Id)
                    .limit(page.fetch_limit())
                    .all(&self.read)
                    .await?;
                page.finish(rows, |row| row.id.to_string())
            }
            PupilOrder::Name => {
                if let Some(after) = &page.after {
                    condition = condition.add(self.after_name(scope, after).await?);
                }
                let rows = pupil::Entity::find()
                    .filter(condition)
                    .order_by_asc(pupil::Column::LegalSurname)
                    .order_by_asc(pupil::Column::LegalForename)
                    .order_by_asc(pupil::Column::Id)
                    .limit(page.fetch_limit())
                    .all(&self.read)
                    .await?;
                page.finish(rows, |row| format!("{BY_NAME}{}", row.id))
            }
        };
        let (rows, token) = rows;
        let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
        self.audit_read(scope, actor, &ids, "pupil.list").await?;
        let pupils = rows.into_iter().map(convert::pupil).collect::<Result<Vec<_>>>()?;
        Ok((pupils, token))
    }

    /// How many pupils within `scope` match `filter` in all (its order aside).
    pub async fn count_pupils(&self, scope: &Scope, filter: &PupilFilter, today: NaiveDate) -> Result<u64> {
        Ok(pupil::Entity::find().filter(matching(scope, filter, today)).count(&self.read).await?)
    }

    /// The pupils after the one a by-name token names: after their name as it
    /// is now. A token of another list, or of a pupil no longer within the
    /// caller's scope, cannot be continued.
    async fn after_name(&self, scope: &Scope, token: &str) -> Result<SimpleExpr> {
        let id: i32 = token.strip_prefix(BY_NAME).and_then(|id| id.parse().ok()).ok_or_else(not_this_lists_token)?;
        let last = pupil::Entity::find()
            .filter(visible(scope))
            .filter(pupil::Column::Id.eq(id))
            .one(&self.read)
            .await?
            .ok_or_else(|| Error::invalid("page.page_token", "the list has changed since this page; start again"))?;
        let key = [pupil::Column::LegalSurname, pupil::Column::LegalForename, pupil::Column::Id].map(Expr::col);
        let values: [SimpleExpr; 3] = [last.legal_surname.into(), last.legal_forename.into(), last.id.into()];
        Ok(Expr::tuple(key.map(SimpleExpr::from)).gt(Expr::tuple(values)))
    }
}

fn not_this_lists_token() -> Error {
    Error::invalid("page.page_token", "not a token for this list")
}

/// The pupils within `scope` that `filter` matches, on `today` (for the year group).
fn matching(scope: &Scope, filter: &PupilFilter, today: NaiveDate) -> Condition {
    let mut condition = visible(scope);
    if let Some(urn) = filter.school {
        condition = condition.add(pupil::Column::SchoolUrn.eq(urn.as_i32()));
    }
    if let Some(status) = filter.status {
        condition = condition.add(pupil::Column::SenStatus.eq(status.code()));
    }
    if filter.on_register {
        let register = [SenStatus::SenSupport, SenStatus::EhcPlan].map(SenStatus::code);
        condition = condition.add(pupil::Column::SenStatus.is_in(register));
    }
    if let Some(need) = filter.primary_need {
        condition = condition.add(pupil::Column::PrimaryNeed.eq(need.as_str()));
    }
    if let Some(year) = filter.nc_year {
        let by_override = pupil::Column::NcYearOverride.eq(year.code());
        condition = condition.add(match cohort_in_year(year, academic_year_start(today)) {
            Some(cohort) => Condition::any().add(by_override).add(
                Condition::all()
                    .add(pupil::Column::NcYearOverride.is_null())
                    .add(pupil::Column::BirthCohort.eq(cohort)),
            ),
            None => Condition::all().add(by_override),
        });
    }
    if let Some(looked_after) = filter.looked_after {
        condition = condition.add(pupil::Column::LookedAfter.eq(looked_after));
    }
    if let Some(upn) = &filter.upn {
        condition = condition.add(pupil::Column::Upn.eq(upn.as_str()));
    }
    if !filter.ids.is_empty() {
        condition = condition.add(pupil::Column::Id.is_in(filter.ids.iter().copied()));
    }
    if let Some(search) = &filter.search {
        condition = condition.add(super::search::search_condition(search));
    }
    condition
}
