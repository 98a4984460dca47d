//! Tests of the statutory clock: deadlines across year ends and leap years, the
//! stages and the referral statuses that stop the clock, health at its
//! boundaries, and the timeliness figure.

use super::stage::*;
use super::timeliness::*;
use super::*;
use AssessmentDecision::{Assess, NotAssess};
use PlanDecision::{Issue, NotIssue};
use ReferralStatus as S;
use proptest::prelude::*;
use sen_vocabulary::ReferralStatus;

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
    let on = |days_before: i64| health(S::Accepted, &case, due - TimeDelta::days(days_before));
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
    assert_eq!(health(S::InProgress, &assessing, d(2026, 3, 2)), Some(ClockHealth::OnTrack));
    // Past week 16 still assessing: at risk of the 20 weeks, not breached (reg. 10(1) binds only a refusal).
    let late = no_plan_notice_due(received_on) + TimeDelta::days(1);
    assert_eq!(health(S::InProgress, &assessing, late), Some(ClockHealth::AtRisk));
    let past_20 = final_plan_due(received_on) + TimeDelta::days(1);
    assert_eq!(health(S::InProgress, &assessing, past_20), Some(ClockHealth::Breached));
    let done = issued(received_on, d(2026, 9, 1), None);
    assert_eq!(health(S::Closed, &done, d(2026, 9, 2)), None, "closed, even though issued late");
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
        assert_eq!(statutory_stage(&dates), expected, "{dates:?}");
        assert_eq!(stage(S::Submitted, &dates), expected, "{dates:?}");
        assert_eq!(next_deadline(S::Submitted, &dates, dates.received_on).is_some(), expected.is_open());
    }
}

#[test]
fn the_next_deadline_is_the_pending_statutory_step() {
    let r = d(2026, 12, 1);
    let due = |dates: ClockDates| next_deadline(S::Accepted, &dates, r).map(|deadline| (deadline.what, deadline.due));
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
    assert_eq!(field(ClockDates { assessment_decision: Some((Assess, d(2026, 1, 4))), ..good }), "assessment_decision");
    assert_eq!(field(ClockDates { plan_decision: Some((Issue, d(2026, 2, 1))), ..good }), "plan_decision");
    assert_eq!(field(ClockDates { final_plan_issued_on: Some(d(2026, 6, 2)), ..good }), "final_plan_issued_on");
    assert_eq!(field(ClockDates { assessment_decision: None, ..good }), "plan_decision");
    assert_eq!(field(ClockDates { plan_decision: Some((NotIssue, d(2026, 4, 1))), ..good }), "final_plan_issued_on");
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
    assert_eq!(timeliness(&cases, 2024), Timeliness::NONE);
}

#[test]
fn timeliness_in_a_period_counts_the_plans_issued_on_its_days_only() {
    let r = d(2026, 6, 1);
    let cases = [
        issued(r, d(2026, 10, 19), None),
        issued(r, d(2026, 11, 1), None),
        issued(r, d(2026, 11, 30), Some(ClockException::SchoolHoliday)),
        issued(r, d(2026, 12, 1), None),
    ];
    let november = timeliness_in(&cases, d(2026, 11, 1)..=d(2026, 11, 30));
    assert_eq!((november.issued, november.within_20_weeks, november.excluded_exceptions), (1, 0, 1));
    let october = timeliness_in(&cases, d(2026, 10, 1)..=d(2026, 10, 31));
    assert_eq!((october.issued, october.within_20_weeks), (1, 1), "the 20-week day itself is in time");
    assert_eq!(timeliness_in(&cases, d(2026, 1, 1)..=d(2026, 12, 31)), timeliness(&cases, 2026));
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
    let codes: std::collections::HashSet<&str> = Stage::ALL.iter().map(|s| s.code()).collect();
    assert_eq!(codes.len(), Stage::ALL.len(), "every stage has its own code");
}

/// The six shapes of stored dates, each at its statutory stage, for a request
/// received `r` long enough ago that every deadline has passed.
fn every_shape(r: NaiveDate) -> [(ClockDates, Stage); 6] {
    let (a, p, f) = (r + TimeDelta::weeks(5), r + TimeDelta::weeks(15), r + TimeDelta::weeks(19));
    let assessing = ClockDates { assessment_decision: Some((Assess, a)), ..received(r) };
    let drafting = ClockDates { plan_decision: Some((Issue, p)), ..assessing };
    [
        (received(r), Stage::AwaitingAssessmentDecision),
        (ClockDates { assessment_decision: Some((NotAssess, a)), ..received(r) }, Stage::NotAssessing),
        (assessing, Stage::Assessing),
        (drafting, Stage::AwaitingFinalPlan),
        (ClockDates { plan_decision: Some((NotIssue, p)), ..assessing }, Stage::NotIssuing),
        (ClockDates { final_plan_issued_on: Some(f), ..drafting }, Stage::PlanIssued),
    ]
}

/// What each referral status makes of an open clock, written out again
/// independently of `ended_by`: at (awaiting the decision to assess, assessing or
/// awaiting the final plan), the stage shown, or `None` while the clock runs on.
const STOPPED_BY: [(ReferralStatus, Option<Stage>, Option<Stage>); 8] = [
    (S::Submitted, None, None),
    (S::Accepted, None, None),
    (S::Returned, None, None),
    (S::Declined, Some(Stage::Declined), Some(Stage::Declined)),
    (S::Allocated, None, None),
    (S::InProgress, None, None),
    (S::Closed, Some(Stage::Closed), None),
    (S::Withdrawn, Some(Stage::Withdrawn), Some(Stage::Withdrawn)),
];

#[test]
fn every_status_at_every_stage_stops_the_clock_or_leaves_it_running_as_the_table_says() {
    let r = d(2025, 1, 6);
    let today = d(2026, 11, 24);
    assert_eq!(STOPPED_BY.map(|row| row.0), ReferralStatus::ALL, "one row per status");
    for (status, before_decision, after_decision) in STOPPED_BY {
        for (dates, statutory) in every_shape(r) {
            let expected = match statutory {
                Stage::AwaitingAssessmentDecision => before_decision.unwrap_or(statutory),
                Stage::Assessing | Stage::AwaitingFinalPlan => after_decision.unwrap_or(statutory),
                finished => finished,
            };
            let shown = stage(status, &dates);
            assert_eq!(shown, expected, "{status:?} at {statutory:?}");
            let live = expected.is_open();
            assert_eq!(next_deadline(status, &dates, today).is_some(), live, "{status:?} at {statutory:?}");
            let breached = health(status, &dates, today);
            assert_eq!(breached, live.then_some(ClockHealth::Breached), "{status:?} at {statutory:?}");
            assert_eq!(ended_by(statutory).contains(&status), shown != statutory, "{status:?} at {statutory:?}");
        }
    }
}

#[test]
fn a_declined_or_withdrawn_request_shows_how_it_ended_never_a_breach() {
    let long_ago = received(d(2025, 8, 4));
    let today = d(2026, 11, 24);
    assert_eq!(health(S::Submitted, &long_ago, today), Some(ClockHealth::Breached), "the same dates, still open");
    for (status, ended, name) in [
        (S::Declined, Stage::Declined, "request declined"),
        (S::Withdrawn, Stage::Withdrawn, "request withdrawn"),
        (S::Closed, Stage::Closed, "request closed before a decision whether to assess"),
    ] {
        assert_eq!(stage(status, &long_ago), ended);
        assert_eq!(ended.name(), name);
        assert!(!ended.is_open());
        assert_eq!((next_deadline(status, &long_ago, today), health(status, &long_ago, today)), (None, None));
    }
}

#[test]
fn the_assessment_and_the_plan_go_on_once_the_professionals_part_is_closed() {
    let r = d(2026, 6, 1);
    let [_, _, (assessing, _), (drafting, _), ..] = every_shape(r);
    assert_eq!(stage(S::Closed, &assessing), Stage::Assessing);
    assert_eq!(next_deadline(S::Closed, &drafting, r).map(|d| d.due), Some(final_plan_due(r)));
    assert_eq!(stage(S::Withdrawn, &drafting), Stage::Withdrawn, "a withdrawn request ends at any stage");
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

#[test]
fn a_case_still_assessing_is_at_risk_from_the_day_after_its_16_week_date_and_breached_only_after_20_weeks() {
    let r = d(2026, 1, 5);
    let assessing = ClockDates { assessment_decision: Some((Assess, d(2026, 2, 2))), ..received(r) };
    let sixteen = no_plan_notice_due(r);
    let twenty = final_plan_due(r);
    let at = |today: NaiveDate| {
        let deadline = next_deadline(S::InProgress, &assessing, today).map(|d| (d.what, d.due));
        (deadline, health(S::InProgress, &assessing, today))
    };
    let notice = Some(("decision whether to issue a plan", sixteen));
    let final_plan = Some(("final plan", twenty));
    assert_eq!(at(sixteen - TimeDelta::days(15)), (notice, Some(ClockHealth::OnTrack)));
    assert_eq!(at(sixteen - TimeDelta::days(1)), (notice, Some(ClockHealth::AtRisk)), "the day before");
    assert_eq!(at(sixteen), (notice, Some(ClockHealth::AtRisk)), "the 16-week day itself");
    assert_eq!(at(sixteen + TimeDelta::days(1)), (final_plan, Some(ClockHealth::AtRisk)), "the day after: at risk");
    assert_eq!(
        at(twenty - TimeDelta::days(20)),
        (final_plan, Some(ClockHealth::AtRisk)),
        "at risk though 20 days are left"
    );
    assert_eq!(at(twenty), (final_plan, Some(ClockHealth::AtRisk)), "the 20-week day is still in time");
    assert_eq!(at(twenty + TimeDelta::days(1)), (final_plan, Some(ClockHealth::Breached)));
}

#[test]
fn only_a_notice_not_to_issue_after_the_16_week_date_is_late() {
    let r = d(2026, 1, 5);
    let sixteen = no_plan_notice_due(r);
    let assessing = ClockDates { assessment_decision: Some((Assess, d(2026, 2, 2))), ..received(r) };
    let not_issuing = |on| ClockDates { plan_decision: Some((NotIssue, on)), ..assessing };
    assert!(!outcome_late(&not_issuing(sixteen - TimeDelta::days(1))), "the day before");
    assert!(!outcome_late(&not_issuing(sixteen)), "the day itself");
    assert!(outcome_late(&not_issuing(sixteen + TimeDelta::days(1))), "the day after");
    // A decision to issue after 16 weeks is not late in itself: the final plan's 20 weeks bind it.
    let issuing = ClockDates { plan_decision: Some((Issue, sixteen + TimeDelta::days(3))), ..assessing };
    assert!(!outcome_late(&issuing));
    assert!(!outcome_late(&ClockDates { final_plan_issued_on: Some(final_plan_due(r)), ..issuing }));
    assert!(outcome_late(&ClockDates {
        final_plan_issued_on: Some(final_plan_due(r) + TimeDelta::days(1)),
        ..issuing
    }));
    assert!(!outcome_late(&assessing), "nothing recorded yet is not late");
}

#[test]
fn the_16_week_date_runs_across_29_february_and_a_request_received_in_the_holidays_starts_that_day() {
    // Received 10 November 2027: week 16 is 1 March 2028, counting 29 February.
    let r = d(2027, 11, 10);
    assert_eq!(no_plan_notice_due(r), d(2028, 3, 1));
    let assessing = ClockDates { assessment_decision: Some((Assess, d(2027, 12, 15))), ..received(r) };
    assert_eq!(health(S::Accepted, &assessing, d(2028, 2, 29)), Some(ClockHealth::AtRisk));
    assert_eq!(
        next_deadline(S::Accepted, &assessing, d(2028, 3, 2)).map(|d| d.what),
        Some("final plan"),
        "the day after week 16"
    );
    // A parent's letter received on 5 August, in the summer holidays: the clock
    // starts that day; no date moves for the holidays (an exception is recorded instead).
    let summer = d(2027, 8, 5);
    assert_eq!(decision_due(summer), d(2027, 9, 16));
    assert_eq!(final_plan_due(summer), d(2027, 12, 23));
    assert_eq!(health(S::Submitted, &received(summer), d(2027, 9, 16)), Some(ClockHealth::AtRisk));
    assert_eq!(health(S::Submitted, &received(summer), d(2027, 9, 17)), Some(ClockHealth::Breached));
}

#[test]
fn the_20_week_figure_is_given_with_and_without_exception_cases() {
    let r = d(2026, 1, 5);
    let cases = [
        issued(r, final_plan_due(r), None),
        issued(r, final_plan_due(r) + TimeDelta::days(1), None),
        issued(r, final_plan_due(r), Some(ClockException::SchoolHoliday)),
        issued(r, final_plan_due(r) + TimeDelta::days(30), Some(ClockException::AbsentFromArea)),
    ];
    let t = timeliness(&cases, 2026);
    assert_eq!((t.issued, t.within_20_weeks, t.percent), (2, 1, Some(50.0)));
    assert_eq!(t.excluded_exceptions, 2);
    assert_eq!(
        (t.issued_including_exceptions, t.within_20_weeks_including_exceptions, t.percent_including_exceptions),
        (4, 2, Some(50.0))
    );
    let only_exceptions = timeliness(&cases[2..], 2026);
    assert_eq!((only_exceptions.percent, only_exceptions.percent_including_exceptions), (None, Some(50.0)));
}
