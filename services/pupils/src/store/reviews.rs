//! Annual reviews as recorded: the meeting, its report and decision, and what the
//! decision led to (an amended plan's proposal and issue, or the plan ceasing and
//! the pupil leaving status E); and the list of amendments issued late or overdue.
//!
//! The rules are the domain's (`domain::review`, `domain::amendment`); this module
//! keeps each review, its plan and the pupil consistent in one transaction.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait, TryIntoModel,
};
use sen_platform::identity::Scope;
use sen_platform::paging::Page;

use super::pupils::{Entry, history, sen_columns};
use super::{Actor, Store, audit_one, convert, load_visible, of_pupils_within};
use crate::domain::{CeaseReason, ReviewDecision, SenRecord, SenStatus, amendment_due_for, next_review_due};
use crate::entity::{annual_review, ehcp, pupil};
use crate::error::{Error, Result};

/// The plan ceasing after a review: the day it did and the status the pupil moves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cessation {
    /// The day the plan ceased.
    pub ceased_on: NaiveDate,
    /// K or N.
    pub to: SenStatus,
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
    /// A decision to amend: when the proposed amendments were sent (reg. 22(2)(a)).
    pub amendments_proposed_on: Option<NaiveDate>,
    /// A decision to amend: when the amended plan was issued.
    pub amended_plan_issued_on: Option<NaiveDate>,
    /// A decision to cease: why (SEN2 code).
    pub cease_reason: Option<CeaseReason>,
    /// A decision to cease, once the plan has ceased.
    pub cessation: Option<Cessation>,
}

/// A review whose amended plan was issued late or is overdue, with its pupil.
pub type LateAmendmentRow = (pupil::Model, annual_review::Model);

/// The reason a ceased plan's record gives, in words with its SEN2 code.
pub fn ceased_reason_text(reason: CeaseReason) -> String {
    format!("SEN2 {}: {}", reason.sen2_code(), reason.label())
}

/// Whether a stored review already says everything `review` asks to record
/// (a retry of a call that was answered, or whose answer was lost).
fn records(row: &annual_review::Model, review: &AnnualReviewInput) -> bool {
    row.report_sent_on == review.report_sent_on
        && row.decision.as_deref() == review.decision.map(ReviewDecision::code)
        && row.decision_on == review.decision_on
        && row.amendments_proposed_on == review.amendments_proposed_on
        && row.amended_plan_issued_on == review.amended_plan_issued_on
        && row.cease_reason == review.cease_reason.map(|r| i16::from(r.sen2_code()))
        && row.ceased_on == review.cessation.map(|c| c.ceased_on)
        && row.ceased_to.as_deref() == review.cessation.map(|c| c.to.code())
}

/// The pupil's plan, whatever its status.
async fn plan_of(db: &impl ConnectionTrait, scope: &Scope, pupil_id: i32) -> Result<ehcp::Model> {
    ehcp::Entity::find()
        .filter(ehcp::Column::LaCode.eq(scope.tenant().key()))
        .filter(ehcp::Column::PupilId.eq(pupil_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::FailedPrecondition(format!("pupil {pupil_id} has no EHCP")))
}

impl Store {
    /// Records an annual review (again for the same meeting: updates its steps),
    /// moves the plan's next review date on from the latest meeting, and keeps
    /// the amendment's due date (the earlier of 8 weeks after the proposal and 12
    /// weeks after the meeting; regs. 20(10) and 22(3)). With a cessation the plan
    /// ceases and the pupil leaves E for K or N, with a history entry, in the same
    /// transaction (Children and Families Act 2014, s. 45; reg. 31). Recording the
    /// same review again after the plan ceased answers the stored review and
    /// changes nothing, so a retried call is harmless.
    pub async fn record_annual_review(
        &self,
        scope: &Scope,
        actor: &Actor,
        pupil_id: i64,
        review: &AnnualReviewInput,
    ) -> Result<annual_review::Model> {
        let txn = self.db.begin().await?;
        let pupil = load_visible(&txn, scope, pupil_id).await?;
        let plan = plan_of(&txn, scope, pupil.id).await?;
        let existing = annual_review::Entity::find()
            .filter(annual_review::Column::LaCode.eq(scope.tenant().key()))
            .filter(annual_review::Column::PupilId.eq(pupil.id))
            .filter(annual_review::Column::MeetingOn.eq(review.meeting_on))
            .one(&txn)
            .await?;
        if plan.status != "active" {
            return match existing {
                Some(row) if records(&row, review) => Ok(row),
                _ => Err(Error::FailedPrecondition(format!(
                    "pupil {pupil_id}'s EHCP ceased on {}: a ceased plan's reviews cannot change",
                    plan.ceased_on.map_or_else(|| "an unrecorded day".to_owned(), |d| d.to_string())
                ))),
            };
        }
        if review.meeting_on < plan.issued_on {
            return Err(Error::invalid(
                "meeting_on",
                format!("{} is before the plan was issued on {}", review.meeting_on, plan.issued_on),
            ));
        }
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
        let amending = review.decision == Some(ReviewDecision::Amend);
        // Kept for every decision to amend, so the late list can filter on it in SQL.
        let due = amending.then(|| amendment_due_for(review.meeting_on, review.amendments_proposed_on).due);
        model.report_sent_on = Set(review.report_sent_on);
        model.decision = Set(review.decision.map(|d| d.code().to_owned()));
        model.decision_on = Set(review.decision_on);
        model.amendments_proposed_on = Set(review.amendments_proposed_on);
        model.amended_plan_issued_on = Set(review.amended_plan_issued_on);
        model.amended_plan_due = Set(due);
        model.cease_reason = Set(review.cease_reason.map(|r| i16::from(r.sen2_code())));
        model.ceased_on = Set(review.cessation.map(|c| c.ceased_on));
        model.ceased_to = Set(review.cessation.map(|c| c.to.code().to_owned()));
        model.recorded_by = Set(actor.person.clone());
        let row = model.save(&txn).await?.try_into_model()?;
        let last = plan.last_review_on.map_or(review.meeting_on, |d| d.max(review.meeting_on));
        let version = plan.version;
        let mut plan_model: ehcp::ActiveModel = plan.into();
        plan_model.last_review_on = Set(Some(last));
        plan_model.next_review_due = Set(next_review_due(last));
        plan_model.version = Set(version + 1);
        plan_model.updated_at = Set(Utc::now());
        if let (Some(cessation), Some(reason)) = (review.cessation, review.cease_reason) {
            plan_model.status = Set("ceased".to_owned());
            plan_model.ceased_on = Set(Some(cessation.ceased_on));
            plan_model.ceased_reason = Set(Some(ceased_reason_text(reason)));
            leave_e(&txn, scope, actor, &pupil, cessation, reason).await?;
        }
        plan_model.update(&txn).await?;
        audit_one(&txn, scope, actor, pupil.id, "ehcp.annual_review").await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Reviews within `scope` that decided to amend whose amended plan's due
    /// date is before `today` and which was issued after it or not at all:
    /// oldest due first.
    pub async fn late_amendments(
        &self,
        scope: &Scope,
        actor: &Actor,
        today: NaiveDate,
        page: &Page,
    ) -> Result<(Vec<LateAmendmentRow>, String)> {
        let mut condition = late_amendments_of(scope, today);
        if let Some(after) = &page.after {
            let (due, id) = after
                .split_once('/')
                .and_then(|(d, i)| Some((d.parse::<NaiveDate>().ok()?, i.parse::<i32>().ok()?)))
                .ok_or_else(|| Error::invalid("page.page_token", "not a token for this list"))?;
            condition = condition.add(
                Condition::any().add(annual_review::Column::AmendedPlanDue.gt(due)).add(
                    Condition::all()
                        .add(annual_review::Column::AmendedPlanDue.eq(due))
                        .add(annual_review::Column::Id.gt(id)),
                ),
            );
        }
        let reviews = annual_review::Entity::find()
            .filter(condition)
            .order_by_asc(annual_review::Column::AmendedPlanDue)
            .order_by_asc(annual_review::Column::Id)
            .limit(page.fetch_limit())
            .all(&self.read)
            .await?;
        let (reviews, token) = page
            .finish(reviews, |r| format!("{}/{}", r.amended_plan_due.map(|d| d.to_string()).unwrap_or_default(), r.id));
        let ids: Vec<i32> = reviews.iter().map(|r| r.pupil_id).collect();
        let pupils = pupil::Entity::find().filter(pupil::Column::Id.is_in(ids.clone())).all(&self.read).await?;
        self.audit_read(scope, actor, &ids, "ehcp.late_amendments_list").await?;
        let rows = reviews
            .into_iter()
            .filter_map(|review| pupils.iter().find(|p| p.id == review.pupil_id).cloned().map(|p| (p, review)))
            .collect();
        Ok((rows, token))
    }

    /// How many amendments in `scope` are late on `today` (as
    /// [`Store::late_amendments`] lists them), reading no pupil's record.
    pub async fn count_late_amendments(&self, scope: &Scope, today: NaiveDate) -> Result<u64> {
        Ok(annual_review::Entity::find().filter(late_amendments_of(scope, today)).count(&self.read).await?)
    }
}

/// Reviews in `scope` that decided to amend the plan and whose amended plan is
/// late on `today`: its due day has passed without it, or it was issued after that day.
fn late_amendments_of(scope: &Scope, today: NaiveDate) -> Condition {
    let late = Condition::all().add(annual_review::Column::AmendedPlanDue.lt(today)).add(
        Condition::any().add(annual_review::Column::AmendedPlanIssuedOn.is_null()).add(
            Expr::col(annual_review::Column::AmendedPlanIssuedOn).gt(Expr::col(annual_review::Column::AmendedPlanDue)),
        ),
    );
    let late = Condition::all()
        .add(annual_review::Column::LaCode.eq(scope.tenant().key()))
        .add(annual_review::Column::Decision.eq(ReviewDecision::Amend.code()))
        .add(annual_review::Column::AmendedPlanDue.is_not_null())
        .add(late);
    of_pupils_within(late, scope, annual_review::Column::PupilId)
}

/// Moves the pupil off E to the cessation's status: K keeps their needs, N has
/// none. Versioned and entered in their history like any change of status.
async fn leave_e(
    db: &impl ConnectionTrait,
    scope: &Scope,
    actor: &Actor,
    row: &pupil::Model,
    cessation: Cessation,
    reason: CeaseReason,
) -> Result<()> {
    let stored = convert::pupil(row.clone())?;
    let sen = match cessation.to {
        SenStatus::NoSen => SenRecord::new(SenStatus::NoSen, None, None),
        // A plan's needs are all valid with SEN support (K): kept as they are.
        to if stored.sen.primary.is_some() => Ok(SenRecord { status: to, ..stored.sen }),
        to => SenRecord::new(to, None, None),
    }
    .map_err(|(_, e)| Error::invalid("ceased_to", e))?;
    let mut model = <pupil::ActiveModel as Default>::default();
    sen_columns(&mut model, &sen);
    model.updated_at = Set(Utc::now());
    let result = pupil::Entity::update_many()
        .set(model)
        .col_expr(pupil::Column::Version, Expr::col(pupil::Column::Version).add(1))
        .filter(pupil::Column::Id.eq(row.id))
        .filter(pupil::Column::Version.eq(row.version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::Aborted(format!("pupil {} was changed by someone else; try again", row.id)));
    }
    let why = format!("EHC plan ceased after its annual review ({})", ceased_reason_text(reason));
    let entry = Entry {
        kind: "sen_status",
        effective_on: cessation.ceased_on,
        sen: &sen,
        school: stored.details.school_urn,
        reason: &why,
    };
    history(db, scope, actor, row.id, entry).await?;
    audit_one(db, scope, actor, row.id, "pupil.sen_status").await
}
