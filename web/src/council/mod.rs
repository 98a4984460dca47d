//! The council area, the pages of the council SEN team (and of the platform
//! operator): the dashboard with its headline figures and charts
//! ([`dashboard`], drawn by [`charts`]), the deadline lists behind its figures
//! ([`deadlines`]), the final plans behind the 20-week figure ([`plans`]), the
//! authority's pupils behind the register figures ([`pupils`]), the schools and
//! one school's page ([`schools`]), SENCO compliance ([`senco_compliance`]),
//! the caseload balance ([`professionals`]), late advice in EHC needs
//! assessments ([`late_advice`]), the breach forecast ([`forecast`]), the authority's type-of-need codes
//! ([`need_types`]), the SEN2 return for the DfE ([`sen2`]), and the operator's authorities ([`authorities`]).
//!
//! Within the area imports run one way: `dashboard` and `schools` use
//! `deadlines`; `dashboard` uses `late_advice` and `forecast`; `dashboard` uses `appeals` (the Tribunal appeals page); `dashboard` and `professionals` use `charts`.

pub mod amendments;
pub mod appeals;
pub mod authorities;
pub mod charts;
pub mod dashboard;
pub mod deadlines;
pub mod forecast;
pub mod late_advice;
pub mod need_types;
pub mod plans;
pub mod professionals;
pub mod pupils;
pub mod schools;
pub mod sen2;
pub mod senco_compliance;

use std::sync::Arc;

use axum::Router;

use crate::state::Web;

/// The council team's routes, and the operator's.
pub(crate) fn routes() -> Router<Arc<Web>> {
    Router::new()
        .merge(dashboard::routes())
        .merge(amendments::routes())
        .merge(appeals::routes())
        .merge(deadlines::routes())
        .merge(forecast::routes())
        .merge(late_advice::routes())
        .merge(need_types::routes())
        .merge(plans::routes())
        .merge(pupils::routes())
        .merge(schools::routes())
        .merge(sen2::routes())
        .merge(senco_compliance::routes())
        .merge(professionals::routes())
        .merge(authorities::routes())
}
