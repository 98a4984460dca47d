//! The caseloads domain: who the council's EPs and advisory teachers are and
//! which referrals each may take (`professional`), who to suggest for a
//! referral and why (`ranking`), whether a referral may be allocated to one of
//! them and the dates the case starts with (`allocation`), a case's life from
//! allocation to closure (`case`), what they record against a case
//! (`activity`), and how a term's EP time is shared among schools
//! (`allocation_model`), the advice asked for in an EHC needs assessment and
//! its own 6-week clock (`advice`), all as pure functions with dates passed in. No I/O
//! here; the service's API parses wire input into these types and its store
//! persists them.

mod activity;
mod advice;
mod allocation;
mod allocation_model;
mod case;
mod professional;
mod ranking;

pub use activity::{
    ActivityKind, MAX_SESSIONS_PER_ACTIVITY, NOTE_MAX_CHARS, check_note, check_sessions,
    counts_against_school_allocation,
};
pub use advice::{ADVICE_WEEKS, AdviceKind, AdviceState, advice_due, advice_state, check_asked, check_received};
pub use allocation::{
    AllocationRefused, CaseDates, OfferedReferral, ReferralState, check_allocation, check_sessions_left,
};
pub use allocation_model::{
    AcademicTerm, MAX_SESSIONS_AVAILABLE, ModelSettings, SchoolAllocation, SchoolFigures, Term, Weights, allocate,
    balance,
};
pub use case::{
    ADVICE_DEADLINE, ADVICE_NOT_REQUESTED, CaseEvent, CaseStatus, IllegalCaseMove, days_left, is_advice_overdue,
    next_case_status,
};
pub use professional::{
    Capacity, EpGrade, MAX_FTE, MAX_OPEN_CASES, MAX_SESSIONS_PER_TERM, MIN_FTE, ProfessionalRole, ReferralKind,
    Specialism, can_take, check_fte,
};
pub use ranking::{Candidate, Ranked, SuggestionOrder, is_over_capacity, load, rank};
