//! The four broad areas of need of the SEND Code of Practice (6.28), by which
//! schools describe a pupil's needs on a referral and the register groups them.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broad_areas_round_trip() {
        for area in BroadArea::ALL {
            assert_eq!(BroadArea::parse(area.code()), Ok(area));
        }
        assert_eq!(BroadArea::SocialEmotionalMentalHealth.code(), "social_emotional_mental_health");
        assert!(BroadArea::parse("behaviour").is_err());
    }
}
