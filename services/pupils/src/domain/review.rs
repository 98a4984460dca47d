//! Annual reviews of EHC plans and their statutory steps (SEN and Disability
//! Regulations 2014, regs. 20 and 22; SEND Code of Practice 9.166–9.176):
//!
//! - the plan is reviewed at least every 12 months from its issue or last review;
//! - the review report goes out within 2 weeks of the review meeting;
//! - the LA decides to maintain, amend or cease the plan within 4 weeks of it;
//! - when amending, the final amended plan is issued within 8 weeks of sending the
//!   proposed amendments, which R (L) v Devon CC [2022] EWHC 493 (Admin) read as at
//!   most 12 weeks after the meeting.
//!
//! Each rule is a function of dates; "today" is always passed in.

use chrono::{Months, NaiveDate, TimeDelta};

/// Longest gap between reviews, from the plan's issue or last review (CoP 9.166).
pub const REVIEW_INTERVAL_MONTHS: u32 = 12;

/// Days after the meeting to send the review report (reg. 20; CoP 9.176).
pub const REPORT_DAYS: i64 = 14;

/// Days after the meeting for the LA's decision to maintain, amend or cease (reg. 22; CoP 9.176).
pub const DECISION_DAYS: i64 = 28;

/// Weeks after the meeting by which an amended plan is final (R (L) v Devon CC \[2022\]).
pub const AMENDED_PLAN_WEEKS: i64 = 12;

/// The date the next annual review is due: 12 months on, and 28 February when
/// counting from 29 February (the month's end, where chrono clamps).
pub fn next_review_due(last_review_or_issue: NaiveDate) -> NaiveDate {
    last_review_or_issue.checked_add_months(Months::new(REVIEW_INTERVAL_MONTHS)).unwrap_or(NaiveDate::MAX)
}

/// The date the review report must be sent by: two weeks after the meeting.
pub fn report_due(meeting: NaiveDate) -> NaiveDate {
    after(meeting, TimeDelta::days(REPORT_DAYS))
}

/// The date the LA must decide to maintain, amend or cease by: four weeks after the meeting.
pub fn decision_due(meeting: NaiveDate) -> NaiveDate {
    after(meeting, TimeDelta::days(DECISION_DAYS))
}

/// The date an amended plan must be issued by: twelve weeks after the meeting.
pub fn amended_plan_due(meeting: NaiveDate) -> NaiveDate {
    after(meeting, TimeDelta::weeks(AMENDED_PLAN_WEEKS))
}

/// `date` plus `delta`, saturating at the end of chrono's calendar.
fn after(date: NaiveDate, delta: TimeDelta) -> NaiveDate {
    date.checked_add_signed(delta).unwrap_or(NaiveDate::MAX)
}

/// What the LA decides after an annual review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReviewDecision {
    /// Keep the plan as it is.
    Maintain,
    /// Amend the plan.
    Amend,
    /// Cease to maintain the plan.
    Cease,
}

impl ReviewDecision {
    /// Every decision.
    pub const ALL: [ReviewDecision; 3] = [Self::Maintain, Self::Amend, Self::Cease];

    /// `maintain`, `amend` or `cease`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Maintain => "maintain",
            Self::Amend => "amend",
            Self::Cease => "cease",
        }
    }

    /// From the code, any case.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|d| d.code().eq_ignore_ascii_case(code))
            .ok_or_else(|| format!("'{code}' is not a review decision (maintain, amend or cease)"))
    }
}

/// One statutory step of a review: when it is due, when it was done, and whether it is late.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepStatus {
    /// The last day it is in time.
    pub due: NaiveDate,
    /// When it was done, if it has been.
    pub done_on: Option<NaiveDate>,
    /// Done after `due`, or not done and `due` has passed.
    pub late: bool,
}

/// A step's status on `today`; the due day itself is still in time.
pub fn step(due: NaiveDate, done_on: Option<NaiveDate>, today: NaiveDate) -> StepStatus {
    let late = match done_on {
        Some(done) => done > due,
        None => today > due,
    };
    StepStatus { due, done_on, late }
}

/// True once the review due date has passed without a review.
pub fn is_review_overdue(next_due: NaiveDate, today: NaiveDate) -> bool {
    today > next_due
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_next_review_is_12_months_on() {
        assert_eq!(next_review_due(d(2025, 11, 24)), d(2026, 11, 24));
        assert_eq!(next_review_due(d(2025, 12, 31)), d(2026, 12, 31));
        assert_eq!(next_review_due(d(2023, 2, 28)), d(2024, 2, 28), "not the leap day");
    }

    #[test]
    fn a_29_february_review_falls_due_on_28_february() {
        assert_eq!(next_review_due(d(2024, 2, 29)), d(2025, 2, 28));
    }

    #[test]
    fn a_review_is_overdue_the_day_after_it_falls_due() {
        let due = d(2026, 3, 10);
        assert!(!is_review_overdue(due, d(2026, 3, 10)));
        assert!(is_review_overdue(due, d(2026, 3, 11)));
    }

    #[test]
    fn the_steps_after_a_meeting() {
        let meeting = d(2026, 1, 12);
        assert_eq!(report_due(meeting), d(2026, 1, 26));
        assert_eq!(decision_due(meeting), d(2026, 2, 9));
        assert_eq!(amended_plan_due(meeting), d(2026, 4, 6));
    }

    #[test]
    fn steps_count_across_29_february() {
        let meeting = d(2024, 2, 20);
        assert_eq!(report_due(meeting), d(2024, 3, 5));
        assert_eq!(decision_due(meeting), d(2024, 3, 19));
        assert_eq!(amended_plan_due(d(2024, 2, 29)), d(2024, 5, 23));
    }

    #[test]
    fn a_step_is_late_only_after_its_due_day() {
        let due = d(2026, 1, 26);
        assert!(!step(due, None, due).late, "the due day is in time");
        assert!(step(due, None, d(2026, 1, 27)).late);
        assert!(!step(due, Some(due), d(2026, 3, 1)).late, "done on the day");
        assert!(step(due, Some(d(2026, 1, 27)), d(2026, 3, 1)).late, "done a day late stays late");
        assert!(!step(due, Some(d(2026, 1, 20)), d(2026, 1, 21)).late);
        assert_eq!(step(due, None, due), StepStatus { due, done_on: None, late: false });
    }

    #[test]
    fn decisions_round_trip() {
        for decision in ReviewDecision::ALL {
            assert_eq!(ReviewDecision::parse(decision.code()), Ok(decision));
        }
        assert_eq!(ReviewDecision::parse(" Amend "), Ok(ReviewDecision::Amend));
        assert!(ReviewDecision::parse("revoke").is_err());
    }

    #[test]
    fn far_dates_saturate_instead_of_panicking() {
        assert_eq!(next_review_due(NaiveDate::MAX), NaiveDate::MAX);
        assert_eq!(amended_plan_due(NaiveDate::MAX), NaiveDate::MAX);
    }
}
