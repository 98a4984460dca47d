//! Calendar dates on the wire (`sen.v1.Date`) and in the domain (`chrono::NaiveDate`).

use chrono::{Datelike, NaiveDate};
use sen_proto::v1::Date;

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

/// A required date field, recording a violation under `field` when absent or impossible.
pub fn required(input: Option<&Date>, field: &str, errors: &mut crate::error::FieldViolations) -> Option<NaiveDate> {
    match input {
        None => errors.check(field, Err("is required".into())),
        Some(d) => errors.check(field, from_proto(d)),
    }
}

/// The day a report is judged on: the request's `as_of`, or `today` when unset.
pub fn as_of(input: Option<&Date>, today: NaiveDate, errors: &mut crate::error::FieldViolations) -> NaiveDate {
    errors.check("as_of", from_proto_opt(input)).flatten().unwrap_or(today)
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
}
