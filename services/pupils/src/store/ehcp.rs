//! EHCPs: the plan record, annual reviews, phase-transfer decisions, and the
//! transfer candidates (the reviews falling due are `reviews_due`'s).

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use sen_platform::identity::Scope;

use super::{Actor, Store, audit_one, load_visible, visible};
use crate::domain::TransferCohorts;
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

pub(super) async fn active_plan(db: &impl ConnectionTrait, scope: &Scope, pupil_id: i32) -> Result<ehcp::Model> {
    ehcp::Entity::find()
        .filter(ehcp::Column::LaCode.eq(scope.tenant().key()))
        .filter(ehcp::Column::PupilId.eq(pupil_id))
        .filter(ehcp::Column::Status.eq("active"))
        .one(db)
        .await?
        .ok_or_else(|| Error::FailedPrecondition(format!("pupil {pupil_id} has no active EHCP")))
}

pub(super) fn pupils_in(scope: &Scope) -> sea_orm::sea_query::SelectStatement {
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
    ///
    /// Three reads at once, each through indexes: the pupils of the cohorts (or
    /// with a year set by hand), each arm of that condition an index scan
    /// combined by PostgreSQL; the pupils whose post-16 move is still to come,
    /// through the few plans recording one (`ix_ehcps_post16_moves`); and the
    /// active plans of either. Asked as one condition with the moves as a
    /// subquery among its arms, no arm could use an index and PostgreSQL read
    /// every pupil with a plan (Kent: 20,600 rows to keep 3,743, 27 ms not 9).
    pub async fn transfer_candidates(
        &self,
        scope: &Scope,
        cohorts: &TransferCohorts,
        moving_from: NaiveDate,
    ) -> Result<Vec<TransferCandidate>> {
        let tenant = scope.tenant().key();
        let post16_move = || {
            Condition::all()
                .add(ehcp::Column::LaCode.eq(tenant.clone()))
                .add(ehcp::Column::Status.eq("active"))
                .add(ehcp::Column::Post16MoveOn.gte(moving_from))
        };
        let in_cohorts = || {
            let mut moving = Condition::any()
                .add(pupil::Column::NcYearOverride.is_not_null())
                .add(pupil::Column::BirthCohort.is_in(cohorts.everywhere.iter().copied()));
            for (cohort, urns) in &cohorts.at_schools {
                moving = moving.add(
                    Condition::all()
                        .add(pupil::Column::BirthCohort.eq(*cohort))
                        .add(pupil::Column::SchoolUrn.is_in(urns.iter().copied())),
                );
            }
            Condition::all().add(visible(scope)).add(pupil::Column::SenStatus.eq("E")).add(moving)
        };
        let moving_pupils =
            Query::select().column(ehcp::Column::PupilId).from(ehcp::Entity).cond_where(post16_move()).to_owned();
        let cohort_pupils =
            Query::select().column(pupil::Column::Id).from(pupil::Entity).cond_where(in_cohorts()).to_owned();
        let (plans, in_cohort, moving) = tokio::try_join!(
            ehcp::Entity::find()
                .filter(
                    Condition::any().add(post16_move()).add(
                        Condition::all()
                            .add(ehcp::Column::LaCode.eq(tenant.clone()))
                            .add(ehcp::Column::Status.eq("active"))
                            .add(ehcp::Column::PupilId.in_subquery(cohort_pupils)),
                    ),
                )
                .all(&self.read),
            pupil::Entity::find().filter(in_cohorts()).all(&self.read),
            pupil::Entity::find()
                .filter(visible(scope))
                .filter(pupil::Column::SenStatus.eq("E"))
                .filter(pupil::Column::Id.in_subquery(moving_pupils))
                .all(&self.read),
        )?;
        let mut by_id: std::collections::HashMap<i32, pupil::Model> =
            in_cohort.into_iter().chain(moving).map(|p| (p.id, p)).collect();
        Ok(plans
            .into_iter()
            .filter_map(|plan| by_id.remove(&plan.pupil_id).map(|pupil| EhcpView { pupil, ehcp: plan }))
            .collect())
    }

    /// Audits reads the caller assembled itself (lists computed outside the store).
    pub async fn audit_reads(&self, scope: &Scope, actor: &Actor, pupil_ids: &[i64], action: &str) -> Result<()> {
        let ids: Vec<i32> = pupil_ids.iter().filter_map(|&id| i32::try_from(id).ok()).collect();
        self.audit_read(scope, actor, &ids, action).await
    }
}
