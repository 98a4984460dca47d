//! SENCO compliance (`/senco-compliance`, the council team's): mainstream
//! schools with no SENCO, SENCO qualifications overdue or due soon (the NPQ for
//! SENCOs for anyone appointed from 1 September 2024, SEND Regulations 2014
//! reg. 49(7)), and SENCOs not recorded as qualified teachers, as one
//! filterable, sortable list with CSV.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::html;
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use super::schools::award_text;
use crate::exports::{self, Cell, Sheet};
use crate::layout::{Tone, page, select, tag};
use crate::lists::{Column, ListQuery, pager, sort_headers};
use crate::refusals::{PageResult, from_status};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{days_left, long_date, school_link};

const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];

/// The SENCO compliance route.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/senco-compliance", get(compliance_page))
}

/// One line of the SENCO compliance list.
struct Issue {
    code: &'static str,
    text: &'static str,
    school: pb::SchoolSummary,
    senco: Option<pb::SencoAppointment>,
    days: Option<i32>,
}

async fn compliance_page(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(TEAM)?;
    let today = chrono::Utc::now().date_naive();
    let backend = web.backend(&session);
    let report = match backend.schools() {
        Ok(mut client) => {
            client
                .list_senco_compliance(
                    backend.request(pb::ListSencoComplianceRequest { as_of: None, due_within_days: 0 }),
                )
                .await
        }
        Err(status) => Err(status),
    }
    .map_err(|s| from_status(&session, &s))?
    .into_inner();
    let item = |code, text, i: pb::SencoComplianceItem| Issue {
        code,
        text,
        school: i.school.unwrap_or_default(),
        senco: i.senco,
        days: Some(i.days_to_deadline),
    };
    let mut rows: Vec<Issue> = report
        .without_senco
        .into_iter()
        .map(|school| Issue { code: "no_senco", text: "No SENCO", school, senco: None, days: None })
        .chain(report.awards_overdue.into_iter().map(|i| item("award_overdue", "Award overdue", i)))
        .chain(report.awards_due_soon.into_iter().map(|i| item("award_due_soon", "Award due soon", i)))
        .chain(report.not_qualified_teacher.into_iter().map(|i| item("not_qualified", "Not a qualified teacher", i)))
        .filter(|i| query.filter("issue").is_empty() || i.code == query.filter("issue"))
        .collect();
    match query.sort() {
        Some("school") => query.sort_rows(&mut rows, |i| i.school.name.clone()),
        Some("issue") => query.sort_rows(&mut rows, |i| i.text),
        Some("days") => query.sort_rows(&mut rows, |i| i.days),
        _ => {}
    }
    if let Some(format) = query.format() {
        let lines = rows
            .iter()
            .map(|i| {
                vec![
                    i.school.urn.as_str().into(),
                    i.school.name.as_str().into(),
                    i.text.into(),
                    i.senco.as_ref().map(|s| s.person_name.clone()).unwrap_or_default().into(),
                    i.senco.as_ref().map(|s| award_text(s, today)).unwrap_or_default().into(),
                    Cell::date(i.senco.as_ref().and_then(|s| s.award_deadline.as_ref())),
                    i.days.map_or(Cell::from(""), |d| Cell::Number(d.into())),
                ]
            })
            .collect();
        return exports::download(&web, &session, &query, format, SHEET, exports::whole(lines)).await;
    }
    let (shown, next) = query.paginate(rows);
    let issues = [
        ("", "Any issue"),
        ("no_senco", "No SENCO"),
        ("award_overdue", "Award overdue"),
        ("award_due_soon", "Award due soon"),
        ("not_qualified", "Not a qualified teacher"),
    ]
    .map(|(c, n)| (c.to_owned(), n.to_owned()));
    let columns = [
        Column::text("school", "School"),
        Column::text("issue", "Issue"),
        Column::plain("SENCO"),
        Column::number("days", "Award deadline"),
    ];
    let body = html! {
        h1 class="heading-l" { "SENCO compliance" }
        p class="body" { "Mainstream schools must have a SENCO who is a qualified teacher. A new SENCO must gain the mandatory qualification within 3 years of appointment: the NPQ for SENCOs for anyone appointed from 1 September 2024 (a NASENCO counts only for SENCOs appointed before then, or who held it already, and only if completed before 1 September 2027)." }
        form class="filters" method="get" action="/senco-compliance" aria-label="Filter SENCO compliance" {
            (select("issue", "Issue", &issues, query.filter("issue"), None))
            div class="form-group" { button class="button button--secondary" type="submit" { "Apply filters" } }
        }
        (exports::links(&session, &query, "/senco-compliance", &SHEET))
        @if shown.is_empty() { p class="body" { "No schools with these issues." } } @else {
            div class="table-wrapper" { table class="table" {
                caption { "Schools needing attention" }
                (sort_headers(&query, "/senco-compliance", &columns))
                tbody { @for i in &shown { tr {
                    td { (school_link(&i.school.urn, &i.school.name)) }
                    td { (tag(i.text, if i.code == "award_due_soon" { Tone::Yellow } else { Tone::Red })) }
                    td { @if let Some(s) = &i.senco { (s.person_name) br; span class="secondary" { (award_text(s, today)) } } }
                    td { (long_date(i.senco.as_ref().and_then(|s| s.award_deadline.as_ref())))
                        @if let Some(d) = i.days { " (" (days_left(d)) ")" } }
                } } }
            } }
        }
        (pager(&query, "/senco-compliance", &next))
    };
    Ok(page(&session, "SENCO compliance", "/schools", body).into_response())
}

/// SENCO compliance's file: one row per school and issue (SENCOs named, no pupils), in the page's order.
const SHEET: Sheet = Sheet {
    list: "senco-compliance",
    title: "SENCO compliance",
    headers: &["URN", "School", "Issue", "SENCO", "Qualification", "Award deadline", "Days to deadline"],
    pupil_level: false,
};
