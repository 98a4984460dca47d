//! The domain's words as the command line takes them. The values a flag accepts
//! and the lists its help names come from `sen-vocabulary`, the one definition
//! the services and the gateway's pages use too, so a new activity kind or
//! status reaches the parser and `--help` without a second list here.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use sen_proto::v1 as pb;
use sen_vocabulary::{ActivityKind, BroadArea, ConsentMethod, Priority, ReferralKind, ReferralStatus, either_of};

/// `--kind` of `sen case log`: an activity kind, each shown with what it covers.
pub fn activity_kind() -> impl TypedValueParser<Value = ActivityKind> {
    PossibleValuesParser::new(ActivityKind::ALL.map(|kind| PossibleValue::new(kind.code()).help(kind.description())))
        .try_map(|code| ActivityKind::parse(&code))
}

/// `--status` of `sen referrals list`: a referral status, each shown with what it means.
pub fn referral_status() -> impl TypedValueParser<Value = ReferralStatus> {
    PossibleValuesParser::new(
        ReferralStatus::ALL.map(|status| PossibleValue::new(status.code()).help(status.description())),
    )
    .try_map(|code| ReferralStatus::parse(&code))
}

/// The wire form of a status: the proto enum's name is the code in capitals.
pub fn status_to_proto(status: ReferralStatus) -> pb::ReferralStatus {
    let name = format!("REFERRAL_STATUS_{}", status.code().to_ascii_uppercase());
    pb::ReferralStatus::from_str_name(&name).unwrap_or(pb::ReferralStatus::Unspecified)
}

/// Help of `--kind` of `sen referrals submit`.
pub fn referral_kind_help() -> String {
    ReferralKind::FORMS.to_owned()
}

/// Help of `--kind` of `sen referrals list`.
pub fn referral_kind_filter_help() -> String {
    format!("Only this kind: {}", ReferralKind::FORMS)
}

/// Help of `--area`.
pub fn broad_area_help() -> String {
    format!(
        "A broad area of need concerned: {}. Repeat, or separate with commas",
        either_of(BroadArea::ALL.map(BroadArea::code))
    )
}

/// Help of `--consent-method`.
pub fn consent_method_help() -> String {
    format!("How consent was given: {}", either_of(ConsentMethod::ALL.map(ConsentMethod::code)))
}

/// Help of `--priority`.
pub fn priority_help() -> String {
    either_of(Priority::ALL.map(Priority::code))
}

/// `in_progress` for `REFERRAL_STATUS_IN_PROGRESS`: the words `--status` takes.
pub fn status_name(status: i32) -> String {
    match pb::ReferralStatus::try_from(status) {
        Ok(pb::ReferralStatus::Unspecified) | Err(_) => format!("unknown ({status})"),
        Ok(s) => s.as_str_name().trim_start_matches("REFERRAL_STATUS_").to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(values: Option<Box<dyn Iterator<Item = PossibleValue> + '_>>) -> Vec<String> {
        values.into_iter().flatten().map(|value| value.get_name().to_owned()).collect()
    }

    #[test]
    fn flags_take_the_services_codes() {
        assert_eq!(
            names(activity_kind().possible_values()),
            ["consultation", "observation", "assessment", "statutory_advice", "training", "report"]
        );
        assert_eq!(names(referral_status().possible_values()), ReferralStatus::ALL.map(ReferralStatus::code));
    }

    #[test]
    fn every_status_has_its_wire_form() {
        for status in ReferralStatus::ALL {
            assert_ne!(status_to_proto(status), pb::ReferralStatus::Unspecified, "{status:?}");
        }
        assert_eq!(status_to_proto(ReferralStatus::InProgress), pb::ReferralStatus::InProgress);
    }

    #[test]
    fn help_names_the_choices_as_before() {
        assert_eq!(consent_method_help(), "How consent was given: signed_form, email, verbal or letter");
        assert_eq!(priority_help(), "routine or urgent");
        assert_eq!(
            broad_area_help(),
            "A broad area of need concerned: communication_and_interaction, cognition_and_learning, \
             social_emotional_mental_health or sensory_physical. Repeat, or separate with commas"
        );
        assert_eq!(
            referral_kind_filter_help(),
            "Only this kind: educational_psychology, advisory_teacher:<specialism> or ehc_needs_assessment"
        );
    }
}
