//! sea-orm entities of the caseloads service's own tables.

pub mod advice_request;
pub mod allocation_model;
pub mod audit_event;
pub mod case;
pub mod case_activity;
pub mod professional;
pub mod school_link;
