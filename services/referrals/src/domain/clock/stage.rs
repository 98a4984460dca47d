//! Where an EHC needs assessment request has got to, its next deadline and how
//! it stands against it.
//!
//! A request's clock runs until its statutory outcome is recorded (a decision
//! not to assess, a decision not to issue a plan, the final plan issued), or
//! until the request itself ends ([`ended_by`]):
//!
//! | the referral is | while awaiting the decision to assess | while assessing or awaiting the final plan |
//! |-----------------|---------------------------------------|---------------------------------------------|
//! | declined        | stops: the request was declined       | stops                                       |
//! | withdrawn       | stops: the request was withdrawn      | stops                                       |
//! | closed          | stops: closed before a decision       | runs on                                     |
//! | any other       | runs on                               | runs on                                     |
//!
//! A referral is closed when the professional allocated to it finishes their
//! part, e.g. the psychological advice for the assessment; once the council has
//! decided to assess, the assessment and the plan are its own duty (regs. 10,
//! 13), and they go on after that part is finished. A request closed before any
//! decision to assess has nothing left for the council to do on it. A request
//! stopped this way has no deadline and no health: it shows how it ended, and is
//! counted in no at-risk or breached figure.

use chrono::NaiveDate;
use sen_vocabulary::ReferralStatus;

use super::{
    AT_RISK_DAYS, AssessmentDecision, ClockDates, PlanDecision, days_left, decision_due, final_plan_due,
    no_plan_notice_due,
};

/// Where an EHC needs assessment request has got to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Received; the council has not yet decided whether to assess.
    AwaitingAssessmentDecision,
    /// Being assessed; no decision yet whether to issue a plan.
    Assessing,
    /// A plan will be issued; the final plan has not been.
    AwaitingFinalPlan,
    /// The council decided not to assess (closed).
    NotAssessing,
    /// The council decided not to issue a plan (closed).
    NotIssuing,
    /// The final plan has been issued (closed).
    PlanIssued,
    /// The council declined the request before its statutory outcome (closed).
    Declined,
    /// The request was withdrawn before its statutory outcome (closed).
    Withdrawn,
    /// The referral was closed before any decision whether to assess (closed).
    Closed,
}

impl Stage {
    /// Every stage, open ones first.
    pub const ALL: [Stage; 9] = [
        Self::AwaitingAssessmentDecision,
        Self::Assessing,
        Self::AwaitingFinalPlan,
        Self::NotAssessing,
        Self::NotIssuing,
        Self::PlanIssued,
        Self::Declined,
        Self::Withdrawn,
        Self::Closed,
    ];

    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::AwaitingAssessmentDecision => "awaiting_assessment_decision",
            Self::Assessing => "assessing",
            Self::AwaitingFinalPlan => "awaiting_final_plan",
            Self::NotAssessing => "not_assessing",
            Self::NotIssuing => "not_issuing",
            Self::PlanIssued => "plan_issued",
            Self::Declined => "request_declined",
            Self::Withdrawn => "request_withdrawn",
            Self::Closed => "request_closed",
        }
    }

    /// For people.
    pub fn name(self) -> &'static str {
        match self {
            Self::AwaitingAssessmentDecision => "awaiting the decision whether to assess",
            Self::Assessing => "assessing",
            Self::AwaitingFinalPlan => "awaiting the final plan",
            Self::NotAssessing => "decided not to assess",
            Self::NotIssuing => "decided not to issue a plan",
            Self::PlanIssued => "plan issued",
            Self::Declined => "request declined",
            Self::Withdrawn => "request withdrawn",
            Self::Closed => "request closed before a decision whether to assess",
        }
    }

    /// True while a statutory deadline is still to be met.
    pub fn is_open(self) -> bool {
        matches!(self, Self::AwaitingAssessmentDecision | Self::Assessing | Self::AwaitingFinalPlan)
    }
}

/// The referral statuses that stop the clock at the open stage `statutory`
/// (the table in the module doc); none once the statutory outcome is recorded.
/// The store's query for overdue requests is built from this same table.
pub fn ended_by(statutory: Stage) -> &'static [ReferralStatus] {
    use ReferralStatus as S;
    match statutory {
        Stage::AwaitingAssessmentDecision => &[S::Declined, S::Withdrawn, S::Closed],
        Stage::Assessing | Stage::AwaitingFinalPlan => &[S::Declined, S::Withdrawn],
        _ => &[],
    }
}

/// The stage an EHC needs assessment request is at: the statutory stage its
/// dates show, unless its referral's `status` stopped the clock there
/// ([`ended_by`]), when the stage says how the request ended.
pub fn stage(status: ReferralStatus, dates: &ClockDates) -> Stage {
    let statutory = statutory_stage(dates);
    if !ended_by(statutory).contains(&status) {
        return statutory;
    }
    match status {
        ReferralStatus::Declined => Stage::Declined,
        ReferralStatus::Withdrawn => Stage::Withdrawn,
        _ => Stage::Closed,
    }
}

/// The stage the dates alone show. Each step counts only after the one before
/// it: a plan decision without a decision to assess, or a final plan without a
/// decision to issue, is ignored ([`check_dates`] refuses to store either).
pub fn statutory_stage(dates: &ClockDates) -> Stage {
    match (dates.assessment_decision, dates.plan_decision, dates.final_plan_issued_on) {
        (None, _, _) => Stage::AwaitingAssessmentDecision,
        (Some((AssessmentDecision::NotAssess, _)), _, _) => Stage::NotAssessing,
        (Some((AssessmentDecision::Assess, _)), None, _) => Stage::Assessing,
        (Some(_), Some((PlanDecision::NotIssue, _)), _) => Stage::NotIssuing,
        (Some(_), Some((PlanDecision::Issue, _)), None) => Stage::AwaitingFinalPlan,
        (Some(_), Some((PlanDecision::Issue, _)), Some(_)) => Stage::PlanIssued,
    }
}

/// The next statutory step and its last day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// What is due, e.g. "final plan".
    pub what: &'static str,
    /// The last day it is in time.
    pub due: NaiveDate,
}

/// The next deadline of an open case on `today`; none once closed, by its
/// statutory outcome or by its referral's `status`. While assessing, up to and
/// including the 16-week date that is the 16-week one: a decision not to issue
/// must be notified by then (reg. 10(1)), and a plan issued on time needs its
/// draft out well before it. The 16-week date binds only that notice: from the
/// day after it, a case still assessing can no longer refuse a plan in time, but
/// it can still meet the 20-week limit of the final plan (reg. 13(2)), which is
/// then its deadline.
pub fn next_deadline(status: ReferralStatus, dates: &ClockDates, today: NaiveDate) -> Option<Deadline> {
    let received = dates.received_on;
    match stage(status, dates) {
        Stage::AwaitingAssessmentDecision => {
            Some(Deadline { what: "decision whether to assess", due: decision_due(received) })
        }
        Stage::Assessing if today <= no_plan_notice_due(received) => {
            Some(Deadline { what: "decision whether to issue a plan", due: no_plan_notice_due(received) })
        }
        Stage::Assessing => Some(Deadline { what: "final plan", due: final_plan_due(received) }),
        Stage::AwaitingFinalPlan => Some(Deadline { what: "final plan", due: final_plan_due(received) }),
        Stage::NotAssessing
        | Stage::NotIssuing
        | Stage::PlanIssued
        | Stage::Declined
        | Stage::Withdrawn
        | Stage::Closed => None,
    }
}

/// How an open case stands against its next deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClockHealth {
    /// More than [`AT_RISK_DAYS`] days left.
    OnTrack,
    /// [`AT_RISK_DAYS`] days left or fewer, the due day included.
    AtRisk,
    /// The due day has passed.
    Breached,
}

impl ClockHealth {
    /// Every state, best first.
    pub const ALL: [ClockHealth; 3] = [Self::OnTrack, Self::AtRisk, Self::Breached];

    /// `on_track`, `at_risk` or `breached`.
    pub fn code(self) -> &'static str {
        match self {
            Self::OnTrack => "on_track",
            Self::AtRisk => "at_risk",
            Self::Breached => "breached",
        }
    }

    /// For people.
    pub fn name(self) -> &'static str {
        match self {
            Self::OnTrack => "on track",
            Self::AtRisk => "at risk",
            Self::Breached => "breached",
        }
    }
}

/// How an open case stands on `today` against its next deadline; none once
/// closed, by its statutory outcome or by its referral's `status`. A case still
/// assessing after its 16-week date is at risk of the 20-week limit whatever
/// days are left to it (no notice not to issue can now be given in time, reg.
/// 10(1)), and breached only once the 20-week date has passed (reg. 13(2)).
pub fn health(status: ReferralStatus, dates: &ClockDates, today: NaiveDate) -> Option<ClockHealth> {
    let deadline = next_deadline(status, dates, today)?;
    let past_16_weeks = stage(status, dates) == Stage::Assessing && today > no_plan_notice_due(dates.received_on);
    Some(match days_left(deadline.due, today) {
        days if days < 0 => ClockHealth::Breached,
        _ if past_16_weeks => ClockHealth::AtRisk,
        days if days <= AT_RISK_DAYS => ClockHealth::AtRisk,
        _ => ClockHealth::OnTrack,
    })
}

/// Whether a case's statutory outcome was recorded after its limit: a decision
/// not to assess after 6 weeks (reg. 5(1)), a notice not to issue a plan after
/// 16 weeks (reg. 10(1)), a final plan after 20 weeks (reg. 13(2)). A decision
/// to issue after 16 weeks is not late in itself: only the final plan's 20 weeks
/// bind it. False while no outcome is recorded.
pub fn outcome_late(dates: &ClockDates) -> bool {
    let received = dates.received_on;
    match statutory_stage(dates) {
        Stage::NotAssessing => dates.assessment_decision.is_some_and(|(_, on)| on > decision_due(received)),
        Stage::NotIssuing => dates.plan_decision.is_some_and(|(_, on)| on > no_plan_notice_due(received)),
        Stage::PlanIssued => dates.final_plan_issued_on.is_some_and(|on| on > final_plan_due(received)),
        _ => false,
    }
}
