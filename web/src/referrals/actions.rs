//! What can be done to a referral from its page, as the forms the page shows:
//! the lifecycle moves the council team makes (accept, return with what is
//! needed, decline with a reason) and a SENCO's withdrawal, each carrying the
//! version read so a change made meanwhile is shown rather than overwritten; the
//! resubmission of a returned referral; and the professionals the caseloads
//! service suggests, each with the SEN manager's one-click allocation. What the
//! forms send is handled in [`super::changes`]; a refused form comes back on the
//! page with what was typed and its errors ([`Extra`]).

use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use crate::fields;
use crate::layout::{FieldError, Tone, csrf_field, error_for, tag, text_input, textarea};
use crate::session::Session;
use crate::state::Web;

/// What a page shows besides the referral: a banner after a change, errors of a
/// refused action, or a notice that someone else changed it meanwhile.
#[derive(Debug, Default)]
pub struct Extra {
    /// "Referral sent", "Allocated to …".
    pub banner: Option<String>,
    /// Errors of the refused form, against its inputs.
    pub errors: Vec<FieldError>,
    /// Said above everything, e.g. the referral changed meanwhile.
    pub notice: Option<String>,
    /// What was typed into the refused form: `(input id, value)`.
    pub typed: Vec<(String, String)>,
    /// What the council asked for when it returned the referral (its note).
    pub asked_for: Option<String>,
    /// The manager asked for the school's link professional first, even when
    /// full (`?order=link_first`); otherwise those with room come first.
    pub link_first: bool,
}

/// The council team, who triage referrals.
const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];

/// One lifecycle move offered as a form: event code, button, note label (none: no note).
pub(super) struct Move {
    pub(super) event: &'static str,
    button: &'static str,
    pub(super) note: Option<&'static str>,
    pub(super) value: pb::ReferralEvent,
}

const ACCEPT: Move = Move { event: "accept", button: "Accept referral", note: None, value: pb::ReferralEvent::Accept };
const RETURN: Move = Move {
    event: "return",
    button: "Return to the school",
    note: Some("What the school needs to add"),
    value: pb::ReferralEvent::Return,
};
const DECLINE: Move = Move {
    event: "decline",
    button: "Decline referral",
    note: Some("Reason for declining"),
    value: pb::ReferralEvent::Decline,
};
const WITHDRAW: Move = Move {
    event: "withdraw",
    button: "Withdraw referral",
    note: Some("Why the school is withdrawing it (optional)"),
    value: pb::ReferralEvent::Withdraw,
};

/// The moves `role` may make on a referral with `status`, by the lifecycle.
fn moves(role: Role, status: i32) -> Vec<&'static Move> {
    use pb::ReferralStatus as S;
    let status = S::try_from(status).unwrap_or(S::Unspecified);
    match (TEAM.contains(&role), role == Role::Senco, status) {
        (true, _, S::Submitted) => vec![&ACCEPT, &RETURN, &DECLINE],
        (_, true, S::Submitted | S::Returned | S::Accepted) => vec![&WITHDRAW],
        _ => Vec::new(),
    }
}

/// The move a form names by its event code, if any.
pub(super) fn move_named(event: &str) -> Option<&'static Move> {
    [&ACCEPT, &RETURN, &DECLINE, &WITHDRAW].into_iter().find(|m| m.event == event)
}

/// Those who may send a returned referral back: its school's SENCO and the case officer.
pub(super) const SUBMITTERS: &[Role] = &[Role::Senco, Role::CaseOfficer];

/// The ids of the resubmission form's inputs.
pub(super) const RESUBMIT_CONCERN: &str = "resubmit-concern";
pub(super) const RESUBMIT_TRIED: &str = "resubmit-graduated_approach";
pub(super) const RESUBMIT_NOTE: &str = "resubmit-note";

/// The form that sends a returned referral back with what was asked for, filled
/// with the referral as it stands (or with what was typed, when refused).
fn resubmission(session: &Session, referral: &pb::Referral, extra: &Extra) -> Markup {
    let body = referral.body.clone().unwrap_or_default();
    let typed = |id: &str, otherwise: &str| {
        extra.typed.iter().find(|(n, _)| n == id).map_or(otherwise.to_owned(), |(_, v)| v.clone())
    };
    let tried = body.graduated_approach.as_ref().map_or("", |g| g.summary.as_str());
    html! {
        h2 class="heading-m" { "Send it back to the council" }
        p class="body" { "The council returned this referral for more information. Add what they asked for, then send it again." }
        @let asked_for = extra.asked_for.as_deref().filter(|a| !a.trim().is_empty());
        div class=[asked_for.map(|_| "columns columns--form")] {
        @if let Some(asked) = asked_for {
            aside class="asked-for" aria-labelledby="asked-for-title" {
                h3 class="heading-s" id="asked-for-title" { "What the council needs" }
                p class="body asked-for__text" { (asked) }
            }
        }
        form method="post" action={ "/referrals/" (referral.id) "/resubmit" } novalidate {
            (csrf_field(session))
            input type="hidden" name="version" value=(referral.version);
            (textarea(RESUBMIT_CONCERN, "Concern", None, &typed(RESUBMIT_CONCERN, &body.concern), error_for(&extra.errors, RESUBMIT_CONCERN)))
            (textarea(RESUBMIT_TRIED, "What the school has tried", None, &typed(RESUBMIT_TRIED, tried), error_for(&extra.errors, RESUBMIT_TRIED)))
            (textarea(RESUBMIT_NOTE, "What you have added", Some("The council sees this in the referral's timeline"), &typed(RESUBMIT_NOTE, ""), error_for(&extra.errors, RESUBMIT_NOTE)))
            button type="submit" class="button" { "Send referral again" }
        }
        }
    }
}

/// The lifecycle forms for this reader (nothing when they have none to make).
pub fn actions(session: &Session, referral: &pb::Referral, extra: &Extra) -> Markup {
    let offered = moves(session.role(), referral.status);
    let typed = |id: &str| extra.typed.iter().find(|(n, _)| n == id).map_or("", |(_, v)| v.as_str());
    let returned = referral.status == pb::ReferralStatus::Returned as i32 && SUBMITTERS.contains(&session.role());
    html! {
        @if returned { (resubmission(session, referral, extra)) }
        @if !offered.is_empty() {
            h2 class="heading-m" { "Decide" }
            div class="columns" {
                @for m in &offered {
                    @let note_id = format!("note-{}", m.event);
                    form method="post" action={ "/referrals/" (referral.id) "/status" } {
                        (csrf_field(session))
                        input type="hidden" name="version" value=(referral.version);
                        input type="hidden" name="event" value=(m.event);
                        @if let Some(label) = m.note {
                            (textarea(&note_id, label, None, typed(&note_id), error_for(&extra.errors, &note_id)))
                        }
                        button type="submit" class={ "button" @if m.event != "accept" { " button--secondary" } } { (m.button) }
                    }
                }
            }
        }
    }
}

/// The professionals suggested for a referral, or why there are none.
pub struct Candidates(Result<pb::SuggestAllocationResponse, String>);

/// Asks the caseloads service whom to allocate referral `id` to, the school's
/// link professional first when `link_first`, else those with room first.
pub async fn suggestions(web: &Web, session: &Session, id: i64, link_first: bool) -> Candidates {
    let backend = web.backend(session);
    let order = if link_first { pb::SuggestionOrder::LinkFirst } else { pb::SuggestionOrder::RoomFirst };
    let request = pb::SuggestAllocationRequest { referral_id: id, order: order as i32 };
    let answer = async { backend.caseloads()?.suggest_allocation(backend.request(request)).await }.await;
    Candidates(answer.map(tonic::Response::into_inner).map_err(|status| {
        tracing::warn!(code = ?status.code(), "no allocation suggestions");
        "Suggestions are not available just now. Try again in a few minutes.".to_owned()
    }))
}

impl Candidates {
    /// The suggestions, best first, each with its one-click allocation form.
    pub fn render(&self, session: &Session, referral: i64, extra: &Extra) -> Markup {
        html! {
            h2 class="heading-m" id="allocate" { "Allocate" }
            @match &self.0 {
                Err(why) => p class="body" { (why) },
                Ok(answer) if answer.candidates.is_empty() => p class="body" { "No active professional takes this kind of referral. Add one on the caseloads page." },
                Ok(answer) => {
                    @let link_first = answer.order == pb::SuggestionOrder::LinkFirst as i32;
                    @if answer.school_closed {
                        p class="body" { strong { "The school is closed." } " Nobody counts as its link professional; check the pupil's current school before allocating." }
                    }
                    p class="body" {
                        @if link_first {
                            "Suggested professionals, the school's link professional first even when full, with the reasons for each. "
                            a href={ "/referrals/" (referral) "#allocate" } { "Show those with room first" }
                        } @else {
                            "Suggested professionals, those with room first, with the reasons for each. "
                            a href={ "/referrals/" (referral) "?order=link_first#allocate" } { "Show the school's link professional first, even when full" }
                        }
                    }
                    ol class="person-list" {
                        @for c in &answer.candidates {
                            @let reason_id = format!("override_reason-{}", c.professional_id);
                            li class="person-list__item summary-card" {
                                h3 class="heading-s" { (c.rank) ". " (c.name) }
                                @if !c.placement.is_empty() { p class="body" { (c.placement) } }
                                p class="body" {
                                    "Load: " (format!("{:.0}%", c.load * 100.0)) " of capacity"
                                    @if c.over_capacity { " " (tag("Over capacity", Tone::Red)) }
                                }
                                @if !c.reasons.is_empty() {
                                    ul class="body-s" { @for reason in &c.reasons { li { (reason) } } }
                                }
                                form method="post" action={ "/referrals/" (referral) "/allocate" } {
                                    (csrf_field(session))
                                    input type="hidden" name="professional_id" value=(c.professional_id);
                                    input type="hidden" name="professional_name" value=(c.name);
                                    input type="hidden" name="idempotency_key" value=(fields::new_key());
                                    @if c.over_capacity {
                                        @let typed = extra.typed.iter().find(|(n, _)| *n == reason_id).map_or("", |(_, v)| v.as_str());
                                        (text_input(&reason_id, "Reason for allocating over capacity", Some("Required: they are at or over their caseload limit"), typed, error_for(&extra.errors, &reason_id)))
                                    } @else if let Some(error) = error_for(&extra.errors, &reason_id) {
                                        p class="error-message" id=(reason_id) { (error) }
                                    }
                                    button type="submit" class="button" { "Allocate to " (c.name) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_team_triages_and_the_school_withdraws_before_allocation() {
        let events = |role, status: pb::ReferralStatus| -> Vec<&str> {
            moves(role, status as i32).iter().map(|m| m.event).collect()
        };
        assert_eq!(events(Role::CaseOfficer, pb::ReferralStatus::Submitted), ["accept", "return", "decline"]);
        assert!(events(Role::LaManager, pb::ReferralStatus::Accepted).is_empty());
        assert_eq!(events(Role::Senco, pb::ReferralStatus::Accepted), ["withdraw"]);
        assert!(events(Role::Senco, pb::ReferralStatus::Allocated).is_empty());
        assert!(events(Role::EducationalPsychologist, pb::ReferralStatus::Submitted).is_empty());
    }
}
