//! A school's SEN register (`/register`): the pupils on SEN support or with an
//! EHC plan (K or E), or on request every pupil recorded at the school or those
//! of one status, filtered by need and year group, sortable, paged, and as CSV.
//!
//! A SENCO sees their own school's register; the council SEN team picks a school
//! (`?school=URN`, from the schools list). The pupils service scopes the rows, so
//! a school outside the reader's reach shows nothing.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::html;
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use super::access::{REGISTER_ROLES, school_name, school_of};
use crate::exports::{self, Cell, Row, Sheet};
use crate::fields::{self, NC_YEARS};
use crate::layout::{page, select};
use crate::lists::{self, Column, ListQuery};
use crate::lookups::need_types;
use crate::refusals::{self, PageResult};
use crate::session::{Session, url_encode};
use crate::state::Web;

/// The register's route.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/register", get(register))
}

const COLUMNS: &[Column] = &[
    Column::text("name", "Name"),
    Column::text("upn", "UPN"),
    Column::text("year", "Year"),
    Column::text("status", "SEN status"),
    Column::text("need", "Primary need"),
    Column::plain("Looked after"),
];

/// Which pupils the register shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shows<'a> {
    /// Those on SEN support or with an EHC plan: the SEN register (the default).
    Register,
    /// Every pupil on roll.
    All,
    /// One SEN status (its census code).
    Status(&'a str),
}

impl<'a> Shows<'a> {
    fn of(filter: &'a str) -> Self {
        match filter.trim() {
            "" => Shows::Register,
            "all" => Shows::All,
            code if fields::status_value(code) != 0 => Shows::Status(code),
            _ => Shows::Register,
        }
    }
}

/// The register's first filter: the SEN register, everyone, or one status.
fn register_options() -> Vec<(String, String)> {
    let mut options = vec![
        (String::new(), "On the SEN register (K or E)".to_owned()),
        ("all".to_owned(), "All pupils on roll".to_owned()),
    ];
    options.extend(fields::status_options("").into_iter().skip(1));
    options
}

fn year_rank(code: &str) -> usize {
    NC_YEARS.iter().position(|y| *y == code).unwrap_or(NC_YEARS.len())
}

async fn register(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(REGISTER_ROLES)?;
    let Some(urn) = school_of(&session, query.filter("school")) else {
        let body = html! {
            h1 class="heading-l" { "School registers" }
            p class="body" { "Each school has its own register. " a href="/schools" { "Choose a school from the list of schools" } " to see its register." }
        };
        return Ok(page(&session, "School registers", "/register", body).into_response());
    };
    if session.role() == Role::Senco && !query.filter("school").is_empty() && query.filter("school") != urn {
        // A SENCO's register is their own school's, whatever the address says.
        return Ok(Redirect::to("/register").into_response());
    }
    let name = school_name(&web, &session, &urn).await?;
    let backend = web.backend(&session);
    let shows = Shows::of(query.filter("sen_status"));
    let filter = request_for(&urn, &query);
    if let Some(format) = query.format() {
        SHEET.check(&session)?;
        let backend = backend.clone();
        // In name order, a page at a time, whatever the page's sort.
        let filter = pb::ListPupilsRequest { order: pb::PupilOrder::Name as i32, ..filter };
        let pages = exports::paged(move |page| {
            let request = backend.request(pb::ListPupilsRequest { page: Some(page), ..filter.clone() });
            let backend = backend.clone();
            async move {
                let answer = backend.pupils()?.list_pupils(request).await?.into_inner();
                Ok((answer.pupils.iter().map(export_row).collect(), answer.next_page_token))
            }
        });
        return exports::download(&web, &session, &query, format, SHEET, pages).await;
    }
    let rows = lists::fetch_all(|page| {
        let request = backend.request(pb::ListPupilsRequest { page: Some(page), ..filter.clone() });
        let backend = backend.clone();
        async move {
            let response = backend.pupils()?.list_pupils(request).await?.into_inner();
            Ok::<_, tonic::Status>((response.pupils, response.next_page_token))
        }
    });
    let (rows, needs) = tokio::join!(rows, need_types(&backend));
    let mut rows = rows.map_err(|status| refusals::from_status(&session, &status))?;
    match query.sort() {
        Some("upn") => query.sort_rows(&mut rows, |p| p.upn.clone()),
        Some("year") => query.sort_rows(&mut rows, |p| year_rank(&p.nc_year)),
        Some("status") => query.sort_rows(&mut rows, |p| fields::status_code(p.sen_status)),
        Some("need") => query.sort_rows(&mut rows, |p| p.primary_need_code.clone()),
        _ => query.sort_rows(&mut rows, |p| (p.legal_surname.to_lowercase(), p.legal_forename.to_lowercase())),
    }
    let count = rows.len();
    let (shown, next) = query.paginate(rows);
    let path = "/register";
    let school_param =
        if session.role() == Role::Senco { String::new() } else { format!("?school={}", url_encode(&urn)) };
    let years: Vec<(String, String)> = std::iter::once((String::new(), "Any year".to_owned()))
        .chain(NC_YEARS.iter().map(|y| ((*y).to_owned(), format!("Year {y}"))))
        .collect();
    let title = format!("Register: {name}");
    let body = html! {
        span class="caption" { (name) " (URN " (urn) ")" }
        h1 class="heading-l" { "SEN register" }
        p class="body" {
            a class="button" href={ "/register/new" (school_param) } { "Add a pupil" }
            " "
            a class="button button--secondary" href="/register/import" { "Import a Common Transfer File" }
        }
        form method="get" action=(path) class="filters" {
            @if session.role() != Role::Senco { input type="hidden" name="school" value=(urn); }
            (select("sen_status", "Pupils", &register_options(), query.filter("sen_status"), None))
            (select("need", "Primary need", &needs.options("Any need"), query.filter("need"), None))
            (select("year", "Year group", &years, query.filter("year"), None))
            div class="form-group" { button type="submit" class="button button--secondary" { "Filter" } }
        }
        p class="body" {
            (count) @if count == 1 { " pupil" } @else { " pupils" }
            @match shows {
                Shows::Register => { " on the SEN register (SEN support or an EHC plan). " a href={ "/register?sen_status=all" @if session.role() != Role::Senco { "&school=" (url_encode(&urn)) } } { "Show every pupil on roll" } }
                Shows::All => { " on roll. " a href={ "/register" (school_param) } { "Show the SEN register only" } }
                Shows::Status(_) => {}
            }
        }
        div class="table-wrapper" {
            table class="table" {
                caption { "Pupils on the register of " (name) }
                (lists::sort_headers(&query, path, COLUMNS))
                tbody {
                    @for pupil in &shown {
                        tr {
                            td { a href={ "/pupils/" (pupil.id) } { (fields::pupil_name(pupil)) } }
                            td { (pupil.upn) }
                            td { (pupil.nc_year) }
                            td { (fields::status_tag(pupil.sen_status)) }
                            td { (needs.name(&pupil.primary_need_code)) }
                            td { @if pupil.looked_after { "Yes" } @else { "No" } }
                        }
                    }
                }
            }
        }
        @if shown.is_empty() { p class="body" { "No pupils match." } }
        (lists::pager(&query, path, &next))
        (exports::links(&session, &query, path, &SHEET))
    };
    Ok(page(&session, &title, "/register", body).into_response())
}

/// The service's request for a school's register with the page's filters:
/// the SEN register (K or E) unless the reader asks for every pupil on roll or
/// one status (paging is added per call).
fn request_for(urn: &str, query: &ListQuery) -> pb::ListPupilsRequest {
    let shows = Shows::of(query.filter("sen_status"));
    pb::ListPupilsRequest {
        page: None,
        school_urn: urn.to_owned(),
        sen_status: match shows {
            Shows::Status(code) => fields::status_value(code),
            _ => 0,
        },
        on_sen_register: shows == Shows::Register,
        primary_need_code: fields::need_code(query.filter("need")),
        nc_year: Some(query.filter("year")).filter(|y| NC_YEARS.contains(y)).unwrap_or("").to_owned(),
        looked_after: None,
        upn: String::new(),
        ..Default::default()
    }
}

/// The register's file: the school's pupils the filters select, in name order.
const SHEET: Sheet = Sheet {
    list: "register",
    title: "SEN register",
    headers: &[
        "Pupil id",
        "UPN",
        "Legal forename",
        "Legal surname",
        "Preferred name",
        "Date of birth",
        "Year",
        "SEN status",
        "Primary need",
        "Secondary need",
        "Looked after",
    ],
    pupil_level: true,
};

fn export_row(p: &pb::Pupil) -> Row {
    vec![
        Cell::Number(p.id),
        p.upn.as_str().into(),
        p.legal_forename.as_str().into(),
        p.legal_surname.as_str().into(),
        fields::pupil_name(p).into(),
        Cell::date(p.date_of_birth.as_ref()),
        p.nc_year.as_str().into(),
        fields::status_code(p.sen_status).into(),
        p.primary_need_code.as_str().into(),
        p.secondary_need_code.as_str().into(),
        Cell::yes_no(p.looked_after),
    ]
}
