//! What a request's final plan did to the SEN register, on the request's page:
//! the pupil moved to E with their EHCP, already on a plan, not changed (and
//! why), or still to be recorded, which the referrals service finishes by
//! itself (`sen_referrals::plan_issue`).

use maud::{Markup, html};
use sen_proto::v1 as pb;

use crate::layout::{Tone, summary_card, tag};

/// The card, once the request's final plan was issued.
pub(super) fn card(referral: &pb::Referral) -> Option<Markup> {
    let change = referral.register_change.as_ref()?;
    let pupil = referral.body.as_ref().map_or(0, |body| body.pupil_id);
    let pupil_link = html! { a href={ "/pupils/" (pupil) } { "the pupil's page" } };
    let (state, what) = match change.state.as_str() {
        "done" => (
            tag("Register updated", Tone::Green),
            html! { "The pupil is now recorded with an EHC plan (E) from the day the final plan was issued, and their plan's annual reviews run from that day. See " (pupil_link) "." },
        ),
        "already_on_plan" => (
            tag("Already on a plan", Tone::Blue),
            html! { "The pupil was already recorded with an EHC plan (E); the register was not changed. See " (pupil_link) "." },
        ),
        "not_made" => (tag("Register not changed", Tone::Red), html! { (change.note) ". See " (pupil_link) "." }),
        _ => (
            tag("Register update pending", Tone::Yellow),
            html! { "The pupil's record has not been updated yet: it will be, by itself, within a few minutes. Nothing needs doing." },
        ),
    };
    Some(summary_card("SEN register", &[("Status", state), ("What changed", what)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn referral(state: &str, note: &str) -> pb::Referral {
        pb::Referral {
            body: Some(pb::ReferralBody { pupil_id: 42, ..Default::default() }),
            register_change: Some(pb::RegisterChange { state: state.into(), note: note.into(), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn the_page_says_the_register_was_updated_once_the_plan_is_issued() {
        let shown = card(&referral("done", "")).unwrap().into_string();
        assert!(shown.contains("Register updated") && shown.contains("/pupils/42"), "{shown}");
        let pending = card(&referral("pending", "pupils service: Unavailable")).unwrap().into_string();
        assert!(pending.contains("Register update pending"), "{pending}");
        assert!(!pending.contains("Unavailable"), "no internal failure is shown to the officer");
        let not_made = card(&referral("not_made", "the pupil is no longer on the authority's register")).unwrap();
        assert!(not_made.into_string().contains("no longer on the authority"));
        assert!(card(&pb::Referral::default()).is_none(), "nothing before a plan is issued");
    }
}
