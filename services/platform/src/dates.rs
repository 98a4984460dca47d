//! Calendar dates on the wire (`sen.v1.Date`) and in the domain (`chrono::NaiveDate`),
//! the [`Clock`] that says what day it is, and the checks of a request's date
//! fields ([`date`], [`past_date`], [`checked_as_of`]), each answering
//! [`Checked`] like the rest of [`crate::fields`].

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, Utc};
use sen_proto::v1::Date;

use crate::fields::{Checked, field};

/// Today's date, as a service judges deadlines: a parameter, so tests fix it and
/// rules never read the system clock themselves.
pub type Clock = Arc<dyn Fn() -> NaiveDate + Send + Sync>;

/// The system clock's date (UTC).
pub fn system_clock() -> Clock {
    Arc::new(|| Utc::now().date_naive())
}

/// The wire form of a date.
pub fn to_proto(date: NaiveDate) -> Date {
    Date { year: date.year(), month: date.month() as i32, day: date.day() as i32 }
}

/// The wire form of an optional date: unset when `None`.
pub fn to_proto_opt(date: Option<NaiveDate>) -> Option<Date> {
    date.map(to_proto)
}

/// Reads an optional date: unset or all-zero means none; anything else must be a real day.
pub fn from_proto_opt(date: Option<&Date>) -> Result<Option<NaiveDate>, String> {
    match date {
        None => Ok(None),
        Some(d) if d.year == 0 && d.month == 0 && d.day == 0 => Ok(None),
        Some(d) => from_proto(d).map(Some),
    }
}

/// Reads a required date.
pub fn from_proto(d: &Date) -> Result<NaiveDate, String> {
    u32::try_from(d.month)
        .ok()
        .zip(u32::try_from(d.day).ok())
        .and_then(|(m, day)| NaiveDate::from_ymd_opt(d.year, m, day))
        .filter(|date| (1900..=2200).contains(&date.year()))
        .ok_or_else(|| format!("{}-{:02}-{:02} is not a calendar date", d.year, d.month, d.day))
}

/// A required date field: absent or impossible is a violation under `name`.
pub fn date(input: Option<&Date>, name: &str) -> Checked<NaiveDate> {
    field(name, input.ok_or_else(|| "is required".to_owned()).and_then(from_proto))
}

/// An optional date field: unset or all-zero is `None`; an impossible day is a violation under `name`.
pub fn optional_date(input: Option<&Date>, name: &str) -> Checked<Option<NaiveDate>> {
    field(name, from_proto_opt(input))
}

/// The day a report is judged on: the request's `as_of`, or `today` when unset.
pub fn checked_as_of(input: Option<&Date>, today: NaiveDate) -> Checked<NaiveDate> {
    optional_date(input, "as_of").map(|day| day.unwrap_or(today))
}

/// `day` if it has come by `today`; otherwise "is in the future" under `name`.
pub fn not_future(day: NaiveDate, today: NaiveDate, name: &str) -> Checked<NaiveDate> {
    not_future_saying(day, today, name, |_| "is in the future".to_owned())
}

/// [`not_future`] in a service's own words: `refusal` describes a `day` after `today`.
pub fn not_future_saying(
    day: NaiveDate,
    today: NaiveDate,
    name: &str,
    refusal: impl FnOnce(NaiveDate) -> String,
) -> Checked<NaiveDate> {
    field(name, if day > today { Err(refusal(day)) } else { Ok(day) })
}

/// A required date field that has happened by `today` (today included).
pub fn past_date(input: Option<&Date>, name: &str, today: NaiveDate) -> Checked<NaiveDate> {
    date(input, name).and_then(|day| not_future(day, today, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_days_round_trip_and_impossible_ones_are_refused() {
        let leap = NaiveDate::from_ymd_opt(2028, 2, 29).unwrap();
        assert_eq!(from_proto(&to_proto(leap)), Ok(leap));
        assert!(from_proto(&Date { year: 2027, month: 2, day: 29 }).is_err());
        assert!(from_proto(&Date { year: 2027, month: 13, day: 1 }).is_err());
        assert!(from_proto(&Date { year: 2027, month: -1, day: 1 }).is_err());
        assert_eq!(from_proto_opt(Some(&Date::default())), Ok(None));
        assert_eq!(from_proto_opt(None), Ok(None));
    }

    #[test]
    fn a_day_after_today_is_in_the_future_and_today_is_not() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let tomorrow = today.succ_opt().unwrap();
        assert_eq!(not_future(today, today, "on"), Ok(today));
        assert_eq!(not_future(tomorrow, today, "on").unwrap_err().to_string(), "on: is in the future");
        let said = not_future_saying(tomorrow, today, "ended_on", |d| format!("{d} has not come")).unwrap_err();
        assert_eq!(said.to_string(), "ended_on: 2027-03-02 has not come");
    }

    #[test]
    fn a_past_date_must_be_given_and_not_be_ahead() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        assert_eq!(past_date(Some(&to_proto(today)), "on", today), Ok(today));
        assert_eq!(past_date(None, "on", today).unwrap_err().to_string(), "on: is required");
        let ahead = to_proto(NaiveDate::from_ymd_opt(2027, 3, 2).unwrap());
        assert_eq!(past_date(Some(&ahead), "on", today).unwrap_err().to_string(), "on: is in the future");
    }
}
