//! The statutory clock of an EHC needs assessment, counted in weeks from the day
//! the council receives the request (SEN and Disability Regulations 2014; SEND
//! Code of Practice 9.39–9.41):
//!
//! - reg. 5(1): decide whether to assess, and tell the parent, within 6 weeks;
//! - reg. 8(1): advice asked of a professional is given within 6 weeks of asking;
//! - reg. 10(1): a decision, after assessing, not to issue a plan is notified within 16 weeks;
//! - reg. 13(1): the draft plan goes to the parent or young person with at least
//!   15 days to comment and name a school (`consultation`);
//! - reg. 13(2): the final plan is issued within 20 weeks.
//!
//! Day 0 is the day the council received the request, by whatever route and
//! whoever made it (`request`), not the day it was keyed in.
//!
//! The dates are the stored facts ([`ClockDates`]); everything here is derived
//! from them and the referral's status, with "today" passed in only to say how
//! close the next deadline is. Exceptions (regs. 5(4), 10(4), 13(3)) do not stop
//! the clock, but the DfE's SEN2 return leaves such cases out of the 20-week
//! timeliness figure (`timeliness`). Where a request has got to, and whether its
//! clock still runs, is `stage`.

use chrono::{NaiveDate, TimeDelta};

pub mod consultation;
pub mod request;
pub mod stage;
pub mod timeliness;

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

/// Whether an issued plan met the 20-week limit (reg. 13(2)); none until it is issued.
pub fn issued_within_20_weeks(dates: &ClockDates) -> Option<bool> {
    dates.final_plan_issued_on.map(|issued| issued <= final_plan_due(dates.received_on))
}

#[cfg(test)]
mod tests;
