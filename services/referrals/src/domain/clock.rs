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

use chrono::{Datelike, NaiveDate, TimeDelta};

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
    let mut result = Timeliness { issued: 0, within_20_weeks: 0, excluded_exceptions: 0, percent: None };
    for case in cases {
        let Some(issued_on) = case.final_plan_issued_on.filter(|on| on.year() == calendar_year) else { continue };
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
mod tests {
    use super::*;
    use AssessmentDecision::{Assess, NotAssess};
    use PlanDecision::{Issue, NotIssue};
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// A request received on `received` with nothing decided yet.
    fn received(received_on: NaiveDate) -> ClockDates {
        ClockDates {
            received_on,
            assessment_decision: None,
            plan_decision: None,
            final_plan_issued_on: None,
            exception: None,
        }
    }

    /// A plan received on `received_on` and issued on `issued_on`, with the decisions in between.
    fn issued(received_on: NaiveDate, issued_on: NaiveDate, exception: Option<ClockException>) -> ClockDates {
        ClockDates {
            assessment_decision: Some((Assess, received_on + TimeDelta::weeks(5))),
            plan_decision: Some((Issue, received_on + TimeDelta::weeks(14))),
            final_plan_issued_on: Some(issued_on),
            exception,
            ..received(received_on)
        }
    }

    #[test]
    fn deadlines_run_across_the_year_end() {
        let received_on = d(2026, 12, 1);
        assert_eq!(decision_due(received_on), d(2027, 1, 12));
        assert_eq!(no_plan_notice_due(received_on), d(2027, 3, 23));
        assert_eq!(final_plan_due(received_on), d(2027, 4, 20));
        assert_eq!(advice_due(d(2026, 12, 22)), d(2027, 2, 2));
    }

    #[test]
    fn deadlines_count_29_february_in_a_leap_year() {
        let received_on = d(2028, 1, 20);
        assert_eq!(final_plan_due(received_on), d(2028, 6, 8));
        assert_eq!(final_plan_due(d(2027, 1, 20)), d(2027, 6, 9), "a day later without 29 February");
        assert_eq!(decision_due(d(2028, 2, 1)), d(2028, 3, 14));
    }

    #[test]
    fn weeks_elapsed_counts_whole_weeks_from_the_day_received() {
        let received_on = d(2026, 1, 5);
        assert_eq!(weeks_elapsed(received_on, received_on), 0);
        assert_eq!(weeks_elapsed(received_on, d(2026, 1, 11)), 0);
        assert_eq!(weeks_elapsed(received_on, d(2026, 1, 12)), 1);
        assert_eq!(weeks_elapsed(received_on, received_on + TimeDelta::days(41)), 5);
        assert_eq!(weeks_elapsed(received_on, received_on + TimeDelta::days(42)), 6);
        assert_eq!(weeks_elapsed(received_on, decision_due(received_on)), DECISION_WEEKS);
        assert_eq!(weeks_elapsed(received_on, d(2025, 12, 1)), 0, "before the request");
        assert_eq!(days_left(d(2026, 1, 10), d(2026, 1, 12)), -2);
    }

    #[test]
    fn health_turns_at_risk_at_14_days_and_breached_after_the_due_day() {
        let case = received(d(2026, 1, 5));
        let due = decision_due(case.received_on);
        let on = |days_before: i64| health(&case, due - TimeDelta::days(days_before));
        assert_eq!(on(15), Some(ClockHealth::OnTrack));
        assert_eq!(on(14), Some(ClockHealth::AtRisk));
        assert_eq!(on(0), Some(ClockHealth::AtRisk), "the due day is still in time");
        assert_eq!(on(-1), Some(ClockHealth::Breached));
    }

    #[test]
    fn health_follows_the_next_deadline_and_ends_with_the_case() {
        let received_on = d(2026, 1, 5);
        let assessing = ClockDates { assessment_decision: Some((Assess, d(2026, 2, 2))), ..received(received_on) };
        // Past the 6-week decision date but the decision was made: on track for week 16.
        assert_eq!(health(&assessing, d(2026, 3, 2)), Some(ClockHealth::OnTrack));
        assert_eq!(
            health(&assessing, no_plan_notice_due(received_on) + TimeDelta::days(1)),
            Some(ClockHealth::Breached)
        );
        let done = issued(received_on, d(2026, 9, 1), None);
        assert_eq!(health(&done, d(2026, 9, 2)), None, "closed, even though issued late");
    }

    #[test]
    fn the_stage_follows_each_combination_of_dates() {
        let r = d(2026, 1, 5);
        let (a, p, f) = (d(2026, 2, 2), d(2026, 4, 6), d(2026, 5, 11));
        let case = |assessment, plan, final_plan| ClockDates {
            assessment_decision: assessment,
            plan_decision: plan,
            final_plan_issued_on: final_plan,
            ..received(r)
        };
        let cases = [
            (None, None, None, Stage::AwaitingAssessmentDecision),
            (Some((NotAssess, a)), None, None, Stage::NotAssessing),
            (Some((Assess, a)), None, None, Stage::Assessing),
            (Some((Assess, a)), Some((Issue, p)), None, Stage::AwaitingFinalPlan),
            (Some((Assess, a)), Some((NotIssue, p)), None, Stage::NotIssuing),
            (Some((Assess, a)), Some((Issue, p)), Some(f), Stage::PlanIssued),
            // Out-of-order facts (refused by `check_dates`) do not skip a step.
            (None, Some((Issue, p)), Some(f), Stage::AwaitingAssessmentDecision),
            (Some((NotAssess, a)), Some((Issue, p)), Some(f), Stage::NotAssessing),
            (Some((Assess, a)), None, Some(f), Stage::Assessing),
            (Some((Assess, a)), Some((NotIssue, p)), Some(f), Stage::NotIssuing),
        ];
        for (assessment, plan, final_plan, expected) in cases {
            let dates = case(assessment, plan, final_plan);
            assert_eq!(stage(&dates), expected, "{dates:?}");
            assert_eq!(next_deadline(&dates).is_some(), expected.is_open());
        }
    }

    #[test]
    fn the_next_deadline_is_the_pending_statutory_step() {
        let r = d(2026, 12, 1);
        let due = |dates: ClockDates| next_deadline(&dates).map(|deadline| (deadline.what, deadline.due));
        assert_eq!(due(received(r)), Some(("decision whether to assess", d(2027, 1, 12))));
        let assessing = ClockDates { assessment_decision: Some((Assess, d(2027, 1, 5))), ..received(r) };
        assert_eq!(due(assessing), Some(("decision whether to issue a plan", d(2027, 3, 23))));
        let drafting = ClockDates { plan_decision: Some((Issue, d(2027, 3, 1))), ..assessing };
        assert_eq!(due(drafting), Some(("final plan", d(2027, 4, 20))));
        assert_eq!(due(ClockDates { final_plan_issued_on: Some(d(2027, 4, 1)), ..drafting }), None);
    }

    #[test]
    fn stored_dates_must_tell_one_story() {
        let today = d(2026, 6, 1);
        let good = issued(d(2026, 1, 5), d(2026, 5, 20), None);
        assert_eq!(check_dates(&good, today), Ok(()));
        assert_eq!(check_dates(&received(d(2026, 6, 2)), today).unwrap_err().0, "received_on");
        let field = |dates: ClockDates| check_dates(&dates, today).unwrap_err().0;
        assert_eq!(
            field(ClockDates { assessment_decision: Some((Assess, d(2026, 1, 4))), ..good }),
            "assessment_decision"
        );
        assert_eq!(field(ClockDates { plan_decision: Some((Issue, d(2026, 2, 1))), ..good }), "plan_decision");
        assert_eq!(field(ClockDates { final_plan_issued_on: Some(d(2026, 6, 2)), ..good }), "final_plan_issued_on");
        assert_eq!(field(ClockDates { assessment_decision: None, ..good }), "plan_decision");
        assert_eq!(
            field(ClockDates { plan_decision: Some((NotIssue, d(2026, 4, 1))), ..good }),
            "final_plan_issued_on"
        );
        let (_, message) =
            check_dates(&ClockDates { final_plan_issued_on: Some(d(2026, 4, 1)), ..good }, today).unwrap_err();
        assert_eq!(message, "2026-04-01 is before the decision to issue (2026-04-13)");
    }

    #[test]
    fn a_plan_issued_on_the_20_week_day_is_in_time() {
        let r = d(2026, 1, 5);
        assert_eq!(issued_within_20_weeks(&issued(r, final_plan_due(r), None)), Some(true));
        assert_eq!(issued_within_20_weeks(&issued(r, final_plan_due(r) + TimeDelta::days(1), None)), Some(false));
        assert_eq!(issued_within_20_weeks(&received(r)), None);
    }

    #[test]
    fn timeliness_counts_the_years_plans_and_leaves_out_exceptions() {
        let r = d(2026, 1, 5);
        let (on_time, late) = (final_plan_due(r), final_plan_due(r) + TimeDelta::days(1));
        let cases = [
            issued(r, on_time, None),
            issued(r, late, None),
            issued(r, on_time, None),
            issued(r, late, Some(ClockException::MissedAppointment)),
            issued(d(2025, 9, 1), d(2025, 12, 31), None),
            issued(d(2026, 9, 1), d(2027, 1, 1), None),
            received(d(2026, 3, 1)),
        ];
        let t = timeliness(&cases, 2026);
        assert_eq!((t.issued, t.within_20_weeks, t.excluded_exceptions), (3, 2, 1));
        assert_eq!(t.percent, Some(66.7));
        assert_eq!(timeliness(&cases, 2027).percent, Some(100.0));
        assert_eq!(
            timeliness(&cases, 2024),
            Timeliness { issued: 0, within_20_weeks: 0, excluded_exceptions: 0, percent: None }
        );
    }

    #[test]
    fn timeliness_rounds_to_one_decimal_place() {
        let r = d(2026, 1, 5);
        let percent = |on_time: usize, late: usize| {
            let mut cases = vec![issued(r, final_plan_due(r), None); on_time];
            cases.extend(vec![issued(r, final_plan_due(r) + TimeDelta::days(3), None); late]);
            timeliness(&cases, 2026).percent
        };
        assert_eq!(percent(1, 2), Some(33.3));
        assert_eq!(percent(1, 15), Some(6.3), "6.25 rounds half up");
        assert_eq!(percent(7, 1), Some(87.5));
        assert_eq!(percent(0, 4), Some(0.0));
    }

    #[test]
    fn codes_round_trip() {
        for decision in AssessmentDecision::ALL {
            assert_eq!(AssessmentDecision::parse(decision.code()), Ok(decision));
        }
        for decision in PlanDecision::ALL {
            assert_eq!(PlanDecision::parse(decision.code()), Ok(decision));
        }
        for exception in ClockException::ALL {
            assert_eq!(ClockException::parse(exception.code()), Ok(exception));
        }
        assert_eq!(PlanDecision::parse(" not_issue "), Ok(NotIssue));
        assert!(AssessmentDecision::parse("maybe").unwrap_err().contains("not a decision whether to assess"));
        assert!(ClockException::parse("strike").is_err());
        let open: Vec<Stage> = Stage::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [Stage::AwaitingAssessmentDecision, Stage::Assessing, Stage::AwaitingFinalPlan]);
    }

    #[test]
    fn far_dates_saturate_instead_of_panicking() {
        assert_eq!(final_plan_due(NaiveDate::MAX), NaiveDate::MAX);
        assert_eq!(advice_due(NaiveDate::MAX - TimeDelta::days(1)), NaiveDate::MAX);
    }

    proptest! {
        #[test]
        fn every_deadline_is_whole_weeks_after_its_start(days in 0i64..40_000) {
            let start = d(2000, 1, 1) + TimeDelta::days(days);
            for (due, weeks) in [
                (decision_due(start), DECISION_WEEKS),
                (no_plan_notice_due(start), NO_PLAN_NOTICE_WEEKS),
                (final_plan_due(start), FINAL_PLAN_WEEKS),
                (advice_due(start), ADVICE_WEEKS),
            ] {
                prop_assert_eq!((due - start).num_days(), 7 * weeks);
                prop_assert_eq!(weeks_elapsed(start, due), weeks);
            }
        }
    }
}
