//! School census SEN codes: the SEN provision a pupil has (`N`, `K`, `E`), their
//! primary and secondary type of need, and the four broad areas of need of the
//! SEND Code of Practice (6.28–6.35).
//!
//! The type-of-need list is data ([`NeedType::all`]), not an enum: the DfE adds
//! codes (Down syndrome, `DS`, from 2025), and adding one is a new table row.

use BroadArea::{CognitionAndLearning, CommunicationAndInteraction, SensoryPhysical, SocialEmotionalMentalHealth};
pub use sen_vocabulary::BroadArea;

/// SEN provision as the school census records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SenStatus {
    /// `N`: no special educational need.
    NoSen,
    /// `K`: SEN support, the school's graduated response.
    SenSupport,
    /// `E`: an Education, Health and Care plan maintained by the LA.
    EhcPlan,
}

impl SenStatus {
    /// Every status, in census order.
    pub const ALL: [SenStatus; 3] = [Self::NoSen, Self::SenSupport, Self::EhcPlan];

    /// Census code: `N`, `K` or `E`.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoSen => "N",
            Self::SenSupport => "K",
            Self::EhcPlan => "E",
        }
    }

    /// What the code means, for people.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoSen => "no special educational need",
            Self::SenSupport => "SEN support",
            Self::EhcPlan => "Education, Health and Care plan",
        }
    }

    /// From the census code, any case.
    pub fn from_code(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|status| status.code().eq_ignore_ascii_case(code))
            .ok_or_else(|| format!("'{code}' is not a SEN provision code (N, K or E)"))
    }
}

/// A census type of need, e.g. `ASD`; one row of [`NeedType::all`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NeedType {
    code: &'static str,
    name: &'static str,
    area: Option<BroadArea>,
}

/// The census type-of-need codes. Add new codes here as the DfE introduces them.
const NEED_TYPES: &[NeedType] = &[
    need("SPLD", "specific learning difficulty", Some(CognitionAndLearning)),
    need("MLD", "moderate learning difficulty", Some(CognitionAndLearning)),
    need("SLD", "severe learning difficulty", Some(CognitionAndLearning)),
    need("PMLD", "profound and multiple learning difficulty", Some(CognitionAndLearning)),
    need("SEMH", "social, emotional and mental health", Some(SocialEmotionalMentalHealth)),
    need("SLCN", "speech, language and communication needs", Some(CommunicationAndInteraction)),
    need("ASD", "autistic spectrum disorder", Some(CommunicationAndInteraction)),
    need("HI", "hearing impairment", Some(SensoryPhysical)),
    need("VI", "vision impairment", Some(SensoryPhysical)),
    need("MSI", "multi-sensory impairment", Some(SensoryPhysical)),
    need("PD", "physical disability", Some(SensoryPhysical)),
    need("OTH", "other difficulty or disability", None),
    need(NO_SPECIALIST_ASSESSMENT, "SEN support but no specialist assessment of type of need", None),
    need("DS", "Down syndrome", None),
];

/// `NSA`: a school-level placeholder, valid only with SEN support (`K`).
const NO_SPECIALIST_ASSESSMENT: &str = "NSA";

/// A row of the table.
const fn need(code: &'static str, name: &'static str, area: Option<BroadArea>) -> NeedType {
    NeedType { code, name, area }
}

impl NeedType {
    /// Looks a census code up, any case.
    pub fn parse(code: &str) -> Result<&'static NeedType, String> {
        let code = code.trim();
        NEED_TYPES.iter().find(|need| need.code.eq_ignore_ascii_case(code)).ok_or_else(|| {
            let known: Vec<&str> = NEED_TYPES.iter().map(|need| need.code).collect();
            format!("'{code}' is not a type of need ({})", known.join(", "))
        })
    }

    /// Census code, upper case.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// What the code means.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The broad area of need it belongs to; none for OTH, NSA and DS.
    pub fn area(&self) -> Option<BroadArea> {
        self.area
    }

    /// Every type of need, in census order.
    pub fn all() -> &'static [NeedType] {
        NEED_TYPES
    }

    /// `NSA`, which records that no specialist has assessed the need yet.
    pub fn is_no_specialist_assessment(&self) -> bool {
        self.code == NO_SPECIALIST_ASSESSMENT
    }
}

/// Checks a pupil's needs against their SEN status (school census rules): `N` has
/// no needs; `K` and `E` have a primary need; `NSA` only as the primary need of a
/// `K` pupil; a secondary need differs from the primary one. On failure, the field
/// at fault (`primary_need` or `secondary_need`) and what is wrong with it. A
/// secondary need without a primary one is reported as the missing primary need.
pub fn check_needs(
    status: SenStatus,
    primary: Option<&NeedType>,
    secondary: Option<&NeedType>,
) -> Result<(), (&'static str, String)> {
    const PRIMARY: &str = "primary_need";
    const SECONDARY: &str = "secondary_need";
    if status == SenStatus::NoSen {
        if primary.is_some() {
            return Err((PRIMARY, "must be empty when the pupil has no special educational need (N)".into()));
        }
        if secondary.is_some() {
            return Err((SECONDARY, "must be empty when the pupil has no special educational need (N)".into()));
        }
        return Ok(());
    }
    let Some(primary) = primary else {
        return Err((PRIMARY, format!("is required for {} ({})", status.name(), status.code())));
    };
    if primary.is_no_specialist_assessment() && status != SenStatus::SenSupport {
        return Err((PRIMARY, "NSA (no specialist assessment) is valid only with SEN support (K)".into()));
    }
    match secondary {
        Some(s) if s.is_no_specialist_assessment() => {
            Err((SECONDARY, "cannot be NSA (no specialist assessment); leave it empty".into()))
        }
        Some(s) if s.code == primary.code => {
            Err((SECONDARY, format!("must differ from the primary need ({})", s.code)))
        }
        _ => Ok(()),
    }
}

/// A national statistic to show beside the council's own figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NationalFigure {
    /// What it counts.
    pub label: &'static str,
    /// Percentage of all pupils in England.
    pub percent: f64,
    /// When it was measured (the January census).
    pub as_at: &'static str,
}

// Update these from the DfE release "Special educational needs in England"
// (explore-education-statistics.service.gov.uk), published each June from the
// January school census.

/// Pupils on SEN support (`K`), England, all schools.
pub const NATIONAL_SEN_SUPPORT: NationalFigure =
    NationalFigure { label: "pupils on SEN support", percent: 14.2, as_at: "January 2025" };

/// Pupils with an EHC plan (`E`), England, all schools.
pub const NATIONAL_EHC_PLAN: NationalFigure =
    NationalFigure { label: "pupils with an EHC plan", percent: 5.3, as_at: "January 2025" };

#[cfg(test)]
mod tests {
    use super::*;

    fn need(code: &str) -> &'static NeedType {
        NeedType::parse(code).unwrap()
    }

    #[test]
    fn sen_status_codes_round_trip() {
        for status in SenStatus::ALL {
            assert_eq!(SenStatus::from_code(status.code()), Ok(status));
        }
        assert_eq!(SenStatus::from_code(" k "), Ok(SenStatus::SenSupport));
        assert!(SenStatus::from_code("S").is_err());
        assert!(SenStatus::from_code("").is_err());
    }

    #[test]
    fn the_table_holds_every_census_code_once_with_its_area() {
        let codes: Vec<&str> = NeedType::all().iter().map(NeedType::code).collect();
        assert_eq!(
            codes,
            ["SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "ASD", "HI", "VI", "MSI", "PD", "OTH", "NSA", "DS"]
        );
        assert_eq!(need("asd").area(), Some(BroadArea::CommunicationAndInteraction));
        assert_eq!(need("Semh").area(), Some(BroadArea::SocialEmotionalMentalHealth));
        assert_eq!(need("PMLD").area(), Some(BroadArea::CognitionAndLearning));
        assert_eq!(need("MSI").area(), Some(BroadArea::SensoryPhysical));
        assert_eq!(need("DS").name(), "Down syndrome");
        assert_eq!(need("OTH").area(), None);
        for n in NeedType::all() {
            assert_eq!(NeedType::parse(n.code()), Ok(n));
        }
        assert!(NeedType::parse("ADHD").unwrap_err().contains("not a type of need"));
    }

    #[test]
    fn no_sen_has_no_needs() {
        assert_eq!(check_needs(SenStatus::NoSen, None, None), Ok(()));
        assert_eq!(check_needs(SenStatus::NoSen, Some(need("ASD")), None).unwrap_err().0, "primary_need");
        assert_eq!(check_needs(SenStatus::NoSen, None, Some(need("ASD"))).unwrap_err().0, "secondary_need");
    }

    #[test]
    fn sen_support_and_plans_need_a_primary_need() {
        assert_eq!(check_needs(SenStatus::SenSupport, None, None).unwrap_err().0, "primary_need");
        assert_eq!(check_needs(SenStatus::EhcPlan, None, Some(need("HI"))).unwrap_err().0, "primary_need");
        assert_eq!(check_needs(SenStatus::EhcPlan, Some(need("ASD")), Some(need("SLCN"))), Ok(()));
        assert_eq!(check_needs(SenStatus::SenSupport, Some(need("SPLD")), None), Ok(()));
    }

    #[test]
    fn nsa_is_only_a_primary_need_on_sen_support() {
        assert_eq!(check_needs(SenStatus::SenSupport, Some(need("NSA")), None), Ok(()));
        assert_eq!(check_needs(SenStatus::EhcPlan, Some(need("NSA")), None).unwrap_err().0, "primary_need");
        assert_eq!(
            check_needs(SenStatus::SenSupport, Some(need("MLD")), Some(need("NSA"))).unwrap_err().0,
            "secondary_need"
        );
    }

    #[test]
    fn the_secondary_need_differs_from_the_primary() {
        let (field, message) = check_needs(SenStatus::EhcPlan, Some(need("ASD")), Some(need("asd"))).unwrap_err();
        assert_eq!(field, "secondary_need");
        assert_eq!(message, "must differ from the primary need (ASD)");
    }

    #[test]
    fn national_figures_carry_their_date() {
        assert_eq!(NATIONAL_SEN_SUPPORT.percent, 14.2);
        assert_eq!(NATIONAL_EHC_PLAN.percent, 5.3);
        assert_eq!(NATIONAL_EHC_PLAN.as_at, "January 2025");
    }
}
