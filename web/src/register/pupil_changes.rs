//! The forms that change a pupil's SEN record from their page: a change of SEN
//! status (ChangeSenStatus, with the date, the reason and, moving to E, the plan),
//! a new support cycle (AddSupportCycle) and new provision (AddProvision).
//!
//! Each shows every error at once against its field and keeps what was typed;
//! nothing is written while anything is wrong (the service checks the whole
//! request before writing).

use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use sen_proto::v1 as pb;
use tonic::Code;

use super::access::{EDITORS, get_pupil};
use crate::fields::{self, FieldMap, Needs, Posted, add_error};
use crate::layout::{
    FieldError, back_link, csrf_field, error_for, error_summary, input_of, page, select, text_input, textarea,
};
use crate::lookups::need_types;
use crate::refusals::{self, PageResult, Refused};
use crate::session::Session;
use crate::state::Web;

/// A form page about `pupil`, 400 when it carries errors.
fn form_page(
    session: &Session,
    pupil: &pb::Pupil,
    title: &str,
    errors: &[FieldError],
    notice: Option<&str>,
    form: Markup,
) -> PageResult {
    let body = html! {
        (back_link(&format!("/pupils/{}", pupil.id), "Back to the pupil"))
        span class="caption" { (fields::pupil_name(pupil)) }
        h1 class="heading-l" { (title) }
        @if let Some(notice) = notice {
            div class="error-summary" role="alert" tabindex="-1" data-module="error-summary" {
                h2 class="error-summary__title" { "Someone else changed this record" }
                p class="body" { (notice) }
            }
        }
        (error_summary(errors))
        (form)
    };
    let status =
        if errors.is_empty() && notice.is_none() { http::StatusCode::OK } else { http::StatusCode::BAD_REQUEST };
    Ok((status, page(session, title, "/register", body)).into_response())
}

/// The answer to a refused change: the form again with the errors, or the page
/// for a refusal that is not about the fields.
fn refused(
    session: &Session,
    status: &tonic::Status,
    map: FieldMap<'_>,
    fallback: &str,
) -> Result<Vec<FieldError>, Refused> {
    match fields::field_errors(status, map, fallback) {
        Some(errors) => Ok(errors),
        None if status.code() == Code::FailedPrecondition => {
            Ok(vec![FieldError { id: fallback.into(), message: fields::sentence(status.message()) }])
        }
        None => Err(refusals::from_status(session, status).into()),
    }
}

// SEN status.

const STATUS_MAP: FieldMap<'static> = &[
    ("sen_status", "sen_status", "SEN status"),
    ("primary_need_code", "primary_need", "Primary need"),
    ("secondary_need_code", "secondary_need", "Secondary need"),
    ("effective_on", "effective_on", "Date of the change"),
    ("reason", "reason", "Reason"),
    ("ehcp", "ehcp_issued_on", "Date the EHC plan was issued"),
    ("ehcp.named_setting", "ehcp_named_setting", "Setting named in the plan"),
];

/// The status form; the need boxes list the authority's codes (`needs`).
fn status_fields(
    session: &Session,
    pupil: &pb::Pupil,
    values: &Posted,
    errors: &[FieldError],
    needs: &Needs,
) -> Markup {
    let e = |id: &str| error_for(errors, id);
    html! {
        form method="post" action={ "/pupils/" (pupil.id) "/status" } novalidate {
            (csrf_field(session))
            input type="hidden" name="version" value=(pupil.version);
            p class="body" { "Now: " (fields::status_tag(pupil.sen_status)) }
            (select("sen_status", "New SEN status", &fields::status_options("Choose a status"), values.get("sen_status"), e("sen_status")))
            (select("primary_need", "Primary need", &needs.options("None"), values.get("primary_need"), e("primary_need")))
            (select("secondary_need", "Secondary need", &needs.options("None"), values.get("secondary_need"), e("secondary_need")))
            (input_of("date", "effective_on", "Date of the change", None, values.get("effective_on"), e("effective_on")))
            (textarea("reason", "Reason for the change", Some("For example, the outcome of a review meeting"), values.get("reason"), e("reason")))
            fieldset class="fieldset" {
                legend class="fieldset__legend" { "EHC plan (when moving to E)" }
                (input_of("date", "ehcp_issued_on", "Date the EHC plan was issued", None, values.get("ehcp_issued_on"), e("ehcp_issued_on")))
                (text_input("ehcp_named_setting", "Setting named in the plan", None, values.get("ehcp_named_setting"), e("ehcp_named_setting")))
            }
            button type="submit" class="button" { "Change SEN status" }
        }
    }
}

fn current_status(pupil: &pb::Pupil) -> Posted {
    Posted(vec![
        ("sen_status".into(), fields::status_code(pupil.sen_status).into()),
        ("primary_need".into(), pupil.primary_need_code.clone()),
        ("secondary_need".into(), pupil.secondary_need_code.clone()),
    ])
}

/// A form posted about pupil `id` by someone who may change the register, with
/// this session's CSRF token: what was sent, and the pupil as the poster sees it.
async fn posted_for(
    web: &Web,
    session: &Session,
    id: i64,
    posted: Vec<(String, String)>,
) -> Result<(Posted, pb::Pupil), Refused> {
    session.require(EDITORS)?;
    let values = Posted(posted);
    session.check_csrf(values.csrf())?;
    let pupil = get_pupil(web, session, id).await?;
    Ok((values, pupil))
}

/// `GET /pupils/{id}/status`.
pub(super) async fn status_form(State(web): State<Arc<Web>>, session: Session, Path(id): Path<i64>) -> PageResult {
    session.require(EDITORS)?;
    let backend = web.backend(&session);
    let (pupil, needs) = tokio::join!(get_pupil(&web, &session, id), need_types(&backend));
    let pupil = pupil?;
    let form = status_fields(&session, &pupil, &current_status(&pupil), &[], &needs);
    form_page(&session, &pupil, "Change SEN status", &[], None, form)
}

/// `POST /pupils/{id}/status`.
pub(super) async fn change_status(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    let (values, pupil) = posted_for(&web, &session, id, posted).await?;
    let mut errors = Vec::new();
    let effective_on = fields::date_from(values.get("effective_on"), "effective_on", "Date of the change", &mut errors);
    let status = fields::status_value(values.get("sen_status"));
    let moving_to_plan = status == pb::SenProvision::EhcPlan as i32 && pupil.sen_status != status;
    let ehcp = moving_to_plan.then(|| pb::EhcpFields {
        issued_on: fields::date_from(
            values.get("ehcp_issued_on"),
            "ehcp_issued_on",
            "Date the plan was issued",
            &mut errors,
        ),
        named_setting: values.get("ehcp_named_setting").to_owned(),
    });
    if errors.is_empty() {
        let request = pb::ChangeSenStatusRequest {
            pupil_id: id,
            version: values.get("version").parse().unwrap_or(0),
            sen_status: status,
            primary_need_code: fields::need_code(values.get("primary_need")),
            secondary_need_code: fields::need_code(values.get("secondary_need")),
            effective_on,
            reason: values.get("reason").to_owned(),
            ehcp,
        };
        let backend = web.backend(&session);
        match async { backend.pupils()?.change_sen_status(backend.request(request)).await }.await {
            Ok(_) => return Ok(Redirect::to(&format!("/pupils/{id}?done=status")).into_response()),
            Err(s) if s.code() == Code::Aborted => {
                let notice = "Someone else changed this pupil's record while you were working. Their change is shown; check it, then send yours again.";
                let needs = need_types(&backend).await;
                let form = status_fields(&session, &pupil, &values, &[], &needs);
                return form_page(&session, &pupil, "Change SEN status", &[], Some(notice), form);
            }
            Err(s) => errors = refused(&session, &s, STATUS_MAP, "sen_status")?,
        }
    }
    let needs = need_types(&web.backend(&session)).await;
    let form = status_fields(&session, &pupil, &values, &errors, &needs);
    form_page(&session, &pupil, "Change SEN status", &errors, None, form)
}

// Support cycles.

const CYCLE_MAP: FieldMap<'static> = &[
    ("started_on", "started_on", "Start date"),
    ("review_due", "review_due", "Review date"),
    ("outcomes_sought", "outcomes_sought", "Outcomes sought"),
    ("planned_provision", "planned_provision", "Planned provision"),
];

fn cycle_fields(session: &Session, id: i64, values: &Posted, errors: &[FieldError]) -> Markup {
    let e = |name: &str| error_for(errors, name);
    html! {
        form method="post" action={ "/pupils/" (id) "/support-cycles/new" } novalidate {
            (csrf_field(session))
            (input_of("date", "started_on", "Start date", None, values.get("started_on"), e("started_on")))
            (textarea("outcomes_sought", "Outcomes sought", None, values.get("outcomes_sought"), e("outcomes_sought")))
            (textarea("planned_provision", "Planned provision", Some("The support, who gives it and how often"), values.get("planned_provision"), e("planned_provision")))
            (input_of("date", "review_due", "Review date", Some("Usually a term after the start"), values.get("review_due"), e("review_due")))
            button type="submit" class="button" { "Add support cycle" }
        }
    }
}

/// `GET /pupils/{id}/support-cycles/new`.
pub(super) async fn cycle_form(State(web): State<Arc<Web>>, session: Session, Path(id): Path<i64>) -> PageResult {
    session.require(EDITORS)?;
    let pupil = get_pupil(&web, &session, id).await?;
    form_page(&session, &pupil, "Add a support cycle", &[], None, cycle_fields(&session, id, &Posted::default(), &[]))
}

/// `POST /pupils/{id}/support-cycles/new`.
pub(super) async fn add_cycle(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    let (values, pupil) = posted_for(&web, &session, id, posted).await?;
    let mut errors = Vec::new();
    let started_on = fields::date_from(values.get("started_on"), "started_on", "Start date", &mut errors);
    let review_due = fields::date_from(values.get("review_due"), "review_due", "Review date", &mut errors);
    if errors.is_empty() {
        let request = pb::AddSupportCycleRequest {
            pupil_id: id,
            started_on,
            outcomes_sought: values.get("outcomes_sought").to_owned(),
            planned_provision: values.get("planned_provision").to_owned(),
            review_due,
        };
        let backend = web.backend(&session);
        match async { backend.pupils()?.add_support_cycle(backend.request(request)).await }.await {
            Ok(_) => return Ok(Redirect::to(&format!("/pupils/{id}?done=cycle")).into_response()),
            Err(s) => errors = refused(&session, &s, CYCLE_MAP, "started_on")?,
        }
    }
    form_page(&session, &pupil, "Add a support cycle", &errors, None, cycle_fields(&session, id, &values, &errors))
}

// Provision.

const PROVISION_MAP: FieldMap<'static> = &[
    ("provision_type", "provision_type", "Provision"),
    ("provider", "provider", "Provider"),
    ("hours_per_week", "hours_per_week", "Hours a week"),
    ("start_on", "start_on", "Start date"),
    ("end_on", "end_on", "End date"),
];

fn provision_fields(session: &Session, id: i64, values: &Posted, errors: &[FieldError]) -> Markup {
    let e = |name: &str| error_for(errors, name);
    html! {
        form method="post" action={ "/pupils/" (id) "/provision/new" } novalidate {
            (csrf_field(session))
            (text_input("provision_type", "Provision", Some("For example, small-group literacy"), values.get("provision_type"), e("provision_type")))
            (text_input("provider", "Provider", Some("For example, school or NHS speech and language therapy"), values.get("provider"), e("provider")))
            (input_of("number", "hours_per_week", "Hours a week", Some("For example 1.5"), values.get("hours_per_week"), e("hours_per_week")))
            (input_of("date", "start_on", "Start date", None, values.get("start_on"), e("start_on")))
            (input_of("date", "end_on", "Planned end date (optional)", None, values.get("end_on"), e("end_on")))
            button type="submit" class="button" { "Add provision" }
        }
    }
}

/// `GET /pupils/{id}/provision/new`.
pub(super) async fn provision_form(State(web): State<Arc<Web>>, session: Session, Path(id): Path<i64>) -> PageResult {
    session.require(EDITORS)?;
    let pupil = get_pupil(&web, &session, id).await?;
    form_page(&session, &pupil, "Add provision", &[], None, provision_fields(&session, id, &Posted::default(), &[]))
}

/// `POST /pupils/{id}/provision/new`.
pub(super) async fn add_provision(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    let (values, pupil) = posted_for(&web, &session, id, posted).await?;
    let mut errors = Vec::new();
    let start_on = fields::date_from(values.get("start_on"), "start_on", "Start date", &mut errors);
    let end_on = fields::date_from(values.get("end_on"), "end_on", "End date", &mut errors);
    let hours = match values.get("hours_per_week").trim() {
        "" => 0.0,
        text => text.parse::<f64>().unwrap_or_else(|_| {
            add_error(&mut errors, "hours_per_week", "Hours a week must be a number, for example 1.5");
            0.0
        }),
    };
    if errors.is_empty() {
        let request = pb::AddProvisionRequest {
            pupil_id: id,
            provision_type: values.get("provision_type").to_owned(),
            provider: values.get("provider").to_owned(),
            hours_per_week: hours,
            start_on,
            end_on,
        };
        let backend = web.backend(&session);
        match async { backend.pupils()?.add_provision(backend.request(request)).await }.await {
            Ok(_) => return Ok(Redirect::to(&format!("/pupils/{id}?done=provision")).into_response()),
            Err(s) => errors = refused(&session, &s, PROVISION_MAP, "provision_type")?,
        }
    }
    form_page(&session, &pupil, "Add provision", &errors, None, provision_fields(&session, id, &values, &errors))
}
