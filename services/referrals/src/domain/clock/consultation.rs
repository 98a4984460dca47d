//! The draft plan and the parent's or young person's consultation on it. Once
//! the council decides to issue a plan it sends the draft, and gives at least 15
//! days to comment on it and to ask for a school or other institution to be
//! named (reg. 13(1)(b), CoP 9.77-9.79); the final plan still comes within the
//! 20 weeks (reg. 13(2)). The council records the day it sent the draft and the
//! last day of the period it gave, 15 days after sending unless it gave longer.

use chrono::{NaiveDate, TimeDelta};

/// The least number of days the parent or young person has to comment (reg. 13(1)(b)).
pub const CONSULTATION_DAYS: i64 = 15;

/// The last day of the consultation when the council gives no longer: 15 days after sending.
pub fn consultation_default_end(sent_on: NaiveDate) -> NaiveDate {
    sent_on.checked_add_signed(TimeDelta::days(CONSULTATION_DAYS)).unwrap_or(NaiveDate::MAX)
}

/// Checks a draft plan sent on `sent_on` with comments invited until `ends_on`,
/// recorded on `today` for a case whose decision to issue was made on
/// `decided_on`: sent on or after that decision and not in the future, and the
/// period at least 15 days. On failure, the field at fault (`sent_on` or
/// `consultation_ends_on`) and what is wrong with it.
pub fn check_draft_plan(
    sent_on: NaiveDate,
    ends_on: NaiveDate,
    decided_on: NaiveDate,
    today: NaiveDate,
) -> Result<(), (&'static str, String)> {
    if sent_on > today {
        return Err(("sent_on", format!("{sent_on} is in the future")));
    }
    if sent_on < decided_on {
        return Err(("sent_on", format!("{sent_on} is before the decision to issue a plan ({decided_on})")));
    }
    let earliest = consultation_default_end(sent_on);
    if ends_on < earliest {
        return Err((
            "consultation_ends_on",
            format!("{ends_on} gives less than {CONSULTATION_DAYS} days to comment; {earliest} at the earliest"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_consultation_ends_15_days_after_the_draft_is_sent_and_no_sooner() {
        let (decided, today) = (d(2027, 3, 1), d(2027, 3, 20));
        let sent = d(2027, 3, 2);
        assert_eq!(consultation_default_end(sent), d(2027, 3, 17));
        assert_eq!(check_draft_plan(sent, d(2027, 3, 17), decided, today), Ok(()), "the 15th day");
        assert_eq!(check_draft_plan(sent, d(2027, 3, 18), decided, today), Ok(()), "longer is fine");
        assert_eq!(check_draft_plan(sent, d(2027, 3, 16), decided, today).unwrap_err().0, "consultation_ends_on");
    }

    #[test]
    fn the_15_days_run_across_29_february() {
        assert_eq!(consultation_default_end(d(2028, 2, 20)), d(2028, 3, 6));
        assert_eq!(consultation_default_end(d(2027, 2, 20)), d(2027, 3, 7));
        assert_eq!(consultation_default_end(d(2028, 2, 14)), d(2028, 2, 29));
    }

    #[test]
    fn a_draft_is_sent_after_the_decision_to_issue_and_not_in_the_future() {
        let (decided, today) = (d(2027, 3, 1), d(2027, 3, 20));
        let ends = |sent| consultation_default_end(sent);
        assert_eq!(check_draft_plan(decided, ends(decided), decided, today), Ok(()), "the same day");
        assert_eq!(check_draft_plan(d(2027, 2, 28), ends(d(2027, 2, 28)), decided, today).unwrap_err().0, "sent_on");
        assert_eq!(check_draft_plan(today, ends(today), decided, today), Ok(()));
        assert_eq!(check_draft_plan(d(2027, 3, 21), ends(d(2027, 3, 21)), decided, today).unwrap_err().0, "sent_on");
    }
}
