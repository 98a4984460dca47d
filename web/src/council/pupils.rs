//! The authority's pupils (`/pupils`), for the council SEN team: every pupil of
//! every school, by name, filtered by SEN status (the SEN register, K or E,
//! unless another is chosen), primary need, school and year group, a page at a
//! time, each row leading to the pupil's page. The dashboard's pupil figures and
//! its "SEN by school" bars open this list filtered to match.
//!
//! The pupils service does the filtering and the paging (`ListPupils` in name
//! order, with the count of every match on the first page), so a list of a
//! large authority is as quick as a small one; it scopes the rows to the
//! reader's authority, and audits each pupil a page shows.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use crate::backend::Backend;
use crate::exports::{self, Cell, Row, Sheet};
use crate::fields::{self, NC_YEARS, Needs};
use crate::layout::{page, select};
use crate::lists::{Column, Format, ListQuery, pager, sort_headers};
use crate::lookups::{need_types, school_names};
use crate::refusals::{PageResult, from_status};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{pupil_link, school_link, thousands};

/// Who sees the authority's pupils: the council team.
const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];
const PATH: &str = "/pupils";

/// The `status` filter's choices: the census code, `all`, or none for the SEN
/// register; as the filter names them, and as the count of the list says them.
const STATUSES: [(&str, &str, &str); 5] = [
    ("", "SEN register (K or E)", " on the SEN register (K or E)"),
    ("K", "SEN support (K)", " on SEN support (K)"),
    ("E", "EHC plan (E)", " with an education, health and care plan (E)"),
    ("N", "Not on the register (N)", " not on the SEN register (N)"),
    ("all", "Every pupil", ""),
];

const COLUMNS: &[Column] = &[
    Column::plain("Name"),
    Column::plain("UPN"),
    Column::plain("School"),
    Column::plain("Year"),
    Column::plain("SEN status"),
    Column::plain("Primary need"),
];

/// The list's route.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route(PATH, get(list))
}

/// The service's request for the list's filters (paging and the count are added per call).
fn request_for(query: &ListQuery) -> pb::ListPupilsRequest {
    let status = query.filter("status");
    pb::ListPupilsRequest {
        school_urn: query.filter("school").to_owned(),
        sen_status: fields::status_value(status),
        on_sen_register: status.is_empty(),
        primary_need_code: fields::need_code(query.filter("need")),
        nc_year: Some(query.filter("year")).filter(|y| NC_YEARS.contains(y)).unwrap_or("").to_owned(),
        order: pb::PupilOrder::Name as i32,
        ..Default::default()
    }
}

/// What the filters ask for, in words following "N pupils": " with an
/// education, health and care plan (E), in year 6, at Oak Primary".
fn described(query: &ListQuery, schools: &HashMap<String, String>, needs: &Needs) -> String {
    let status = query.filter("status");
    let mut words = STATUSES.iter().find(|(code, _, _)| *code == status).map_or(STATUSES[0].2, |s| s.2).to_owned();
    let need = needs.name(query.filter("need"));
    if !need.is_empty() {
        words.push_str(&format!(", primary need {need}"));
    }
    if let Some(year) = Some(query.filter("year")).filter(|y| NC_YEARS.contains(y)) {
        words.push_str(&format!(", in year {year}"));
    }
    if let Some(school) = Some(query.filter("school")).filter(|s| !s.is_empty()) {
        let name = schools.get(school).cloned().unwrap_or_else(|| format!("school {school}"));
        words.push_str(&format!(", at {name}"));
    }
    words
}

async fn list(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(TEAM)?;
    let backend = web.backend(&session);
    if let Some(format) = query.format() {
        return export(&web, &backend, &session, &query, format).await;
    }
    let request =
        pb::ListPupilsRequest { page: Some(query.page_request()), include_total: true, ..request_for(&query) };
    let answer = async { backend.pupils()?.list_pupils(backend.request(request)).await };
    let (answer, schools, needs) = tokio::join!(answer, school_names(&backend, session.role()), need_types(&backend));
    let answer = answer.map_err(|s| from_status(&session, &s))?.into_inner();
    let school = |urn: &str| schools.get(urn).cloned().unwrap_or_default();
    let body = html! {
        span class="caption" { "Local authority " (session.caller.grant.tenant.map(|t| t.to_string()).unwrap_or_default()) }
        h1 class="heading-l" { "Pupils" }
        p class="body-s" { a href="/register/import" { "Import a school's Common Transfer File" } }
        (filters(&query, &schools, &needs))
        @if session.role() == Role::LaManager {
            p class="body-s" { a href="/need-types" { "Type-of-need codes of the authority" } }
        }
        p class="body" {
            @if let Some(total) = answer.total {
                strong { (thousands(total.into())) @if total == 1 { " pupil" } @else { " pupils" } }
            } @else {
                "Pupils"
            }
            (described(&query, &schools, &needs)) ", in alphabetical order of surname."
        }
        @if answer.pupils.is_empty() {
            p class="body" { "No pupils match these filters." }
        } @else {
            div class="table-wrapper" {
                table class="table" {
                    caption class="visually-hidden" { "Pupils" (described(&query, &schools, &needs)) }
                    (sort_headers(&query, PATH, COLUMNS))
                    tbody { @for pupil in &answer.pupils { (row(pupil, &school(&pupil.school_urn), &needs)) } }
                }
            }
        }
        (pager(&query, PATH, &answer.next_page_token))
        @if !answer.pupils.is_empty() { (exports::links(&session, &query, PATH, &SHEET)) }
    };
    Ok(page(&session, "Pupils", PATH, body).into_response())
}

fn row(pupil: &pb::Pupil, school: &str, needs: &Needs) -> Markup {
    html! {
        tr {
            th scope="row" { (pupil_link(pupil.id, &fields::pupil_name(pupil))) }
            td { (pupil.upn) }
            td { (school_link(&pupil.school_urn, school)) }
            td { (pupil.nc_year) }
            td { (fields::status_tag(pupil.sen_status)) }
            td { (needs.name(&pupil.primary_need_code)) }
        }
    }
}

fn filters(query: &ListQuery, schools: &HashMap<String, String>, needs: &Needs) -> Markup {
    let statuses: Vec<(String, String)> =
        STATUSES.iter().map(|(code, name, _)| ((*code).to_owned(), (*name).to_owned())).collect();
    let years: Vec<(String, String)> = std::iter::once((String::new(), "Any year".to_owned()))
        .chain(NC_YEARS.iter().map(|y| ((*y).to_owned(), format!("Year {y}"))))
        .collect();
    let mut school_options: Vec<(String, String)> = schools.iter().map(|(u, n)| (u.clone(), n.clone())).collect();
    school_options.sort_by(|a, b| a.1.cmp(&b.1));
    school_options.insert(0, (String::new(), "Any school".to_owned()));
    html! {
        form class="filters" method="get" action=(PATH) aria-label="Filter pupils" {
            (select("status", "SEN status", &statuses, query.filter("status"), None))
            (select("need", "Primary need", &needs.options("Any need"), query.filter("need"), None))
            (select("school", "School", &school_options, query.filter("school"), None))
            (select("year", "Year group", &years, query.filter("year"), None))
            div class="form-group" { button type="submit" class="button button--secondary" { "Apply filters" } }
        }
    }
}

/// The list's file: every pupil the filters match, in name order.
const SHEET: Sheet = Sheet {
    list: "pupils",
    title: "Pupils",
    headers: &[
        "Pupil id",
        "UPN",
        "Legal forename",
        "Legal surname",
        "Preferred name",
        "Date of birth",
        "School URN",
        "School",
        "Year",
        "SEN status",
        "Primary need",
        "Secondary need",
    ],
    pupil_level: true,
};

/// Every pupil the filters match as a file, streamed from the service a page at a time.
async fn export(web: &Web, backend: &Backend, session: &Session, query: &ListQuery, format: Format) -> PageResult {
    SHEET.check(session)?;
    let filter = request_for(query);
    let schools = std::sync::Arc::new(school_names(backend, session.role()).await);
    let backend = backend.clone();
    let pages = exports::paged(move |page| {
        let request = backend.request(pb::ListPupilsRequest { page: Some(page), ..filter.clone() });
        let (backend, schools) = (backend.clone(), schools.clone());
        async move {
            let answer = backend.pupils()?.list_pupils(request).await?.into_inner();
            Ok((answer.pupils.iter().map(|p| export_row(p, &schools)).collect(), answer.next_page_token))
        }
    });
    exports::download(web, session, query, format, SHEET, pages).await
}

fn export_row(p: &pb::Pupil, schools: &HashMap<String, String>) -> Row {
    vec![
        Cell::Number(p.id),
        p.upn.as_str().into(),
        p.legal_forename.as_str().into(),
        p.legal_surname.as_str().into(),
        fields::pupil_name(p).into(),
        Cell::date(p.date_of_birth.as_ref()),
        p.school_urn.as_str().into(),
        schools.get(&p.school_urn).cloned().unwrap_or_default().into(),
        p.nc_year.as_str().into(),
        fields::status_code(p.sen_status).into(),
        p.primary_need_code.as_str().into(),
        p.secondary_need_code.as_str().into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> ListQuery {
        ListQuery::from_pairs(pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn the_list_opens_on_the_sen_register_by_name_and_every_pupil_is_a_choice() {
        let register = request_for(&query(&[]));
        assert!(register.on_sen_register && register.sen_status == 0);
        assert_eq!(register.order, pb::PupilOrder::Name as i32);
        let plans = request_for(&query(&[("status", "E"), ("need", "ASD"), ("year", "6"), ("school", "100001")]));
        assert!(!plans.on_sen_register);
        assert_eq!(plans.sen_status, pb::SenProvision::EhcPlan as i32);
        assert_eq!(plans.primary_need_code, "ASD");
        assert_eq!((plans.nc_year.as_str(), plans.school_urn.as_str()), ("6", "100001"));
        let everyone = request_for(&query(&[("status", "all"), ("year", "Year 99")]));
        assert!(!everyone.on_sen_register && everyone.sen_status == 0 && everyone.nc_year.is_empty());
    }

    #[test]
    fn the_filters_are_said_in_words() {
        let schools = HashMap::from([("100001".to_owned(), "Oak Primary".to_owned())]);
        let needs = Needs(vec![pb::NeedType { code: "DS".into(), name: "Down syndrome".into(), ..Default::default() }]);
        let words = described(&query(&[("status", "E"), ("school", "100001"), ("year", "6")]), &schools, &needs);
        assert_eq!(words, " with an education, health and care plan (E), in year 6, at Oak Primary");
        let words = described(&query(&[("status", "E"), ("need", "DS")]), &schools, &needs);
        assert_eq!(words, " with an education, health and care plan (E), primary need Down syndrome (DS)");
        assert_eq!(described(&query(&[]), &schools, &needs), " on the SEN register (K or E)");
        assert_eq!(described(&query(&[("status", "all")]), &schools, &needs), "");
    }
}
