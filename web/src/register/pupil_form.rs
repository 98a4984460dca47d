//! Adding a pupil to a school's register (`/register/new`, CreatePupil) and
//! editing their details (`/pupils/{id}/edit`, UpdatePupil with the version read,
//! so an edit made meanwhile by someone else is shown rather than overwritten).

use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use tonic::Code;

use super::access::{REGISTER_ROLES, get_pupil, school_name, school_of};
use crate::fields::{self, FieldMap, NC_YEARS, Needs, Posted};
use crate::layout::{FieldError, back_link, csrf_field, error_for, error_summary, input_of, page, select, text_input};
use crate::lookups::need_types;
use crate::refusals::{self, PageResult};
use crate::session::Session;
use crate::state::Web;
use crate::wording;

const MAP: FieldMap<'static> = &[
    ("pupil.upn", "upn", "UPN"),
    ("pupil.legal_forename", "legal_forename", "Legal first name"),
    ("pupil.legal_surname", "legal_surname", "Legal last name"),
    ("pupil.preferred_forename", "preferred_forename", "Preferred first name"),
    ("pupil.preferred_surname", "preferred_surname", "Preferred last name"),
    ("pupil.date_of_birth", "date_of_birth", "Date of birth"),
    ("pupil.school_urn", "school_urn", "School URN"),
    ("pupil.nc_year_override", "nc_year_override", "Year group"),
    ("sen_status", "sen_status", "SEN status"),
    ("primary_need_code", "primary_need", "Primary need"),
    ("secondary_need_code", "secondary_need", "Secondary need"),
    ("ehcp", "ehcp_issued_on", "Date the EHC plan was issued"),
    ("ehcp.named_setting", "ehcp_named_setting", "Setting named in the plan"),
];

/// What the form holds: what was typed, or the record as read.
#[derive(Clone, Debug, Default)]
struct Values(Posted);

impl Values {
    fn of_pupil(p: &pb::Pupil) -> Self {
        let pairs = [
            ("upn", p.upn.clone()),
            ("legal_forename", p.legal_forename.clone()),
            ("legal_surname", p.legal_surname.clone()),
            ("preferred_forename", p.preferred_forename.clone()),
            ("preferred_surname", p.preferred_surname.clone()),
            ("date_of_birth", wording::iso_date(p.date_of_birth.as_ref())),
            ("school_urn", p.school_urn.clone()),
            ("nc_year_override", if p.nc_year_out_of_cohort { p.nc_year.clone() } else { String::new() }),
            ("looked_after", if p.looked_after { "yes".into() } else { String::new() }),
            ("version", p.version.to_string()),
        ];
        Self(Posted(pairs.into_iter().map(|(n, v)| (n.to_owned(), v)).collect()))
    }

    fn get(&self, name: &str) -> &str {
        self.0.get(name)
    }
}

/// The pupil's details as sent, with the errors the web finds itself.
fn details(values: &Values, urn: &str, errors: &mut Vec<FieldError>) -> pb::PupilFields {
    pb::PupilFields {
        upn: values.get("upn").trim().to_uppercase(),
        legal_forename: values.get("legal_forename").to_owned(),
        legal_surname: values.get("legal_surname").to_owned(),
        preferred_forename: values.get("preferred_forename").to_owned(),
        preferred_surname: values.get("preferred_surname").to_owned(),
        date_of_birth: fields::date_from(values.get("date_of_birth"), "date_of_birth", "Date of birth", errors),
        school_urn: urn.to_owned(),
        nc_year_override: values.get("nc_year_override").trim().to_owned(),
        looked_after: values.0.ticked("looked_after"),
    }
}

/// The form; `needs` are the authority's type-of-need codes (asked for when creating).
fn form(
    session: &Session,
    action: &str,
    values: &Values,
    errors: &[FieldError],
    creating: bool,
    needs: &Needs,
) -> Markup {
    let e = |id: &str| error_for(errors, id);
    let years: Vec<(String, String)> = std::iter::once((String::new(), "From the date of birth".to_owned()))
        .chain(NC_YEARS.iter().map(|y| ((*y).to_owned(), format!("Year {y} (taught out of cohort)"))))
        .collect();
    html! {
        (error_summary(errors))
        form method="post" action=(action) novalidate {
            (csrf_field(session))
            @if !creating { input type="hidden" name="version" value=(values.get("version")); }
            (text_input("upn", "Unique pupil number (UPN)", Some("13 characters, for example A123456789012"), values.get("upn"), e("upn")))
            (text_input("legal_forename", "Legal first name", None, values.get("legal_forename"), e("legal_forename")))
            (text_input("legal_surname", "Legal last name", None, values.get("legal_surname"), e("legal_surname")))
            (text_input("preferred_forename", "Preferred first name (optional)", None, values.get("preferred_forename"), e("preferred_forename")))
            (text_input("preferred_surname", "Preferred last name (optional)", None, values.get("preferred_surname"), e("preferred_surname")))
            (input_of("date", "date_of_birth", "Date of birth", None, values.get("date_of_birth"), e("date_of_birth")))
            @if session.role() != Role::Senco {
                (text_input("school_urn", "School URN", Some("The school the pupil is on roll at"), values.get("school_urn"), e("school_urn")))
            }
            (select("nc_year_override", "Year group", &years, values.get("nc_year_override"), e("nc_year_override")))
            div class="form-group" {
                div class="checkboxes__item" {
                    input class="checkboxes__input" id="looked_after" name="looked_after" type="checkbox" value="yes"
                        checked[values.0.ticked("looked_after")];
                    label class="checkboxes__label" for="looked_after" { "Looked after by a local authority" }
                }
            }
            @if creating {
                (select("sen_status", "SEN status", &fields::status_options("Choose a status"), values.get("sen_status"), e("sen_status")))
                (select("primary_need", "Primary need", &needs.options("None"), values.get("primary_need"), e("primary_need")))
                (select("secondary_need", "Secondary need", &needs.options("None"), values.get("secondary_need"), e("secondary_need")))
                fieldset class="fieldset" {
                    legend class="fieldset__legend" { "EHC plan (only when the status is E)" }
                    (input_of("date", "ehcp_issued_on", "Date the EHC plan was issued", None, values.get("ehcp_issued_on"), e("ehcp_issued_on")))
                    (text_input("ehcp_named_setting", "Setting named in the plan", None, values.get("ehcp_named_setting"), e("ehcp_named_setting")))
                }
            }
            button type="submit" class="button" { @if creating { "Add pupil" } @else { "Save changes" } }
        }
    }
}

#[derive(serde::Deserialize)]
pub(super) struct Chosen {
    #[serde(default)]
    school: String,
}

async fn new_page(
    web: &Web,
    session: &Session,
    school: &str,
    urn: &str,
    values: &Values,
    errors: &[FieldError],
) -> PageResult {
    let needs = need_types(&web.backend(session)).await;
    let body = html! {
        (back_link(&if session.role() == Role::Senco { "/register".to_owned() } else { format!("/register?school={urn}") }, "Back to the register"))
        span class="caption" { (school) }
        h1 class="heading-l" { "Add a pupil" }
        (form(session, "/register/new", values, errors, true, &needs))
    };
    let status = if errors.is_empty() { http::StatusCode::OK } else { http::StatusCode::BAD_REQUEST };
    Ok((status, page(session, "Add a pupil", "/register", body)).into_response())
}

/// `GET /register/new`.
pub(super) async fn new_pupil(
    State(web): State<Arc<Web>>,
    session: Session,
    Query(chosen): Query<Chosen>,
) -> PageResult {
    session.require(REGISTER_ROLES)?;
    let Some(urn) = school_of(&session, &chosen.school) else { return Ok(Redirect::to("/schools").into_response()) };
    let school = school_name(&web, &session, &urn).await?;
    let values = Values(Posted(vec![("school_urn".into(), urn.clone())]));
    new_page(&web, &session, &school, &urn, &values, &[]).await
}

/// `POST /register/new`.
pub(super) async fn create_pupil(
    State(web): State<Arc<Web>>,
    session: Session,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    session.require(REGISTER_ROLES)?;
    let values = Values(Posted(posted));
    session.check_csrf(values.0.csrf())?;
    let Some(urn) = school_of(&session, values.get("school_urn")) else {
        return Ok(Redirect::to("/schools").into_response());
    };
    let school = school_name(&web, &session, &urn).await.unwrap_or_else(|_| urn.clone());
    let mut errors = Vec::new();
    let pupil = details(&values, &urn, &mut errors);
    let status = fields::status_value(values.get("sen_status"));
    let ehcp = (status == pb::SenProvision::EhcPlan as i32).then(|| pb::EhcpFields {
        issued_on: fields::date_from(
            values.get("ehcp_issued_on"),
            "ehcp_issued_on",
            "Date the plan was issued",
            &mut errors,
        ),
        named_setting: values.get("ehcp_named_setting").to_owned(),
    });
    if !errors.is_empty() {
        return new_page(&web, &session, &school, &urn, &values, &errors).await;
    }
    let request = pb::CreatePupilRequest {
        pupil: Some(pupil),
        sen_status: status,
        primary_need_code: fields::need_code(values.get("primary_need")),
        secondary_need_code: fields::need_code(values.get("secondary_need")),
        ehcp,
    };
    let backend = web.backend(&session);
    let created = async { backend.pupils()?.create_pupil(backend.request(request)).await }.await;
    match created {
        Ok(pupil) => Ok(Redirect::to(&format!("/pupils/{}?done=added", pupil.into_inner().id)).into_response()),
        Err(status) => match fields::field_errors(&status, MAP, "upn") {
            Some(errors) => new_page(&web, &session, &school, &urn, &values, &errors).await,
            None if status.code() == Code::AlreadyExists => {
                let errors = vec![FieldError { id: "upn".into(), message: format!("UPN {}", status.message()) }];
                new_page(&web, &session, &school, &urn, &values, &errors).await
            }
            None => Err(refusals::from_status(&session, &status).into()),
        },
    }
}

fn edit_page(
    session: &Session,
    id: i64,
    name: &str,
    values: &Values,
    errors: &[FieldError],
    stale: bool,
) -> PageResult {
    let body = html! {
        (back_link(&format!("/pupils/{id}"), "Back to the pupil"))
        span class="caption" { (name) }
        h1 class="heading-l" { "Edit pupil details" }
        @if stale {
            div class="error-summary" role="alert" tabindex="-1" data-module="error-summary" {
                h2 class="error-summary__title" { "Someone else changed this record" }
                p class="body" { "While you were editing, someone else saved changes to this pupil. The form now shows the record as it is; make your changes again." }
            }
        }
        (form(session, &format!("/pupils/{id}/edit"), values, errors, false, &Needs::default()))
    };
    let status = if errors.is_empty() && !stale { http::StatusCode::OK } else { http::StatusCode::BAD_REQUEST };
    Ok((status, page(session, "Edit pupil details", "/register", body)).into_response())
}

/// `GET /pupils/{id}/edit`.
pub(super) async fn edit_pupil(State(web): State<Arc<Web>>, session: Session, Path(id): Path<i64>) -> PageResult {
    session.require(REGISTER_ROLES)?;
    let pupil = get_pupil(&web, &session, id).await?;
    edit_page(&session, id, &fields::pupil_name(&pupil), &Values::of_pupil(&pupil), &[], false)
}

/// `POST /pupils/{id}/edit`.
pub(super) async fn update_pupil(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    session.require(REGISTER_ROLES)?;
    let values = Values(Posted(posted));
    session.check_csrf(values.0.csrf())?;
    let current = get_pupil(&web, &session, id).await?;
    let name = fields::pupil_name(&current);
    // A SENCO cannot move a pupil: the school stays the one on record.
    let urn = if session.role() == Role::Senco {
        current.school_urn.clone()
    } else {
        values.get("school_urn").trim().to_owned()
    };
    let mut errors = Vec::new();
    let pupil = details(&values, &urn, &mut errors);
    let version = values.get("version").parse::<i64>().unwrap_or(0);
    if !errors.is_empty() {
        return edit_page(&session, id, &name, &values, &errors, false);
    }
    let backend = web.backend(&session);
    let request = pb::UpdatePupilRequest { id, version, pupil: Some(pupil) };
    let updated = async { backend.pupils()?.update_pupil(backend.request(request)).await }.await;
    match updated {
        Ok(_) => Ok(Redirect::to(&format!("/pupils/{id}?done=updated")).into_response()),
        Err(status) if status.code() == Code::Aborted => {
            edit_page(&session, id, &name, &Values::of_pupil(&current), &[], true)
        }
        Err(status) => match fields::field_errors(&status, MAP, "upn") {
            Some(mut errors) => {
                if let Some(e) = errors.iter_mut().find(|e| e.message.starts_with("version")) {
                    e.message = "Reload the page: the record's version was not sent".into();
                }
                edit_page(&session, id, &name, &values, &errors, false)
            }
            None => Err(refusals::from_status(&session, &status).into()),
        },
    }
}
