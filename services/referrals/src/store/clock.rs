//! The statutory clock of EHC needs assessment requests: recording each step in
//! order, the cases behind the clock report, and its figures from the tallies.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use sen_platform::identity::{Actor, Scope, TenantScope};

use super::{Store, load_visible, status_of};
use crate::domain::{
    AssessmentDecision, ClockDates, ClockException, PlanDecision, ReferralKind, Stage, Status, check_draft_plan,
    ended_by, stage,
};
use crate::entity::{referral, referral_event};
use crate::error::{Error, Result};

/// The clock's stored dates of a referral, if it is an EHC needs assessment request.
pub fn clock_dates(row: &referral::Model) -> Result<Option<ClockDates>> {
    let kind = ReferralKind::parse(&row.kind).map_err(|e| Error::Corrupt(format!("referral {}: {e}", row.id)))?;
    if !kind.is_statutory() {
        return Ok(None);
    }
    let corrupt = |e: String| Error::Corrupt(format!("referral {}: {e}", row.id));
    let assessment = match (&row.assessment_decision, row.assessment_decision_on) {
        (Some(code), Some(on)) => Some((AssessmentDecision::parse(code).map_err(corrupt)?, on)),
        _ => None,
    };
    let plan = match (&row.plan_decision, row.plan_decision_on) {
        (Some(code), Some(on)) => Some((PlanDecision::parse(code).map_err(corrupt)?, on)),
        _ => None,
    };
    Ok(Some(ClockDates {
        received_on: row.submitted_on,
        assessment_decision: assessment,
        plan_decision: plan,
        final_plan_issued_on: row.final_plan_issued_on,
        exception: row.clock_exception.as_deref().map(ClockException::parse).transpose().map_err(corrupt)?,
    }))
}

/// Open requests whose next statutory date has passed on `today`, in SQL. The
/// stages mirror `domain::health`: awaiting the decision to assess (6 weeks),
/// assessing (20 weeks: past its 16-week date a case still assessing is at risk,
/// not overdue, as the 16 weeks bind only a notice not to issue, reg. 10(1)),
/// awaiting the final plan (20 weeks, reg. 13(2)); at each, a
/// referral whose status stopped the clock there (`domain::ended_by`: declined,
/// withdrawn, or closed before a decision) is left out, as it has no deadline.
pub(super) fn overdue_condition(today: NaiveDate) -> Condition {
    let running = |at: Stage| referral::Column::Status.is_not_in(ended_by(at).iter().map(|s: &Status| s.code()));
    Condition::any()
        .add(
            Condition::all()
                .add(referral::Column::DecisionDue.is_not_null())
                .add(referral::Column::AssessmentDecision.is_null())
                .add(referral::Column::DecisionDue.lt(today))
                .add(running(Stage::AwaitingAssessmentDecision)),
        )
        .add(
            Condition::all()
                .add(referral::Column::AssessmentDecision.eq(AssessmentDecision::Assess.code()))
                .add(referral::Column::PlanDecision.is_null())
                .add(referral::Column::FinalPlanDue.lt(today))
                .add(running(Stage::Assessing)),
        )
        .add(
            Condition::all()
                .add(referral::Column::PlanDecision.eq(PlanDecision::Issue.code()))
                .add(referral::Column::FinalPlanIssuedOn.is_null())
                .add(referral::Column::FinalPlanDue.lt(today))
                .add(running(Stage::AwaitingFinalPlan)),
        )
}

/// One step of the clock to record.
enum Step {
    Assessment(AssessmentDecision, NaiveDate),
    Plan(PlanDecision, NaiveDate),
    FinalPlan(NaiveDate),
    DraftPlan { sent_on: NaiveDate, ends_on: NaiveDate, today: NaiveDate },
    Exception(Option<ExceptionRecord>),
}

/// An exception to the time limits as recorded (reg. 10(4)): which, the day it
/// arose, and the council's note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionRecord {
    /// Which exception.
    pub exception: ClockException,
    /// The day it arose.
    pub on: NaiveDate,
    /// What happened.
    pub note: String,
}

impl Store {
    /// Records the decision whether to assess.
    pub async fn record_assessment_decision(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        decision: AssessmentDecision,
        on: NaiveDate,
    ) -> Result<(referral::Model, referral_event::Model)> {
        self.clock_step(scope, actor, id, expected_version, Step::Assessment(decision, on)).await
    }

    /// Records the decision whether to issue a plan.
    pub async fn record_plan_decision(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        decision: PlanDecision,
        on: NaiveDate,
    ) -> Result<(referral::Model, referral_event::Model)> {
        self.clock_step(scope, actor, id, expected_version, Step::Plan(decision, on)).await
    }

    /// Records the issue of the final plan.
    pub async fn record_final_plan_issued(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        on: NaiveDate,
    ) -> Result<(referral::Model, referral_event::Model)> {
        self.clock_step(scope, actor, id, expected_version, Step::FinalPlan(on)).await
    }

    /// Records the draft plan sent on `sent_on` with comments invited until
    /// `ends_on` (reg. 13(1)), checked on `today`. Recording it again (a draft
    /// sent anew) replaces the dates.
    pub async fn record_draft_plan_sent(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        (sent_on, ends_on): (NaiveDate, NaiveDate),
        today: NaiveDate,
    ) -> Result<(referral::Model, referral_event::Model)> {
        self.clock_step(scope, actor, id, expected_version, Step::DraftPlan { sent_on, ends_on, today }).await
    }

    /// Marks (or clears) an exception to the timeliness figures.
    pub async fn record_clock_exception(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        exception: Option<ExceptionRecord>,
    ) -> Result<(referral::Model, referral_event::Model)> {
        self.clock_step(scope, actor, id, expected_version, Step::Exception(exception)).await
    }

    /// Records `step` if the referral is still at `expected_version` (when
    /// given). The update is conditional on the version read here, so of two
    /// steps recorded at once the second finds the referral changed (ABORTED)
    /// rather than writing over the first.
    async fn clock_step(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: i64,
        expected_version: Option<i64>,
        step: Step,
    ) -> Result<(referral::Model, referral_event::Model)> {
        let txn = self.db.begin().await?;
        let row = load_visible(&txn, scope, id).await?;
        if let Some(sent) = expected_version.filter(|sent| *sent != row.version) {
            return Err(changed_meanwhile(id, row.version, sent));
        }
        let dates = clock_dates(&row)?.ok_or_else(|| {
            Error::FailedPrecondition(format!("referral {id} is not an EHC needs assessment request"))
        })?;
        let current = stage(status_of(&row)?, &dates);
        let not_before = |on: NaiveDate, after: NaiveDate, field: &str| {
            if on < after { Err(Error::invalid(field, format!("{on} is before {after}"))) } else { Ok(()) }
        };
        let mut model: referral::ActiveModel = row.clone().into();
        let note = match step {
            Step::Assessment(decision, on) => {
                expect_stage(current, Stage::AwaitingAssessmentDecision, id)?;
                not_before(on, dates.received_on, "decided_on")?;
                model.assessment_decision = Set(Some(decision.code().to_owned()));
                model.assessment_decision_on = Set(Some(on));
                format!("decision on assessment: {} on {on}", decision.code())
            }
            Step::Plan(decision, on) => {
                expect_stage(current, Stage::Assessing, id)?;
                not_before(on, dates.assessment_decision.map_or(dates.received_on, |d| d.1), "decided_on")?;
                model.plan_decision = Set(Some(decision.code().to_owned()));
                model.plan_decision_on = Set(Some(on));
                format!("decision on a plan: {} on {on}", decision.code())
            }
            Step::FinalPlan(on) => {
                expect_stage(current, Stage::AwaitingFinalPlan, id)?;
                not_before(on, dates.plan_decision.map_or(dates.received_on, |d| d.1), "issued_on")?;
                model.final_plan_issued_on = Set(Some(on));
                format!("final plan issued on {on}")
            }
            Step::DraftPlan { sent_on, ends_on, today } => {
                expect_stage(current, Stage::AwaitingFinalPlan, id)?;
                let decided = dates.plan_decision.map_or(dates.received_on, |d| d.1);
                check_draft_plan(sent_on, ends_on, decided, today)
                    .map_err(|(field, message)| Error::invalid(field, message))?;
                model.draft_plan_sent_on = Set(Some(sent_on));
                model.consultation_ends_on = Set(Some(ends_on));
                format!("draft plan sent on {sent_on}; comments and the naming of a school until {ends_on}")
            }
            Step::Exception(exception) => {
                if let Some(record) = &exception {
                    not_before(record.on, dates.received_on, "exception_on")?;
                }
                model.clock_exception = Set(exception.as_ref().map(|e| e.exception.code().to_owned()));
                model.clock_exception_on = Set(exception.as_ref().map(|e| e.on));
                model.clock_exception_note = Set(exception.as_ref().map(|e| e.note.clone()).filter(|n| !n.is_empty()));
                match exception {
                    Some(e) => format!("exception recorded: {} (from {})", e.exception.name(), e.on),
                    None => "exception cleared".to_owned(),
                }
            }
        };
        model.version = Set(row.version + 1);
        model.updated_at = Set(Utc::now());
        let updated = referral::Entity::update(model)
            .filter(referral::Column::Version.eq(row.version))
            .exec(&txn)
            .await
            .map_err(|e| match e {
                DbErr::RecordNotUpdated => Error::Aborted(format!(
                    "referral {id} was changed by someone else while this was recorded; reload and try again"
                )),
                e => e.into(),
            })?;
        let status = status_of(&updated)?;
        let entry = self.record(&txn, &updated, actor, Some(status), status, &note).await?;
        // The register's side of the plan, pending in the same transaction (`crate::plan_issue`).
        if row.final_plan_issued_on.is_none() && updated.final_plan_issued_on.is_some() {
            super::register::enqueue(&txn, &updated, true).await?;
        }
        txn.commit().await?;
        self.committed(&updated, &entry);
        Ok((updated, entry))
    }

    /// How the tenant's open EHC needs assessment requests stand on `today`
    /// (`domain::health`), counted from the open requests' tallies (migration
    /// `m20270214_000011_referral_tallies`): each tally holds the requests that
    /// become at risk and breached on the same two days, so the counts are sums
    /// over the authority's tallies, and no request is read or judged.
    pub async fn open_clock_figures(&self, tenant: &TenantScope, today: NaiveDate) -> Result<OpenClockFigures> {
        // CAST(COALESCE(SUM(CASE WHEN {day} <= today THEN requests ELSE 0 END), 0) AS BIGINT)
        let sum = |day: &str| {
            let counted =
                Expr::case(Expr::col(Alias::new(day)).lte(today), Expr::col(Alias::new("requests"))).finally(0);
            Func::cast_as(
                Func::coalesce([Func::cust(Alias::new("SUM")).arg(counted).into(), Expr::val(0).into()]),
                Alias::new("BIGINT"),
            )
        };
        let mut query = Query::select();
        query
            .expr_as(Expr::cust("CAST(COALESCE(SUM(requests), 0) AS BIGINT)"), Alias::new("open"))
            .expr_as(sum("at_risk_on"), Alias::new("at_risk_or_breached"))
            .expr_as(sum("breached_on"), Alias::new("breached"))
            .from(Alias::new("clock_open_tallies"))
            .and_where(Expr::col(Alias::new("la_code")).eq(tenant.key()));
        let sums = OpenTally::find_by_statement(self.build(&query))
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::Corrupt(format!("no sum of the open requests of {}", tenant.key())))?;
        let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        Ok(OpenClockFigures {
            open: count(sums.open),
            at_risk: count(sums.at_risk_or_breached - sums.breached),
            breached: count(sums.breached),
        })
    }

    /// Every EHC needs assessment request of the tenant, oldest first.
    pub async fn statutory_requests(&self, tenant: &TenantScope) -> Result<Vec<referral::Model>> {
        Ok(referral::Entity::find()
            .filter(referral::Column::LaCode.eq(tenant.key()))
            .filter(referral::Column::DecisionDue.is_not_null())
            .order_by_asc(referral::Column::SubmittedOn)
            .order_by_asc(referral::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The EHC needs assessment requests of the tenant whose clock may still
    /// run, oldest first: every one [`Store::statutory_requests`] reads except
    /// those declined or withdrawn and those whose final plan was issued after
    /// decisions to assess and to issue (each with its day), which
    /// `domain::stage` closes whatever else their dates say. The caller judges
    /// which of these are open.
    pub async fn open_statutory_requests(&self, tenant: &TenantScope) -> Result<Vec<referral::Model>> {
        // Not (assessed, with its day; to issue, with its day; final plan issued),
        // each part written so that a missing value keeps the request.
        let may_run = Condition::any()
            .add(referral::Column::AssessmentDecision.is_null())
            .add(referral::Column::AssessmentDecision.ne(AssessmentDecision::Assess.code()))
            .add(referral::Column::AssessmentDecisionOn.is_null())
            .add(referral::Column::PlanDecision.is_null())
            .add(referral::Column::PlanDecision.ne(PlanDecision::Issue.code()))
            .add(referral::Column::PlanDecisionOn.is_null())
            .add(referral::Column::FinalPlanIssuedOn.is_null());
        Ok(referral::Entity::find()
            .filter(referral::Column::LaCode.eq(tenant.key()))
            .filter(referral::Column::DecisionDue.is_not_null())
            .filter(referral::Column::Status.is_not_in([Status::Declined.code(), Status::Withdrawn.code()]))
            .filter(may_run)
            .order_by_asc(referral::Column::SubmittedOn)
            .order_by_asc(referral::Column::Id)
            .all(&self.db)
            .await?)
    }
}

/// How an authority's open EHC needs assessment requests stand on a day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenClockFigures {
    /// Requests whose clock still runs.
    pub open: u32,
    /// Of those, at risk (`domain::ClockHealth::AtRisk`).
    pub at_risk: u32,
    /// Of those, past their deadline (`domain::ClockHealth::Breached`).
    pub breached: u32,
}

/// The sums over an authority's open requests' tallies.
#[derive(FromQueryResult)]
struct OpenTally {
    open: i64,
    at_risk_or_breached: i64,
    breached: i64,
}

/// A referral changed since version `sent` was read (now at `now`).
fn changed_meanwhile(id: i64, now: i64, sent: i64) -> Error {
    Error::Aborted(format!(
        "referral {id} was changed by someone else (now version {now}, you sent {sent}); reload and try again"
    ))
}

fn expect_stage(current: Stage, wanted: Stage, id: i64) -> Result<()> {
    if current == wanted {
        Ok(())
    } else {
        Err(Error::FailedPrecondition(format!(
            "referral {id}'s assessment is at stage '{}', not '{}'",
            current.name(),
            wanted.name()
        )))
    }
}
