//! sea-orm entities of the pupils service's own tables. Every table of tenant
//! data carries the tenant (`la_code`) so every query filters on it directly;
//! `need_types` (the national codes) is the same for every tenant.

pub mod annual_review;
pub mod appeal;
pub mod audit_event;
pub mod case_access;
pub mod council_need_type;
pub mod ehcp;
pub mod erasure;
pub mod need_type;
pub mod plan_registration;
pub mod provision;
pub mod pupil;
pub mod pupil_history;
pub mod support_cycle;
