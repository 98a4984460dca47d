//! SENCO appointments and the qualification rule.
//!
//! The SEN and Disability Regulations 2014, reg. 50: a newly appointed SENCO who
//! has not previously been a SENCO for more than twelve months in total must
//! achieve the qualification (the NASENCO award, or since September 2024 the NPQ
//! for SENCOs) within three years of appointment.

use chrono::{Months, NaiveDate};

/// Years from appointment within which the award must be achieved (reg. 50).
pub const AWARD_PERIOD_YEARS: u32 = 3;

/// The SENCO's qualification status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SencoAward {
    /// Not started.
    None,
    /// Studying for it.
    InProgress,
    /// National Award for SEN Co-ordination (before September 2024).
    Nasenco,
    /// National Professional Qualification for SENCOs.
    NpqSenco,
}

impl SencoAward {
    /// True once the qualification is held.
    pub fn is_achieved(self) -> bool {
        matches!(self, Self::Nasenco | Self::NpqSenco)
    }

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::InProgress => "in_progress",
            Self::Nasenco => "nasenco",
            Self::NpqSenco => "npq_senco",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Result<Self, String> {
        [Self::None, Self::InProgress, Self::Nasenco, Self::NpqSenco]
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("'{s}' is not a SENCO award status"))
    }
}

/// The date the award is due by, if one is outstanding: appointment + 3 years,
/// none when exempt by prior experience or already achieved.
pub fn award_deadline(
    appointed_on: NaiveDate,
    prior_experience_over_12_months: bool,
    award: SencoAward,
) -> Option<NaiveDate> {
    if prior_experience_over_12_months || award.is_achieved() {
        return None;
    }
    // 29 February + 3 years is 28 February: chrono clamps to the month's end.
    appointed_on.checked_add_months(Months::new(12 * AWARD_PERIOD_YEARS))
}

/// Past the deadline on `today` without the award.
pub fn is_award_overdue(deadline: Option<NaiveDate>, today: NaiveDate) -> bool {
    deadline.is_some_and(|d| today > d)
}

/// Not yet overdue, and due within `days` of `today`.
pub fn is_award_due_within(deadline: Option<NaiveDate>, today: NaiveDate, days: u32) -> bool {
    deadline.is_some_and(|d| d >= today && (d - today).num_days() <= i64::from(days))
}

/// Whole days from `today` to the deadline; negative once overdue.
pub fn days_to_deadline(deadline: NaiveDate, today: NaiveDate) -> i64 {
    (deadline - today).num_days()
}

/// A person's name as they give it: not blank, at most 120 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Trims and checks a name.
    pub fn parse(s: &str) -> Result<Self, String> {
        super::clean_text(s, 120).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A work email address, lower-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Checks the shape `local@domain.tld`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().to_lowercase();
        let bad = || format!("'{s}' is not an email address");
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        let ok = !local.is_empty()
            && s.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && !domain.contains('@');
        if ok { Ok(Self(s)) } else { Err(bad()) }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a council records about a SENCO, validated together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SencoDetails {
    /// Name.
    pub person_name: PersonName,
    /// Work email.
    pub email: Email,
    /// Holds qualified teacher status (required of a SENCO).
    pub qualified_teacher: bool,
    /// Award status.
    pub award: SencoAward,
    /// When the award was achieved (only and always when achieved).
    pub award_achieved_on: Option<NaiveDate>,
}

impl SencoDetails {
    /// The award and its date must agree, and the date cannot be in the future.
    pub fn check_award(award: SencoAward, achieved_on: Option<NaiveDate>, today: NaiveDate) -> Result<(), String> {
        match (award.is_achieved(), achieved_on) {
            (true, None) => Err("is required when the award has been achieved".into()),
            (false, Some(_)) => Err("must be empty until the award is achieved".into()),
            (true, Some(d)) if d > today => Err(format!("{d} is in the future")),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_new_senco_has_three_years_from_appointment() {
        let deadline = award_deadline(d(2024, 9, 1), false, SencoAward::InProgress);
        assert_eq!(deadline, Some(d(2027, 9, 1)));
        assert!(!is_award_overdue(deadline, d(2027, 9, 1)), "the last day is still in time");
        assert!(is_award_overdue(deadline, d(2027, 9, 2)));
        assert_eq!(days_to_deadline(d(2027, 9, 1), d(2027, 8, 2)), 30);
    }

    #[test]
    fn an_appointment_on_29_february_falls_due_on_28_february() {
        assert_eq!(award_deadline(d(2024, 2, 29), false, SencoAward::None), Some(d(2027, 2, 28)));
    }

    #[test]
    fn more_than_a_year_as_senco_before_exempts_from_the_deadline() {
        assert_eq!(award_deadline(d(2024, 9, 1), true, SencoAward::None), None);
        assert!(!is_award_overdue(None, d(2030, 1, 1)));
    }

    #[test]
    fn an_achieved_award_leaves_nothing_due() {
        assert_eq!(award_deadline(d(2020, 1, 6), false, SencoAward::Nasenco), None);
        assert_eq!(award_deadline(d(2025, 1, 6), false, SencoAward::NpqSenco), None);
    }

    #[test]
    fn due_within_counts_whole_days_and_excludes_the_overdue() {
        let deadline = Some(d(2027, 9, 1));
        assert!(is_award_due_within(deadline, d(2027, 6, 3), 90));
        assert!(!is_award_due_within(deadline, d(2027, 6, 2), 90), "91 days away");
        assert!(!is_award_due_within(deadline, d(2027, 9, 2), 90), "overdue is not due soon");
    }

    #[test]
    fn award_and_achieved_date_must_agree() {
        let today = d(2026, 11, 24);
        assert!(SencoDetails::check_award(SencoAward::NpqSenco, None, today).is_err());
        assert!(SencoDetails::check_award(SencoAward::InProgress, Some(d(2026, 1, 1)), today).is_err());
        assert!(SencoDetails::check_award(SencoAward::NpqSenco, Some(d(2026, 12, 1)), today).is_err());
        assert!(SencoDetails::check_award(SencoAward::NpqSenco, Some(d(2026, 7, 1)), today).is_ok());
    }

    #[test]
    fn emails_and_names_are_checked() {
        assert_eq!(Email::parse(" SENCO@School.Sch.UK ").unwrap().as_str(), "senco@school.sch.uk");
        for bad in ["", "no-at", "@x.uk", "a@b", "a@.uk", "a@b..uk", "a b@c.uk", "a@b@c.uk"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(PersonName::parse("").is_err());
        assert_eq!(PersonName::parse(" Ms A. Okafor ").unwrap().as_str(), "Ms A. Okafor");
    }
}
