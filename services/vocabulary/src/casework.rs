//! The words of a professional's casework: the kinds of activity recorded
//! against a case, and the two ways a council sets a caseload limit. The
//! caseloads service owns what they count towards; these are the words for it.

use crate::either_of;

/// The kind of work recorded against a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    /// A consultation with the SENCO, teachers or parents.
    Consultation,
    /// Observing the pupil in class or at play.
    Observation,
    /// Direct assessment of the pupil.
    Assessment,
    /// Writing the advice for an EHC needs assessment.
    StatutoryAdvice,
    /// Training for the school's staff.
    Training,
    /// Writing a report for the school and parents.
    Report,
}

impl ActivityKind {
    /// Every kind.
    pub const ALL: [ActivityKind; 6] =
        [Self::Consultation, Self::Observation, Self::Assessment, Self::StatutoryAdvice, Self::Training, Self::Report];

    /// Stable snake_case code, for storage, the wire and the command line.
    pub fn code(self) -> &'static str {
        match self {
            Self::Consultation => "consultation",
            Self::Observation => "observation",
            Self::Assessment => "assessment",
            Self::StatutoryAdvice => "statutory_advice",
            Self::Training => "training",
            Self::Report => "report",
        }
    }

    /// For people.
    pub fn name(self) -> &'static str {
        match self {
            Self::Consultation => "consultation",
            Self::Observation => "observation",
            Self::Assessment => "assessment",
            Self::StatutoryAdvice => "statutory advice",
            Self::Training => "training",
            Self::Report => "report writing",
        }
    }

    /// What the kind covers, in a phrase for a list of choices.
    pub fn description(self) -> &'static str {
        match self {
            Self::Consultation => "Consultation with the school, family or other professionals",
            Self::Observation => "Observing the pupil",
            Self::Assessment => "Assessment work with the pupil",
            Self::StatutoryAdvice => "Psychological or educational advice for an EHC needs assessment",
            Self::Training => "Training for school staff",
            Self::Report => "Writing a report",
        }
    }

    /// From the stable code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|kind| kind.code() == code)
            .ok_or_else(|| format!("'{code}' is not a kind of activity ({})", either_of(Self::ALL.map(Self::code))))
    }
}

/// How a caseload limit is set: councils count either open cases or sessions
/// (half-days) a term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CapacityKind {
    /// At most so many open cases at once.
    OpenCases,
    /// At most so many sessions of casework a term.
    SessionsPerTerm,
}

impl CapacityKind {
    /// Both kinds.
    pub const ALL: [CapacityKind; 2] = [Self::OpenCases, Self::SessionsPerTerm];

    /// `open_cases` or `sessions_per_term`.
    pub fn code(self) -> &'static str {
        match self {
            Self::OpenCases => "open_cases",
            Self::SessionsPerTerm => "sessions_per_term",
        }
    }

    /// From the code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|kind| kind.code() == code)
            .ok_or_else(|| format!("'{code}' is not a kind of capacity ({})", either_of(Self::ALL.map(Self::code))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_kinds_round_trip() {
        for kind in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(kind.code()), Ok(kind));
        }
        assert_eq!(ActivityKind::StatutoryAdvice.code(), "statutory_advice");
        assert_eq!(ActivityKind::StatutoryAdvice.name(), "statutory advice");
        assert_eq!(ActivityKind::parse(" report "), Ok(ActivityKind::Report));
        assert_eq!(
            ActivityKind::parse("supervision").unwrap_err(),
            "'supervision' is not a kind of activity \
             (consultation, observation, assessment, statutory_advice, training or report)"
        );
        assert!(ActivityKind::parse("statutory advice").is_err());
    }

    #[test]
    fn capacity_kinds_round_trip() {
        for kind in CapacityKind::ALL {
            assert_eq!(CapacityKind::parse(kind.code()), Ok(kind));
        }
        assert_eq!(
            CapacityKind::parse("hours").unwrap_err(),
            "'hours' is not a kind of capacity (open_cases or sessions_per_term)"
        );
    }
}
