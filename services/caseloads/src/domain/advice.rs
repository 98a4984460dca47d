//! The advice a council asks for in an EHC needs assessment, and its own clock.
//!
//! When the council assesses, it must seek advice and information on the
//! child's needs from the people reg. 6(1) of the SEN and Disability
//! Regulations 2014 lists: the parent or young person (a), educational advice
//! (b), medical advice from a health care professional (c), psychological
//! advice from an educational psychologist (d), social care advice (e), and
//! anyone else the council thinks appropriate, advice on preparing for
//! adulthood from Year 9, or anyone the parent reasonably asks for (f)–(h).
//! Each request for (b)–(h) runs its own clock: reg. 8(1) says the person asked
//! must comply within 6 weeks of the date of the request, not of the EHC
//! request itself. A request asked on Monday 2 November 2026 is due on Monday
//! 14 December 2026; it is late from the 15th. School holidays do not move the
//! date (reg. 8(2) lists the only exceptions, which the referrals service
//! records on the assessment).
//!
//! The kinds are codes ([`AdviceKind`]); the parent's own views (a) are not a
//! request with a deadline and are not recorded here; (f)–(h) are `other`.

use chrono::{NaiveDate, TimeDelta};

/// Weeks from asking for advice to its due date (reg. 8(1)).
pub const ADVICE_WEEKS: i64 = 6;

/// Which advice was asked for, by reg. 6(1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdviceKind {
    /// Educational advice and information, usually from the head teacher (reg. 6(1)(b)).
    Educational,
    /// Medical advice and information from a health care professional (reg. 6(1)(c)).
    Health,
    /// Psychological advice and information from an educational psychologist (reg. 6(1)(d)).
    Psychological,
    /// Advice and information in relation to social care (reg. 6(1)(e)).
    SocialCare,
    /// Anyone else: whom the council thinks appropriate, preparation for
    /// adulthood from Year 9, or whom the parent reasonably asks for (reg. 6(1)(f)–(h)).
    Other,
}

impl AdviceKind {
    /// Every kind, in the order of reg. 6(1).
    pub const ALL: [AdviceKind; 5] =
        [Self::Educational, Self::Health, Self::Psychological, Self::SocialCare, Self::Other];

    /// Stable snake_case code, for storage and the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::Educational => "educational",
            Self::Health => "health",
            Self::Psychological => "psychological",
            Self::SocialCare => "social_care",
            Self::Other => "other",
        }
    }

    /// For people, e.g. "social care advice".
    pub fn name(self) -> &'static str {
        match self {
            Self::Educational => "educational advice",
            Self::Health => "health advice",
            Self::Psychological => "psychological advice",
            Self::SocialCare => "social care advice",
            Self::Other => "other advice",
        }
    }

    /// From the stable code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL.into_iter().find(|kind| kind.code() == code).ok_or_else(|| {
            format!("'{code}' is not a kind of advice (educational, health, psychological, social_care or other)")
        })
    }
}

/// The last day for advice asked for on `asked`: 6 weeks later (reg. 8(1)).
pub fn advice_due(asked: NaiveDate) -> NaiveDate {
    asked.checked_add_signed(TimeDelta::weeks(ADVICE_WEEKS)).unwrap_or(NaiveDate::MAX)
}

/// Where one request for advice stands on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdviceState {
    /// Asked for, not yet in, and not yet past its due date.
    Awaited,
    /// Past its due date and not yet in.
    Overdue,
    /// In by its due date.
    ReceivedOnTime,
    /// In, but after its due date.
    ReceivedLate,
}

impl AdviceState {
    /// Stable snake_case code, for the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::Awaited => "awaited",
            Self::Overdue => "overdue",
            Self::ReceivedOnTime => "received_on_time",
            Self::ReceivedLate => "received_late",
        }
    }

    /// Whether the advice missed its date: overdue now, or in after it.
    pub fn is_late(self) -> bool {
        matches!(self, Self::Overdue | Self::ReceivedLate)
    }
}

/// Where advice due on `due` stands on `today`, given when it came in; the due
/// day itself is on time.
pub fn advice_state(due: NaiveDate, received: Option<NaiveDate>, today: NaiveDate) -> AdviceState {
    match received {
        Some(on) if on <= due => AdviceState::ReceivedOnTime,
        Some(_) => AdviceState::ReceivedLate,
        None if today > due => AdviceState::Overdue,
        None => AdviceState::Awaited,
    }
}

/// Whether advice was asked for on a day it could have been: not before the
/// council received the EHC request (there was nothing to assess), and not in
/// the future. The message names what is wrong.
pub fn check_asked(asked: NaiveDate, request_received: NaiveDate, today: NaiveDate) -> Result<NaiveDate, String> {
    if asked > today {
        return Err(format!("{asked} is in the future; give the day the advice was asked for"));
    }
    if asked < request_received {
        return Err(format!(
            "{asked} is before the EHC needs assessment request was received ({request_received}); advice is asked \
             for after it"
        ));
    }
    Ok(asked)
}

/// Whether advice asked for on `asked` could have come in on `received`: not
/// before it was asked for, and not in the future.
pub fn check_received(received: NaiveDate, asked: NaiveDate, today: NaiveDate) -> Result<NaiveDate, String> {
    if received > today {
        return Err(format!("{received} is in the future; give the day the advice came in"));
    }
    if received < asked {
        return Err(format!("{received} is before the advice was asked for ({asked})"));
    }
    Ok(received)
}

#[cfg(test)]
mod tests;
