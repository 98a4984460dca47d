//! How long a pupil's records are kept: until their date of birth plus the
//! authority's retention period (the schools' records-management toolkit keeps
//! SEN files and EHCP records to date of birth + 31 years: a plan can run to 25,
//! plus six years; some authorities keep them longer, so the period is theirs to
//! set). A pupil is past retention on the first day after that date.
//!
//! Worked example: born 29 February 2000, period 31 years. 2031 has no 29
//! February, so the period ends on 28 February 2031; the records are kept that
//! day and erased from 1 March 2031.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};

/// The period most authorities keep SEN records for, in years after birth.
pub const DEFAULT_RETENTION_YEARS: u32 = 31;

/// The longest period an authority may set, in years after birth.
pub const MAX_RETENTION_YEARS: u32 = 120;

/// The last day the records of a pupil born on `date_of_birth` are kept under a
/// period of `years`: the same day `years` later, or 28 February for a 29
/// February birthday in a year without one.
pub fn retention_ends(date_of_birth: NaiveDate, years: u32) -> NaiveDate {
    date_of_birth.checked_add_months(Months::new(years.saturating_mul(12))).unwrap_or(NaiveDate::MAX)
}

/// Whether the records of a pupil born on `date_of_birth` are past a period of
/// `years` on `today`.
pub fn is_past_retention(date_of_birth: NaiveDate, years: u32, today: NaiveDate) -> bool {
    retention_ends(date_of_birth, years) < today
}

/// The latest date of birth that can be past a period of `years` on `today`: a
/// bound for the database to narrow the candidates by, which
/// [`is_past_retention`] then decides exactly (on 29 February it lets through
/// one day more than the rule does).
pub fn latest_birth_past(years: u32, today: NaiveDate) -> NaiveDate {
    today.checked_sub_months(Months::new(years.saturating_mul(12))).unwrap_or(NaiveDate::MIN)
}

/// Each authority's retention period: one for all, and those that differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    default_years: u32,
    by_authority: BTreeMap<String, u32>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self { default_years: DEFAULT_RETENTION_YEARS, by_authority: BTreeMap::new() }
    }
}

impl RetentionPolicy {
    /// `default_years` for every authority but those in `by_authority` (LA code → years).
    pub fn new(default_years: u32, by_authority: BTreeMap<String, u32>) -> Result<Self, String> {
        let check = |years: u32, whose: &str| {
            if (1..=MAX_RETENTION_YEARS).contains(&years) {
                Ok(())
            } else {
                Err(format!("{whose}: {years} years is not between 1 and {MAX_RETENTION_YEARS}"))
            }
        };
        check(default_years, "every authority")?;
        for (la, years) in &by_authority {
            check(*years, la)?;
        }
        Ok(Self { default_years, by_authority })
    }

    /// The period of the authority `la_code`, in years after birth.
    pub fn years_for(&self, la_code: &str) -> u32 {
        self.by_authority.get(la_code).copied().unwrap_or(self.default_years)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn records_are_kept_to_the_birthday_and_erased_the_day_after() {
        let born = d(1995, 11, 23);
        assert_eq!(retention_ends(born, 31), d(2026, 11, 23));
        assert!(!is_past_retention(born, 31, d(2026, 11, 23)), "kept on the last day");
        assert!(is_past_retention(born, 31, d(2026, 11, 24)), "erased the day after");
    }

    #[test]
    fn a_leap_day_birthday_ends_on_28_february_in_a_common_year() {
        let born = d(2000, 2, 29);
        assert_eq!(retention_ends(born, 31), d(2031, 2, 28));
        assert!(!is_past_retention(born, 31, d(2031, 2, 28)));
        assert!(is_past_retention(born, 31, d(2031, 3, 1)));
        // In a leap year it ends on the day itself.
        assert_eq!(retention_ends(born, 32), d(2032, 2, 29));
        assert!(!is_past_retention(born, 32, d(2032, 2, 29)));
        assert!(is_past_retention(born, 32, d(2032, 3, 1)));
    }

    #[test]
    fn the_database_bound_never_leaves_out_a_pupil_past_retention() {
        for today in [d(2032, 2, 29), d(2031, 3, 1), d(2031, 2, 28), d(2026, 11, 24)] {
            let bound = latest_birth_past(31, today);
            let mut born = d(1999, 1, 1);
            while born < d(2002, 1, 1) {
                if is_past_retention(born, 31, today) {
                    assert!(born <= bound, "{born} past on {today} but after the bound {bound}");
                }
                born = born.succ_opt().unwrap();
            }
        }
    }

    #[test]
    fn an_authority_may_keep_records_longer() {
        let policy = RetentionPolicy::new(31, BTreeMap::from([("990".to_owned(), 45)])).unwrap();
        assert_eq!((policy.years_for("990"), policy.years_for("886")), (45, 31));
        assert_eq!(RetentionPolicy::default().years_for("886"), 31);
        assert!(RetentionPolicy::new(0, BTreeMap::new()).is_err());
        assert!(RetentionPolicy::new(31, BTreeMap::from([("990".to_owned(), 500)])).unwrap_err().contains("990"));
    }
}
