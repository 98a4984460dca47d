//! The calendar months of the council's referral overview: how far back the
//! monthly series may reach, and which months it covers on a given day. A month
//! is a whole calendar month, the one containing "today" included, so a series
//! read on 3 March still has a March row (with what has happened so far).

use std::ops::RangeInclusive;

use chrono::{Datelike, Days, Months, NaiveDate};

/// Months in the series when the caller asks for none in particular: a year.
pub const DEFAULT_SERIES_MONTHS: u32 = 12;
/// The longest series: three years, enough to compare a month with the same month
/// two years before, and a bound on the work one request can ask for.
pub const MAX_SERIES_MONTHS: u32 = 36;

/// How many months the series covers: `requested`, or [`DEFAULT_SERIES_MONTHS`]
/// for 0; more than [`MAX_SERIES_MONTHS`] is refused.
pub fn series_months(requested: u32) -> Result<u32, String> {
    match requested {
        0 => Ok(DEFAULT_SERIES_MONTHS),
        n if n > MAX_SERIES_MONTHS => Err(format!("is {n}; at most {MAX_SERIES_MONTHS} months")),
        n => Ok(n),
    }
}

/// One calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarMonth {
    first: NaiveDate,
}

impl CalendarMonth {
    /// The month `day` falls in.
    pub fn containing(day: NaiveDate) -> Self {
        Self { first: day.checked_sub_days(Days::new(u64::from(day.day0()))).unwrap_or(day) }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    /// Its last day (28th to 31st).
    pub fn last_day(self) -> NaiveDate {
        self.first.checked_add_months(Months::new(1)).and_then(|next| next.pred_opt()).unwrap_or(NaiveDate::MAX)
    }

    /// Every day of it.
    pub fn days(self) -> RangeInclusive<NaiveDate> {
        self.first_day()..=self.last_day()
    }
}

/// The `count` calendar months ending with the one containing `today`, oldest
/// first. Months before the start of chrono's calendar are left out.
pub fn months_ending(today: NaiveDate, count: u32) -> Vec<CalendarMonth> {
    let current = CalendarMonth::containing(today).first;
    (0..count)
        .rev()
        .filter_map(|back| current.checked_sub_months(Months::new(back)))
        .map(|first| CalendarMonth { first })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn none_asked_for_means_a_year_and_more_than_three_years_is_refused() {
        assert_eq!(series_months(0), Ok(12));
        assert_eq!(series_months(1), Ok(1));
        assert_eq!(series_months(36), Ok(36));
        assert!(series_months(37).unwrap_err().contains("at most 36"));
    }

    #[test]
    fn the_series_ends_with_the_current_month_and_crosses_the_year_end() {
        let months: Vec<NaiveDate> = months_ending(d(2027, 2, 14), 4).into_iter().map(|m| m.first_day()).collect();
        assert_eq!(months, [d(2026, 11, 1), d(2026, 12, 1), d(2027, 1, 1), d(2027, 2, 1)]);
        assert!(months_ending(d(2027, 2, 14), 0).is_empty());
    }

    #[test]
    fn a_month_runs_from_its_first_to_its_last_day_leap_years_included() {
        let february = CalendarMonth::containing(d(2028, 2, 29));
        assert_eq!(february.days(), d(2028, 2, 1)..=d(2028, 2, 29));
        assert_eq!(CalendarMonth::containing(d(2027, 2, 1)).last_day(), d(2027, 2, 28));
        assert_eq!(CalendarMonth::containing(d(2026, 12, 31)).days(), d(2026, 12, 1)..=d(2026, 12, 31));
        assert_eq!(CalendarMonth::containing(d(2026, 12, 1)), CalendarMonth::containing(d(2026, 12, 31)));
    }
}
