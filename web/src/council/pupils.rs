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
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use crate::backend::Backend;
use crate::fields::{self, NC_YEARS};
use crate::layout::{page, select};
use crate::lists::{self, Column, ListQuery, MAX_ROWS, csv_link, csv_response, pager, sort_headers};
use crate::lookups::school_names;
use crate::refusals::{PageResult, from_status};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{self, pupil_link, school_link, thousands};

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
        primary_need: fields::need_value(query.filter("need")),
        nc_year: Some(query.filter("year")).filter(|y| NC_YEARS.contains(y)).unwrap_or("").to_owned(),
        order: pb::PupilOrder::Name as i32,
        ..Default::default()
    }
}

/// What the filters ask for, in words following "N pupils": " with an
/// education, health and care plan (E), in year 6, at Oak Primary".
fn described(query: &ListQuery, schools: &HashMap<String, String>) -> String {
    let status = query.filter("status");
    let mut words = STATUSES.iter().find(|(code, _, _)| *code == status).map_or(STATUSES[0].2, |s| s.2).to_owned();
    let need = fields::need_name(fields::need_value(query.filter("need")));
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
    if query.wants_csv() {
        return csv(&backend, &session, &query).await;
    }
    let request =
        pb::ListPupilsRequest { page: Some(query.page_request()), include_total: true, ..request_for(&query) };
    let answer = async { backend.pupils()?.list_pupils(backend.request(request)).await };
    let (answer, schools) = tokio::join!(answer, school_names(&backend, session.role()));
    let answer = answer.map_err(|s| from_status(&session, &s))?.into_inner();
    let school = |urn: &str| schools.get(urn).cloned().unwrap_or_default();
    let body = html! {
        span class="caption" { "Local authority " (session.caller.grant.tenant.map(|t| t.to_string()).unwrap_or_default()) }
        h1 class="heading-l" { "Pupils" }
        (filters(&query, &schools))
        p class="body" {
            @if let Some(total) = answer.total {
                strong { (thousands(total.into())) @if total == 1 { " pupil" } @else { " pupils" } }
            } @else {
                "Pupils"
            }
            (described(&query, &schools)) ", in alphabetical order of surname."
        }
        @if answer.pupils.is_empty() {
            p class="body" { "No pupils match these filters." }
        } @else {
            div class="table-wrapper" {
                table class="table" {
                    caption class="visually-hidden" { "Pupils" (described(&query, &schools)) }
                    (sort_headers(&query, PATH, COLUMNS))
                    tbody { @for pupil in &answer.pupils { (row(pupil, &school(&pupil.school_urn))) } }
                }
            }
        }
        (pager(&query, PATH, &answer.next_page_token))
        @match answer.total {
            Some(total) if total as usize > MAX_ROWS => p class="body-s" { "To download the list, narrow it to " (thousands(MAX_ROWS as u64)) " pupils or fewer." },
            _ if !answer.pupils.is_empty() => (csv_link(&query, PATH, "these pupils")),
            _ => {},
        }
    };
    Ok(page(&session, "Pupils", PATH, body).into_response())
}

fn row(pupil: &pb::Pupil, school: &str) -> Markup {
    html! {
        tr {
            th scope="row" { (pupil_link(pupil.id, &fields::pupil_name(pupil))) }
            td { (pupil.upn) }
            td { (school_link(&pupil.school_urn, school)) }
            td { (pupil.nc_year) }
            td { (fields::status_tag(pupil.sen_status)) }
            td { (fields::need_name(pupil.primary_need)) }
        }
    }
}

fn filters(query: &ListQuery, schools: &HashMap<String, String>) -> Markup {
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
            (select("need", "Primary need", &fields::need_options("Any need"), query.filter("need"), None))
            (select("school", "School", &school_options, query.filter("school"), None))
            (select("year", "Year group", &years, query.filter("year"), None))
            div class="form-group" { button type="submit" class="button button--secondary" { "Apply filters" } }
        }
    }
}

/// Every pupil the filters match, as a CSV file (up to the lists' limit).
async fn csv(backend: &Backend, session: &Session, query: &ListQuery) -> PageResult {
    let filter = request_for(query);
    let rows = lists::fetch_all(|page| {
        let request = backend.request(pb::ListPupilsRequest { page: Some(page), ..filter.clone() });
        let backend = backend.clone();
        async move {
            let answer = backend.pupils()?.list_pupils(request).await?.into_inner();
            Ok::<_, tonic::Status>((answer.pupils, answer.next_page_token))
        }
    });
    let (rows, schools) = tokio::join!(rows, school_names(backend, session.role()));
    let rows = rows.map_err(|s| from_status(session, &s))?;
    Ok(csv_file(&rows, &schools))
}

fn csv_file(rows: &[pb::Pupil], schools: &HashMap<String, String>) -> Response {
    let headers = [
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
    ];
    let lines = rows.iter().map(|p| {
        vec![
            p.id.to_string(),
            p.upn.clone(),
            p.legal_forename.clone(),
            p.legal_surname.clone(),
            fields::pupil_name(p),
            wording::iso_date(p.date_of_birth.as_ref()),
            p.school_urn.clone(),
            schools.get(&p.school_urn).cloned().unwrap_or_default(),
            p.nc_year.clone(),
            fields::status_code(p.sen_status).to_owned(),
            fields::need_code(p.primary_need).to_owned(),
            fields::need_code(p.secondary_need).to_owned(),
        ]
    });
    csv_response("pupils.csv", &headers, lines)
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
        assert_eq!(plans.primary_need, pb::NeedType::Asd as i32);
        assert_eq!((plans.nc_year.as_str(), plans.school_urn.as_str()), ("6", "100001"));
        let everyone = request_for(&query(&[("status", "all"), ("year", "Year 99")]));
        assert!(!everyone.on_sen_register && everyone.sen_status == 0 && everyone.nc_year.is_empty());
    }

    #[test]
    fn the_filters_are_said_in_words() {
        let schools = HashMap::from([("100001".to_owned(), "Oak Primary".to_owned())]);
        let words = described(&query(&[("status", "E"), ("school", "100001"), ("year", "6")]), &schools);
        assert_eq!(words, " with an education, health and care plan (E), in year 6, at Oak Primary");
        assert_eq!(described(&query(&[]), &schools), " on the SEN register (K or E)");
        assert_eq!(described(&query(&[("status", "all")]), &schools), "");
    }
}
