//! EHCPs: the plan record, annual reviews, phase-transfer decisions, and the
//! lists of reviews and transfers falling due.

use chrono::{Duration, NaiveDate, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait, TryIntoModel,
};
use sen_platform::identity::Scope;
use sen_platform::paging::Page;

use super::{Actor, Store, audit_one, load_visible, visible};
use crate::domain::{ReviewDecision, TransferCohorts, next_review_due};
use crate::entity::{annual_review, ehcp, pupil};
use crate::error::{Error, Result};

/// A pupil's plan with the pupil it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EhcpView {
    /// The pupil.
    pub pupil: pupil::Model,
    /// Their plan.
    pub ehcp: ehcp::Model,
}

/// A pupil with an active plan, for working out transfers.
pub type TransferCandidate = EhcpView;

/// A plan whose review falls due.
pub type ReviewDueRow = EhcpView;

/// What the council decided for a pupil's phase transfer (SEN and Disability
/// Regulations 2014, reg. 18).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferDecision {
    /// Calendar year of the 1 September transfer it is for; none for a post-16 move.
    pub transfer_year: Option<i32>,
    /// The setting named in the amended plan (the pupil's own school when staying).
    pub next_setting: String,
    /// When the amended plan naming it was issued, once it was.
    pub amended_plan_issued_on: Option<NaiveDate>,
    /// A Year 11 pupil stays in their school's own sixth form: no transfer (reg. 18(1)(a)).
    pub staying_in_sixth_form: bool,
    /// The day of a move between post-16 institutions (reg. 18(2)).
    pub post16_move_on: Option<NaiveDate>,
}

/// An annual review meeting and the steps recorded so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnualReviewInput {
    /// Meeting date.
    pub meeting_on: NaiveDate,
    /// Report sent.
    pub report_sent_on: Option<NaiveDate>,
    /// Decision.
    pub decision: Option<ReviewDecision>,
    /// Decision date.
    pub decision_on: Option<NaiveDate>,
}

async fn active_plan(db: &impl ConnectionTrait, scope: &Scope, pupil_id: i32) -> Result<ehcp::Model> {
    ehcp::Entity::find()
        .filter(ehcp::Column::LaCode.eq(scope.tenant().key()))
        .filter(ehcp::Column::PupilId.eq(pupil_id))
        .filter(ehcp::Column::Status.eq("active"))
        .one(db)
        .await?
        .ok_or_else(|| Error::FailedPrecondition(format!("pupil {pupil_id} has no active EHCP")))
}

fn pupils_in(scope: &Scope) -> sea_orm::sea_query::SelectStatement {
    Query::select().column(pupil::Column::Id).from(pupil::Entity).cond_where(visible(scope)).to_owned()
}

impl Store {
    /// A pupil's plan (active or ceased).
    pub async fn ehcp(&self, scope: &Scope, actor: &Actor, pupil_id: i64) -> Result<EhcpView> {
        let pupil = load_visible(&self.read, scope, pupil_id).await?;
        let plan = ehcp::Entity::find()
            .filter(ehcp::Column::LaCode.eq(scope.tenant().key()))
            .filter(ehcp::Column::PupilId.eq(pupil.id))
            .one(&self.read)
            .await?
            .ok_or_else(|| Error::NotFound(format!("EHCP of pupil {pupil_id}")))?;
        self.audit_read(scope, actor, &[pupil.id], "ehcp.read").await?;
        Ok(EhcpView { pupil, ehcp: plan })
    }

    /// Records an annual review (again for the same meeting: updates its steps) and
    /// moves the plan's next review date on from the latest meeting.
    pub async fn record_annual_review(
        &self,
        scope: &Scope,
        actor: &Actor,
        pupil_id: i64,
        review: &AnnualReviewInput,
    ) -> Result<annual_review::Model> {
        let txn = self.db.begin().await?;
        let pupil = load_visible(&txn, scope, pupil_id).await?;
        let plan = active_plan(&txn, scope, pupil.id).await?;
        if review.meeting_on < plan.issued_on {
            return Err(Error::invalid(
                "meeting_on",
                format!("{} is before the plan was issued on {}", review.meeting_on, plan.issued_on),
            ));
        }
        let existing = annual_review::Entity::find()
            .filter(annual_review::Column::PupilId.eq(pupil.id))
            .filter(annual_review::Column::MeetingOn.eq(review.meeting_on))
            .one(&txn)
            .await?;
        let mut model = match existing {
            Some(row) => row.into(),
            None => annual_review::ActiveModel {
                la_code: Set(scope.tenant().key()),
                pupil_id: Set(pupil.id),
                meeting_on: Set(review.meeting_on),
                created_at: Set(Utc::now()),
                ..Default::default()
            },
        };
        model.report_sent_on = Set(review.report_sent_on);
        model.decision = Set(review.decision.map(|d| d.code().to_owned()));
        model.decision_on = Set(review.decision_on);
        model.recorded_by = Set(actor.person.clone());
        let row = model.save(&txn).await?.try_into_model()?;
        let last = plan.last_review_on.map_or(review.meeting_on, |d| d.max(review.meeting_on));
        let version = plan.version;
        let mut plan: ehcp::ActiveModel = plan.into();
        plan.last_review_on = Set(Some(last));
        plan.next_review_due = Set(next_review_due(last));
        plan.version = Set(version + 1);
        plan.updated_at = Set(Utc::now());
        plan.update(&txn).await?;
        audit_one(&txn, scope, actor, pupil.id, "ehcp.annual_review").await?;
        txn.commit().await?;
        Ok(row)
    }

    /// A pupil's annual reviews, newest first.
    pub async fn annual_reviews(
        &self,
        scope: &Scope,
        actor: &Actor,
        pupil_id: i64,
    ) -> Result<Vec<annual_review::Model>> {
        let pupil = load_visible(&self.read, scope, pupil_id).await?;
        self.audit_read(scope, actor, &[pupil.id], "ehcp.reviews_read").await?;
        Ok(annual_review::Entity::find()
            .filter(annual_review::Column::LaCode.eq(scope.tenant().key()))
            .filter(annual_review::Column::PupilId.eq(pupil.id))
            .order_by_desc(annual_review::Column::MeetingOn)
            .all(&self.read)
            .await?)
    }

    /// Records the council's decision for the pupil's phase transfer, replacing
    /// any earlier one: the next setting and when the amended plan naming it was
    /// issued, that the pupil stays in their school's sixth form, or the date of
    /// a move between post-16 institutions.
    pub async fn record_transfer_decision(
        &self,
        scope: &Scope,
        actor: &Actor,
        pupil_id: i64,
        decision: &TransferDecision,
    ) -> Result<EhcpView> {
        let txn = self.db.begin().await?;
        let pupil = load_visible(&txn, scope, pupil_id).await?;
        let plan = active_plan(&txn, scope, pupil.id).await?;
        if let Some(moving_on) = decision.post16_move_on.filter(|d| *d < plan.issued_on) {
            return Err(Error::invalid(
                "post16_move_on",
                format!("{moving_on} is before the plan was issued on {}", plan.issued_on),
            ));
        }
        if let Some(issued) = decision.amended_plan_issued_on.filter(|d| *d < plan.issued_on) {
            return Err(Error::invalid(
                "amended_plan_issued_on",
                format!("{issued} is before the plan was issued on {}", plan.issued_on),
            ));
        }
        let version = plan.version;
        let mut model: ehcp::ActiveModel = plan.into();
        model.transfer_year = Set(decision.transfer_year);
        model.next_setting = Set(Some(decision.next_setting.clone()));
        model.amended_plan_issued_on = Set(decision.amended_plan_issued_on);
        model.staying_in_sixth_form = Set(decision.staying_in_sixth_form);
        model.post16_move_on = Set(decision.post16_move_on);
        model.version = Set(version + 1);
        model.updated_at = Set(Utc::now());
        let plan = model.update(&txn).await?;
        audit_one(&txn, scope, actor, pupil.id, "ehcp.transfer_decision").await?;
        txn.commit().await?;
        Ok(EhcpView { pupil, ehcp: plan })
    }

    /// Every pupil within `scope` with an active plan in a cohort of `cohorts`
    /// (or whose year group was set by hand, or with a post-16 move on or after
    /// `moving_from`), for the transfer list (the caller judges each by the
    /// transfer rule, and audits the ones it shows).
    pub async fn transfer_candidates(
        &self,
        scope: &Scope,
        cohorts: &TransferCohorts,
        moving_from: NaiveDate,
    ) -> Result<Vec<TransferCandidate>> {
        let moving = || {
            let post16_moves = Query::select()
                .column(ehcp::Column::PupilId)
                .from(ehcp::Entity)
                .and_where(ehcp::Column::LaCode.eq(scope.tenant().key()))
                .and_where(ehcp::Column::Status.eq("active"))
                .and_where(ehcp::Column::Post16MoveOn.gte(moving_from))
                .to_owned();
            let mut moving = Condition::any()
                .add(pupil::Column::NcYearOverride.is_not_null())
                .add(pupil::Column::BirthCohort.is_in(cohorts.everywhere.iter().copied()))
                .add(pupil::Column::Id.in_subquery(post16_moves));
            for (cohort, urns) in &cohorts.at_schools {
                moving = moving.add(
                    Condition::all()
                        .add(pupil::Column::BirthCohort.eq(*cohort))
                        .add(pupil::Column::SchoolUrn.is_in(urns.iter().copied())),
                );
            }
            Condition::all().add(visible(scope)).add(pupil::Column::SenStatus.eq("E")).add(moving)
        };
        let candidates = Query::select().column(pupil::Column::Id).from(pupil::Entity).cond_where(moving()).to_owned();
        let (plans, pupils) = tokio::try_join!(
            ehcp::Entity::find()
                .filter(ehcp::Column::LaCode.eq(scope.tenant().key()))
                .filter(ehcp::Column::Status.eq("active"))
                .filter(ehcp::Column::PupilId.in_subquery(candidates))
                .all(&self.read),
            pupil::Entity::find().filter(moving()).all(&self.read),
        )?;
        let mut by_id: std::collections::HashMap<i32, pupil::Model> = pupils.into_iter().map(|p| (p.id, p)).collect();
        Ok(plans
            .into_iter()
            .filter_map(|plan| by_id.remove(&plan.pupil_id).map(|pupil| EhcpView { pupil, ehcp: plan }))
            .collect())
    }

    /// Active plans within `scope` whose review falls due by `today + window_days`
    /// (overdue ones included), soonest first.
    pub async fn reviews_due(
        &self,
        scope: &Scope,
        actor: &Actor,
        today: NaiveDate,
        window_days: u32,
        page: &Page,
    ) -> Result<(Vec<ReviewDueRow>, String)> {
        let until = today + Duration::days(i64::from(window_days));
        let mut condition = Condition::all()
            .add(ehcp::Column::LaCode.eq(scope.tenant().key()))
            .add(ehcp::Column::Status.eq("active"))
            .add(ehcp::Column::NextReviewDue.lte(until))
            .add(ehcp::Column::PupilId.in_subquery(pupils_in(scope)));
        if let Some(after) = &page.after {
            let (due, id) = after
                .split_once('/')
                .and_then(|(d, i)| Some((d.parse::<NaiveDate>().ok()?, i.parse::<i32>().ok()?)))
                .ok_or_else(|| Error::invalid("page.page_token", "not a token for this list"))?;
            condition = condition.add(
                Condition::any()
                    .add(ehcp::Column::NextReviewDue.gt(due))
                    .add(Condition::all().add(ehcp::Column::NextReviewDue.eq(due)).add(ehcp::Column::Id.gt(id))),
            );
        }
        let plans = ehcp::Entity::find()
            .filter(condition)
            .order_by_asc(ehcp::Column::NextReviewDue)
            .order_by_asc(ehcp::Column::Id)
            .limit(page.fetch_limit())
            .all(&self.read)
            .await?;
        let (plans, token) = page.finish(plans, |p| format!("{}/{}", p.next_review_due, p.id));
        let ids: Vec<i32> = plans.iter().map(|p| p.pupil_id).collect();
        let pupils = pupil::Entity::find().filter(pupil::Column::Id.is_in(ids.clone())).all(&self.read).await?;
        self.audit_read(scope, actor, &ids, "ehcp.reviews_due_list").await?;
        let rows = plans
            .into_iter()
            .filter_map(|plan| {
                pupils.iter().find(|p| p.id == plan.pupil_id).cloned().map(|pupil| EhcpView { pupil, ehcp: plan })
            })
            .collect();
        Ok((rows, token))
    }

    /// Audits reads the caller assembled itself (lists computed outside the store).
    pub async fn audit_reads(&self, scope: &Scope, actor: &Actor, pupil_ids: &[i64], action: &str) -> Result<()> {
        let ids: Vec<i32> = pupil_ids.iter().filter_map(|&id| i32::try_from(id).ok()).collect();
        self.audit_read(scope, actor, &ids, action).await
    }
}
