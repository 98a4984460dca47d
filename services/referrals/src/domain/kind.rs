//! What a school refers a pupil for, and the facts every referral carries: the
//! service asked for (an educational psychologist, an advisory teacher of one
//! specialism, or a request for an EHC needs assessment), the broad area of need
//! (SEND Code of Practice 6.28), how urgent it is, and the parent's consent.
//!
//! Only the EHC needs assessment request is statutory: it starts the 20-week clock
//! in [`super::clock`]. The other two are the council's traded and core support
//! services, which run to local service levels.

use chrono::{Months, NaiveDate};

pub use sen_vocabulary::{BroadArea, ConsentMethod, Priority, ReferralKind, Specialism};

/// Longest `given_by` accepted, in characters.
pub const CONSENT_GIVEN_BY_MAX_CHARS: usize = 120;

/// Consent older than this many months is stale: circumstances change, so the
/// school asks again before the council acts on it.
pub const CONSENT_VALID_MONTHS: u32 = 12;

/// The parent's (or young person's) consent to the referral.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    /// Who gave it, e.g. "Mother, Sarah Khan"; trimmed.
    pub given_by: String,
    /// The day it was given.
    pub given_on: NaiveDate,
    /// How it was given.
    pub method: ConsentMethod,
}

impl Consent {
    /// Checks consent as recorded on `today`: `given_by` is not blank, at most 120
    /// characters, without control characters; `given_on` is not in the future and
    /// at most 12 months ago (that day itself still counts). On failure, the field
    /// at fault (`given_by` or `given_on`) and what is wrong with it.
    pub fn new(
        given_by: &str,
        given_on: NaiveDate,
        method: ConsentMethod,
        today: NaiveDate,
    ) -> Result<Consent, (&'static str, String)> {
        let given_by = check_given_by(given_by).map_err(|message| ("given_by", message))?;
        check_given_on(given_on, today).map_err(|message| ("given_on", message))?;
        Ok(Consent { given_by, given_on, method })
    }
}

/// `given_by` trimmed, or what is wrong with it.
fn check_given_by(s: &str) -> Result<String, String> {
    let s = s.trim();
    match s.chars().count() {
        0 => Err("is required: who gave consent, e.g. \"Mother, Sarah Khan\"".into()),
        n if n > CONSENT_GIVEN_BY_MAX_CHARS => Err(format!("is {n} characters; at most {CONSENT_GIVEN_BY_MAX_CHARS}")),
        _ if s.chars().any(char::is_control) => Err("contains control characters".into()),
        _ => Ok(s.to_owned()),
    }
}

/// Consent given today or in the 12 months before it.
fn check_given_on(given_on: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if given_on > today {
        return Err(format!("{given_on} is in the future"));
    }
    let oldest = today.checked_sub_months(Months::new(CONSENT_VALID_MONTHS)).unwrap_or(NaiveDate::MIN);
    if given_on < oldest {
        return Err(format!(
            "{given_on} is more than {CONSENT_VALID_MONTHS} months ago; ask the parent to confirm consent"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn priorities_and_consent_methods_round_trip() {
        for priority in Priority::ALL {
            assert_eq!(Priority::parse(priority.code()), Ok(priority));
        }
        for method in ConsentMethod::ALL {
            assert_eq!(ConsentMethod::parse(method.code()), Ok(method));
        }
        assert!(Priority::parse("high").is_err());
        assert!(ConsentMethod::parse("text").is_err());
    }

    #[test]
    fn consent_names_who_gave_it() {
        let today = d(2026, 11, 24);
        let consent = Consent::new("  Mother, Sarah Khan ", d(2026, 11, 20), ConsentMethod::SignedForm, today);
        assert_eq!(
            consent,
            Ok(Consent {
                given_by: "Mother, Sarah Khan".into(),
                given_on: d(2026, 11, 20),
                method: ConsentMethod::SignedForm
            })
        );
        assert_eq!(Consent::new("   ", today, ConsentMethod::Email, today).unwrap_err().0, "given_by");
        assert_eq!(Consent::new("Father\u{7}", today, ConsentMethod::Email, today).unwrap_err().0, "given_by");
        let long = "x".repeat(CONSENT_GIVEN_BY_MAX_CHARS + 1);
        assert_eq!(
            Consent::new(&long, today, ConsentMethod::Email, today).unwrap_err(),
            ("given_by", "is 121 characters; at most 120".to_owned())
        );
        assert!(Consent::new(&"é".repeat(120), today, ConsentMethod::Email, today).is_ok(), "characters, not bytes");
    }

    #[test]
    fn consent_cannot_be_future_dated() {
        let today = d(2026, 11, 24);
        assert!(Consent::new("Carer", today, ConsentMethod::Verbal, today).is_ok(), "today is fine");
        let (field, message) = Consent::new("Carer", d(2026, 11, 25), ConsentMethod::Verbal, today).unwrap_err();
        assert_eq!(field, "given_on");
        assert_eq!(message, "2026-11-25 is in the future");
    }

    #[test]
    fn consent_older_than_12_months_is_stale() {
        let today = d(2026, 11, 24);
        assert!(Consent::new("Carer", d(2025, 11, 24), ConsentMethod::Letter, today).is_ok(), "exactly 12 months");
        let (field, message) = Consent::new("Carer", d(2025, 11, 23), ConsentMethod::Letter, today).unwrap_err();
        assert_eq!(field, "given_on");
        assert!(message.contains("more than 12 months ago"), "{message}");
        // From 28 February back to 28 February of the leap year; 27 February is stale.
        assert!(Consent::new("Carer", d(2024, 2, 28), ConsentMethod::Letter, d(2025, 2, 28)).is_ok());
        assert!(Consent::new("Carer", d(2024, 2, 27), ConsentMethod::Letter, d(2025, 2, 28)).is_err());
    }

    #[test]
    fn a_blank_name_is_reported_before_a_bad_date() {
        let today = d(2026, 11, 24);
        assert_eq!(Consent::new("", d(2030, 1, 1), ConsentMethod::Email, today).unwrap_err().0, "given_by");
    }
}
