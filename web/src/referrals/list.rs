//! The referrals list (`/referrals`), kept live by [`super::live`].
//!
//! Everyone who may list referrals sees this page; the referrals service scopes
//! the rows (the council team the authority's, a SENCO their school's, an EP or
//! advisory teacher those allocated to them), so the page never filters for
//! safety itself. Filters: `status` (a status code, or `open`), `kind` (a
//! kind's code, or `advisory_teacher` for any specialism), `school` (URN),
//! `month` (`YYYY-MM`, submitted in that month: the dashboard's monthly bars)
//! and `overdue=yes` (statutory deadlines passed). The referrals service
//! filters, sorts and pages: the page asks for the 50 rows it shows and the
//! total (so only those are read and audited); sorting by school passes the
//! schools in the order of their names. The CSV asks for every page.
//!
//! Live: the table region names `/referrals/live` (see [`super::live`]); on each
//! change the page fetches itself again and swaps the region in.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use crate::exports::{self, Cell, Row, Sheet};
use crate::layout::{page, select};
use crate::lists::{Column, Dir, ListQuery, pager, sort_headers};
use crate::lookups::{pupil_names, school_names};
use crate::people::People;
use crate::refusals::{PageResult, from_status};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{self, long_date, pupil_link, school_link};

/// Who may list referrals (as `ListReferrals`).
const READERS: &[Role] =
    &[Role::LaManager, Role::CaseOfficer, Role::Senco, Role::EducationalPsychologist, Role::AdvisoryTeacher];
const PATH: &str = "/referrals";

const COLUMNS: &[Column] = &[
    Column::number("id", "Referral"),
    Column::text("pupil", "Pupil"),
    Column::text("school", "School"),
    Column::text("kind", "Kind"),
    Column::text("status", "Status"),
    Column::text("submitted", "Submitted"),
    Column::text("deadline", "Next statutory deadline"),
];

/// The list's routes.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route(PATH, get(list))
}

/// The service's request for the page's filters and sort (paging is added per
/// call); `schools` (URN to name) orders the schools when sorting by school.
fn request_for(query: &ListQuery, schools: &HashMap<String, String>) -> pb::ListReferralsRequest {
    let status = match query.filter("status") {
        "open" | "" => pb::ReferralStatus::Unspecified,
        code => wording::status_from_code(code).unwrap_or(pb::ReferralStatus::Unspecified),
    };
    // Advisory teachers of any specialism: the service's kind family.
    let (kind, kind_family) = match query.filter("kind") {
        ANY_ADVISORY_TEACHER => ("", ANY_ADVISORY_TEACHER),
        kind => (kind, ""),
    };
    let sort = query.sort().filter(|key| COLUMNS.iter().any(|c| c.key == *key)).unwrap_or("");
    let school_order = if sort == "school" { crate::lookups::school_order(schools) } else { Vec::new() };
    let (submitted_from, submitted_to) = month_of(query.filter("month")).map_or((None, None), |(first, last)| {
        (Some(sen_platform::dates::to_proto(first)), Some(sen_platform::dates::to_proto(last)))
    });
    pb::ListReferralsRequest {
        page: None,
        school_urn: query.filter("school").to_owned(),
        kind: kind.to_owned(),
        submitted_from,
        submitted_to,
        status: status as i32,
        older_than_days: 0,
        overdue: query.filter("overdue") == "yes",
        as_of: None,
        sort: sort.to_owned(),
        descending: !sort.is_empty() && query.dir() == Dir::Desc,
        school_order,
        open_only: query.filter("status") == "open",
        kind_family: kind_family.to_owned(),
        ..Default::default()
    }
}

/// The `kind` filter of every advisory teacher referral, whatever the specialism.
const ANY_ADVISORY_TEACHER: &str = "advisory_teacher";

/// The first and last day of a month written `YYYY-MM` (the `month` filter).
fn month_of(month: &str) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
    let first = chrono::NaiveDate::parse_from_str(&format!("{}-01", month.trim()), "%Y-%m-%d").ok()?;
    let last = first.checked_add_months(chrono::Months::new(1))?.pred_opt()?;
    Some((first, last))
}

async fn list(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(READERS)?;
    let backend = web.backend(&session);
    let schools = school_names(&backend, session.role()).await;
    let request = request_for(&query, &schools);
    if let Some(format) = query.format() {
        SHEET.check(&session)?;
        let people = std::sync::Arc::new(People::look_up(&backend, &session, None).await);
        let (schools, backend_for_pages) = (std::sync::Arc::new(schools), backend.clone());
        // Page by page in the list's order, each page's pupils named as it comes.
        let pages = exports::paged(move |page| {
            let (backend, schools, people) = (backend_for_pages.clone(), schools.clone(), people.clone());
            let request = pb::ListReferralsRequest { page: Some(page), ..request.clone() };
            async move {
                let answer = backend.referrals()?.list_referrals(backend.request(request)).await?.into_inner();
                let ids = answer.referrals.iter().filter_map(|r| r.body.as_ref().map(|b| b.pupil_id));
                let names = pupil_names(&backend, ids).await;
                let rows = answer.referrals.iter().map(|r| export_row(r, &schools, &names, &people)).collect();
                Ok((rows, answer.next_page_token))
            }
        });
        return exports::download(&web, &session, &query, format, SHEET, pages).await;
    }
    let answer = match backend.referrals() {
        Ok(mut client) => {
            let request = pb::ListReferralsRequest { page: Some(query.page_request()), ..request };
            client.list_referrals(backend.request(request)).await.map(tonic::Response::into_inner)
        }
        Err(status) => Err(status),
    }
    .map_err(|s| from_status(&session, &s))?;
    let (total, shown, next) = (answer.total, answer.referrals, answer.next_page_token);
    let school = |urn: &str| schools.get(urn).cloned().unwrap_or_default();
    let names = pupil_names(&backend, shown.iter().filter_map(|r| r.body.as_ref().map(|b| b.pupil_id))).await;
    let body = html! {
        h1 class="heading-l" { "Referrals" }
        @if session.role() == Role::Senco { p class="body" { a class="button" href="/referrals/new" { "Make a referral" } } }
        (filters(&session, &query, &schools))
        (exports::links(&session, &query, PATH, &SHEET))
        p id="live-status" class="body-s secondary" aria-live="polite" role="status" {}
        div id="referral-rows" data-live="/referrals/live" data-live-status="live-status" {
            @if shown.is_empty() {
                p class="body" { "No referrals match these filters." }
            } @else {
                div class="table-wrapper" {
                    table class="table" {
                        caption { "Referrals (" (total) ")" }
                        (sort_headers(&query, PATH, COLUMNS))
                        tbody { @for r in &shown { (row(r, &names, &school)) } }
                    }
                }
            }
            (pager(&query, PATH, &next))
        }
    };
    Ok(page(&session, "Referrals", PATH, body).into_response())
}

fn row(r: &pb::Referral, names: &HashMap<i64, String>, school: &impl Fn(&str) -> String) -> Markup {
    let body = r.body.clone().unwrap_or_default();
    html! {
        tr {
            td class="numeric" { a href={ "/referrals/" (r.id) } { "Referral " (r.id) } }
            td { (pupil_link(body.pupil_id, names.get(&body.pupil_id).map(String::as_str).unwrap_or(""))) }
            td { (school_link(&body.school_urn, &school(&body.school_urn))) }
            td { (wording::kind_name(&body.kind)) }
            td { (wording::status_tag(r.status)) }
            td { (long_date(r.submitted_on.as_ref())) }
            td {
                @if let Some(clock) = r.clock.as_ref().filter(|c| !c.next_deadline.is_empty()) {
                    (long_date(clock.next_deadline_on.as_ref())) " "
                    (wording::health_tag(&clock.health))
                }
            }
        }
    }
}

fn filters(session: &Session, query: &ListQuery, schools: &HashMap<String, String>) -> Markup {
    let any = |text: &str| (String::new(), text.to_owned());
    let mut statuses = vec![any("Any status"), ("open".to_owned(), "Any open status".to_owned())];
    statuses.extend(wording::status_options());
    let mut kinds = vec![any("Any kind")];
    kinds.extend(wording::kind_options());
    kinds.push((ANY_ADVISORY_TEACHER.to_owned(), "Advisory teacher (any specialism)".to_owned()));
    let month = query.filter("month");
    let months: Vec<(String, String)> = std::iter::once(any("Any month"))
        .chain(month_of(month).map(|(first, _)| (month.to_owned(), first.format("%B %Y").to_string())))
        .collect();
    let mut school_options: Vec<(String, String)> = schools.iter().map(|(u, n)| (u.clone(), n.clone())).collect();
    school_options.sort_by(|a, b| a.1.cmp(&b.1));
    school_options.insert(0, any("Any school"));
    let team = matches!(session.role(), Role::LaManager | Role::CaseOfficer);
    html! {
        form class="filters" method="get" action=(PATH) aria-label="Filter referrals" {
            (select("status", "Status", &statuses, query.filter("status"), None))
            (select("kind", "Kind", &kinds, query.filter("kind"), None))
            @if months.len() > 1 { (select("month", "Submitted in", &months, month, None)) }
            @if team && schools.len() > 1 { (select("school", "School", &school_options, query.filter("school"), None)) }
            div class="form-group" {
                div class="checkboxes__item" {
                    input class="checkboxes__input" id="overdue" name="overdue" type="checkbox" value="yes"
                        checked[query.filter("overdue") == "yes"];
                    label class="checkboxes__label" for="overdue" { "Only past a statutory deadline" }
                }
            }
            div class="form-group" { button class="button button--secondary" type="submit" { "Apply filters" } }
        }
    }
}

/// The list's file: every referral the filters match, in the list's order.
const SHEET: Sheet = Sheet {
    list: "referrals",
    title: "Referrals",
    headers: &[
        "Referral",
        "Pupil ID",
        "Pupil",
        "School URN",
        "School",
        "Kind",
        "Status",
        "Submitted on",
        "Priority",
        "Allocated to",
        "Next statutory deadline",
        "Deadline date",
        "Clock health",
    ],
    pupil_level: true,
};

fn export_row(
    r: &pb::Referral,
    schools: &HashMap<String, String>,
    names: &HashMap<i64, String>,
    people: &People,
) -> Row {
    let body = r.body.clone().unwrap_or_default();
    let clock = r.clock.clone().unwrap_or_default();
    vec![
        Cell::Number(r.id),
        Cell::Number(body.pupil_id),
        names.get(&body.pupil_id).cloned().unwrap_or_default().into(),
        body.school_urn.as_str().into(),
        schools.get(&body.school_urn).cloned().unwrap_or_default().into(),
        wording::kind_name(&body.kind).into(),
        wording::status_name(r.status).into(),
        Cell::date(r.submitted_on.as_ref()),
        body.priority.into(),
        if r.allocated_to.is_empty() { String::new() } else { people.allocated(&r.allocated_to, &body.kind) }.into(),
        clock.next_deadline.into(),
        Cell::date(clock.next_deadline_on.as_ref()),
        clock.health.into(),
    ]
}
