//! School census SEN codes: the SEN provision a pupil has (`N`, `K`, `E`), their
//! primary and secondary type of need, and the four broad areas of need of the
//! SEND Code of Practice (6.28–6.35).
//!
//! The type-of-need list is data, not an enum: the DfE adds codes (Down
//! syndrome, `DS`, from 2025). The national codes are rows a migration ships
//! (`need_types`); a council adds a code the DfE has published before the
//! platform ships it (`council_need_types`, its own only). Each authority's list
//! is read from the store; [`parse_need`] checks a code against it.

use chrono::NaiveDate;

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

/// A type-of-need census code, e.g. `ASD`: 2 to 6 upper-case letters. Whether
/// it is a code of an authority is for its list of [`NeedType`]s to say.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NeedCode {
    letters: [u8; NeedCode::MAX],
    len: u8,
}

impl NeedCode {
    /// The longest code.
    pub const MAX: usize = 6;

    /// Checks the form of a code: 2 to 6 letters A to Z, upper case as given.
    pub fn parse(code: &str) -> Result<Self, String> {
        let bytes = code.as_bytes();
        if !(2..=Self::MAX).contains(&bytes.len()) || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(format!("'{code}' is not a type-of-need code (2 to 6 upper-case letters, e.g. ASD)"));
        }
        let mut letters = [0; Self::MAX];
        letters[..bytes.len()].copy_from_slice(bytes);
        Ok(Self { letters, len: bytes.len() as u8 })
    }

    /// The code, upper case.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored (see `parse`).
        std::str::from_utf8(&self.letters[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::fmt::Debug for NeedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NeedCode({})", self.as_str())
    }
}

impl std::fmt::Display for NeedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One type-of-need code valid for an authority: a national DfE code (shipped
/// as data by a migration, the same for every council) or the council's own
/// addition of a code the DfE has published before the platform ships it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedType {
    /// The census code.
    pub code: NeedCode,
    /// What it means, for people.
    pub name: String,
    /// The broad area of need it belongs to; none for OTH, NSA and DS.
    pub area: Option<BroadArea>,
    /// Valid only as the primary need of a pupil on SEN support (`K`), as `NSA`.
    pub sen_support_only: bool,
    /// When the code was added (the DfE's date for national codes).
    pub added_on: NaiveDate,
    /// A national DfE code; false for the council's own.
    pub national: bool,
}

impl NeedType {
    /// Census code, upper case.
    pub fn code(&self) -> &str {
        self.code.as_str()
    }
}

/// Validates a type-of-need code as a person or a file gives it (any case,
/// spaces around ignored) against the codes valid for an authority: the rule
/// every way into the register uses (the API, the CTF import). On failure, what
/// is wrong, listing the valid codes.
pub fn parse_need<'a>(code: &str, codes: &'a [NeedType]) -> Result<&'a NeedType, String> {
    let code = code.trim();
    codes.iter().find(|need| need.code().eq_ignore_ascii_case(code)).ok_or_else(|| {
        let known: Vec<&str> = codes.iter().map(NeedType::code).collect();
        format!("'{code}' is not a type of need of this authority ({})", known.join(", "))
    })
}

/// A code a council adds, checked: its form, that the authority has no such
/// code yet, and a name. On failure, the field at fault and what is wrong.
pub fn check_new_need(
    code: &str,
    name: &str,
    existing: &[NeedType],
) -> Result<(NeedCode, String), (&'static str, String)> {
    let parsed = NeedCode::parse(code.trim()).map_err(|e| ("code", e))?;
    if existing.iter().any(|need| need.code == parsed) {
        return Err(("code", format!("{parsed} is already a type of need of this authority")));
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(("name", "is required".into()));
    }
    if name.chars().count() > 200 {
        return Err(("name", "must be at most 200 characters".into()));
    }
    Ok((parsed, name.to_owned()))
}

/// Checks a pupil's needs against their SEN status (school census rules): `N` has
/// no needs; `K` and `E` have a primary need; a code valid only with SEN support
/// (`NSA`) only as the primary need of a `K` pupil; a secondary need differs from
/// the primary one. On failure, the field at fault (`primary_need` or
/// `secondary_need`) and what is wrong with it. A secondary need without a
/// primary one is reported as the missing primary need.
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
    if primary.sen_support_only && status != SenStatus::SenSupport {
        return Err((PRIMARY, format!("{} ({}) is valid only with SEN support (K)", primary.code, primary.name)));
    }
    match secondary {
        Some(s) if s.sen_support_only => Err((SECONDARY, format!("cannot be {} ({}); leave it empty", s.code, s.name))),
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
pub(crate) mod tests {
    use super::BroadArea::{
        CognitionAndLearning, CommunicationAndInteraction, SensoryPhysical, SocialEmotionalMentalHealth,
    };
    use super::*;

    /// The national codes as the migration ships them, for tests.
    pub(crate) fn national() -> Vec<NeedType> {
        let day = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
        let row = |code: &str, name: &str, area: Option<BroadArea>| NeedType {
            code: NeedCode::parse(code).unwrap(),
            name: name.into(),
            area,
            sen_support_only: code == "NSA",
            added_on: day,
            national: true,
        };
        vec![
            row("SPLD", "specific learning difficulty", Some(CognitionAndLearning)),
            row("MLD", "moderate learning difficulty", Some(CognitionAndLearning)),
            row("SLD", "severe learning difficulty", Some(CognitionAndLearning)),
            row("PMLD", "profound and multiple learning difficulty", Some(CognitionAndLearning)),
            row("SEMH", "social, emotional and mental health", Some(SocialEmotionalMentalHealth)),
            row("SLCN", "speech, language and communication needs", Some(CommunicationAndInteraction)),
            row("ASD", "autistic spectrum disorder", Some(CommunicationAndInteraction)),
            row("HI", "hearing impairment", Some(SensoryPhysical)),
            row("VI", "vision impairment", Some(SensoryPhysical)),
            row("MSI", "multi-sensory impairment", Some(SensoryPhysical)),
            row("PD", "physical disability", Some(SensoryPhysical)),
            row("OTH", "other difficulty or disability", None),
            row("NSA", "SEN support but no specialist assessment of type of need", None),
            row("DS", "Down syndrome", None),
        ]
    }

    fn need(code: &str) -> NeedType {
        parse_need(code, &national()).unwrap().clone()
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
    fn a_code_is_found_in_the_authoritys_list_in_any_case() {
        let codes = national();
        assert_eq!(parse_need(" asd ", &codes).unwrap().code(), "ASD");
        assert_eq!(parse_need("Semh", &codes).unwrap().area, Some(SocialEmotionalMentalHealth));
        let refused = parse_need("ADHD", &codes).unwrap_err();
        assert!(refused.contains("'ADHD' is not a type of need"), "{refused}");
        assert!(refused.contains("DS"), "{refused}");
    }

    #[test]
    fn a_code_is_two_to_six_upper_case_letters() {
        assert_eq!(NeedCode::parse("DS").unwrap().as_str(), "DS");
        assert_eq!(NeedCode::parse("ABCDEF").unwrap().to_string(), "ABCDEF");
        for bad in ["", "A", "ABCDEFG", "asd", "AS1", "A D", "ÄS"] {
            assert!(NeedCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_new_code_needs_a_name_and_a_code_the_authority_lacks() {
        let codes = national();
        assert_eq!(
            check_new_need("FASD", " fetal alcohol ", &codes),
            Ok((NeedCode::parse("FASD").unwrap(), "fetal alcohol".into()))
        );
        assert_eq!(check_new_need("ASD", "again", &codes).unwrap_err().0, "code");
        assert_eq!(check_new_need("fasd", "lower", &codes).unwrap_err().0, "code");
        assert_eq!(check_new_need("FASD", "  ", &codes).unwrap_err().0, "name");
    }

    #[test]
    fn no_sen_has_no_needs() {
        assert_eq!(check_needs(SenStatus::NoSen, None, None), Ok(()));
        assert_eq!(check_needs(SenStatus::NoSen, Some(&need("ASD")), None).unwrap_err().0, "primary_need");
        assert_eq!(check_needs(SenStatus::NoSen, None, Some(&need("ASD"))).unwrap_err().0, "secondary_need");
    }

    #[test]
    fn sen_support_and_plans_need_a_primary_need() {
        assert_eq!(check_needs(SenStatus::SenSupport, None, None).unwrap_err().0, "primary_need");
        assert_eq!(check_needs(SenStatus::EhcPlan, None, Some(&need("HI"))).unwrap_err().0, "primary_need");
        assert_eq!(check_needs(SenStatus::EhcPlan, Some(&need("ASD")), Some(&need("SLCN"))), Ok(()));
        assert_eq!(check_needs(SenStatus::SenSupport, Some(&need("SPLD")), None), Ok(()));
    }

    #[test]
    fn nsa_is_only_a_primary_need_on_sen_support() {
        assert_eq!(check_needs(SenStatus::SenSupport, Some(&need("NSA")), None), Ok(()));
        assert_eq!(check_needs(SenStatus::EhcPlan, Some(&need("NSA")), None).unwrap_err().0, "primary_need");
        assert_eq!(
            check_needs(SenStatus::SenSupport, Some(&need("MLD")), Some(&need("NSA"))).unwrap_err().0,
            "secondary_need"
        );
    }

    #[test]
    fn the_secondary_need_differs_from_the_primary() {
        let (field, message) = check_needs(SenStatus::EhcPlan, Some(&need("ASD")), Some(&need("asd"))).unwrap_err();
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
