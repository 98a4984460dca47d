//! National curriculum year groups and the academic year.
//!
//! England's academic year runs from 1 September to 31 August, and a child's
//! year group follows from their age on 31 August, the day before it starts
//! (DfE school census guidance): aged 4 → Reception,
//! 5 → Year 1, …, 10 → Year 6, 11 → Year 7, 15 → Year 11, 17 → Year 13. So a
//! child born on 1 September is the oldest in their year group and one born on
//! 31 August the youngest. The census adds N1 and N2 (nursery, aged 2 and 3) and
//! X (not following the national curriculum).
//!
//! A pupil taught out of cohort has an explicit year group that overrides the one
//! their age gives; rules about year groups take the [`NcYear`] as given.

use chrono::{Datelike, NaiveDate};

/// The month the academic year starts in (September).
const ACADEMIC_YEAR_START_MONTH: u32 = 9;

/// Age on 31 August of a pupil in Reception; Year n pupils are this plus n.
const RECEPTION_AGE: i64 = 4;

/// A national curriculum year group, as the school census codes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NcYear {
    /// `N1`: first year of nursery, aged 2 on 31 August.
    N1,
    /// `N2`: second year of nursery, aged 3 on 31 August.
    N2,
    /// `R`: Reception, aged 4 on 31 August.
    Reception,
    /// `1`–`14`: Year 1 (aged 5) to Year 14 (aged 18).
    Year(u8),
    /// `X`: not following the national curriculum.
    NotFollowing,
}

impl NcYear {
    /// Census code: `N1`, `N2`, `R`, `1`–`14` or `X`.
    pub fn code(self) -> String {
        match self {
            Self::N1 => "N1".into(),
            Self::N2 => "N2".into(),
            Self::Reception => "R".into(),
            Self::Year(n) => n.to_string(),
            Self::NotFollowing => "X".into(),
        }
    }

    /// Parses a census code in any case; also `Y7`, `Year 7` and `Reception`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim().to_ascii_uppercase();
        let bad = || format!("'{}' is not a national curriculum year (N1, N2, R, 1–14 or X)", s.trim());
        match code.as_str() {
            "N1" => return Ok(Self::N1),
            "N2" => return Ok(Self::N2),
            "R" | "RECEPTION" => return Ok(Self::Reception),
            "X" => return Ok(Self::NotFollowing),
            _ => {}
        }
        let number = code.strip_prefix("YEAR").or_else(|| code.strip_prefix('Y')).unwrap_or(&code).trim_start();
        if number == "R" {
            return Ok(Self::Reception);
        }
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match number.parse::<u8>() {
            Ok(n @ 1..=14) => Ok(Self::Year(n)),
            _ => Err(bad()),
        }
    }

    /// Position for ordering and comparing: N1 −2, N2 −1, Reception 0, Year n n;
    /// none for X, which has no place in the sequence.
    pub fn ordinal(self) -> Option<i8> {
        match self {
            Self::N1 => Some(-2),
            Self::N2 => Some(-1),
            Self::Reception => Some(0),
            Self::Year(n) => i8::try_from(n).ok(),
            Self::NotFollowing => None,
        }
    }

    /// The year group at an ordinal (the inverse of [`NcYear::ordinal`]); none outside −2..=14.
    pub fn from_ordinal(ordinal: i8) -> Option<Self> {
        match ordinal {
            -2 => Some(Self::N1),
            -1 => Some(Self::N2),
            0 => Some(Self::Reception),
            1..=14 => u8::try_from(ordinal).ok().map(Self::Year),
            _ => None,
        }
    }

    /// For people: "Nursery 1", "Reception", "Year 7", …
    pub fn label(self) -> String {
        match self {
            Self::N1 => "Nursery 1".into(),
            Self::N2 => "Nursery 2".into(),
            Self::Reception => "Reception".into(),
            Self::Year(n) => format!("Year {n}"),
            Self::NotFollowing => "not following the national curriculum".into(),
        }
    }
}

/// The calendar year in which the academic year containing `date` began: 31 August
/// 2026 is in 2025/26 (→ 2025), 1 September 2026 in 2026/27 (→ 2026).
pub fn academic_year_start(date: NaiveDate) -> i32 {
    if date.month() >= ACADEMIC_YEAR_START_MONTH { date.year() } else { date.year() - 1 }
}

/// The year group a child born on `date_of_birth` is in during the academic year
/// starting in September of `academic_year_start`, from their age on 31 August of
/// that year. None below nursery (under 2) and beyond Year 14 (over 18).
pub fn nc_year_for(date_of_birth: NaiveDate, academic_year_start: i32) -> Option<NcYear> {
    // Born after 31 August (September–December): not had this year's birthday by the cut-off.
    let birthday_after_cutoff = date_of_birth.month() >= ACADEMIC_YEAR_START_MONTH;
    let age = i64::from(academic_year_start) - i64::from(date_of_birth.year()) - i64::from(birthday_after_cutoff);
    // N1 (aged 2) is ordinal −2, so the ordinal is the age less the Reception age throughout.
    i8::try_from(age - RECEPTION_AGE).ok().and_then(NcYear::from_ordinal)
}

/// The year group a child is in on `today`.
pub fn nc_year_in(date_of_birth: NaiveDate, today: NaiveDate) -> Option<NcYear> {
    nc_year_for(date_of_birth, academic_year_start(today))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Born in spring `2025 - age`: aged `age` on 31 August 2025.
    fn year_at_age(age: i32) -> Option<NcYear> {
        nc_year_for(d(2025 - age, 3, 15), 2025)
    }

    #[test]
    fn the_domain_examples_hold() {
        assert_eq!(year_at_age(4), Some(NcYear::Reception));
        assert_eq!(year_at_age(5), Some(NcYear::Year(1)));
        assert_eq!(year_at_age(10), Some(NcYear::Year(6)));
        assert_eq!(year_at_age(11), Some(NcYear::Year(7)));
        assert_eq!(year_at_age(15), Some(NcYear::Year(11)));
        assert_eq!(year_at_age(16), Some(NcYear::Year(12)));
        assert_eq!(year_at_age(17), Some(NcYear::Year(13)));
    }

    #[test]
    fn nursery_and_the_ends_of_the_range() {
        assert_eq!(year_at_age(1), None);
        assert_eq!(year_at_age(2), Some(NcYear::N1));
        assert_eq!(year_at_age(3), Some(NcYear::N2));
        assert_eq!(year_at_age(18), Some(NcYear::Year(14)));
        assert_eq!(year_at_age(19), None);
        assert_eq!(nc_year_for(d(2026, 1, 1), 2025), None, "not yet born");
    }

    #[test]
    fn the_academic_year_turns_on_1_september() {
        assert_eq!(academic_year_start(d(2026, 8, 31)), 2025);
        assert_eq!(academic_year_start(d(2026, 9, 1)), 2026);
        assert_eq!(academic_year_start(d(2026, 1, 1)), 2025);
        assert_eq!(academic_year_start(d(2026, 12, 31)), 2026);
    }

    #[test]
    fn births_on_1_september_are_the_oldest_of_a_year_and_on_31_august_the_youngest() {
        // Reception in 2025/26 runs from children born 1 September 2020 to 31 August 2021.
        assert_eq!(nc_year_for(d(2020, 9, 1), 2025), Some(NcYear::Reception));
        assert_eq!(nc_year_for(d(2021, 8, 31), 2025), Some(NcYear::Reception));
        assert_eq!(nc_year_for(d(2020, 8, 31), 2025), Some(NcYear::Year(1)), "a day older: the year above");
        assert_eq!(nc_year_for(d(2021, 9, 1), 2025), Some(NcYear::N2), "a day younger: the year below");
    }

    #[test]
    fn a_29_february_birthday_counts_like_any_other() {
        assert_eq!(nc_year_for(d(2020, 2, 29), 2024), Some(NcYear::Reception));
        assert_eq!(nc_year_for(d(2020, 2, 29), 2025), Some(NcYear::Year(1)));
        assert_eq!(nc_year_in(d(2016, 2, 29), d(2027, 2, 28)), Some(NcYear::Year(6)));
    }

    #[test]
    fn nc_year_in_uses_the_academic_year_of_today() {
        let dob = d(2015, 6, 10);
        assert_eq!(nc_year_in(dob, d(2026, 8, 31)), Some(NcYear::Year(6)));
        assert_eq!(nc_year_in(dob, d(2026, 9, 1)), Some(NcYear::Year(7)));
    }

    #[test]
    fn codes_round_trip_and_common_spellings_parse() {
        let mut all = vec![NcYear::N1, NcYear::N2, NcYear::Reception, NcYear::NotFollowing];
        all.extend((1..=14).map(NcYear::Year));
        for year in all {
            assert_eq!(NcYear::parse(&year.code()), Ok(year));
            assert_eq!(NcYear::parse(&year.code().to_lowercase()), Ok(year));
        }
        for (written, year) in [
            ("Y7", NcYear::Year(7)),
            ("Year 7", NcYear::Year(7)),
            ("year11", NcYear::Year(11)),
            (" r ", NcYear::Reception),
            ("Reception", NcYear::Reception),
            ("Year R", NcYear::Reception),
            ("n2", NcYear::N2),
            ("x", NcYear::NotFollowing),
        ] {
            assert_eq!(NcYear::parse(written), Ok(year), "{written}");
        }
        for bad in ["", "0", "15", "Y", "Year", "N3", "+7", "Y-1", "7a", "Year 7 1", "YX"] {
            assert!(NcYear::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ordinals_order_the_years_and_invert() {
        assert_eq!(NcYear::N1.ordinal(), Some(-2));
        assert_eq!(NcYear::Reception.ordinal(), Some(0));
        assert_eq!(NcYear::Year(9).ordinal(), Some(9));
        assert_eq!(NcYear::NotFollowing.ordinal(), None);
        for ordinal in -2..=14 {
            assert_eq!(NcYear::from_ordinal(ordinal).and_then(NcYear::ordinal), Some(ordinal));
        }
        assert_eq!(NcYear::from_ordinal(15), None);
        assert_eq!(NcYear::Year(7).label(), "Year 7");
    }
}
