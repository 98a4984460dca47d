//! How the First-tier Tribunal (SEND) counts time, for the dates of an appeal.
//!
//! - The family has **2 months** from the written notice of the council's
//!   decision, or **1 month** from the mediation certificate if that ends later,
//!   to send the appeal (Tribunal Procedure (First-tier Tribunal) (Health,
//!   Education and Social Care Chamber) Rules 2008, "HESC Rules", r. 20(1)(c)).
//!   A limit ending from 25 December to 1 January, or in August, runs on to the
//!   first working day after 1 January or 31 August (r. 12(3)(a)); one ending on
//!   a day that is not a working day runs on to the next working day (r. 12(2)).
//! - The council's response is due **30 working days** after it received the
//!   appeal (r. 21(1) and the Tribunal's standard directions in SEN cases), and in
//!   an SEN case 25 December to 1 January and every day in August are not counted
//!   (r. 12(3)(b)). A date the Tribunal sets in its own directions stands as given
//!   (r. 12(4)): the record takes it in place of the computed one.
//! - A working day is any day but a Saturday, a Sunday, Christmas Day, Good
//!   Friday or a bank holiday in England and Wales (r. 1(3)); the recurring bank
//!   holidays are computed here. A one-off bank holiday (a coronation, a state
//!   funeral) is not known to the platform: the Tribunal's letter gives the date,
//!   and the council records it.
//!
//! Worked example: an appeal registered on Monday 2 March 2026 (Easter Sunday
//! is 5 April) has its response due on Wednesday 15 April 2026: 30 weekdays on
//! from 3 March, less Good Friday (3 April) and Easter Monday (6 April).

use chrono::{Datelike, Months, NaiveDate, TimeDelta, Weekday};

/// Working days the council has to respond to an appeal (HESC Rules r. 21(1)).
pub const RESPONSE_WORKING_DAYS: u32 = 30;

/// Months from the notice of a decision to appeal it (HESC Rules r. 20(1)(c)(i)).
pub const APPEAL_MONTHS_AFTER_DECISION: u32 = 2;

/// Months from the mediation certificate to appeal (HESC Rules r. 20(1)(c)(ii)).
pub const APPEAL_MONTHS_AFTER_CERTIFICATE: u32 = 1;

/// Easter Sunday of `year` (the Gregorian computus, anonymous algorithm).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The first `weekday` of `month`, or the last when `last`.
fn weekday_of_month(year: i32, month: u32, weekday: Weekday, last: bool) -> Option<NaiveDate> {
    if last {
        let next = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
        let mut day = NaiveDate::from_ymd_opt(next.0, next.1, 1)?.pred_opt()?;
        while day.weekday() != weekday {
            day = day.pred_opt()?;
        }
        Some(day)
    } else {
        let mut day = NaiveDate::from_ymd_opt(year, month, 1)?;
        while day.weekday() != weekday {
            day = day.succ_opt()?;
        }
        Some(day)
    }
}

/// Whether `day` is a recurring bank holiday in England and Wales (Banking and
/// Financial Dealings Act 1971, Sch. 1, and the royal proclamations that add
/// New Year's Day and the early May holiday): New Year's Day (or the Monday
/// after it falls at a weekend), Good Friday, Easter Monday, the first and
/// last Mondays of May, the last Monday of August, Christmas Day and Boxing
/// Day (or the weekdays after them when they fall at a weekend).
pub fn is_bank_holiday(day: NaiveDate) -> bool {
    let year = day.year();
    let new_year = NaiveDate::from_ymd_opt(year, 1, 1).map(substitute);
    let easter = easter_sunday(year);
    let fixed = [
        new_year,
        easter.and_then(|e| e.checked_sub_signed(TimeDelta::days(2))),
        easter.and_then(|e| e.checked_add_signed(TimeDelta::days(1))),
        weekday_of_month(year, 5, Weekday::Mon, false),
        weekday_of_month(year, 5, Weekday::Mon, true),
        weekday_of_month(year, 8, Weekday::Mon, true),
    ];
    if fixed.contains(&Some(day)) {
        return true;
    }
    // Christmas Day and Boxing Day, each moved on past the weekend and each other.
    let christmas = NaiveDate::from_ymd_opt(year, 12, 25).map(substitute);
    let boxing = NaiveDate::from_ymd_opt(year, 12, 26).map(|d| {
        let moved = substitute(d);
        if Some(moved) == christmas { substitute(moved.succ_opt().unwrap_or(moved)) } else { moved }
    });
    christmas == Some(day) || boxing == Some(day)
}

/// `day`, or the Monday after it when it falls at a weekend.
fn substitute(day: NaiveDate) -> NaiveDate {
    let mut moved = day;
    while matches!(moved.weekday(), Weekday::Sat | Weekday::Sun) {
        moved = moved.succ_opt().unwrap_or(moved);
        if moved == day {
            break;
        }
    }
    moved
}

/// A working day (HESC Rules r. 1(3)): not a Saturday, Sunday or bank holiday.
pub fn is_working_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !is_bank_holiday(day)
}

/// A day an SEN case does not count (HESC Rules r. 12(3)(b)): 25 December to
/// 1 January inclusive, and every day in August.
pub fn is_tribunal_recess(day: NaiveDate) -> bool {
    day.month() == 8 || (day.month() == 12 && day.day() >= 25) || (day.month() == 1 && day.day() == 1)
}

/// The day `working_days` counted working days after `from` in an SEN case:
/// weekends, bank holidays, 25 December to 1 January and August not counted.
pub fn counted_working_days_after(from: NaiveDate, working_days: u32) -> NaiveDate {
    let mut day = from;
    let mut counted = 0;
    while counted < working_days {
        let Some(next) = day.succ_opt() else { return NaiveDate::MAX };
        day = next;
        if is_working_day(day) && !is_tribunal_recess(day) {
            counted += 1;
        }
    }
    day
}

/// The council's response to an appeal registered (and sent to it) on
/// `registered`: 30 counted working days on (HESC Rules rr. 12(3)(b), 21(1)).
pub fn response_due(registered: NaiveDate) -> NaiveDate {
    counted_working_days_after(registered, RESPONSE_WORKING_DAYS)
}

/// The last day to appeal (HESC Rules r. 20(1)(c)): 2 months after the notice of
/// the decision, or 1 month after the mediation certificate when that is later;
/// run on past the Christmas recess or August (r. 12(3)(a)) and to a working day
/// (r. 12(2)). A month from 31 January ends on the last day of February (28th,
/// or 29th in a leap year).
pub fn appeal_deadline(decision_notice: NaiveDate, certificate: Option<NaiveDate>) -> NaiveDate {
    let after_decision =
        decision_notice.checked_add_months(Months::new(APPEAL_MONTHS_AFTER_DECISION)).unwrap_or(NaiveDate::MAX);
    let after_certificate = certificate
        .map(|c| c.checked_add_months(Months::new(APPEAL_MONTHS_AFTER_CERTIFICATE)).unwrap_or(NaiveDate::MAX));
    let mut last = after_certificate.map_or(after_decision, |c| c.max(after_decision));
    if is_tribunal_recess(last) {
        // The first working day after 1 January or after 31 August.
        let resume = if last.month() == 8 {
            NaiveDate::from_ymd_opt(last.year(), 8, 31)
        } else if last.month() == 12 {
            NaiveDate::from_ymd_opt(last.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(last.year(), 1, 1)
        };
        last = resume.and_then(|d| d.succ_opt()).unwrap_or(last);
    }
    while !is_working_day(last) {
        match last.succ_opt() {
            Some(next) => last = next,
            None => break,
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_falls_where_the_calendar_puts_it() {
        assert_eq!(easter_sunday(2024), Some(d(2024, 3, 31)));
        assert_eq!(easter_sunday(2026), Some(d(2026, 4, 5)));
        assert_eq!(easter_sunday(2027), Some(d(2027, 3, 28)));
        assert_eq!(easter_sunday(2028), Some(d(2028, 4, 16)));
    }

    #[test]
    fn bank_holidays_of_england_and_wales_are_not_working_days() {
        for day in [d(2026, 1, 1), d(2026, 4, 3), d(2026, 4, 6), d(2026, 5, 4), d(2026, 5, 25), d(2026, 8, 31)] {
            assert!(is_bank_holiday(day), "{day}");
            assert!(!is_working_day(day), "{day}");
        }
        // 2027: New Year's Day is a Friday; Christmas Day a Saturday, so the
        // holidays are Monday 27 and Tuesday 28 December.
        assert!(is_bank_holiday(d(2027, 12, 27)) && is_bank_holiday(d(2027, 12, 28)));
        // 2028: New Year's Day is a Saturday, so Monday 3 January is the holiday.
        assert!(is_bank_holiday(d(2028, 1, 3)));
        assert!(is_working_day(d(2026, 4, 7)));
    }

    #[test]
    fn the_response_is_due_thirty_working_days_after_registration() {
        // 3 March to 15 April 2026: 32 weekdays, less Good Friday and Easter Monday.
        assert_eq!(response_due(d(2026, 3, 2)), d(2026, 4, 15));
        // Registered on 29 February 2024 (Easter Sunday 31 March): Good Friday and Easter Monday not counted.
        assert_eq!(response_due(d(2024, 2, 29)), d(2024, 4, 15));
        // The day before and the day after 29 February count on from their own day.
        assert_eq!(response_due(d(2024, 2, 28)), d(2024, 4, 12));
        assert_eq!(response_due(d(2024, 3, 1)), d(2024, 4, 16));
        // No holidays: six weeks of weekdays from Monday 8 June 2026.
        assert_eq!(response_due(d(2026, 6, 8)), d(2026, 7, 20));
    }

    #[test]
    fn august_and_the_christmas_recess_are_not_counted_for_the_response() {
        // Registered in the summer holidays: counting starts on Tuesday 1 September 2026.
        assert_eq!(response_due(d(2026, 8, 3)), d(2026, 10, 12));
        // Registered in July: the working days of July count, then August is skipped.
        // 1 July 2026 is a Wednesday: 22 working days from 2 to 31 July, then 8 from 1 September.
        assert_eq!(response_due(d(2026, 7, 1)), d(2026, 9, 10));
        // Across Christmas: 17 working days in December, none from 25 December to 1 January,
        // none on the 2028 New Year substitute (Monday 3 January), 13 more to Thursday 20 January.
        assert_eq!(response_due(d(2027, 12, 1)), d(2028, 1, 20));
    }

    #[test]
    fn the_appeal_may_be_sent_two_months_after_the_decision_or_a_month_after_the_certificate() {
        assert_eq!(appeal_deadline(d(2026, 3, 10), None), d(2026, 5, 11), "10 May 2026 is a Sunday");
        assert_eq!(appeal_deadline(d(2026, 3, 10), Some(d(2026, 4, 20))), d(2026, 5, 20));
        assert_eq!(appeal_deadline(d(2026, 3, 10), Some(d(2026, 3, 20))), d(2026, 5, 11));
    }

    #[test]
    fn a_month_ending_on_the_29th_of_february_ends_there_in_a_leap_year() {
        // 29 February 2028 is a Tuesday.
        assert_eq!(appeal_deadline(d(2027, 12, 29), None), d(2028, 2, 29));
        assert_eq!(appeal_deadline(d(2027, 11, 1), Some(d(2028, 1, 29))), d(2028, 2, 29));
        // Not a leap year: a month from 31 January ends on 28 February (a Sunday in 2027: Monday 1 March).
        assert_eq!(appeal_deadline(d(2026, 12, 1), Some(d(2027, 1, 31))), d(2027, 3, 1));
    }

    #[test]
    fn a_deadline_in_august_or_over_christmas_runs_to_the_first_working_day_after() {
        assert_eq!(appeal_deadline(d(2026, 6, 15), None), d(2026, 9, 1), "15 August is in the recess");
        assert_eq!(appeal_deadline(d(2026, 10, 28), None), d(2027, 1, 4), "28 December; 2 and 3 January are a weekend");
    }
}
