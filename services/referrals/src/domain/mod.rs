//! The referrals domain: what a school refers a pupil for and the consent behind
//! it (`kind`), the referral's life from submission to closure as a state
//! machine (`lifecycle`), the statutory clock of an EHC needs assessment
//! request (`clock`), the calendar months of the council's overview
//! (`months`), and a referral as submitted with the checks it must pass against
//! the pupils service's answers (`referral`), and a document attached to a
//! referral as checked (`attachment`), all as pure functions with "today"
//! passed in. No I/O here; the service's API parses wire input into these types
//! and its store persists them.

mod attachment;
mod clock;
mod kind;
mod lifecycle;
mod months;
mod referral;

pub use attachment::{NewAttachment, sha256_hex};
pub use clock::consultation::{CONSULTATION_DAYS, check_draft_plan, consultation_default_end};
pub use clock::request::{ReceivedVia, RecordedRequest, Requester, check_received_on};
pub use clock::stage::{
    ClockHealth, Deadline, Stage, ended_by, health, next_deadline, outcome_late, stage, statutory_stage,
};
pub use clock::timeliness::{IssuedPlans, Timeliness, timeliness, timeliness_in, timeliness_of};
pub use clock::{
    ADVICE_WEEKS, AT_RISK_DAYS, AssessmentDecision, ClockDates, ClockException, DECISION_WEEKS, FINAL_PLAN_WEEKS,
    NO_PLAN_NOTICE_WEEKS, PlanDecision, advice_due, check_dates, days_left, decision_due, final_plan_due,
    issued_within_20_weeks, no_plan_notice_due, weeks_elapsed,
};
pub use kind::{
    BroadArea, CONSENT_GIVEN_BY_MAX_CHARS, CONSENT_VALID_MONTHS, Consent, ConsentMethod, Priority, ReferralKind,
    Specialism,
};
pub use lifecycle::{Event, IllegalTransition, Status, allowed_events, event_note, next_status, note_required};
pub use months::{CalendarMonth, DEFAULT_SERIES_MONTHS, MAX_SERIES_MONTHS, months_ending, series_months};
pub use referral::{NewReferral, Refusal, Tried, check_on_roll, check_support_is_own};
