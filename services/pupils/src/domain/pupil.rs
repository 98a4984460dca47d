//! A pupil's record as the register keeps it: identity, school, year group and SEN
//! status, each validated, plus the SEN-support and provision entries.

use chrono::{Datelike, NaiveDate};
use sen_platform::ids::Urn;

use super::{NcYear, NeedCode, NeedType, SenStatus, Upn, academic_year_start, check_needs, nc_year_for, parse_need};

/// Free text and names as people type them (the platform's one rule for text).
pub use sen_platform::fields::{
    clean_line, clean_optional_line as optional_line, clean_optional_text as optional_text, clean_text,
};

/// The year a pupil was born in for year-group purposes: births from 1 September
/// count with the next calendar year, so every child of one school year shares
/// one cohort. The national curriculum year in academic year `a` is then
/// `a − cohort − 4` (Reception = 0).
pub fn birth_cohort(date_of_birth: NaiveDate) -> i32 {
    academic_year_start(date_of_birth) + 1
}

/// The year group of a cohort in the academic year starting in `academic_year`.
pub fn nc_year_of_cohort(cohort: i32, academic_year: i32) -> Option<NcYear> {
    i8::try_from(academic_year - cohort - 4).ok().and_then(NcYear::from_ordinal)
}

/// The cohort that is in `year` during `academic_year`; none for X.
pub fn cohort_in_year(year: NcYear, academic_year: i32) -> Option<i32> {
    year.ordinal().map(|ordinal| academic_year - 4 - i32::from(ordinal))
}

/// A date of birth for a pupil on a school register: in the past, age 0 to 25.
pub fn check_date_of_birth(dob: NaiveDate, today: NaiveDate) -> Result<NaiveDate, String> {
    if dob > today {
        return Err(format!("{dob} is in the future"));
    }
    if today.year() - dob.year() > 25 {
        return Err(format!("{dob} makes the pupil older than 25"));
    }
    Ok(dob)
}

/// Who the pupil is and where they are on roll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PupilDetails {
    /// Unique Pupil Number.
    pub upn: Upn,
    /// Legal forename.
    pub legal_forename: String,
    /// Legal surname.
    pub legal_surname: String,
    /// Preferred forename, if different.
    pub preferred_forename: Option<String>,
    /// Preferred surname, if different.
    pub preferred_surname: Option<String>,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// The school they are on roll at.
    pub school_urn: Urn,
    /// A year group set by hand (taught out of cohort).
    pub nc_year_override: Option<NcYear>,
    /// Looked-after child.
    pub looked_after: bool,
}

impl PupilDetails {
    /// The year group in the academic year containing `today`: the override, or
    /// the one the date of birth gives.
    pub fn nc_year(&self, today: NaiveDate) -> Option<NcYear> {
        self.nc_year_override.or_else(|| nc_year_for(self.date_of_birth, academic_year_start(today)))
    }

    /// The name to show: preferred where given, else legal.
    pub fn display_name(&self) -> String {
        format!(
            "{} {}",
            self.preferred_forename.as_deref().unwrap_or(&self.legal_forename),
            self.preferred_surname.as_deref().unwrap_or(&self.legal_surname)
        )
    }
}

/// SEN status and needs, consistent with each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenRecord {
    /// N, K or E.
    pub status: SenStatus,
    /// Primary need (K and E).
    pub primary: Option<NeedCode>,
    /// Secondary need.
    pub secondary: Option<NeedCode>,
}

impl SenRecord {
    /// Checks the census rules; on failure the field at fault and why.
    pub fn new(
        status: SenStatus,
        primary: Option<&NeedType>,
        secondary: Option<&NeedType>,
    ) -> Result<Self, (&'static str, String)> {
        check_needs(status, primary, secondary)?;
        Ok(Self { status, primary: primary.map(|n| n.code), secondary: secondary.map(|n| n.code) })
    }

    /// The record with its codes looked up in the authority's list, checked
    /// again for `status` (a code no longer in the list is refused).
    pub fn with_status(&self, status: SenStatus, codes: &[NeedType]) -> Result<Self, (&'static str, String)> {
        let find = |field: &'static str, code: Option<NeedCode>| {
            code.map(|c| parse_need(c.as_str(), codes).map_err(|e| (field, e))).transpose()
        };
        let primary = find("primary_need", self.primary)?;
        let secondary = find("secondary_need", self.secondary)?;
        Self::new(status, primary, secondary)
    }
}

/// A pupil as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pupil {
    /// Pupil id.
    pub id: i64,
    /// Details.
    pub details: PupilDetails,
    /// SEN status and needs.
    pub sen: SenRecord,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// How an assess-plan-do-review cycle's outcomes were met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SupportOutcome {
    /// All outcomes met.
    Met,
    /// Some met.
    PartlyMet,
    /// None met.
    NotMet,
}

impl SupportOutcome {
    /// Stored name.
    pub fn code(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::PartlyMet => "partly_met",
            Self::NotMet => "not_met",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Result<Self, String> {
        [Self::Met, Self::PartlyMet, Self::NotMet]
            .into_iter()
            .find(|o| o.code() == s)
            .ok_or_else(|| format!("'{s}' is not a support outcome"))
    }
}

/// Hours a week of provision, held as whole minutes: more than none, at most 40 hours.
pub fn minutes_per_week(hours: f64) -> Result<i32, String> {
    if !hours.is_finite() || hours <= 0.0 {
        return Err("must be more than 0 hours".into());
    }
    if hours > 40.0 {
        return Err(format!("{hours} hours is more than a school week (40)"));
    }
    Ok((hours * 60.0).round() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_cohort_gives_the_same_year_group_as_the_date_of_birth() {
        // Born 31 August 2015: 11 on the cut-off, Year 7 in 2026/27; born a day later: Year 6.
        assert_eq!(nc_year_of_cohort(birth_cohort(d(2015, 8, 31)), 2026), Some(NcYear::Year(7)));
        assert_eq!(nc_year_of_cohort(birth_cohort(d(2015, 9, 1)), 2026), Some(NcYear::Year(6)));
        assert_eq!(cohort_in_year(NcYear::Year(6), 2026), Some(birth_cohort(d(2016, 8, 31))));
        assert_eq!(cohort_in_year(NcYear::NotFollowing, 2026), None);
    }

    #[test]
    fn dates_of_birth_must_be_past_and_of_school_age() {
        let today = d(2026, 11, 24);
        assert!(check_date_of_birth(d(2027, 1, 1), today).is_err());
        assert!(check_date_of_birth(d(1990, 1, 1), today).is_err());
        assert!(check_date_of_birth(d(2015, 3, 2), today).is_ok());
    }

    #[test]
    fn provision_hours_become_whole_minutes() {
        assert_eq!(minutes_per_week(1.5), Ok(90));
        assert_eq!(minutes_per_week(0.25), Ok(15));
        assert!(minutes_per_week(0.0).is_err());
        assert!(minutes_per_week(-1.0).is_err());
        assert!(minutes_per_week(f64::NAN).is_err());
        assert!(minutes_per_week(41.0).is_err());
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(clean_text("  Amir  ", 10), Ok("Amir".into()));
        assert!(clean_text(" ", 10).is_err());
        assert!(clean_text("abcdefghijk", 10).is_err());
        assert_eq!(optional_text("  ", 10), Ok(None));
    }

    proptest! {
        #[test]
        fn cohort_and_date_of_birth_always_agree(days in 0i64..12_000, academic_year in 2000i32..2040) {
            let dob = d(1995, 1, 1) + chrono::Duration::days(days);
            prop_assert_eq!(nc_year_of_cohort(birth_cohort(dob), academic_year), nc_year_for(dob, academic_year));
        }
    }
}
