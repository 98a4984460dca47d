//! Whether a referral may be allocated to a professional, and the dates the case
//! starts with: the single check the allocation makes before it reserves
//! anything.
//!
//! The referral must be accepted (triaged, and waiting for a professional); the
//! professional must take its kind ([`super::can_take`]); and a professional
//! whose limit is sessions a term must have sessions left this term, unless the
//! manager gives a reason to go past it ([`check_sessions_left`]). The api asks
//! this before it reserves anything, on figures it read a moment earlier; the
//! store asks [`check_sessions_left`] again on figures read inside the
//! transaction that reserves the case, which is what holds when allocations
//! run at once. A limit in open cases is not judged here: the store takes the
//! case onto the professional's count in one conditional statement, so two
//! allocations at once cannot both pass a full professional.
//!
//! The case is dated from when the council received the referral (for an EHC
//! needs assessment request, the day its statutory clock started). The
//! professional's advice on a statutory referral is not dated from it: it is
//! due 6 weeks after the council asks for it (reg. 8(1); [`super::advice`]).

use chrono::NaiveDate;
use thiserror::Error;

use super::{Candidate, Capacity, ProfessionalRole, ReferralKind, can_take};

/// Where the referral is in the referrals service's lifecycle, as allocation sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReferralState {
    /// Accepted and waiting for a professional: the one state allocation takes.
    Accepted,
    /// Any other, by the referrals service's name for it (e.g. `REFERRAL_STATUS_ALLOCATED`).
    Other(String),
}

/// A referral offered for allocation, as the referrals service shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferedReferral {
    /// The referral (referrals service id).
    pub id: i64,
    /// Where it is in its lifecycle.
    pub state: ReferralState,
    /// What it asks for.
    pub kind: ReferralKind,
    /// When the council received it, if the referrals service says.
    pub received_on: Option<NaiveDate>,
}

/// The dates an allowed allocation gives the case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaseDates {
    /// When the referral was received: as the referrals service says, or today.
    pub received_on: NaiveDate,
}

/// Why an allocation is refused; each reads as the answer to the manager.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AllocationRefused {
    /// The referral is not waiting for a professional.
    #[error("referral {referral} is {status}; only accepted referrals are allocated")]
    NotAccepted {
        /// The referral.
        referral: i64,
        /// Its status, as the referrals service names it.
        status: String,
    },
    /// The professional does not do this kind of work.
    #[error("{name} ({}) does not take {} referrals", .role.name(), .kind.code())]
    NotTheirWork {
        /// The professional's name.
        name: String,
        /// Their role.
        role: ProfessionalRole,
        /// The referral's kind.
        kind: ReferralKind,
    },
    /// The professional's sessions this term are used up, and no override reason was given.
    #[error("{name} has used {used} of {sessions} sessions this term: give an override reason to allocate anyway")]
    SessionsUsedUp {
        /// The professional's name.
        name: String,
        /// Sessions recorded on their cases this term.
        used: u32,
        /// Their limit, in sessions a term.
        sessions: u32,
    },
}

/// Checks the allocation of `referral` to the professional `to` on `today`;
/// `overridden` when the manager gave a reason to go past capacity. The case's
/// dates when allowed; otherwise the first reason it is not, in the order the
/// module doc gives them.
pub fn check_allocation(
    referral: &OfferedReferral,
    to: &Candidate,
    overridden: bool,
    today: NaiveDate,
) -> Result<CaseDates, AllocationRefused> {
    if let ReferralState::Other(status) = &referral.state {
        return Err(AllocationRefused::NotAccepted { referral: referral.id, status: status.clone() });
    }
    if !can_take(to.role, referral.kind) {
        return Err(AllocationRefused::NotTheirWork { name: to.name.clone(), role: to.role, kind: referral.kind });
    }
    check_sessions_left(&to.name, to.capacity, to.sessions_used_this_term, overridden)?;
    let received_on = referral.received_on.unwrap_or(today);
    Ok(CaseDates { received_on })
}

/// Whether the professional `name`, with `capacity` and `used` sessions recorded
/// this term, may take another case: refused when their limit is sessions a
/// term and those are all used, unless `overridden`. A limit in open cases
/// always passes here (the store's reservation judges it).
pub fn check_sessions_left(
    name: &str,
    capacity: Capacity,
    used: u32,
    overridden: bool,
) -> Result<(), AllocationRefused> {
    match capacity {
        Capacity::SessionsPerTerm(sessions) if used >= sessions && !overridden => {
            Err(AllocationRefused::SessionsUsedUp { name: name.to_owned(), used, sessions })
        }
        Capacity::SessionsPerTerm(_) | Capacity::OpenCases(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EpGrade, Specialism};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn referral(state: ReferralState, kind: ReferralKind) -> OfferedReferral {
        OfferedReferral { id: 41, state, kind, received_on: Some(d(2026, 11, 24)) }
    }

    fn ep(grade: EpGrade, capacity: Capacity, used: u32) -> Candidate {
        Candidate {
            id: 1,
            name: "Dr Ana".into(),
            role: ProfessionalRole::EducationalPsychologist(grade),
            active: true,
            open_cases: 0,
            capacity,
            sessions_used_this_term: used,
            linked_to_school: false,
        }
    }

    const TODAY: (i32, u32, u32) = (2026, 12, 1);

    fn check(referral: &OfferedReferral, to: &Candidate, overridden: bool) -> Result<CaseDates, AllocationRefused> {
        check_allocation(referral, to, overridden, d(TODAY.0, TODAY.1, TODAY.2))
    }

    #[test]
    fn only_an_accepted_referral_is_allocated() {
        let allocated =
            referral(ReferralState::Other("REFERRAL_STATUS_ALLOCATED".into()), ReferralKind::EducationalPsychology);
        let refused = check(&allocated, &ep(EpGrade::MainGrade, Capacity::OpenCases(10), 0), true).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "referral 41 is REFERRAL_STATUS_ALLOCATED; only accepted referrals are allocated",
            "an override reason is for capacity, not for the referral's state"
        );
    }

    #[test]
    fn the_professional_must_take_the_kind() {
        let statutory = referral(ReferralState::Accepted, ReferralKind::EhcNeedsAssessment);
        let refused = check(&statutory, &ep(EpGrade::Trainee, Capacity::OpenCases(10), 0), false).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Dr Ana (educational psychologist (trainee)) does not take ehc_needs_assessment referrals"
        );
        let hearing = referral(ReferralState::Accepted, ReferralKind::AdvisoryTeacher(Specialism::SensoryHearing));
        assert!(matches!(
            check(&hearing, &ep(EpGrade::Senior, Capacity::OpenCases(10), 0), true),
            Err(AllocationRefused::NotTheirWork { .. })
        ));
    }

    #[test]
    fn sessions_used_up_this_term_refuse_unless_overridden() {
        let offered = referral(ReferralState::Accepted, ReferralKind::EducationalPsychology);
        let full = ep(EpGrade::MainGrade, Capacity::SessionsPerTerm(12), 12);
        assert_eq!(
            check(&offered, &full, false).unwrap_err().to_string(),
            "Dr Ana has used 12 of 12 sessions this term: give an override reason to allocate anyway"
        );
        assert!(check(&offered, &full, true).is_ok(), "an override reason allocates anyway");
        assert!(check(&offered, &ep(EpGrade::MainGrade, Capacity::SessionsPerTerm(12), 11), false).is_ok());
    }

    #[test]
    fn open_cases_are_left_to_the_stores_reservation() {
        let offered = referral(ReferralState::Accepted, ReferralKind::EducationalPsychology);
        let mut busy = ep(EpGrade::MainGrade, Capacity::OpenCases(1), 99);
        busy.open_cases = 5;
        assert!(check(&offered, &busy, false).is_ok());
    }

    #[test]
    fn the_case_is_dated_from_receipt_or_today() {
        let statutory = referral(ReferralState::Accepted, ReferralKind::EhcNeedsAssessment);
        let dates = check(&statutory, &ep(EpGrade::Senior, Capacity::OpenCases(10), 0), false).unwrap();
        assert_eq!(dates, CaseDates { received_on: d(2026, 11, 24) });
        let mut undated = referral(ReferralState::Accepted, ReferralKind::EducationalPsychology);
        undated.received_on = None;
        let dates = check(&undated, &ep(EpGrade::Senior, Capacity::OpenCases(10), 0), false).unwrap();
        assert_eq!(dates, CaseDates { received_on: d(TODAY.0, TODAY.1, TODAY.2) });
    }
}
