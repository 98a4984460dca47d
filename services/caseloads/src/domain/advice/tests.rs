use chrono::NaiveDate;

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn advice_is_due_6_weeks_after_it_is_asked_for_not_after_the_request() {
    // Asked on Monday 2 November 2026, whenever the EHC request came in.
    assert_eq!(advice_due(d(2026, 11, 2)), d(2026, 12, 14));
}

#[test]
fn advice_in_on_the_day_before_or_the_6_week_date_is_on_time_and_the_day_after_is_late() {
    let due = advice_due(d(2026, 11, 2));
    assert_eq!(advice_state(due, Some(d(2026, 12, 13)), d(2027, 1, 10)), AdviceState::ReceivedOnTime);
    assert_eq!(advice_state(due, Some(d(2026, 12, 14)), d(2027, 1, 10)), AdviceState::ReceivedOnTime);
    assert_eq!(advice_state(due, Some(d(2026, 12, 15)), d(2027, 1, 10)), AdviceState::ReceivedLate);
}

#[test]
fn advice_not_in_is_awaited_through_its_due_date_and_overdue_the_day_after() {
    let due = advice_due(d(2026, 11, 2));
    assert_eq!(advice_state(due, None, d(2026, 12, 13)), AdviceState::Awaited);
    assert_eq!(advice_state(due, None, d(2026, 12, 14)), AdviceState::Awaited);
    assert_eq!(advice_state(due, None, d(2026, 12, 15)), AdviceState::Overdue);
    assert!(AdviceState::Overdue.is_late() && AdviceState::ReceivedLate.is_late());
    assert!(!AdviceState::Awaited.is_late() && !AdviceState::ReceivedOnTime.is_late());
}

#[test]
fn advice_asked_on_29_february_is_due_6_weeks_on_in_april() {
    assert_eq!(advice_due(d(2028, 2, 29)), d(2028, 4, 11));
}

#[test]
fn the_summer_holidays_do_not_move_the_advice_date() {
    // Asked as the school breaks up for the summer: still 6 calendar weeks (reg. 8(1)).
    assert_eq!(advice_due(d(2027, 7, 20)), d(2027, 8, 31));
}

#[test]
fn advice_cannot_be_asked_for_before_the_request_or_in_the_future() {
    let (received, today) = (d(2026, 10, 1), d(2026, 11, 20));
    assert_eq!(check_asked(d(2026, 10, 1), received, today), Ok(d(2026, 10, 1)));
    assert_eq!(check_asked(today, received, today), Ok(today));
    assert!(check_asked(d(2026, 9, 30), received, today).unwrap_err().contains("before the EHC needs assessment"));
    assert!(check_asked(d(2026, 11, 21), received, today).unwrap_err().contains("in the future"));
}

#[test]
fn advice_cannot_come_in_before_it_was_asked_for_or_in_the_future() {
    let (asked, today) = (d(2026, 10, 5), d(2026, 11, 20));
    assert_eq!(check_received(asked, asked, today), Ok(asked));
    assert!(check_received(d(2026, 10, 4), asked, today).unwrap_err().contains("before the advice was asked for"));
    assert!(check_received(d(2026, 11, 21), asked, today).unwrap_err().contains("in the future"));
}

#[test]
fn kinds_are_the_codes_of_reg_6_1() {
    for kind in AdviceKind::ALL {
        assert_eq!(AdviceKind::parse(kind.code()), Ok(kind));
    }
    assert_eq!(AdviceKind::parse(" social_care "), Ok(AdviceKind::SocialCare));
    assert!(AdviceKind::parse("social care").unwrap_err().contains("is not a kind of advice"));
    assert_eq!(AdviceKind::Psychological.name(), "psychological advice");
}
