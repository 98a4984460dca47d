//! Suggesting who should take a referral (SuggestAllocation): the professionals
//! who may take it, best first, each with the reasons for their place so the
//! manager who allocates can see why and overrule it.
//!
//! Only active professionals who [`can_take`] the kind are ranked. The order
//! ([`SuggestionOrder::RoomFirst`], the default):
//!
//! 1. those with room before those at or over capacity (taking one more case
//!    would exceed their limit), because allocating to a full caseload needs
//!    an override with a reason and puts the work they already hold at risk;
//! 2. then the school's link professional first: they know the school, its
//!    SENCO and its pupils;
//! 3. then the lightest load first, so work spreads evenly;
//! 4. for statutory referrals, at equal load, the more senior EP first
//!    (principal, senior, main grade): the advice is due within 6 weeks;
//! 5. then by id, so the same team always ranks the same way.
//!
//! So a link EP at 140 % of capacity comes after an unlinked EP at 0 %, and
//! says why. A manager who would rather keep the school with its link
//! professional whatever their load asks for [`SuggestionOrder::LinkFirst`],
//! which swaps the first two keys.
//!
//! Each suggestion carries one line saying why it stands where it does
//! ([`Ranked::placement`], e.g. "link educational psychologist for this school,
//! but over capacity (140% of capacity): after everyone with room"), then the
//! detailed reasons. The ranking only suggests: the allocation itself is the
//! manager's choice.

use std::cmp::Ordering;

use super::advice::ADVICE_WEEKS;
use super::professional::{Capacity, EpGrade, ProfessionalRole, ReferralKind, can_take};

/// A professional as the ranking sees them, with their current load.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The professional's id.
    pub id: i64,
    /// Their name, for people.
    pub name: String,
    /// Their role: EP grade or advisory teaching specialism.
    pub role: ProfessionalRole,
    /// False once they have left or are on long leave; inactive professionals are never ranked.
    pub active: bool,
    /// Cases allocated to them and not yet closed.
    pub open_cases: u32,
    /// Their caseload limit.
    pub capacity: Capacity,
    /// Sessions (half-days) of casework they have recorded this term.
    pub sessions_used_this_term: u32,
    /// True when they are a link professional for the referral's school.
    pub linked_to_school: bool,
}

/// How the manager wants the suggestions ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SuggestionOrder {
    /// Those with room first, the school's link professional first among them (the default).
    #[default]
    RoomFirst,
    /// The school's link professional first, even at or over capacity.
    LinkFirst,
}

impl SuggestionOrder {
    /// Both orders, the default first.
    pub const ALL: [SuggestionOrder; 2] = [Self::RoomFirst, Self::LinkFirst];

    /// `room_first` or `link_first`.
    pub fn code(self) -> &'static str {
        match self {
            Self::RoomFirst => "room_first",
            Self::LinkFirst => "link_first",
        }
    }

    /// For people, as a choice on the allocation page.
    pub fn name(self) -> &'static str {
        match self {
            Self::RoomFirst => "professionals with room first",
            Self::LinkFirst => "the school's link professional first, even when full",
        }
    }
}

/// A candidate's place in the suggestion.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    /// The professional's id.
    pub id: i64,
    /// Their name, for people.
    pub name: String,
    /// Their place, from 1.
    pub rank: u32,
    /// Their load: 0.0 with nothing, 1.0 at capacity, more beyond it.
    pub load: f64,
    /// True when taking one more case would exceed capacity: allocation needs an override.
    pub over_capacity: bool,
    /// Why they stand where they do in this order, in one line, for people.
    pub placement: String,
    /// Why they are where they are, for people, most telling first.
    pub reasons: Vec<String>,
}

/// What the capacity counts of this candidate's work: open cases, or sessions used this term.
fn used(candidate: &Candidate) -> u32 {
    match candidate.capacity {
        Capacity::OpenCases(_) => candidate.open_cases,
        Capacity::SessionsPerTerm(_) => candidate.sessions_used_this_term,
    }
}

/// How full the candidate's caseload is: open cases over their limit, or
/// sessions used this term over sessions a term. 1.0 is full. A zero capacity
/// (which [`Capacity::new`] refuses) counts as full, or as the amount used when
/// that is more, so the load is always a finite number.
pub fn load(candidate: &Candidate) -> f64 {
    let used = used(candidate);
    match candidate.capacity.amount() {
        0 => f64::from(used.max(1)),
        amount => f64::from(used) / f64::from(amount),
    }
}

/// Whether taking one more case would exceed the candidate's capacity: their
/// open cases are already at the limit, or this term's sessions are all used.
pub fn is_over_capacity(candidate: &Candidate) -> bool {
    used(candidate) >= candidate.capacity.amount()
}

/// The active candidates who can take `kind`, best first in `order` (the
/// module doc), each with its rank, placement and reasons. Others are left out.
pub fn rank(candidates: &[Candidate], kind: ReferralKind, order: SuggestionOrder) -> Vec<Ranked> {
    let mut eligible: Vec<&Candidate> =
        candidates.iter().filter(|candidate| candidate.active && can_take(candidate.role, kind)).collect();
    eligible.sort_by(|a, b| compare(a, b, kind, order));
    eligible
        .into_iter()
        .zip(1..)
        .map(|(candidate, rank)| Ranked {
            id: candidate.id,
            name: candidate.name.clone(),
            rank,
            load: load(candidate),
            over_capacity: is_over_capacity(candidate),
            placement: placement(candidate, order),
            reasons: reasons(candidate, kind),
        })
        .collect()
}

/// `Less` when `a` should be offered before `b` for a referral of `kind` in `order`.
fn compare(a: &Candidate, b: &Candidate, kind: ReferralKind, order: SuggestionOrder) -> Ordering {
    let seniority = || if kind.is_statutory() { grade(b.role).cmp(&grade(a.role)) } else { Ordering::Equal };
    let room = || is_over_capacity(a).cmp(&is_over_capacity(b));
    let link = || b.linked_to_school.cmp(&a.linked_to_school);
    let first_two = match order {
        SuggestionOrder::RoomFirst => room().then_with(link),
        SuggestionOrder::LinkFirst => link().then_with(room),
    };
    first_two.then_with(|| load(a).total_cmp(&load(b))).then_with(seniority).then_with(|| a.id.cmp(&b.id))
}

/// An EP's grade; `None` (least senior) for an advisory teacher.
fn grade(role: ProfessionalRole) -> Option<EpGrade> {
    match role {
        ProfessionalRole::EducationalPsychologist(grade) => Some(grade),
        ProfessionalRole::AdvisoryTeacher(_) => None,
    }
}

/// Why the candidate stands where they do in `order`: the first two keys in
/// words, with their load, e.g. "link educational psychologist for this school;
/// 140% of capacity: after everyone with room".
fn placement(candidate: &Candidate, order: SuggestionOrder) -> String {
    let percent = format!("{}% of capacity", (load(candidate) * 100.0).round());
    let link = format!("link {} for this school", candidate.role.title());
    match (order, candidate.linked_to_school, is_over_capacity(candidate)) {
        (SuggestionOrder::RoomFirst, true, false) => format!("{link}; has room ({percent})"),
        (SuggestionOrder::RoomFirst, true, true) => format!("{link}; {percent}: after everyone with room"),
        (SuggestionOrder::RoomFirst, false, false) => format!("has room ({percent})"),
        (SuggestionOrder::RoomFirst, false, true) => format!("{percent}: after everyone with room"),
        (SuggestionOrder::LinkFirst, true, _) => format!("{link}: first, as asked; {percent}"),
        (SuggestionOrder::LinkFirst, false, false) => format!("not this school's link; has room ({percent})"),
        (SuggestionOrder::LinkFirst, false, true) => {
            format!("not this school's link; {percent}: after those with room")
        }
    }
}

/// The reasons shown with a candidate: what they take, the link, the load, capacity, and the statutory clock.
fn reasons(candidate: &Candidate, kind: ReferralKind) -> Vec<String> {
    let takes = match kind {
        ReferralKind::EducationalPsychology => "takes educational psychology referrals",
        ReferralKind::EhcNeedsAssessment => "takes EHC needs assessment advice",
        ReferralKind::AdvisoryTeacher(_) => "takes referrals in their specialism",
    };
    let mut reasons = vec![format!("{}: {takes}", candidate.role.name())];
    if candidate.linked_to_school {
        reasons.push(format!("link {} for this school", candidate.role.title()));
    }
    let load = load(candidate);
    let capacity = candidate.capacity;
    reasons.push(format!(
        "load {} of {} {} ({}%)",
        used(candidate),
        capacity.amount(),
        capacity.unit(),
        (load * 100.0).round()
    ));
    if is_over_capacity(candidate) {
        let state = if load > 1.0 { "over capacity" } else { "at capacity" };
        reasons.push(format!("{state}: allocation needs an override with a reason"));
    }
    if kind.is_statutory() {
        reasons.push(format!(
            "statutory: advice due within {ADVICE_WEEKS} weeks of being asked for; ranked ahead of non-statutory work"
        ));
    }
    reasons
}

#[cfg(test)]
mod tests;
