//! SENCO appointments and the qualification rule.
//!
//! The SEN and Disability Regulations 2014, reg. 49(4): a person who becomes a
//! SENCO after 1 September 2009 and has not previously been a SENCO for more than
//! twelve months in total must hold "the relevant SENCO Qualification" at any time
//! after the third anniversary of becoming SENCO.
//!
//! Reg. 49(7), substituted by the SEN and Disability (Amendment) Regulations 2024
//! (SI 2024/535) from 1 September 2024, says which qualification that is:
//! (a) the National Award for SEN Co-ordination (NASENCO) where the course began
//!     before 1 September 2024 and was completed before 1 September 2027;
//! (b) the National Professional Qualification for SENCOs where the course began
//!     on or after 1 September 2024.
//!
//! The council does not record when a course began. NASENCO enrolment closed with
//! the 2023/24 academic year (DfE, "Mandatory qualification for SENCOs", the
//! transition guidance), so a SENCO appointed on or after 1 September 2024 is
//! held to the NPQ for SENCOs: a NASENCO counts for them only when they already
//! held it before that date (DfE: SENCOs who already hold the NASENCO need not
//! take the NPQ). For a SENCO appointed before 1 September 2024 a NASENCO counts
//! when completed before 1 September 2027.

use chrono::{Months, NaiveDate};

/// Years from appointment within which the award must be achieved (reg. 49(4)).
pub const AWARD_PERIOD_YEARS: u32 = 3;

/// The day the NPQ for SENCOs became the mandatory qualification (reg. 49(7), SI 2024/535).
pub const NPQ_REQUIRED_FROM: NaiveDate = match NaiveDate::from_ymd_opt(2024, 9, 1) {
    Some(d) => d,
    None => panic!("1 September 2024 is a date"),
};

/// A NASENCO completed on or after this day does not count (reg. 49(7)(a)).
pub const NASENCO_COMPLETED_BEFORE: NaiveDate = match NaiveDate::from_ymd_opt(2027, 9, 1) {
    Some(d) => d,
    None => panic!("1 September 2027 is a date"),
};

/// The SENCO's qualification status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SencoAward {
    /// Not started.
    None,
    /// Studying for it.
    InProgress,
    /// National Award for SEN Co-ordination (courses begun before September 2024).
    Nasenco,
    /// National Professional Qualification for SENCOs.
    NpqSenco,
}

impl SencoAward {
    /// True once a qualification is held (whether it counts is [`holds_relevant_qualification`]).
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

/// Which qualification a SENCO appointed on `appointed_on` must gain (reg. 49(7)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequiredQualification {
    /// Appointed before 1 September 2024: a NASENCO completed before 1 September
    /// 2027, or the NPQ for SENCOs.
    NasencoOrNpq,
    /// Appointed on or after 1 September 2024: the NPQ for SENCOs.
    NpqSenco,
}

impl RequiredQualification {
    /// The qualification for an appointment beginning on `appointed_on`.
    pub fn for_appointment(appointed_on: NaiveDate) -> Self {
        if appointed_on < NPQ_REQUIRED_FROM { Self::NasencoOrNpq } else { Self::NpqSenco }
    }

    /// How a council officer reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::NasencoOrNpq => "NASENCO or NPQ for SENCOs",
            Self::NpqSenco => "NPQ for SENCOs",
        }
    }
}

/// Whether the recorded award satisfies reg. 49(4) for a SENCO appointed on
/// `appointed_on` (reg. 49(7); see the module notes for NASENCO).
pub fn holds_relevant_qualification(
    appointed_on: NaiveDate,
    award: SencoAward,
    achieved_on: Option<NaiveDate>,
) -> bool {
    match (award, achieved_on) {
        (SencoAward::NpqSenco, Some(_)) => true,
        (SencoAward::Nasenco, Some(on)) => {
            on < NASENCO_COMPLETED_BEFORE
                && match RequiredQualification::for_appointment(appointed_on) {
                    RequiredQualification::NasencoOrNpq => true,
                    RequiredQualification::NpqSenco => on < NPQ_REQUIRED_FROM,
                }
        }
        _ => false,
    }
}

/// How a SENCO stands against the qualification rule, whatever the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QualificationStanding {
    /// Holds the relevant qualification.
    Qualified,
    /// More than 12 months as a SENCO before this appointment: reg. 49(4) does not apply.
    Exempt,
    /// Must gain this qualification by the award deadline.
    WorkingTowards(RequiredQualification),
}

impl QualificationStanding {
    /// The standing of an appointment.
    pub fn of(
        appointed_on: NaiveDate,
        prior_experience_over_12_months: bool,
        award: SencoAward,
        achieved_on: Option<NaiveDate>,
    ) -> Self {
        if prior_experience_over_12_months {
            Self::Exempt
        } else if holds_relevant_qualification(appointed_on, award, achieved_on) {
            Self::Qualified
        } else {
            Self::WorkingTowards(RequiredQualification::for_appointment(appointed_on))
        }
    }
}

/// The date the relevant qualification is due by, if one is outstanding:
/// appointment + 3 years (reg. 49(4)); none when exempt by prior experience or
/// when the qualification held counts.
pub fn award_deadline(
    appointed_on: NaiveDate,
    prior_experience_over_12_months: bool,
    award: SencoAward,
    achieved_on: Option<NaiveDate>,
) -> Option<NaiveDate> {
    match QualificationStanding::of(appointed_on, prior_experience_over_12_months, award, achieved_on) {
        QualificationStanding::Qualified | QualificationStanding::Exempt => None,
        // 29 February + 3 years is 28 February: chrono clamps to the month's end.
        QualificationStanding::WorkingTowards(_) => {
            appointed_on.checked_add_months(Months::new(12 * AWARD_PERIOD_YEARS))
        }
    }
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
        let deadline = award_deadline(d(2024, 9, 1), false, SencoAward::InProgress, None);
        assert_eq!(deadline, Some(d(2027, 9, 1)));
        assert!(!is_award_overdue(deadline, d(2027, 9, 1)), "the last day is still in time");
        assert!(is_award_overdue(deadline, d(2027, 9, 2)));
        assert_eq!(days_to_deadline(d(2027, 9, 1), d(2027, 8, 2)), 30);
    }

    #[test]
    fn an_appointment_on_29_february_falls_due_on_28_february() {
        assert_eq!(award_deadline(d(2024, 2, 29), false, SencoAward::None, None), Some(d(2027, 2, 28)));
    }

    #[test]
    fn more_than_a_year_as_senco_before_exempts_from_the_deadline() {
        assert_eq!(award_deadline(d(2024, 9, 1), true, SencoAward::None, None), None);
        assert!(!is_award_overdue(None, d(2030, 1, 1)));
    }

    #[test]
    fn an_achieved_award_leaves_nothing_due() {
        assert_eq!(award_deadline(d(2020, 1, 6), false, SencoAward::Nasenco, Some(d(2022, 7, 1))), None);
        assert_eq!(award_deadline(d(2025, 1, 6), false, SencoAward::NpqSenco, Some(d(2026, 7, 1))), None);
    }

    #[test]
    fn a_nasenco_counts_for_a_senco_appointed_on_31_august_2024_but_not_1_september() {
        let achieved = Some(d(2025, 7, 1));
        assert!(holds_relevant_qualification(d(2024, 8, 31), SencoAward::Nasenco, achieved));
        assert_eq!(award_deadline(d(2024, 8, 31), false, SencoAward::Nasenco, achieved), None);
        assert!(!holds_relevant_qualification(d(2024, 9, 1), SencoAward::Nasenco, achieved));
        assert_eq!(award_deadline(d(2024, 9, 1), false, SencoAward::Nasenco, achieved), Some(d(2027, 9, 1)));
        assert_eq!(
            QualificationStanding::of(d(2024, 9, 1), false, SencoAward::Nasenco, achieved),
            QualificationStanding::WorkingTowards(RequiredQualification::NpqSenco)
        );
        assert_eq!(
            QualificationStanding::of(d(2024, 8, 31), false, SencoAward::InProgress, None),
            QualificationStanding::WorkingTowards(RequiredQualification::NasencoOrNpq)
        );
    }

    #[test]
    fn the_npq_for_sencos_counts_whenever_the_senco_was_appointed() {
        for appointed in [d(2020, 1, 6), d(2024, 8, 31), d(2024, 9, 1), d(2026, 1, 5)] {
            assert!(holds_relevant_qualification(appointed, SencoAward::NpqSenco, Some(d(2026, 7, 1))));
        }
    }

    #[test]
    fn a_nasenco_held_before_september_2024_still_counts_in_a_later_appointment() {
        assert!(holds_relevant_qualification(d(2025, 1, 6), SencoAward::Nasenco, Some(d(2024, 8, 31))));
        assert!(!holds_relevant_qualification(d(2025, 1, 6), SencoAward::Nasenco, Some(d(2024, 9, 1))));
    }

    #[test]
    fn a_nasenco_completed_from_1_september_2027_does_not_count() {
        assert!(holds_relevant_qualification(d(2024, 3, 4), SencoAward::Nasenco, Some(d(2027, 8, 31))));
        assert!(!holds_relevant_qualification(d(2024, 3, 4), SencoAward::Nasenco, Some(d(2027, 9, 1))));
    }

    #[test]
    fn a_senco_holding_only_a_nasenco_after_the_change_is_overdue_the_day_after_three_years() {
        let deadline = award_deadline(d(2024, 9, 1), false, SencoAward::Nasenco, Some(d(2025, 7, 1)));
        assert!(!is_award_overdue(deadline, d(2027, 8, 31)));
        assert!(!is_award_overdue(deadline, d(2027, 9, 1)), "the third anniversary is still in time");
        assert!(is_award_overdue(deadline, d(2027, 9, 2)));
    }

    #[test]
    fn a_29_february_appointment_after_the_change_is_due_on_28_february() {
        let deadline = award_deadline(d(2028, 2, 29), false, SencoAward::Nasenco, Some(d(2023, 7, 1)));
        assert_eq!(deadline, None, "a NASENCO achieved before the change counts");
        let deadline = award_deadline(d(2028, 2, 29), false, SencoAward::InProgress, None);
        assert_eq!(deadline, Some(d(2031, 2, 28)));
        assert!(!is_award_overdue(deadline, d(2031, 2, 28)));
        assert!(is_award_overdue(deadline, d(2031, 3, 1)));
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
