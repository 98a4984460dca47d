//! The statutory clock of an EHC needs assessment, counted in weeks from the day
//! the council receives the request (SEN and Disability Regulations 2014; SEND
//! Code of Practice 9.39–9.41):
//!
//! - reg. 5(1): decide whether to assess, and tell the parent, within 6 weeks;
//! - reg. 8(1): advice asked of a professional is given within 6 weeks of asking;
//! - reg. 10(1): a decision, after assessing, not to issue a plan is notified within 16 weeks;
//! - reg. 13(2): the final plan is issued within 20 weeks.
//!
//! The dates are the stored facts ([`ClockDates`]); everything here is derived
//! from them, with "today" passed in only to say how close the next deadline is.
//! Exceptions (regs. 5(4), 10(4), 13(3)) do not stop the clock, but the DfE's
//! SEN2 return leaves such cases out of the 20-week timeliness figure.

use std::ops::RangeInclusive;

use chrono::{NaiveDate, TimeDelta};

/// Weeks from the request to the decision whether to assess (reg. 5(1)).
pub const DECISION_WEEKS: i64 = 6;
/// Weeks from the request to notice of a decision not to issue a plan (reg. 10(1)).
pub const NO_PLAN_NOTICE_WEEKS: i64 = 16;
/// Weeks from the request to the final plan (reg. 13(2)).
pub const FINAL_PLAN_WEEKS: i64 = 20;
/// Weeks from asking a professional for advice to receiving it (reg. 8(1)).
pub const ADVICE_WEEKS: i64 = 6;
/// A deadline this many days away, or fewer, is at risk.
pub const AT_RISK_DAYS: i64 = 14;

/// The last day to decide whether to assess: 6 weeks after the request is received.
pub fn decision_due(received: NaiveDate) -> NaiveDate {
    weeks_after(received, DECISION_WEEKS)
}

/// The last day to tell the parent no plan will be issued: 16 weeks after the request.
pub fn no_plan_notice_due(received: NaiveDate) -> NaiveDate {
    weeks_after(received, NO_PLAN_NOTICE_WEEKS)
}

/// The last day to issue the final plan: 20 weeks after the request.
pub fn final_plan_due(received: NaiveDate) -> NaiveDate {
    weeks_after(received, FINAL_PLAN_WEEKS)
}

/// The last day for a professional's advice: 6 weeks after it was asked for.
pub fn advice_due(requested: NaiveDate) -> NaiveDate {
    weeks_after(requested, ADVICE_WEEKS)
}

/// `date` plus whole weeks, saturating at the end of chrono's calendar.
fn weeks_after(date: NaiveDate, weeks: i64) -> NaiveDate {
    date.checked_add_signed(TimeDelta::weeks(weeks)).unwrap_or(NaiveDate::MAX)
}

/// Whole weeks since the request: 0 on the day it is received (and before), 6 from day 42.
pub fn weeks_elapsed(received: NaiveDate, today: NaiveDate) -> i64 {
    (today - received).num_days().max(0) / 7
}

/// Whole days from `today` to `due`: 0 on the day, negative once it has passed.
pub fn days_left(due: NaiveDate, today: NaiveDate) -> i64 {
    (due - today).num_days()
}

/// The council's decision whether to carry out an EHC needs assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssessmentDecision {
    /// It will assess.
    Assess,
    /// It will not (the parent may appeal).
    NotAssess,
}

impl AssessmentDecision {
    /// Both decisions.
    pub const ALL: [AssessmentDecision; 2] = [Self::Assess, Self::NotAssess];

    /// `assess` or `not_assess`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Assess => "assess",
            Self::NotAssess => "not_assess",
        }
    }

    /// From the code.
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_code(&Self::ALL, s, Self::code, "a decision whether to assess (assess or not_assess)")
    }
}

/// The council's decision, after assessing, whether to issue an EHC plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlanDecision {
    /// It will issue a plan (a draft goes to the parent first).
    Issue,
    /// It will not (the parent may appeal).
    NotIssue,
}

impl PlanDecision {
    /// Both decisions.
    pub const ALL: [PlanDecision; 2] = [Self::Issue, Self::NotIssue];

    /// `issue` or `not_issue`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Issue => "issue",
            Self::NotIssue => "not_issue",
        }
    }

    /// From the code.
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_code(&Self::ALL, s, Self::code, "a decision whether to issue a plan (issue or not_issue)")
    }
}

/// A reason the law lets a deadline be missed (regs. 5(4), 10(4), 13(3)). The clock
/// still runs; the case is left out of the timeliness figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClockException {
    /// Advice was asked of a school in the holidays: from a week before a closure of
    /// 4 weeks or more until a week before it re-opens (reg. 10(4)(a)).
    SchoolHoliday,
    /// Exceptional personal circumstances of the child or parent, or the young person.
    PersonalCircumstances,
    /// The child or parent, or the young person, away from the area for 4 weeks or more.
    AbsentFromArea,
    /// The child or young person did not keep an appointment for an assessment
    /// (reg. 10(4)(d); not an exception to the 6-week decision, reg. 5(4)).
    MissedAppointment,
}

impl ClockException {
    /// The four exceptions, in the regulations' order.
    pub const ALL: [ClockException; 4] =
        [Self::SchoolHoliday, Self::PersonalCircumstances, Self::AbsentFromArea, Self::MissedAppointment];

    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::SchoolHoliday => "school_holiday",
            Self::PersonalCircumstances => "personal_circumstances",
            Self::AbsentFromArea => "absent_from_area",
            Self::MissedAppointment => "missed_appointment",
        }
    }

    /// For people.
    pub fn name(self) -> &'static str {
        match self {
            Self::SchoolHoliday => "school closed for the holidays when its advice was asked for",
            Self::PersonalCircumstances => "exceptional personal circumstances",
            Self::AbsentFromArea => "absent from the area for 4 weeks or more",
            Self::MissedAppointment => "an appointment was not kept",
        }
    }

    /// From the stable code.
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_code(&Self::ALL, s, Self::code, "an exception to the statutory timescales")
    }
}

/// The value in `all` whose code is `s` (trimmed), or an error saying what `s` is not.
fn parse_code<T: Copy>(all: &[T], s: &str, code: fn(T) -> &'static str, what: &str) -> Result<T, String> {
    let s = s.trim();
    all.iter().copied().find(|&value| code(value) == s).ok_or_else(|| format!("'{s}' is not {what}"))
}

/// The stored dates of one EHC needs assessment request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockDates {
    /// The day the council received the request: day 0 of the clock.
    pub received_on: NaiveDate,
    /// Whether it decided to assess, and when.
    pub assessment_decision: Option<(AssessmentDecision, NaiveDate)>,
    /// After assessing, whether it decided to issue a plan, and when.
    pub plan_decision: Option<(PlanDecision, NaiveDate)>,
    /// The day the final plan was issued.
    pub final_plan_issued_on: Option<NaiveDate>,
    /// The exception recorded against the case, if any.
    pub exception: Option<ClockException>,
}

/// Checks that stored dates tell one story as of `today`: nothing in the future,
/// each step on or after the one before, a plan decision only after a decision to
/// assess and a final plan only after a decision to issue. On failure, the field
/// at fault (`received_on`, `assessment_decision`, `plan_decision` or
/// `final_plan_issued_on`) and what is wrong with it.
pub fn check_dates(dates: &ClockDates, today: NaiveDate) -> Result<(), (&'static str, String)> {
    let in_order = |field: &'static str, on: NaiveDate, after: NaiveDate, what: &str| {
        if on > today {
            Err((field, format!("{on} is in the future")))
        } else if on < after {
            Err((field, format!("{on} is before {what} ({after})")))
        } else {
            Ok(on)
        }
    };
    let received = in_order("received_on", dates.received_on, NaiveDate::MIN, "")?;
    let mut previous = None;
    if let Some((decision, on)) = dates.assessment_decision {
        in_order("assessment_decision", on, received, "the request was received")?;
        previous = (decision == AssessmentDecision::Assess).then_some(on);
    }
    match (dates.plan_decision, previous) {
        (None, _) => previous = None,
        (Some(_), None) => return Err(("plan_decision", "needs a decision to assess first".into())),
        (Some((decision, on)), Some(assessed)) => {
            in_order("plan_decision", on, assessed, "the decision to assess")?;
            previous = (decision == PlanDecision::Issue).then_some(on);
        }
    }
    match (dates.final_plan_issued_on, previous) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(("final_plan_issued_on", "needs a decision to issue a plan first".into())),
        (Some(on), Some(decided)) => in_order("final_plan_issued_on", on, decided, "the decision to issue").map(drop),
    }
}

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
}

impl Stage {
    /// Every stage, open ones first.
    pub const ALL: [Stage; 6] = [
        Self::AwaitingAssessmentDecision,
        Self::Assessing,
        Self::AwaitingFinalPlan,
        Self::NotAssessing,
        Self::NotIssuing,
        Self::PlanIssued,
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
        }
    }

    /// True while a statutory deadline is still to be met.
    pub fn is_open(self) -> bool {
        matches!(self, Self::AwaitingAssessmentDecision | Self::Assessing | Self::AwaitingFinalPlan)
    }
}

/// The stage the dates show. Each step counts only after the one before it: a
/// plan decision without a decision to assess, or a final plan without a decision
/// to issue, is ignored ([`check_dates`] refuses to store either).
pub fn stage(dates: &ClockDates) -> Stage {
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

/// The next deadline of an open case; none once closed. While assessing, that is
/// the 16-week one: a decision not to issue must be notified by then (reg. 10(1)),
/// and a plan issued on time needs its draft out well before it.
pub fn next_deadline(dates: &ClockDates) -> Option<Deadline> {
    let received = dates.received_on;
    match stage(dates) {
        Stage::AwaitingAssessmentDecision => {
            Some(Deadline { what: "decision whether to assess", due: decision_due(received) })
        }
        Stage::Assessing => {
            Some(Deadline { what: "decision whether to issue a plan", due: no_plan_notice_due(received) })
        }
        Stage::AwaitingFinalPlan => Some(Deadline { what: "final plan", due: final_plan_due(received) }),
        Stage::NotAssessing | Stage::NotIssuing | Stage::PlanIssued => None,
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

/// How an open case stands on `today` against its next deadline; none once closed.
pub fn health(dates: &ClockDates, today: NaiveDate) -> Option<ClockHealth> {
    let deadline = next_deadline(dates)?;
    Some(match days_left(deadline.due, today) {
        days if days < 0 => ClockHealth::Breached,
        days if days <= AT_RISK_DAYS => ClockHealth::AtRisk,
        _ => ClockHealth::OnTrack,
    })
}

/// Whether an issued plan met the 20-week limit (reg. 13(2)); none until it is issued.
pub fn issued_within_20_weeks(dates: &ClockDates) -> Option<bool> {
    dates.final_plan_issued_on.map(|issued| issued <= final_plan_due(dates.received_on))
}

/// Plans issued in a calendar year, and how many within 20 weeks, as SEN2 counts them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timeliness {
    /// Plans issued in the year, exception cases excluded.
    pub issued: u32,
    /// Of those, issued within 20 weeks of the request.
    pub within_20_weeks: u32,
    /// Plans issued in the year with an exception, left out of both counts.
    pub excluded_exceptions: u32,
    /// `within_20_weeks` as a percentage of `issued`, to one decimal place; none when none were issued.
    pub percent: Option<f64>,
}

/// The 20-week timeliness of plans issued in `calendar_year`, excluding exception
/// cases (DfE SEN2: "EHC plans issued within 20 weeks, excluding exception cases").
pub fn timeliness(cases: &[ClockDates], calendar_year: i32) -> Timeliness {
    match (NaiveDate::from_ymd_opt(calendar_year, 1, 1), NaiveDate::from_ymd_opt(calendar_year, 12, 31)) {
        (Some(first), Some(last)) => timeliness_in(cases, first..=last),
        _ => Timeliness { issued: 0, within_20_weeks: 0, excluded_exceptions: 0, percent: None },
    }
}

/// The 20-week timeliness of plans issued on the days of `period` (a month, a
/// year), counted as SEN2 counts them: exception cases left out of both figures.
pub fn timeliness_in(cases: &[ClockDates], period: RangeInclusive<NaiveDate>) -> Timeliness {
    let mut result = Timeliness { issued: 0, within_20_weeks: 0, excluded_exceptions: 0, percent: None };
    for case in cases {
        let Some(issued_on) = case.final_plan_issued_on.filter(|on| period.contains(on)) else { continue };
        if case.exception.is_some() {
            result.excluded_exceptions = result.excluded_exceptions.saturating_add(1);
            continue;
        }
        result.issued = result.issued.saturating_add(1);
        if issued_on <= final_plan_due(case.received_on) {
            result.within_20_weeks = result.within_20_weeks.saturating_add(1);
        }
    }
    if result.issued > 0 {
        // Tenths of a percent, rounded half away from zero, then back to a percent.
        let tenths = (f64::from(result.within_20_weeks) * 1000.0 / f64::from(result.issued)).round();
        result.percent = Some(tenths / 10.0);
    }
    result
}

#[cfg(test)]
mod tests;
