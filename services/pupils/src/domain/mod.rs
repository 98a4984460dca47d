//! The pupils domain: types that cannot hold an invalid value (UPNs, national
//! curriculum years, census SEN codes) and the statutory rules for EHC plans
//! (annual reviews, phase transfers) as pure functions with "today" passed in.
//! No I/O here; the service's API parses wire input into these types and its
//! store persists them.

mod amendment;
mod appeal;
pub(crate) mod codes;
mod final_plan;
mod pupil;
mod retention;
mod review;
mod search;
mod transfer;
mod transfer_cohorts;
mod tribunal_days;
mod upn;
mod year;

pub use amendment::{
    AMENDMENT_WEEKS, AmendmentDue, AmendmentStatus, CeaseReason, DueRule, amendment_due, amendment_due_for,
    amendment_status,
};
pub use appeal::{
    AppealFacts, AppealGround, AppealOutcome, AppealStage, MEDIATION_DAYS, MediationOutcome, PlanSections,
};
pub use codes::{
    BroadArea, NATIONAL_EHC_PLAN, NATIONAL_SEN_SUPPORT, NationalFigure, NeedCode, NeedType, SenStatus, check_needs,
    check_new_need, parse_need,
};
pub use final_plan::{PlanRegistration, registration_for};
pub use pupil::{
    Pupil, PupilDetails, SenRecord, SupportOutcome, birth_cohort, check_date_of_birth, clean_line, clean_text,
    cohort_in_year, minutes_per_week, nc_year_of_cohort, optional_line, optional_text,
};
pub use retention::{
    DEFAULT_RETENTION_YEARS, MAX_RETENTION_YEARS, RetentionPolicy, is_past_retention, latest_birth_past, retention_ends,
};
pub use review::{
    AMENDED_PLAN_WEEKS, DECISION_DAYS, REPORT_DAYS, REVIEW_INTERVAL_MONTHS, ReviewDecision, StepStatus,
    amended_plan_due, decision_due, is_review_overdue, next_review_due, report_due, step,
};
pub use search::{PupilSearch, SEARCH_MAX_CHARS};
pub use transfer::{
    NEXT_YEAR_LISTED_FROM, POST16_MOVE_NOTICE_MONTHS, PhaseTransfer, RAG_AMBER_WITHIN_DAYS, RAG_RED_WITHIN_DAYS, Rag,
    SchoolStage, TransferKind, TransferStatus, days_left, listed_transfer_years, next_transfer, post16_move,
    post16_move_deadline, transfer_deadline, transfer_rag, transfer_status,
};
pub use transfer_cohorts::{TransferCohorts, UNKNOWN_SCHOOL_STAGE, transfer_cohorts};
pub use tribunal_days::{RESPONSE_WORKING_DAYS, appeal_deadline, is_working_day, response_due};
pub use upn::Upn;
pub use year::{NcYear, academic_year_start, nc_year_for, nc_year_in};
