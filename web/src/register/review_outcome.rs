//! What an annual review's decision led to, for the pupil page: the amended
//! plan's proposal, due date (and the rule that gave it) and issue, or the plan's
//! cessation with its SEN2 reason, its day and the status the pupil moved to.

use maud::{Markup, html};
use sen_proto::v1 as pb;

use crate::layout::{Tone, tag};
use crate::wording::long_date;

/// An SEN2 reason for ceasing a plan, in words with its code.
pub fn cease_reason_name(reason: i32) -> String {
    let words = match pb::CeaseReason::try_from(reason) {
        Ok(pb::CeaseReason::ReachedMaximumAge) => "Reached maximum age",
        Ok(pb::CeaseReason::NeedsMetWithoutPlan) => "Needs being met without an EHC plan",
        Ok(pb::CeaseReason::HigherEducation) => "Moved on to higher education",
        Ok(pb::CeaseReason::PaidEmployment) => "Moved on to paid employment",
        Ok(pb::CeaseReason::TransferredToAnotherLa) => "Transferred to another local authority",
        Ok(pb::CeaseReason::NoLongerEngaging) => "No longer wishes to engage in education or training",
        Ok(pb::CeaseReason::MovedAbroad) => "Moved abroad",
        Ok(pb::CeaseReason::Deceased) => "Deceased",
        Ok(pb::CeaseReason::Other) => "Other",
        _ => return "Not recorded".to_owned(),
    };
    format!("{words} (SEN2 {reason})")
}

/// Every SEN2 reason, for a form's choices: code and words.
pub fn cease_reason_options() -> Vec<(String, String)> {
    let mut options = vec![(String::new(), "Choose a reason".to_owned())];
    options.extend((1..=9).map(|code| (code.to_string(), cease_reason_name(code))));
    options
}

/// The amended plan's status as a tag.
pub fn amendment_tag(status: i32) -> Markup {
    match pb::AmendmentStatus::try_from(status) {
        Ok(pb::AmendmentStatus::IssuedOnTime) => tag("Issued on time", Tone::Green),
        Ok(pb::AmendmentStatus::IssuedLate) => tag("Issued late", Tone::Purple),
        Ok(pb::AmendmentStatus::Overdue) => tag("Overdue", Tone::Red),
        Ok(pb::AmendmentStatus::Due) => tag("Due", Tone::Yellow),
        _ => html! {},
    }
}

fn rule_words(rule: i32) -> &'static str {
    match pb::AmendmentDueRule::try_from(rule) {
        Ok(pb::AmendmentDueRule::Proposal8Weeks) => "8 weeks after the proposal",
        Ok(pb::AmendmentDueRule::Meeting12Weeks) => "12 weeks after the meeting",
        _ => "",
    }
}

/// The outcome cell of a review's row.
pub fn outcome(r: &pb::AnnualReview) -> Markup {
    match pb::ReviewDecision::try_from(r.decision) {
        Ok(pb::ReviewDecision::Amend) => html! {
            "Amendments proposed: "
            @if r.amendments_proposed_on.is_some() { (long_date(r.amendments_proposed_on.as_ref())) } @else { "not recorded" }
            br;
            "Amended plan due " (long_date(r.amended_plan_due.as_ref())) " (" (rule_words(r.amended_plan_due_rule)) ")"
            br;
            @if r.amended_plan_issued_on.is_some() { "Issued " (long_date(r.amended_plan_issued_on.as_ref())) " " }
            (amendment_tag(r.amendment_status))
        },
        Ok(pb::ReviewDecision::Cease) => html! {
            "Reason: " (cease_reason_name(r.cease_reason))
            br;
            @if r.ceased_on.is_some() {
                "Plan ceased " (long_date(r.ceased_on.as_ref())) "; now "
                (if r.ceased_to == pb::SenProvision::SenSupport as i32 { "on SEN support (K)" } else { "no SEN (N)" })
            } @else {
                "The plan has not ceased yet"
            }
        },
        Ok(pb::ReviewDecision::Maintain) => html! { "Plan kept as it is" },
        _ => html! { "—" },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cease_reasons_read_with_their_sen2_code() {
        assert_eq!(cease_reason_name(5), "Transferred to another local authority (SEN2 5)");
        assert_eq!(cease_reason_name(0), "Not recorded");
        assert_eq!(cease_reason_options().len(), 10);
    }

    #[test]
    fn an_amended_plan_shows_its_dates_and_status() {
        let review = pb::AnnualReview {
            decision: pb::ReviewDecision::Amend as i32,
            amendments_proposed_on: Some(pb::Date { year: 2026, month: 3, day: 9 }),
            amended_plan_due: Some(pb::Date { year: 2026, month: 5, day: 4 }),
            amended_plan_due_rule: pb::AmendmentDueRule::Proposal8Weeks as i32,
            amendment_status: pb::AmendmentStatus::Overdue as i32,
            ..Default::default()
        };
        let text = outcome(&review).into_string();
        assert!(text.contains("9 March 2026"), "{text}");
        assert!(text.contains("4 May 2026"), "{text}");
        assert!(text.contains("8 weeks after the proposal"), "{text}");
        assert!(text.contains("Overdue"), "{text}");
    }
}
