//! A request for an EHC needs assessment as the council receives it, by any
//! route. A parent, a young person over compulsory school age, or a person
//! acting for a school or post-16 institution may request one (Children and
//! Families Act 2014, s. 36(1)); anyone else, health and social care among them,
//! may bring a child to the council's attention (s. 24; CoP 9.16), and the council
//! records that as a request too. The clock starts on the day the council
//! receives it (reg. 4(1); CoP 9.14), whatever day it is keyed in.
//!
//! A request made by someone other than the parent or young person is made with
//! their knowledge and agreement (CoP 9.8-9.9): that agreement is recorded as
//! consent. A parent's or young person's own request is their agreement, and
//! carries no separate consent.
//!
//! The SEN2 return (2024 schema, `Requests`) records of the requester only
//! whether the young person made it (`RYA`): [`Requester::made_by_young_person`].

use chrono::NaiveDate;
use sen_platform::ids::Urn;

use super::parse_code;
use crate::domain::kind::{BroadArea, Consent};

/// A request for an EHC needs assessment as a case officer records it, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The pupil.
    pub pupil_id: i64,
    /// The school they are on roll at.
    pub school: Urn,
    /// The day the council received it: day 0 of the clock.
    pub received_on: NaiveDate,
    /// Who made it.
    pub requester: Requester,
    /// How it came.
    pub received_via: ReceivedVia,
    /// Who made it, in words.
    pub requester_name: String,
    /// Broad areas of need concerned.
    pub broad_areas: Vec<BroadArea>,
    /// What the request says.
    pub concern: String,
    /// What the school or setting has tried, where the request says.
    pub tried: String,
    /// The parent's or young person's agreement to a request made by someone
    /// else; none for their own request ([`Requester::needs_consent`]).
    pub consent: Option<Consent>,
}

/// Who made the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Requester {
    /// The child's parent.
    Parent,
    /// The young person themselves (over compulsory school age).
    YoungPerson,
    /// The school, early-years setting or post-16 institution (a SENCO's referral is one).
    School,
    /// A health professional.
    Health,
    /// Children's social care.
    SocialCare,
    /// Anyone else (e.g. a youth offending team).
    Other,
}

impl Requester {
    /// Every requester.
    pub const ALL: [Requester; 6] =
        [Self::Parent, Self::YoungPerson, Self::School, Self::Health, Self::SocialCare, Self::Other];

    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Parent => "parent",
            Self::YoungPerson => "young_person",
            Self::School => "school",
            Self::Health => "health",
            Self::SocialCare => "social_care",
            Self::Other => "other",
        }
    }

    /// For people.
    pub fn name(self) -> &'static str {
        match self {
            Self::Parent => "parent",
            Self::YoungPerson => "young person",
            Self::School => "school or setting",
            Self::Health => "health",
            Self::SocialCare => "social care",
            Self::Other => "other",
        }
    }

    /// From the code.
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_code(
            &Self::ALL,
            s,
            Self::code,
            "a requester (parent, young_person, school, health, social_care or other)",
        )
    }

    /// Whether the parent's or young person's agreement must be recorded as
    /// consent: for every request but their own (CoP 9.8-9.9).
    pub fn needs_consent(self) -> bool {
        !matches!(self, Self::Parent | Self::YoungPerson)
    }

    /// SEN2's `RYA`: the request was made by the young person.
    pub fn made_by_young_person(self) -> bool {
        self == Self::YoungPerson
    }
}

/// How the request reached the council.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReceivedVia {
    /// A SENCO's referral through the platform's own form (received the day it is submitted).
    ReferralForm,
    /// A letter.
    Letter,
    /// An email.
    Email,
    /// The council's online request form.
    OnlineForm,
    /// A telephone call, written up by the council.
    Phone,
    /// In person.
    InPerson,
    /// An open request carried over from the council's earlier system.
    Migrated,
}

impl ReceivedVia {
    /// Every route.
    pub const ALL: [ReceivedVia; 7] =
        [Self::ReferralForm, Self::Letter, Self::Email, Self::OnlineForm, Self::Phone, Self::InPerson, Self::Migrated];
    /// The routes a case officer records a request by (the referral form records itself).
    pub const RECORDED: [ReceivedVia; 6] =
        [Self::Letter, Self::Email, Self::OnlineForm, Self::Phone, Self::InPerson, Self::Migrated];

    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::ReferralForm => "referral_form",
            Self::Letter => "letter",
            Self::Email => "email",
            Self::OnlineForm => "online_form",
            Self::Phone => "phone",
            Self::InPerson => "in_person",
            Self::Migrated => "migrated",
        }
    }

    /// For people.
    pub fn name(self) -> &'static str {
        match self {
            Self::ReferralForm => "the referral form",
            Self::Letter => "letter",
            Self::Email => "email",
            Self::OnlineForm => "online form",
            Self::Phone => "telephone",
            Self::InPerson => "in person",
            Self::Migrated => "migrated from an earlier system",
        }
    }

    /// A route a case officer records a request by, from its code.
    pub fn parse_recorded(s: &str) -> Result<Self, String> {
        parse_code(
            &Self::RECORDED,
            s,
            Self::code,
            "a route a request is recorded by (letter, email, online_form, phone, in_person or migrated)",
        )
    }

    /// Any route, from its code (as stored).
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_code(&Self::ALL, s, Self::code, "a route a request came by")
    }
}

/// The day the Regulations came into force (1 September 2014): no request under
/// them was received before it.
pub fn regulations_in_force() -> NaiveDate {
    NaiveDate::from_ymd_opt(2014, 9, 1).unwrap_or(NaiveDate::MIN)
}

/// Checks the day a request was received, as recorded on `today`: not in the
/// future (the clock cannot start before the request exists), and not before the
/// Regulations came into force. Any earlier day is fine: a letter keyed in days
/// later, or an open case migrated from an older system.
pub fn check_received_on(received_on: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if received_on > today {
        Err(format!("{received_on} is in the future"))
    } else if received_on < regulations_in_force() {
        Err(format!("{received_on} is before the 2014 Regulations came into force (1 September 2014)"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn only_a_request_by_someone_other_than_the_parent_or_young_person_needs_their_consent() {
        assert!(!Requester::Parent.needs_consent());
        assert!(!Requester::YoungPerson.needs_consent());
        for other in [Requester::School, Requester::Health, Requester::SocialCare, Requester::Other] {
            assert!(other.needs_consent(), "{other:?}");
        }
        assert!(Requester::YoungPerson.made_by_young_person() && !Requester::Parent.made_by_young_person());
    }

    #[test]
    fn requesters_and_routes_read_back_from_their_codes() {
        for requester in Requester::ALL {
            assert_eq!(Requester::parse(requester.code()), Ok(requester));
        }
        for via in ReceivedVia::ALL {
            assert_eq!(ReceivedVia::parse(via.code()), Ok(via));
        }
        assert!(Requester::parse("grandparent").unwrap_err().contains("parent, young_person"));
        assert!(
            ReceivedVia::parse_recorded("referral_form").is_err(),
            "a case officer does not record a request as the SENCO's form"
        );
    }

    #[test]
    fn a_request_received_today_or_earlier_is_fine_but_not_tomorrow() {
        let today = d(2027, 2, 10);
        assert_eq!(check_received_on(d(2027, 2, 9), today), Ok(()));
        assert_eq!(check_received_on(today, today), Ok(()));
        assert_eq!(check_received_on(d(2027, 2, 11), today), Err("2027-02-11 is in the future".into()));
        assert_eq!(check_received_on(d(2021, 3, 1), today), Ok(()), "a migrated case from years ago");
        assert!(check_received_on(d(2014, 8, 31), today).is_err());
        assert_eq!(check_received_on(d(2014, 9, 1), today), Ok(()));
    }
}
