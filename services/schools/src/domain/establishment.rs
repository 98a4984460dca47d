//! Establishment facts as GIAS records them: LAESTAB, name, type, phase, status
//! and statutory age range.

use std::fmt;

use sen_platform::ids::LaCode;

/// LA code (3 digits) + establishment number (4 digits), e.g. `8862001`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Laestab {
    la: LaCode,
    establishment: u16,
}

impl Laestab {
    /// Parses seven digits whose LA part must be `tenant`.
    pub fn parse(s: &str, tenant: LaCode) -> Result<Self, String> {
        let s = s.trim();
        if s.len() != 7 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("'{s}' is not a seven-digit LAESTAB (LA code + establishment number)"));
        }
        let (la, establishment) = s.split_at(3);
        let la = LaCode::parse(la)?;
        if la != tenant {
            return Err(format!("'{s}' belongs to LA {la}, not this authority ({tenant})"));
        }
        Self::from_parts(la, establishment)
    }

    /// Joins an LA code and a four-digit establishment number.
    pub fn from_parts(la: LaCode, establishment: &str) -> Result<Self, String> {
        let establishment = establishment.trim();
        if establishment.len() != 4 || !establishment.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("'{establishment}' is not a four-digit establishment number"));
        }
        let establishment = establishment.parse().map_err(|_| format!("'{establishment}' is not a number"))?;
        Ok(Self { la, establishment })
    }

    /// The LA part.
    pub fn la(self) -> LaCode {
        self.la
    }

    /// The establishment number.
    pub fn establishment(self) -> u16 {
        self.establishment
    }
}

impl fmt::Display for Laestab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:04}", self.la, self.establishment)
    }
}

/// An establishment's name: not blank, at most 200 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolName(String);

impl SchoolName {
    /// Trims and checks a name.
    pub fn parse(s: &str) -> Result<Self, String> {
        super::clean_text(s, 200).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// GIAS `PhaseOfEducation (code)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// 0
    NotApplicable,
    /// 1
    Nursery,
    /// 2
    Primary,
    /// 3
    MiddleDeemedPrimary,
    /// 4
    Secondary,
    /// 5
    MiddleDeemedSecondary,
    /// 6
    SixteenPlus,
    /// 7
    AllThrough,
}

impl Phase {
    const ALL: [Phase; 8] = [
        Phase::NotApplicable,
        Phase::Nursery,
        Phase::Primary,
        Phase::MiddleDeemedPrimary,
        Phase::Secondary,
        Phase::MiddleDeemedSecondary,
        Phase::SixteenPlus,
        Phase::AllThrough,
    ];

    /// The GIAS code.
    pub fn gias_code(self) -> u8 {
        self as u8
    }

    /// From the GIAS code.
    pub fn from_gias_code(code: u8) -> Result<Self, String> {
        Self::ALL.get(usize::from(code)).copied().ok_or_else(|| format!("{code} is not a GIAS phase code (0–7)"))
    }

    /// The GIAS name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::NotApplicable => "Not applicable",
            Phase::Nursery => "Nursery",
            Phase::Primary => "Primary",
            Phase::MiddleDeemedPrimary => "Middle deemed primary",
            Phase::Secondary => "Secondary",
            Phase::MiddleDeemedSecondary => "Middle deemed secondary",
            Phase::SixteenPlus => "16 plus",
            Phase::AllThrough => "All-through",
        }
    }
}

/// GIAS `EstablishmentStatus (code)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EstablishmentStatus {
    /// 1
    Open,
    /// 2
    Closed,
    /// 3
    OpenProposedToClose,
    /// 4
    ProposedToOpen,
}

impl EstablishmentStatus {
    /// The GIAS code.
    pub fn gias_code(self) -> u8 {
        match self {
            Self::Open => 1,
            Self::Closed => 2,
            Self::OpenProposedToClose => 3,
            Self::ProposedToOpen => 4,
        }
    }

    /// From the GIAS code.
    pub fn from_gias_code(code: u8) -> Result<Self, String> {
        match code {
            1 => Ok(Self::Open),
            2 => Ok(Self::Closed),
            3 => Ok(Self::OpenProposedToClose),
            4 => Ok(Self::ProposedToOpen),
            _ => Err(format!("{code} is not a GIAS establishment status code (1–4)")),
        }
    }

    /// Open now (including open but proposed to close).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Open | Self::OpenProposedToClose)
    }
}

/// GIAS `TypeOfEstablishment`, with its type group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EstablishmentType {
    /// GIAS code.
    pub code: u16,
    /// GIAS name.
    pub name: String,
    /// GIAS `EstablishmentTypeGroup (name)`.
    pub group: String,
}

/// (code, name, group, must have a SENCO). Mainstream maintained schools,
/// academies and free schools, and maintained nursery schools must designate a
/// SENCO; special schools, alternative provision, independent and post-16
/// institutions are not under that duty.
const TYPES: &[(u16, &str, &str, bool)] = &[
    (1, "Community school", "Local authority maintained schools", true),
    (2, "Voluntary aided school", "Local authority maintained schools", true),
    (3, "Voluntary controlled school", "Local authority maintained schools", true),
    (5, "Foundation school", "Local authority maintained schools", true),
    (6, "City technology college", "Independent schools", true),
    (7, "Community special school", "Special schools", false),
    (8, "Non-maintained special school", "Special schools", false),
    (10, "Other independent special school", "Independent schools", false),
    (11, "Other independent school", "Independent schools", false),
    (12, "Foundation special school", "Special schools", false),
    (14, "Pupil referral unit", "Local authority maintained schools", false),
    (15, "Local authority nursery school", "Local authority maintained schools", true),
    (18, "Further education", "Colleges", false),
    (24, "Secure units", "Other types", false),
    (25, "Offshore schools", "Other types", false),
    (26, "Service children's education", "Other types", false),
    (27, "Miscellaneous", "Other types", false),
    (28, "Academy sponsor led", "Academies", true),
    (29, "Higher education institutions", "Universities", false),
    (30, "Welsh establishment", "Welsh schools", false),
    (31, "Sixth form centres", "Colleges", false),
    (32, "Special post 16 institution", "Special schools", false),
    (33, "Academy special sponsor led", "Special schools", false),
    (34, "Academy converter", "Academies", true),
    (35, "Free schools", "Free Schools", true),
    (36, "Free schools special", "Special schools", false),
    (37, "British schools overseas", "Other types", false),
    (38, "Free schools alternative provision", "Free Schools", false),
    (39, "Free schools 16 to 19", "Free Schools", false),
    (40, "University technical college", "Free Schools", true),
    (41, "Studio schools", "Free Schools", true),
    (42, "Academy alternative provision converter", "Academies", false),
    (43, "Academy alternative provision sponsor led", "Academies", false),
    (44, "Academy special converter", "Special schools", false),
    (45, "Academy 16-19 converter", "Academies", false),
    (46, "Academy 16 to 19 sponsor led", "Academies", false),
    (49, "Online provider", "Online provider", false),
    (56, "Institution funded by other government department", "Other types", false),
    (57, "Academy secure 16 to 19", "Academies", false),
];

impl EstablishmentType {
    /// A type GIAS defines, by code.
    pub fn known(code: u16) -> Result<Self, String> {
        TYPES
            .iter()
            .find(|(c, ..)| *c == code)
            .map(|(code, name, group, _)| Self { code: *code, name: (*name).into(), group: (*group).into() })
            .ok_or_else(|| format!("{code} is not a GIAS type of establishment code"))
    }

    /// A type as a GIAS extract names it: known codes take our names; a code GIAS
    /// added since keeps the extract's names.
    pub fn from_extract(code: u16, name: &str, group: &str) -> Result<Self, String> {
        Self::known(code).or_else(|_| {
            if name.trim().is_empty() {
                Err(format!("type code {code} is unknown and the row gives no type name"))
            } else {
                Ok(Self { code, name: name.trim().into(), group: group.trim().into() })
            }
        })
    }

    /// Mainstream schools and maintained nurseries must have a SENCO.
    pub fn requires_senco(&self) -> bool {
        TYPES.iter().any(|(c, .., senco)| *c == self.code && *senco)
    }
}

/// Statutory low and high age, 0–25, low not above high.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgeRange {
    low: u8,
    high: u8,
}

impl AgeRange {
    /// Checks a range.
    pub fn new(low: u32, high: u32) -> Result<Self, String> {
        if low > 25 || high > 25 {
            return Err(format!("{low}–{high} is outside ages 0–25"));
        }
        if low > high {
            return Err(format!("low age {low} is above high age {high}"));
        }
        Ok(Self { low: low as u8, high: high as u8 })
    }

    /// Youngest statutory age.
    pub fn low(self) -> u8 {
        self.low
    }

    /// Oldest statutory age.
    pub fn high(self) -> u8 {
        self.high
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn la(code: &str) -> LaCode {
        LaCode::parse(code).unwrap()
    }

    #[test]
    fn laestab_must_belong_to_the_tenant() {
        let l = Laestab::parse("8862001", la("886")).unwrap();
        assert_eq!((l.la(), l.establishment(), l.to_string()), (la("886"), 2001, "8862001".into()));
        let err = Laestab::parse("8872001", la("886")).unwrap_err();
        assert!(err.contains("887"), "{err}");
        for bad in ["886200", "88620011", "886200a", ""] {
            assert!(Laestab::parse(bad, la("886")).is_err(), "{bad:?}");
        }
        assert_eq!(Laestab::from_parts(la("940"), "0012").unwrap().to_string(), "9400012");
    }

    #[test]
    fn phases_and_statuses_follow_gias_codes() {
        for code in 0..=7 {
            assert_eq!(Phase::from_gias_code(code).unwrap().gias_code(), code);
        }
        assert!(Phase::from_gias_code(8).is_err());
        assert_eq!(Phase::from_gias_code(2).unwrap().name(), "Primary");
        assert!(EstablishmentStatus::from_gias_code(3).unwrap().is_open());
        assert!(!EstablishmentStatus::from_gias_code(2).unwrap().is_open());
        assert!(EstablishmentStatus::from_gias_code(0).is_err());
    }

    #[test]
    fn mainstream_schools_need_a_senco_and_special_schools_do_not() {
        assert!(EstablishmentType::known(1).unwrap().requires_senco());
        assert!(EstablishmentType::known(34).unwrap().requires_senco());
        assert!(EstablishmentType::known(15).unwrap().requires_senco());
        assert!(!EstablishmentType::known(7).unwrap().requires_senco());
        assert!(!EstablishmentType::known(44).unwrap().requires_senco());
        assert!(EstablishmentType::known(99).is_err());
        let new = EstablishmentType::from_extract(99, "Brand new type", "Other types").unwrap();
        assert!(!new.requires_senco());
        assert!(EstablishmentType::from_extract(99, " ", "").is_err());
        assert_eq!(EstablishmentType::from_extract(1, "anything", "").unwrap().name, "Community school");
    }

    #[test]
    fn names_and_age_ranges_are_checked() {
        assert!(SchoolName::parse("  ").is_err());
        assert!(SchoolName::parse(&"x".repeat(201)).is_err());
        assert_eq!(SchoolName::parse(" St Mary's C of E ").unwrap().as_str(), "St Mary's C of E");
        assert!(AgeRange::new(11, 4).is_err());
        assert!(AgeRange::new(2, 26).is_err());
        assert_eq!(AgeRange::new(4, 11).map(|a| (a.low(), a.high())), Ok((4, 11)));
    }

    proptest! {
        #[test]
        fn laestab_parser_never_panics(s in "\\PC{0,9}") {
            let _ = Laestab::parse(&s, la("886"));
        }

        #[test]
        fn any_establishment_number_round_trips(n in 0u16..=9999) {
            let text = format!("886{n:04}");
            prop_assert_eq!(Laestab::parse(&text, la("886")).unwrap().to_string(), text);
        }
    }
}
