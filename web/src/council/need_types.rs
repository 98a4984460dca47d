//! The authority's type-of-need codes (`/need-types`), for the SEN manager: the
//! national DfE codes the platform ships and the council's own, and a form to
//! add a code the DfE has published before the platform ships it (2 to 6
//! upper-case letters and a name). The form checks what it can before calling
//! the service (`AddNeedType`), shows every problem at once against its field,
//! keeps what was typed, and writes nothing unless all is well. A code added
//! here is the council's only: other councils neither see nor use it.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use tonic::Code;

use crate::fields::{self, FieldMap, Posted, sentence};
use crate::layout::{FieldError, banner, csrf_field, error_for, error_summary, input_of, page, select, text_input};
use crate::refusals::{PageResult, from_status};
use crate::session::Session;
use crate::state::Web;
use crate::wording::long_date;

const PATH: &str = "/need-types";
/// Who keeps the authority's codes.
const MANAGER: &[Role] = &[Role::LaManager];

/// The service's fields and the form's.
const MAP: FieldMap<'static> = &[
    ("code", "code", "Code"),
    ("name", "name", "Name"),
    ("broad_area", "broad_area", "Broad area of need"),
    ("added_on", "added_on", "Date the DfE introduced it"),
];

/// The broad areas of need: `(value, name)`.
const AREAS: [(pb::BroadArea, &str); 4] = [
    (pb::BroadArea::CommunicationAndInteraction, "Communication and interaction"),
    (pb::BroadArea::CognitionAndLearning, "Cognition and learning"),
    (pb::BroadArea::SocialEmotionalAndMentalHealth, "Social, emotional and mental health"),
    (pb::BroadArea::SensoryAndPhysical, "Sensory and/or physical"),
];

/// The page's routes.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route(PATH, get(list).post(add))
}

/// The form's own checks, every one at once (the service checks again).
fn check(values: &Posted) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let code = values.get("code").trim();
    if code.is_empty() {
        errors.push(FieldError { id: "code".into(), message: "Enter the code".into() });
    } else if !(2..=6).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(FieldError {
            id: "code".into(),
            message: "Enter the code as the DfE writes it: 2 to 6 capital letters, for example DS".into(),
        });
    }
    if values.get("name").trim().is_empty() {
        errors.push(FieldError { id: "name".into(), message: "Enter what the code means".into() });
    }
    errors
}

fn area_value(chosen: &str) -> i32 {
    AREAS.iter().find(|(a, _)| a.as_str_name() == chosen).map_or(0, |(a, _)| *a as i32)
}

fn area_name(value: i32) -> &'static str {
    AREAS.iter().find(|(a, _)| *a as i32 == value).map_or("None", |(_, name)| name)
}

async fn list(State(web): State<Arc<Web>>, session: Session, Query(query): Query<Vec<(String, String)>>) -> PageResult {
    session.require(MANAGER)?;
    let added = query.iter().find(|(k, _)| k == "added").map(|(_, v)| v.clone());
    render(&web, &session, &Posted::default(), &[], added.as_deref()).await
}

async fn render(
    web: &Web,
    session: &Session,
    values: &Posted,
    errors: &[FieldError],
    added: Option<&str>,
) -> PageResult {
    let backend = web.backend(session);
    let codes = async { backend.pupils()?.list_need_types(backend.request(pb::ListNeedTypesRequest {})).await }
        .await
        .map_err(|s| from_status(session, &s))?
        .into_inner()
        .need_types;
    let status = if errors.is_empty() { http::StatusCode::OK } else { http::StatusCode::UNPROCESSABLE_ENTITY };
    let title = if errors.is_empty() { "Type-of-need codes" } else { "Error: Type-of-need codes" };
    let body = html! {
        @if let Some(code) = added { (banner(&format!("Code {code} added"))) }
        span class="caption" { "Local authority " (session.caller.grant.tenant.map(|t| t.to_string()).unwrap_or_default()) }
        h1 class="heading-l" { "Type-of-need codes" }
        p class="body" {
            "The codes a pupil's primary and secondary need may take: the DfE's national codes, and any your council has added. "
            "A code your council adds is yours only: other councils do not see it."
        }
        (table(&codes))
        (form(session, values, errors))
    };
    Ok((status, page(session, title, "/pupils", body)).into_response())
}

fn table(codes: &[pb::NeedType]) -> Markup {
    html! {
        div class="table-wrapper" { table class="table" {
            caption { "Codes of the authority (" (codes.len()) ")" }
            thead { tr {
                th scope="col" { "Code" } th scope="col" { "Name" } th scope="col" { "Broad area" }
                th scope="col" { "Valid with" } th scope="col" { "Added" } th scope="col" { "Source" }
            } }
            tbody { @for need in codes { tr {
                th scope="row" { (need.code) }
                td { (sentence(&need.name)) }
                td { (area_name(need.broad_area)) }
                td { @if need.sen_support_only { "SEN support (K) only" } @else { "SEN support (K) and EHC plans (E)" } }
                td { (long_date(need.added_on.as_ref())) }
                td { @if need.national { "DfE (national)" } @else { "Added by the council" } }
            } } }
        } }
    }
}

fn form(session: &Session, values: &Posted, errors: &[FieldError]) -> Markup {
    let e = |id: &str| error_for(errors, id);
    let mut areas = vec![(String::new(), "None".to_owned())];
    areas.extend(AREAS.iter().map(|(a, name)| (a.as_str_name().to_owned(), (*name).to_owned())));
    html! {
        h2 class="heading-m" { "Add a code" }
        p class="body" { "Add a code the DfE has published before the platform ships it, exactly as the DfE writes it." }
        (error_summary(errors))
        form method="post" action=(PATH) novalidate {
            (csrf_field(session))
            (text_input("code", "Code", Some("2 to 6 capital letters, for example DS"), values.get("code"), e("code")))
            (text_input("name", "Name", Some("What the code means, as the DfE words it"), values.get("name"), e("name")))
            (select("broad_area", "Broad area of need", &areas, values.get("broad_area"), e("broad_area")))
            div class="form-group" {
                div class="checkboxes__item" {
                    input class="checkboxes__input" id="sen_support_only" name="sen_support_only" type="checkbox" value="yes"
                        checked[values.ticked("sen_support_only")];
                    label class="checkboxes__label" for="sen_support_only" { "Valid only with SEN support (K), not with an EHC plan" }
                }
            }
            (input_of("date", "added_on", "Date the DfE introduced it (optional)", Some("Leave empty for today"), values.get("added_on"), e("added_on")))
            button class="button" type="submit" { "Add code" }
        }
    }
}

async fn add(State(web): State<Arc<Web>>, session: Session, Form(posted): Form<Vec<(String, String)>>) -> PageResult {
    session.require(MANAGER)?;
    let values = Posted(posted);
    session.check_csrf(values.csrf())?;
    let mut errors = check(&values);
    let added_on = match values.get("added_on").trim() {
        "" => None,
        typed => fields::date_from(typed, "added_on", "Date the DfE introduced it", &mut errors),
    };
    if !errors.is_empty() {
        return render(&web, &session, &values, &errors, None).await;
    }
    let request = pb::AddNeedTypeRequest {
        code: values.get("code").trim().to_owned(),
        name: values.get("name").trim().to_owned(),
        broad_area: area_value(values.get("broad_area")),
        sen_support_only: values.ticked("sen_support_only"),
        added_on,
    };
    let backend = web.backend(&session);
    match async { backend.pupils()?.add_need_type(backend.request(request)).await }.await {
        Ok(added) => Ok(Redirect::to(&format!("{PATH}?added={}", added.into_inner().code)).into_response()),
        Err(status) if status.code() == Code::AlreadyExists => {
            let errors = [FieldError { id: "code".into(), message: sentence(status.message()) }];
            render(&web, &session, &values, &errors, None).await
        }
        Err(status) => match fields::field_errors(&status, MAP, "code") {
            Some(errors) => render(&web, &session, &values, &errors, None).await,
            None => Err(from_status(&session, &status).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted(pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn the_form_asks_for_a_code_as_the_dfe_writes_it_and_a_name() {
        assert!(check(&posted(&[("code", "FASD"), ("name", "Fetal alcohol spectrum disorder")])).is_empty());
        let ids = |p: Posted| check(&p).into_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(posted(&[])), ["code", "name"]);
        assert_eq!(ids(posted(&[("code", "fasd"), ("name", "x")])), ["code"]);
        assert_eq!(ids(posted(&[("code", "ABCDEFG"), ("name", "x")])), ["code"]);
        assert_eq!(ids(posted(&[("code", "A1"), ("name", " ")])), ["code", "name"]);
    }

    #[test]
    fn a_broad_area_is_chosen_by_its_name() {
        assert_eq!(area_value("BROAD_AREA_SENSORY_AND_PHYSICAL"), pb::BroadArea::SensoryAndPhysical as i32);
        assert_eq!(area_value(""), 0);
        assert_eq!(area_name(pb::BroadArea::CognitionAndLearning as i32), "Cognition and learning");
        assert_eq!(area_name(0), "None");
    }
}
