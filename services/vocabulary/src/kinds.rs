//! What a school refers a pupil for: an educational psychologist, an advisory
//! teacher of one specialism, or an EHC needs assessment, and the specialisms of
//! the council's advisory teaching teams that the second names.

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
    /// The forms a code takes, for people: where a kind is asked for.
    pub const FORMS: &'static str = "educational_psychology, advisory_teacher:<specialism> or ehc_needs_assessment";

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
                None => Err(format!("'{code}' is not a kind of referral ({})", Self::FORMS)),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
