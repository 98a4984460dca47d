//! The platform operator's page (`/authorities`): the authorities on the
//! platform and a form to register another (a DfE three-digit LA code and a
//! name). The form checks what it can before calling the service, shows every
//! problem at once against its field, keeps what was typed, and writes nothing
//! unless all is well.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use tonic::Code;
use tonic_types::StatusExt;

use crate::layout::{FieldError, banner, csrf_field, error_for, error_summary, page, text_input};
use crate::refusals::{PageResult, from_status};
use crate::session::{CSRF_FIELD, Session};
use crate::state::Web;

/// The authorities routes.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/authorities", get(list).post(create))
}

/// What was typed into the form.
#[derive(Clone, Debug, Default)]
struct Typed {
    la_code: String,
    name: String,
}

/// The form's own checks, every one at once.
fn check(typed: &Typed) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(reason) = sen_platform::ids::LaCode::parse(&typed.la_code) {
        let message = if typed.la_code.trim().is_empty() {
            "Enter the LA code".to_owned()
        } else {
            format!("Enter a DfE LA code of three digits from 201 to 999 ({reason})")
        };
        errors.push(FieldError { id: "la_code".into(), message });
    }
    if typed.name.trim().is_empty() {
        errors.push(FieldError { id: "name".into(), message: "Enter the authority's name".into() });
    }
    errors
}

async fn list(State(web): State<Arc<Web>>, session: Session, Query(query): Query<Vec<(String, String)>>) -> PageResult {
    session.require(&[Role::PlatformOperator])?;
    let done = query.iter().any(|(k, v)| k == "done" && v == "created");
    render(&web, &session, &Typed::default(), &[], done).await
}

async fn render(web: &Web, session: &Session, typed: &Typed, errors: &[FieldError], done: bool) -> PageResult {
    let backend = web.backend(session);
    let authorities = match backend.schools() {
        Ok(mut client) => client.list_authorities(backend.request(pb::ListAuthoritiesRequest {})).await,
        Err(status) => Err(status),
    }
    .map_err(|s| from_status(session, &s))?
    .into_inner()
    .authorities;
    let status = if errors.is_empty() { http::StatusCode::OK } else { http::StatusCode::UNPROCESSABLE_ENTITY };
    let title = if errors.is_empty() { "Authorities" } else { "Error: Authorities" };
    let body = html! {
        @if done { (banner("Authority registered")) }
        h1 class="heading-l" { "Authorities" }
        div class="table-wrapper" { table class="table" {
            caption { "Authorities on the platform (" (authorities.len()) ")" }
            thead { tr { th scope="col" { "LA code" } th scope="col" { "Name" } } }
            tbody { @for a in &authorities { tr { td { (a.la_code) } td { (a.name) } } } }
        } }
        (form(session, typed, errors))
    };
    Ok((status, page(session, title, "/authorities", body)).into_response())
}

fn form(session: &Session, typed: &Typed, errors: &[FieldError]) -> Markup {
    html! {
        h2 class="heading-m" { "Register an authority" }
        (error_summary(errors))
        form method="post" action="/authorities" novalidate {
            (csrf_field(session))
            (text_input("la_code", "LA code", Some("The DfE's three-digit code, for example 886"), &typed.la_code, error_for(errors, "la_code")))
            (text_input("name", "Name", None, &typed.name, error_for(errors, "name")))
            button class="button" type="submit" { "Register authority" }
        }
    }
}

async fn create(State(web): State<Arc<Web>>, session: Session, Form(form): Form<Vec<(String, String)>>) -> PageResult {
    session.require(&[Role::PlatformOperator])?;
    let get = |name: &str| form.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    session.check_csrf(get(CSRF_FIELD).as_deref())?;
    let typed = Typed { la_code: get("la_code").unwrap_or_default(), name: get("name").unwrap_or_default() };
    let errors = check(&typed);
    if !errors.is_empty() {
        return render(&web, &session, &typed, &errors, false).await;
    }
    let backend = web.backend(&session);
    let request =
        pb::CreateAuthorityRequest { la_code: typed.la_code.trim().to_owned(), name: typed.name.trim().to_owned() };
    let answer = match backend.schools() {
        Ok(mut client) => client.create_authority(backend.request(request)).await,
        Err(status) => Err(status),
    };
    match answer {
        Ok(_) => Ok(Redirect::to("/authorities?done=created").into_response()),
        Err(status) if status.code() == Code::AlreadyExists => {
            let errors = [FieldError {
                id: "la_code".into(),
                message: "An authority with this LA code is already registered".into(),
            }];
            render(&web, &session, &typed, &errors, false).await
        }
        Err(status) if status.code() == Code::InvalidArgument => {
            let violations = status.get_details_bad_request().map(|b| b.field_violations).unwrap_or_default();
            let mut errors: Vec<FieldError> = violations
                .into_iter()
                .map(|v| FieldError {
                    id: if v.field == "name" { "name".into() } else { "la_code".into() },
                    message: v.description,
                })
                .collect();
            if errors.is_empty() {
                errors.push(FieldError { id: "la_code".into(), message: status.message().to_owned() });
            }
            render(&web, &session, &typed, &errors, false).await
        }
        Err(status) => Err(from_status(&session, &status).into()),
    }
}
