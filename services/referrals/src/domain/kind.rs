//! What a school refers a pupil for, and the facts every referral carries: the
//! service asked for (an educational psychologist, an advisory teacher of one
//! specialism, or a request for an EHC needs assessment), the broad area of need
//! (SEND Code of Practice 6.28), how urgent it is, and the parent's consent.
//!
//! Only the EHC needs assessment request is statutory: it starts the 20-week clock
//! in [`super::clock`]. The other two are the council's traded and core support
//! services, which run to local service levels.

use chrono::{Months, NaiveDate};

/// The specialism of an advisory teaching team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Specialism {
    /// Cognition and learning: literacy, numeracy, specific learning difficulties.
    CognitionAndLearning,
    /// Communication and interaction, including autism.
    CommunicationAndInteraction,
    /// Hearing impairment (teachers of the deaf).
    SensoryHearing,
    /// Vision impairment (qualified teachers of the visually impaired).
    SensoryVision,
    /// Physical disability and medical needs.
    PhysicalAndMedical,
}

impl Specialism {
    /// Every specialism.
    pub const ALL: [Specialism; 5] = [
        Self::CognitionAndLearning,
        Self::CommunicationAndInteraction,
        Self::SensoryHearing,
        Self::SensoryVision,
        Self::PhysicalAndMedical,
    ];

    /// Stable snake_case code, for storage and the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::CognitionAndLearning => "cognition_and_learning",
            Self::CommunicationAndInteraction => "communication_and_interaction",
            Self::SensoryHearing => "sensory_hearing",
            Self::SensoryVision => "sensory_vision",
            Self::PhysicalAndMedical => "physical_and_medical",
        }
    }

    /// The team's name, for people.
    pub fn name(self) -> &'static str {
        match self {
            Self::CognitionAndLearning => "cognition and learning",
            Self::CommunicationAndInteraction => "communication and interaction / autism",
            Self::SensoryHearing => "sensory — hearing",
            Self::SensoryVision => "sensory — vision",
            Self::PhysicalAndMedical => "physical and medical",
        }
    }

    /// From the stable code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|specialism| specialism.code() == code)
            .ok_or_else(|| format!("'{code}' is not an advisory teaching specialism"))
    }
}

/// The service a referral asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReferralKind {
    /// Involvement of the educational psychology service.
    EducationalPsychology,
    /// Involvement of an advisory teacher of the given specialism.
    AdvisoryTeacher(Specialism),
    /// A request for an EHC needs assessment (Children and Families Act 2014, s. 36(1)).
    EhcNeedsAssessment,
}

/// Code prefix of an advisory teacher referral; the specialism's code follows it.
const ADVISORY_TEACHER_PREFIX: &str = "advisory_teacher:";

impl ReferralKind {
    /// Stable code: `educational_psychology`, `advisory_teacher:<specialism>` or `ehc_needs_assessment`.
    pub fn code(self) -> String {
        match self {
            Self::EducationalPsychology => "educational_psychology".into(),
            Self::AdvisoryTeacher(specialism) => format!("{ADVISORY_TEACHER_PREFIX}{}", specialism.code()),
            Self::EhcNeedsAssessment => "ehc_needs_assessment".into(),
        }
    }

    /// From the stable code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        match code {
            "educational_psychology" => Ok(Self::EducationalPsychology),
            "ehc_needs_assessment" => Ok(Self::EhcNeedsAssessment),
            _ => match code.strip_prefix(ADVISORY_TEACHER_PREFIX) {
                Some(specialism) => Specialism::parse(specialism).map(Self::AdvisoryTeacher),
                None => Err(format!(
                    "'{code}' is not a kind of referral (educational_psychology, \
                     advisory_teacher:<specialism> or ehc_needs_assessment)"
                )),
            },
        }
    }

    /// For people, e.g. "advisory teacher (sensory — hearing)".
    pub fn name(self) -> String {
        match self {
            Self::EducationalPsychology => "educational psychology".into(),
            Self::AdvisoryTeacher(specialism) => format!("advisory teacher ({})", specialism.name()),
            Self::EhcNeedsAssessment => "EHC needs assessment request".into(),
        }
    }

    /// True when the law sets the timescale: only the EHC needs assessment request
    /// (SEN and Disability Regulations 2014, regs. 5, 10 and 13).
    pub fn is_statutory(self) -> bool {
        self == Self::EhcNeedsAssessment
    }
}

/// The four broad areas of need (SEND Code of Practice 6.28).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BroadArea {
    /// Communication and interaction (speech, language and communication; autism).
    CommunicationAndInteraction,
    /// Cognition and learning (specific, moderate, severe, profound and multiple).
    CognitionAndLearning,
    /// Social, emotional and mental health.
    SocialEmotionalMentalHealth,
    /// Sensory and/or physical (hearing, vision, multi-sensory, physical).
    SensoryPhysical,
}

impl BroadArea {
    /// Every area, in the Code of Practice's order.
    pub const ALL: [BroadArea; 4] = [
        Self::CommunicationAndInteraction,
        Self::CognitionAndLearning,
        Self::SocialEmotionalMentalHealth,
        Self::SensoryPhysical,
    ];

    /// Stable snake_case code, the same as the pupils service's.
    pub fn code(self) -> &'static str {
        match self {
            Self::CommunicationAndInteraction => "communication_and_interaction",
            Self::CognitionAndLearning => "cognition_and_learning",
            Self::SocialEmotionalMentalHealth => "social_emotional_mental_health",
            Self::SensoryPhysical => "sensory_physical",
        }
    }

    /// The Code of Practice's name for the area.
    pub fn name(self) -> &'static str {
        match self {
            Self::CommunicationAndInteraction => "communication and interaction",
            Self::CognitionAndLearning => "cognition and learning",
            Self::SocialEmotionalMentalHealth => "social, emotional and mental health",
            Self::SensoryPhysical => "sensory and/or physical",
        }
    }

    /// From the stable code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|area| area.code() == code)
            .ok_or_else(|| format!("'{code}' is not a broad area of need"))
    }
}

/// How soon the school needs the service to act.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Priority {
    /// In the service's usual order.
    Routine,
    /// Ahead of routine work, e.g. a pupil at risk of exclusion.
    Urgent,
}

impl Priority {
    /// Both priorities.
    pub const ALL: [Priority; 2] = [Self::Routine, Self::Urgent];

    /// `routine` or `urgent`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Routine => "routine",
            Self::Urgent => "urgent",
        }
    }

    /// From the code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|priority| priority.code() == code)
            .ok_or_else(|| format!("'{code}' is not a priority (routine or urgent)"))
    }
}

/// How the parent (or the young person) gave consent to the referral.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConsentMethod {
    /// The council's consent form, signed.
    SignedForm,
    /// An email from the parent.
    Email,
    /// Said to a member of staff, who recorded it.
    Verbal,
    /// A letter from the parent.
    Letter,
}

impl ConsentMethod {
    /// Every method.
    pub const ALL: [ConsentMethod; 4] = [Self::SignedForm, Self::Email, Self::Verbal, Self::Letter];

    /// `signed_form`, `email`, `verbal` or `letter`.
    pub fn code(self) -> &'static str {
        match self {
            Self::SignedForm => "signed_form",
            Self::Email => "email",
            Self::Verbal => "verbal",
            Self::Letter => "letter",
        }
    }

    /// From the code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|method| method.code() == code)
            .ok_or_else(|| format!("'{code}' is not a way of giving consent (signed_form, email, verbal or letter)"))
    }
}

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
    fn specialism_codes_round_trip() {
        for specialism in Specialism::ALL {
            assert_eq!(Specialism::parse(specialism.code()), Ok(specialism));
        }
        assert_eq!(Specialism::CommunicationAndInteraction.name(), "communication and interaction / autism");
        assert_eq!(Specialism::SensoryHearing.name(), "sensory — hearing");
        assert!(Specialism::parse("semh").is_err());
    }

    #[test]
    fn referral_kind_codes_round_trip_with_every_specialism() {
        let mut kinds = vec![ReferralKind::EducationalPsychology, ReferralKind::EhcNeedsAssessment];
        kinds.extend(Specialism::ALL.map(ReferralKind::AdvisoryTeacher));
        for kind in kinds {
            assert_eq!(ReferralKind::parse(&kind.code()), Ok(kind), "{}", kind.code());
        }
        assert_eq!(ReferralKind::AdvisoryTeacher(Specialism::SensoryVision).code(), "advisory_teacher:sensory_vision");
        assert_eq!(ReferralKind::parse(" educational_psychology "), Ok(ReferralKind::EducationalPsychology));
    }

    #[test]
    fn unknown_referral_kinds_are_refused() {
        assert!(ReferralKind::parse("advisory_teacher").unwrap_err().contains("not a kind of referral"));
        assert!(ReferralKind::parse("advisory_teacher:").unwrap_err().contains("specialism"));
        assert!(ReferralKind::parse("advisory_teacher:music").unwrap_err().contains("specialism"));
        assert!(ReferralKind::parse("speech_therapy").is_err());
        assert!(ReferralKind::parse("").is_err());
    }

    #[test]
    fn only_the_ehc_needs_assessment_request_is_statutory() {
        assert!(ReferralKind::EhcNeedsAssessment.is_statutory());
        assert!(!ReferralKind::EducationalPsychology.is_statutory());
        for specialism in Specialism::ALL {
            assert!(!ReferralKind::AdvisoryTeacher(specialism).is_statutory());
        }
    }

    #[test]
    fn referral_kinds_have_names_for_people() {
        assert_eq!(ReferralKind::EducationalPsychology.name(), "educational psychology");
        assert_eq!(
            ReferralKind::AdvisoryTeacher(Specialism::SensoryHearing).name(),
            "advisory teacher (sensory — hearing)"
        );
        assert_eq!(ReferralKind::EhcNeedsAssessment.name(), "EHC needs assessment request");
    }

    #[test]
    fn broad_areas_priorities_and_consent_methods_round_trip() {
        for area in BroadArea::ALL {
            assert_eq!(BroadArea::parse(area.code()), Ok(area));
        }
        assert_eq!(BroadArea::SocialEmotionalMentalHealth.code(), "social_emotional_mental_health");
        for priority in Priority::ALL {
            assert_eq!(Priority::parse(priority.code()), Ok(priority));
        }
        for method in ConsentMethod::ALL {
            assert_eq!(ConsentMethod::parse(method.code()), Ok(method));
        }
        assert!(BroadArea::parse("behaviour").is_err());
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
