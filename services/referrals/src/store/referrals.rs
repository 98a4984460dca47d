//! Referrals: submit (idempotent), resubmit, read, list, move along the
//! lifecycle, allocation, and the timeline.

use std::ops::RangeInclusive;

use chrono::{Duration, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use sen_platform::error::on_unique;
use sen_platform::identity::{Actor, Scope, TenantScope};
use sen_platform::ids::Urn;
use sen_platform::paging::Page;

use super::fingerprint::{fingerprint, is_same_body};
use super::{Store, areas, ids, load_visible, status_of, visible};
use crate::domain::{
    Event, NewReferral, ReferralKind, Status, Tried, decision_due, final_plan_due, next_status, no_plan_notice_due,
};
use crate::entity::{referral, referral_event};
use crate::error::{Error, Result};

/// What `list` narrows to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReferralFilter {
    /// One school.
    pub school: Option<Urn>,
    /// One kind.
    pub kind: Option<ReferralKind>,
    /// One status.
    pub status: Option<Status>,
    /// Submitted on or before this day.
    pub submitted_by: Option<NaiveDate>,
    /// EHC requests past a statutory date on this day.
    pub overdue_on: Option<NaiveDate>,
    /// Submitted on or after this day.
    pub submitted_from: Option<NaiveDate>,
    /// EHC requests whose final plan was issued on these days.
    pub final_plan_issued: Option<RangeInclusive<NaiveDate>>,
    /// Final plans issued within 20 weeks (true) or later (false), exception cases in neither.
    pub within_20_weeks: Option<bool>,
    /// Only referrals still open (not declined, closed or withdrawn).
    pub open_only: bool,
    /// Only kinds whose code starts so (`advisory_teacher:`: every specialism).
    pub kind_family: Option<&'static str>,
}

impl Store {
    /// Submits a referral under the client's `key`, with its timeline entry. A retry
    /// with the same key and body returns the first referral and no new entry; another body under the key is
    /// ALREADY_EXISTS. Parallel submits with one key: the unique index lets one in.
    /// An EHC needs assessment request while the pupil has one open in the authority
    /// is FAILED_PRECONDITION naming it; of parallel requests, the database's
    /// partial unique index (see the migrations) lets one in.
    pub async fn submit(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: &NewReferral,
        key: &str,
        today: NaiveDate,
    ) -> Result<(referral::Model, Option<referral_event::Model>)> {
        if !scope.reaches(new.school) {
            return Err(Error::NotFound(format!("school {}", new.school)));
        }
        if let Some(first) = self.by_key(scope, key).await? {
            return same_request(first, new, key).map(|row| (row, None));
        }
        self.no_open_request(scope.tenant(), new).await?;
        let txn = self.db.begin().await?;
        let now = Utc::now();
        let statutory = new.kind.is_statutory();
        let model = referral::ActiveModel {
            la_code: Set(scope.tenant().key()),
            pupil_id: Set(new.pupil_id),
            school_urn: Set(new.school.as_i32()),
            kind: Set(new.kind.code()),
            broad_areas: Set(areas(&new.broad_areas)),
            concern: Set(new.concern.clone()),
            tried_summary: Set(new.tried.summary.clone()),
            support_cycle_ids: Set(ids(&new.tried.cycles)),
            provision_ids: Set(ids(&new.tried.provisions)),
            consent_given_by: Set(new.consent.given_by.clone()),
            consent_given_on: Set(new.consent.given_on),
            consent_method: Set(new.consent.method.code().to_owned()),
            priority: Set(new.priority.code().to_owned()),
            status: Set(Status::Submitted.code().to_owned()),
            submitted_on: Set(today),
            submitted_by: Set(actor.person.clone()),
            idempotency_key: Set(key.to_owned()),
            fingerprint: Set(fingerprint(new)),
            // The statutory dates are fixed when the request is received and stored,
            // never recomputed from the clock at read.
            decision_due: Set(statutory.then(|| decision_due(today))),
            no_plan_notice_due: Set(statutory.then(|| no_plan_notice_due(today))),
            final_plan_due: Set(statutory.then(|| final_plan_due(today))),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        // A unique index settles a race with a parallel submit: the first one wins,
        // and this one answers as a retry of it (the same key) or is refused (an
        // EHC needs assessment request while the winner is open).
        let inserted = model.insert(&txn).await.map_err(|e| on_unique(e, || Error::AlreadyExists(key.to_owned())));
        let row = match inserted {
            Ok(row) => row,
            Err(Error::AlreadyExists(_)) => {
                drop(txn);
                if let Some(first) = self.by_key(scope, key).await? {
                    return same_request(first, new, key).map(|row| (row, None));
                }
                self.no_open_request(scope.tenant(), new).await?;
                return Err(Error::Aborted("retry the submission".into()));
            }
            Err(e) => return Err(e),
        };
        let entry = self.record(&txn, &row, actor, None, Status::Submitted, "submitted").await?;
        txn.commit().await?;
        self.committed(&row, &entry);
        Ok((row, Some(entry)))
    }

    /// Refuses an EHC needs assessment request while the pupil has one open in the
    /// tenant: SEN2 counts requests, and a second would count twice.
    async fn no_open_request(&self, tenant: &TenantScope, new: &NewReferral) -> Result<()> {
        if new.kind != ReferralKind::EhcNeedsAssessment {
            return Ok(());
        }
        let open = referral::Entity::find()
            .filter(referral::Column::LaCode.eq(tenant.key()))
            .filter(referral::Column::PupilId.eq(new.pupil_id))
            .filter(referral::Column::Kind.eq(new.kind.code()))
            .filter(referral::Column::Status.is_in(Status::ALL.into_iter().filter(|s| s.is_open()).map(Status::code)))
            .one(&self.db)
            .await?;
        match open {
            None => Ok(()),
            Some(open) => Err(Error::FailedPrecondition(format!(
                "referral {} is an open EHC needs assessment request for this pupil ({}); another can be made once it has ended",
                open.id,
                status_of(&open)?.name()
            ))),
        }
    }

    async fn by_key(&self, scope: &Scope, key: &str) -> Result<Option<referral::Model>> {
        Ok(referral::Entity::find()
            .filter(referral::Column::LaCode.eq(scope.tenant().key()))
            .filter(referral::Column::IdempotencyKey.eq(key))
            .one(&self.db)
            .await?)
    }

    /// One referral within `scope`.
    pub async fn get(&self, scope: &Scope, id: i64) -> Result<referral::Model> {
        load_visible(&self.db, scope, id).await
    }

    /// Referrals within `scope` matching `filter`, newest first, one page.
    pub async fn list(
        &self,
        scope: &Scope,
        filter: &ReferralFilter,
        page: &Page,
    ) -> Result<(Vec<referral::Model>, String)> {
        let mut query = filtered(scope, filter);
        if let Some(after) = &page.after {
            let after: i32 =
                after.parse().map_err(|_| Error::invalid("page.page_token", "not a token for this list"))?;
            query = query.filter(referral::Column::Id.lt(after));
        }
        let rows = query.order_by_desc(referral::Column::Id).limit(page.fetch_limit()).all(&self.db).await?;
        Ok(page.finish(rows, |r| r.id.to_string()))
    }

    /// Moves a referral by `event` if unchanged since `expected_version`.
    pub async fn change_status(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        expected_version: i64,
        event: Event,
        note: &str,
    ) -> Result<(referral::Model, referral_event::Model)> {
        self.transition(scope, actor, id, Some(expected_version), event, note, |_| {}).await
    }

    /// Resubmits a returned referral with what was asked for: (`concern`, `tried`).
    pub async fn resubmit(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        expected_version: i64,
        (concern, tried): (&str, &Tried),
        note: &str,
    ) -> Result<(referral::Model, referral_event::Model)> {
        let (concern, tried) = (concern.to_owned(), tried.clone());
        self.transition(scope, actor, id, Some(expected_version), Event::Resubmit, note, move |model| {
            model.concern = Set(concern.clone());
            model.tried_summary = Set(tried.summary.clone());
            model.support_cycle_ids = Set(ids(&tried.cycles));
            model.provision_ids = Set(ids(&tried.provisions));
        })
        .await
    }

    /// Records the allocation the caseloads service made. Recording the same
    /// allocation again (a retried allocation) changes nothing and writes no entry.
    pub async fn mark_allocated(
        &self,
        tenant: &TenantScope,
        actor: &Actor,
        id: i64,
        professional: &str,
        case_ref: &str,
    ) -> Result<(referral::Model, Option<referral_event::Model>)> {
        let scope = Scope::Tenant(tenant.clone());
        let current = load_visible(&self.db, &scope, id).await?;
        let already = current.allocated_to.as_deref() == Some(professional)
            && current.case_ref.as_deref() == Some(case_ref)
            && matches!(status_of(&current)?, Status::Allocated | Status::InProgress);
        if already {
            return Ok((current, None));
        }
        let (professional, case_ref) = (professional.to_owned(), case_ref.to_owned());
        let note = sen_vocabulary::allocation_note(&professional, &case_ref);
        let (row, entry) = self
            .transition(&scope, actor, id, None, Event::Allocate, &note, move |model| {
                model.allocated_to = Set(Some(professional.clone()));
                model.case_ref = Set(Some(case_ref.clone()));
            })
            .await?;
        Ok((row, Some(entry)))
    }

    /// The state machine step shared by every lifecycle change: check the
    /// transition, apply `edit`, bump the version (guarded, so of two concurrent
    /// changes the second fails) and write the timeline entry.
    #[allow(clippy::too_many_arguments)]
    async fn transition(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        event: Event,
        note: &str,
        edit: impl Fn(&mut referral::ActiveModel),
    ) -> Result<(referral::Model, referral_event::Model)> {
        let txn = self.db.begin().await?;
        let row = load_visible(&txn, scope, id).await?;
        let from = status_of(&row)?;
        let to = next_status(from, event).map_err(|e| Error::FailedPrecondition(e.to_string()))?;
        let version = expected_version.unwrap_or(row.version);
        let mut model = referral::ActiveModel { status: Set(to.code().to_owned()), ..Default::default() };
        if event == Event::Close {
            model.outcome = Set(Some(note.to_owned()));
        }
        model.updated_at = Set(Utc::now());
        edit(&mut model);
        let result = referral::Entity::update_many()
            .set(model)
            .col_expr(referral::Column::Version, Expr::col(referral::Column::Version).add(1))
            .filter(referral::Column::Id.eq(row.id))
            .filter(referral::Column::Version.eq(version))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(Error::Aborted(format!(
                "referral {id} was changed by someone else (now version {}, you sent {version}); reload and try again",
                row.version
            )));
        }
        let row = referral::Entity::find_by_id(row.id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::NotFound(format!("referral {id}")))?;
        let entry = self.record(&txn, &row, actor, Some(from), to, note).await?;
        txn.commit().await?;
        self.committed(&row, &entry);
        Ok((row, entry))
    }

    /// Every change of a referral, oldest first.
    pub async fn timeline(&self, scope: &Scope, id: i64) -> Result<Vec<referral_event::Model>> {
        let row = load_visible(&self.db, scope, id).await?;
        Ok(referral_event::Entity::find()
            .filter(referral_event::Column::LaCode.eq(row.la_code))
            .filter(referral_event::Column::ReferralId.eq(row.id))
            .order_by_asc(referral_event::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Referrals submitted at least `days` before `today`: the day to filter on.
    pub fn submitted_before(today: NaiveDate, days: u32) -> NaiveDate {
        today - Duration::days(i64::from(days))
    }
}

/// Referrals within `scope` matching `filter`, in no order yet.
pub(super) fn filtered(scope: &Scope, filter: &ReferralFilter) -> sea_orm::Select<referral::Entity> {
    let mut query = referral::Entity::find().filter(visible(scope));
    if let Some(urn) = filter.school {
        query = query.filter(referral::Column::SchoolUrn.eq(urn.as_i32()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(referral::Column::Kind.eq(kind.code()));
    }
    if let Some(status) = filter.status {
        query = query.filter(referral::Column::Status.eq(status.code()));
    }
    if let Some(day) = filter.submitted_by {
        query = query.filter(referral::Column::SubmittedOn.lte(day));
    }
    if let Some(today) = filter.overdue_on {
        query = query.filter(super::clock::overdue_condition(today));
    }
    if let Some(day) = filter.submitted_from {
        query = query.filter(referral::Column::SubmittedOn.gte(day));
    }
    if let Some(days) = &filter.final_plan_issued {
        query = query.filter(referral::Column::FinalPlanIssuedOn.between(*days.start(), *days.end()));
    }
    if let Some(within) = filter.within_20_weeks {
        query = query.filter(timeliness_condition(within));
    }
    if filter.open_only {
        query = query.filter(referral::Column::Status.is_not_in(Status::finished().map(Status::code)));
    }
    if let Some(prefix) = filter.kind_family {
        query = query.filter(referral::Column::Kind.starts_with(prefix));
    }
    query
}

/// Final plans issued within 20 weeks of the request (`true`) or later, as the
/// timeliness figure counts them (`domain::timeliness_in`): exception cases in
/// neither, since SEN2 leaves them out of the figure.
fn timeliness_condition(within: bool) -> Condition {
    let issued = Expr::col(referral::Column::FinalPlanIssuedOn);
    let due = Expr::col(referral::Column::FinalPlanDue);
    Condition::all()
        .add(referral::Column::FinalPlanIssuedOn.is_not_null())
        .add(referral::Column::ClockException.is_null())
        .add(if within { issued.lte(due) } else { issued.gt(due) })
}

fn same_request(first: referral::Model, new: &NewReferral, key: &str) -> Result<referral::Model> {
    if is_same_body(&first, new) {
        Ok(first)
    } else {
        Err(Error::AlreadyExists(format!(
            "idempotency key '{key}' was used for a different referral ({}); use a new key for a new referral",
            first.id
        )))
    }
}
