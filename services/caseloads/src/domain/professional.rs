//! Who the council's professionals are and what work each may take: an
//! educational psychologist of a grade, or an advisory teacher of one
//! specialism; how much work they can hold (a per-tenant caseload limit, in
//! open cases or sessions a term, because councils count it either way); and
//! the kinds of referral the referrals service sends, with [`can_take`] as the
//! single rule matching the two.
//!
//! Codes are the referrals service's, so a referral's kind and a professional's
//! specialism compare without translation.

use sen_vocabulary::CapacityKind;
pub use sen_vocabulary::{ReferralKind, Specialism};

/// The grade of an educational psychologist, least senior first (the derived order is seniority).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EpGrade {
    /// In doctoral training, on placement; works under supervision.
    Trainee,
    /// A qualified, HCPC-registered educational psychologist.
    MainGrade,
    /// Senior: leads an area or specialism and supervises others.
    Senior,
    /// Principal: leads the service.
    Principal,
}

impl EpGrade {
    /// Every grade, least senior first.
    pub const ALL: [EpGrade; 4] = [Self::Trainee, Self::MainGrade, Self::Senior, Self::Principal];

    /// Stable snake_case code, for storage and the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::Trainee => "trainee",
            Self::MainGrade => "main_grade",
            Self::Senior => "senior",
            Self::Principal => "principal",
        }
    }

    /// The grade, for people.
    pub fn name(self) -> &'static str {
        match self {
            Self::Trainee => "trainee",
            Self::MainGrade => "main grade",
            Self::Senior => "senior",
            Self::Principal => "principal",
        }
    }

    /// From the stable code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|grade| grade.code() == code)
            .ok_or_else(|| format!("'{code}' is not an EP grade (trainee, main_grade, senior or principal)"))
    }
}

/// Code prefix of an educational psychologist's role; the grade's code follows it.
const EP_PREFIX: &str = "educational_psychologist:";
/// Code prefix of an advisory teacher (role or referral kind); the specialism's code follows it.
const ADVISORY_TEACHER_PREFIX: &str = "advisory_teacher:";

/// What a professional is: an EP of a grade, or an advisory teacher of a specialism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProfessionalRole {
    /// An educational psychologist of the given grade.
    EducationalPsychologist(EpGrade),
    /// An advisory teacher of the given specialism.
    AdvisoryTeacher(Specialism),
}

impl ProfessionalRole {
    /// Every role: each EP grade, then each specialism.
    pub fn all() -> Vec<ProfessionalRole> {
        let eps = EpGrade::ALL.map(Self::EducationalPsychologist);
        let teachers = Specialism::ALL.map(Self::AdvisoryTeacher);
        eps.into_iter().chain(teachers).collect()
    }

    /// Stable code: `educational_psychologist:<grade>` or `advisory_teacher:<specialism>`.
    pub fn code(self) -> String {
        match self {
            Self::EducationalPsychologist(grade) => format!("{EP_PREFIX}{}", grade.code()),
            Self::AdvisoryTeacher(specialism) => format!("{ADVISORY_TEACHER_PREFIX}{}", specialism.code()),
        }
    }

    /// From the stable code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        if let Some(grade) = code.strip_prefix(EP_PREFIX) {
            return EpGrade::parse(grade).map(Self::EducationalPsychologist);
        }
        if let Some(specialism) = code.strip_prefix(ADVISORY_TEACHER_PREFIX) {
            return Specialism::parse(specialism).map(Self::AdvisoryTeacher);
        }
        Err(format!(
            "'{code}' is not a professional role (educational_psychologist:<grade> or advisory_teacher:<specialism>)"
        ))
    }

    /// For people, e.g. "educational psychologist (senior)".
    pub fn name(self) -> String {
        match self {
            Self::EducationalPsychologist(grade) => format!("{} ({})", self.title(), grade.name()),
            Self::AdvisoryTeacher(specialism) => format!("{} ({})", self.title(), specialism.name()),
        }
    }

    /// The profession without grade or specialism: "educational psychologist" or "advisory teacher".
    pub fn title(self) -> &'static str {
        match self {
            Self::EducationalPsychologist(_) => "educational psychologist",
            Self::AdvisoryTeacher(_) => "advisory teacher",
        }
    }
}

/// Most open cases a caseload limit may be set to.
pub const MAX_OPEN_CASES: u32 = 200;
/// Most sessions (half-days) a term a caseload limit may be set to.
pub const MAX_SESSIONS_PER_TERM: u32 = 400;

/// How much work a professional can hold: councils set caseload limits either
/// as a number of open cases or as sessions (half-days) a term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capacity {
    /// At most this many open cases at once.
    OpenCases(u32),
    /// At most this many sessions (half-days) of casework a term.
    SessionsPerTerm(u32),
}

impl Capacity {
    /// From its kind (`open_cases` or `sessions_per_term`) and amount: 1 to 200
    /// open cases, or 1 to 400 sessions a term.
    pub fn new(kind: &str, amount: u32) -> Result<Capacity, String> {
        let (capacity, max) = match CapacityKind::parse(kind)? {
            CapacityKind::OpenCases => (Self::OpenCases(amount), MAX_OPEN_CASES),
            CapacityKind::SessionsPerTerm => (Self::SessionsPerTerm(amount), MAX_SESSIONS_PER_TERM),
        };
        if !(1..=max).contains(&amount) {
            return Err(format!("a capacity of {amount} {}: give between 1 and {max}", capacity.unit()));
        }
        Ok(capacity)
    }

    /// `open_cases` or `sessions_per_term`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::OpenCases(_) => CapacityKind::OpenCases,
            Self::SessionsPerTerm(_) => CapacityKind::SessionsPerTerm,
        }
        .code()
    }

    /// The number of open cases or sessions.
    pub fn amount(self) -> u32 {
        match self {
            Self::OpenCases(amount) | Self::SessionsPerTerm(amount) => amount,
        }
    }

    /// What the amount counts, for people: "open cases" or "sessions this term".
    pub fn unit(self) -> &'static str {
        match self {
            Self::OpenCases(_) => "open cases",
            Self::SessionsPerTerm(_) => "sessions this term",
        }
    }
}

/// Smallest full-time equivalent accepted: a tenth of a week (half a day).
pub const MIN_FTE: f64 = 0.1;
/// Largest full-time equivalent accepted: full time.
pub const MAX_FTE: f64 = 1.0;

/// A full-time equivalent between 0.1 and 1.0, or what is wrong with it.
pub fn check_fte(fte: f64) -> Result<f64, String> {
    if !fte.is_finite() {
        return Err(format!("an FTE of {fte} is not a number; give between {MIN_FTE:.1} and {MAX_FTE:.1}"));
    }
    if !(MIN_FTE..=MAX_FTE).contains(&fte) {
        return Err(format!("an FTE of {fte}: give between {MIN_FTE:.1} and {MAX_FTE:.1}"));
    }
    Ok(fte)
}

/// Whether a professional in `role` may be allocated a referral of `kind`. Any
/// EP takes educational psychology referrals and writes the psychological
/// advice for EHC needs assessments, except a trainee: statutory advice needs a
/// qualified EP. An advisory teacher takes only advisory referrals of their own
/// specialism.
pub fn can_take(role: ProfessionalRole, kind: ReferralKind) -> bool {
    match (role, kind) {
        (ProfessionalRole::EducationalPsychologist(_), ReferralKind::EducationalPsychology) => true,
        (ProfessionalRole::EducationalPsychologist(grade), ReferralKind::EhcNeedsAssessment) => {
            grade != EpGrade::Trainee
        }
        (ProfessionalRole::AdvisoryTeacher(own), ReferralKind::AdvisoryTeacher(asked)) => own == asked,
        (ProfessionalRole::EducationalPsychologist(_), ReferralKind::AdvisoryTeacher(_))
        | (ProfessionalRole::AdvisoryTeacher(_), ReferralKind::EducationalPsychology)
        | (ProfessionalRole::AdvisoryTeacher(_), ReferralKind::EhcNeedsAssessment) => false,
    }
}

#[cfg(test)]
mod tests;
