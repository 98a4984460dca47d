//! The life of a referral, as a state machine. A school submits it; the council's
//! service accepts it, returns it for more information (the school then resubmits
//! it) or declines it; an accepted referral is allocated to a professional (and may
//! be re-allocated to another), who starts work and closes it with an outcome. The
//! school may withdraw its referral until it is allocated; after that, the
//! professional closes it.
//!
//! Every status change goes through [`next_status`], so this table is the whole
//! of the rule:
//!
//! | from                          | event    | to                               |
//! |-------------------------------|----------|----------------------------------|
//! | submitted                     | accept   | accepted                         |
//! | submitted                     | return   | returned                         |
//! | submitted                     | decline  | declined                         |
//! | returned                      | resubmit | submitted                        |
//! | accepted                      | allocate | allocated                        |
//! | allocated                     | allocate | allocated (another professional) |
//! | in progress                   | allocate | allocated (reassigned)           |
//! | allocated                     | start    | in progress                      |
//! | allocated                     | close    | closed                           |
//! | in progress                   | close    | closed                           |
//! | submitted, returned, accepted | withdraw | withdrawn                        |

use thiserror::Error;

/// Where a referral is in its life: the vocabulary's status, whose codes and
/// names every service and page shares; this module adds how it moves on.
pub use sen_vocabulary::ReferralStatus as Status;

/// Something that happens to a referral.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// The service accepts the referral.
    Accept,
    /// The service sends it back to the school for more information.
    Return,
    /// The school sends a returned referral back, with what was asked for.
    Resubmit,
    /// The service declines it.
    Decline,
    /// The service allocates it to a professional, or to another one.
    Allocate,
    /// The professional starts work.
    Start,
    /// The professional closes it with an outcome.
    Close,
    /// The school withdraws it.
    Withdraw,
}

impl Event {
    /// Every event.
    pub const ALL: [Event; 8] = [
        Self::Accept,
        Self::Return,
        Self::Resubmit,
        Self::Decline,
        Self::Allocate,
        Self::Start,
        Self::Close,
        Self::Withdraw,
    ];

    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Return => "return",
            Self::Resubmit => "resubmit",
            Self::Decline => "decline",
            Self::Allocate => "allocate",
            Self::Start => "start",
            Self::Close => "close",
            Self::Withdraw => "withdraw",
        }
    }

    /// The verb, for people; reads in "cannot … a referral".
    pub fn name(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Return => "return",
            Self::Resubmit => "resubmit",
            Self::Decline => "decline",
            Self::Allocate => "allocate",
            Self::Start => "start work on",
            Self::Close => "close",
            Self::Withdraw => "withdraw",
        }
    }

    /// From the stable code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|event| event.code() == code)
            .ok_or_else(|| format!("'{code}' is not a referral event"))
    }
}

/// An event the referral's current status does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
#[error("cannot {} a referral that is {}", .event.name(), .from.name())]
pub struct IllegalTransition {
    /// The status the referral is in.
    pub from: Status,
    /// What was attempted.
    pub event: Event,
}

/// The status after `event`, or why it cannot happen (the table in the module doc).
pub fn next_status(from: Status, event: Event) -> Result<Status, IllegalTransition> {
    use Event as E;
    use Status as S;
    match (from, event) {
        (S::Submitted, E::Accept) => Ok(S::Accepted),
        (S::Submitted, E::Return) => Ok(S::Returned),
        (S::Submitted, E::Decline) => Ok(S::Declined),
        (S::Returned, E::Resubmit) => Ok(S::Submitted),
        // Re-allocation to another professional keeps (or puts) the referral
        // allocated: the new professional starts the work afresh.
        (S::Accepted | S::Allocated | S::InProgress, E::Allocate) => Ok(S::Allocated),
        (S::Allocated, E::Start) => Ok(S::InProgress),
        // An allocated referral may close without work starting, e.g. the pupil left.
        (S::Allocated | S::InProgress, E::Close) => Ok(S::Closed),
        // Once a professional holds it, the school asks them to close it instead.
        (S::Submitted | S::Returned | S::Accepted, E::Withdraw) => Ok(S::Withdrawn),
        _ => Err(IllegalTransition { from, event }),
    }
}

/// The events the status allows, in [`Event::ALL`] order: what to offer people.
pub fn allowed_events(from: Status) -> Vec<Event> {
    Event::ALL.into_iter().filter(|&event| next_status(from, event).is_ok()).collect()
}

/// What the note on an event must say, when the event needs one: a decline gives
/// its reason, a return what more information is needed, a close its outcome.
pub fn note_required(event: Event) -> Option<&'static str> {
    match event {
        Event::Decline => Some("reason"),
        Event::Return => Some("what more information is needed"),
        Event::Close => Some("outcome"),
        Event::Accept | Event::Resubmit | Event::Allocate | Event::Start | Event::Withdraw => None,
    }
}

/// The note `event` is recorded with: `note` trimmed, or the event's name when
/// it is blank and the event needs none; what is wrong when the event needs a
/// note ([`note_required`]) and it is blank.
pub fn event_note(event: Event, note: &str) -> Result<String, String> {
    let note = note.trim();
    match note_required(event) {
        Some(what) if note.is_empty() => Err(format!("is required: {what}")),
        _ if note.is_empty() => Ok(event.name().to_owned()),
        _ => Ok(note.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Event as E;
    use Status as S;

    /// The legal transitions, written out again independently of `next_status`.
    const LEGAL: [(Status, Event, Status); 13] = [
        (S::Submitted, E::Accept, S::Accepted),
        (S::Submitted, E::Return, S::Returned),
        (S::Returned, E::Resubmit, S::Submitted),
        (S::Submitted, E::Decline, S::Declined),
        (S::Accepted, E::Allocate, S::Allocated),
        (S::Allocated, E::Allocate, S::Allocated),
        (S::InProgress, E::Allocate, S::Allocated),
        (S::Allocated, E::Start, S::InProgress),
        (S::InProgress, E::Close, S::Closed),
        (S::Allocated, E::Close, S::Closed),
        (S::Submitted, E::Withdraw, S::Withdrawn),
        (S::Returned, E::Withdraw, S::Withdrawn),
        (S::Accepted, E::Withdraw, S::Withdrawn),
    ];

    #[test]
    fn every_status_and_event_pair_follows_the_table() {
        for from in Status::ALL {
            for event in Event::ALL {
                let expected = LEGAL.iter().find(|(f, e, _)| (*f, *e) == (from, event)).map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(next_status(from, event), Ok(to), "{from:?} --{event:?}-->"),
                    None => assert_eq!(
                        next_status(from, event),
                        Err(IllegalTransition { from, event }),
                        "{from:?} --{event:?}--> should be illegal"
                    ),
                }
            }
        }
    }

    #[test]
    fn closed_statuses_allow_nothing_and_open_ones_allow_something() {
        for status in Status::ALL {
            assert_eq!(allowed_events(status).is_empty(), !status.is_open(), "{status:?}");
        }
        assert!(!S::Declined.is_open());
        assert!(!S::Closed.is_open());
        assert!(!S::Withdrawn.is_open());
        assert!(S::InProgress.is_open());
    }

    #[test]
    fn the_school_can_withdraw_only_until_allocation() {
        assert_eq!(allowed_events(S::Accepted), [E::Allocate, E::Withdraw]);
        assert_eq!(allowed_events(S::Allocated), [E::Allocate, E::Start, E::Close]);
        assert!(next_status(S::Allocated, E::Withdraw).is_err());
        assert!(next_status(S::InProgress, E::Withdraw).is_err());
    }

    #[test]
    fn a_returned_referral_goes_back_to_triage_when_resubmitted() {
        assert_eq!(allowed_events(S::Returned), [E::Resubmit, E::Withdraw]);
        assert_eq!(next_status(S::Returned, E::Resubmit), Ok(S::Submitted));
        assert!(next_status(S::Returned, E::Accept).is_err(), "the school must resubmit first");
    }

    #[test]
    fn illegal_transitions_name_the_current_state() {
        let message = |from, event| next_status(from, event).unwrap_err().to_string();
        assert_eq!(message(S::Returned, E::Accept), "cannot accept a referral that is returned for more information");
        assert_eq!(message(S::InProgress, E::Start), "cannot start work on a referral that is in progress");
        assert_eq!(message(S::Submitted, E::Start), "cannot start work on a referral that is submitted");
        assert_eq!(message(S::Closed, E::Close), "cannot close a referral that is closed");
        for from in Status::ALL {
            for event in Event::ALL {
                if let Err(illegal) = next_status(from, event) {
                    assert!(illegal.to_string().ends_with(from.name()), "{illegal}");
                }
            }
        }
    }

    #[test]
    fn declines_returns_and_closes_need_a_note() {
        assert_eq!(note_required(E::Decline), Some("reason"));
        assert_eq!(note_required(E::Return), Some("what more information is needed"));
        assert_eq!(note_required(E::Close), Some("outcome"));
        for event in [E::Accept, E::Resubmit, E::Allocate, E::Start, E::Withdraw] {
            assert_eq!(note_required(event), None, "{event:?}");
        }
    }

    #[test]
    fn an_event_is_recorded_with_its_note_or_its_name() {
        assert_eq!(event_note(E::Decline, "  Not an EP matter "), Ok("Not an EP matter".to_owned()));
        assert_eq!(event_note(E::Decline, " "), Err("is required: reason".to_owned()));
        assert_eq!(event_note(E::Close, ""), Err("is required: outcome".to_owned()));
        assert_eq!(event_note(E::Accept, "  "), Ok("accept".to_owned()), "no note needed: the event's name");
        assert_eq!(event_note(E::Start, ""), Ok("start work on".to_owned()));
        assert_eq!(event_note(E::Withdraw, "Family moved away"), Ok("Family moved away".to_owned()));
    }

    #[test]
    fn codes_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.code()), Ok(status));
        }
        for event in Event::ALL {
            assert_eq!(Event::parse(event.code()), Ok(event));
        }
        assert_eq!(S::InProgress.code(), "in_progress");
        assert_eq!(S::InProgress.name(), "in progress");
        assert!(Status::parse("in progress").is_err());
        assert!(Event::parse("reopen").is_err());
    }
}
