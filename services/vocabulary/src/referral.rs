//! The facts every referral carries besides its kind: where it is in its life,
//! how soon the school needs the service to act, and how the parent gave consent
//! (SEND Code of Practice 6.44–6.45: no referral without it). The referrals
//! service owns the rules that move a referral on; these are the words for it.

use crate::either_of;

/// Where a referral is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReferralStatus {
    /// Sent by the school, waiting for the service to triage it.
    Submitted,
    /// Accepted by the service, waiting for a professional.
    Accepted,
    /// Sent back to the school for more information.
    Returned,
    /// Declined by the service, with a reason (closed).
    Declined,
    /// Allocated to a professional, work not yet started.
    Allocated,
    /// The professional is working with the pupil.
    InProgress,
    /// Work finished, with an outcome (closed).
    Closed,
    /// Withdrawn by the school before allocation (closed).
    Withdrawn,
}

impl ReferralStatus {
    /// Every status, in the order a referral usually meets them.
    pub const ALL: [ReferralStatus; 8] = [
        Self::Submitted,
        Self::Accepted,
        Self::Returned,
        Self::Declined,
        Self::Allocated,
        Self::InProgress,
        Self::Closed,
        Self::Withdrawn,
    ];

    /// Stable snake_case code, for storage, the wire and the command line.
    pub fn code(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Accepted => "accepted",
            Self::Returned => "returned",
            Self::Declined => "declined",
            Self::Allocated => "allocated",
            Self::InProgress => "in_progress",
            Self::Closed => "closed",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// For people; reads after "a referral that is …".
    pub fn name(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Accepted => "accepted",
            Self::Returned => "returned for more information",
            Self::Declined => "declined",
            Self::Allocated => "allocated",
            Self::InProgress => "in progress",
            Self::Closed => "closed",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// What the status means, in a phrase for a list of choices.
    pub fn description(self) -> &'static str {
        match self {
            Self::Submitted => "Waiting for the council to look at it",
            Self::Accepted => "Accepted, waiting for allocation",
            Self::Returned => "Sent back to the school for more information",
            Self::Declined => "Declined, with a reason",
            Self::Allocated => "Allocated to a professional",
            Self::InProgress => "Work under way",
            Self::Closed => "Finished, with an outcome",
            Self::Withdrawn => "Withdrawn by the school",
        }
    }

    /// From the stable code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|status| status.code() == code)
            .ok_or_else(|| format!("'{code}' is not a referral status"))
    }

    /// True until the referral is declined, closed or withdrawn; nothing moves it on after that.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Declined | Self::Closed | Self::Withdrawn)
    }

    /// The statuses in which nothing moves a referral on: the professional it
    /// was allocated to no longer reads it, as their access to the pupil ended
    /// with the case.
    pub fn finished() -> impl Iterator<Item = ReferralStatus> {
        Self::ALL.into_iter().filter(|status| !status.is_open())
    }
}

/// How soon the school needs the service to act.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Priority {
    /// In the service's usual order.
    Routine,
    /// Ahead of routine work, e.g. a pupil at risk of exclusion.
    Urgent,
}

impl Priority {
    /// Both priorities.
    pub const ALL: [Priority; 2] = [Self::Routine, Self::Urgent];

    /// `routine` or `urgent`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Routine => "routine",
            Self::Urgent => "urgent",
        }
    }

    /// From the code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|priority| priority.code() == code)
            .ok_or_else(|| format!("'{code}' is not a priority ({})", either_of(Self::ALL.map(Self::code))))
    }
}

/// How the parent (or the young person) gave consent to the referral.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConsentMethod {
    /// The council's consent form, signed.
    SignedForm,
    /// An email from the parent.
    Email,
    /// Said to a member of staff, who recorded it.
    Verbal,
    /// A letter from the parent.
    Letter,
}

impl ConsentMethod {
    /// Every method.
    pub const ALL: [ConsentMethod; 4] = [Self::SignedForm, Self::Email, Self::Verbal, Self::Letter];

    /// `signed_form`, `email`, `verbal` or `letter`.
    pub fn code(self) -> &'static str {
        match self {
            Self::SignedForm => "signed_form",
            Self::Email => "email",
            Self::Verbal => "verbal",
            Self::Letter => "letter",
        }
    }

    /// From the code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL.into_iter().find(|method| method.code() == code).ok_or_else(|| {
            format!("'{code}' is not a way of giving consent ({})", either_of(Self::ALL.map(Self::code)))
        })
    }
}

/// The note a referral's allocation is recorded with on its timeline: who it
/// was allocated to (the professional's person id) and the case, e.g.
/// "allocated to ep-jones (case CASE-12)". The referrals service writes it; the
/// pages read it back with [`allocation_of_note`] to name the professional
/// where the reader may know them.
pub fn allocation_note(professional: &str, case_ref: &str) -> String {
    format!("{ALLOCATED_TO}{professional}{CASE_OPEN}{case_ref})")
}

/// The professional and the case an allocation's note names, if it is one
/// ([`allocation_note`]).
pub fn allocation_of_note(note: &str) -> Option<(&str, &str)> {
    let (professional, case) = note.strip_prefix(ALLOCATED_TO)?.strip_suffix(')')?.split_once(CASE_OPEN)?;
    (!professional.is_empty() && !case.is_empty()).then_some((professional, case))
}

const ALLOCATED_TO: &str = "allocated to ";
const CASE_OPEN: &str = " (case ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allocations_note_reads_back_as_who_and_which_case() {
        let note = allocation_note("ep-jones", "CASE-12");
        assert_eq!(note, "allocated to ep-jones (case CASE-12)");
        assert_eq!(allocation_of_note(&note), Some(("ep-jones", "CASE-12")));
        for other in ["accept", "allocated to  (case CASE-1)", "allocated to ep-1", "allocated to ep-1 (case )"] {
            assert_eq!(allocation_of_note(other), None, "{other}");
        }
    }

    #[test]
    fn statuses_round_trip_and_three_are_closed() {
        for status in ReferralStatus::ALL {
            assert_eq!(ReferralStatus::parse(status.code()), Ok(status));
            assert_eq!(
                status.is_open(),
                !matches!(status, ReferralStatus::Declined | ReferralStatus::Closed | ReferralStatus::Withdrawn)
            );
        }
        assert_eq!(ReferralStatus::InProgress.code(), "in_progress");
        assert_eq!(ReferralStatus::Returned.name(), "returned for more information");
        assert_eq!(ReferralStatus::parse("lost").unwrap_err(), "'lost' is not a referral status");
    }

    #[test]
    fn priorities_and_consent_methods_round_trip_and_name_the_choices_when_refused() {
        for priority in Priority::ALL {
            assert_eq!(Priority::parse(priority.code()), Ok(priority));
        }
        assert_eq!(Priority::parse("soon").unwrap_err(), "'soon' is not a priority (routine or urgent)");
        for method in ConsentMethod::ALL {
            assert_eq!(ConsentMethod::parse(method.code()), Ok(method));
        }
        assert_eq!(
            ConsentMethod::parse(" text ").unwrap_err(),
            "'text' is not a way of giving consent (signed_form, email, verbal or letter)"
        );
    }
}
