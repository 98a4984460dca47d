//! Late advice (`/late-advice`, the council team's): advice asked for in EHC
//! needs assessments that is past its due date and not yet in, or that came in
//! after it. Each request for advice is due 6 weeks after it was asked for (SEN
//! and Disability Regulations 2014, reg. 8(1)); the caseloads service works the
//! dates out and scopes the rows to the authority. Filterable, sortable, paged
//! and exportable as CSV with the list toolkit; linked from the dashboard's
//! advice figure. The same list is `GET /api/v1/advice?late_only=true`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::html;
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use crate::backend::Backend;
use crate::exports::{self, Cell, Sheet};
use crate::layout::{page, select};
use crate::lists::{Column, ListQuery, pager, sort_headers};
use crate::lookups::{pupil_names, school_names};
use crate::refusals::{PageResult, from_status};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{advice_kind_name, advice_state_tag, iso_date, long_date, pupil_link, school_link};

/// Who may list late advice across the authority (as `ListAdviceRequests`).
const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];

/// The page's route.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/late-advice", get(late_page))
}

/// Every request for advice late today: overdue, or in after its due date.
pub(super) async fn late_advice(backend: &Backend) -> Result<Vec<pb::AdviceRequest>, tonic::Status> {
    let request = pb::ListAdviceRequestsRequest { late_only: true, ..Default::default() };
    Ok(backend.caseloads()?.list_advice_requests(backend.request(request)).await?.into_inner().advice)
}

/// The number of late requests for advice, for the dashboard (`None` when the
/// service did not answer): counted by the service, no row sent.
pub(super) async fn late_count(backend: &Backend) -> Option<u32> {
    let request = pb::ListAdviceRequestsRequest { late_only: true, count_only: true, ..Default::default() };
    let mut caseloads = backend.caseloads().ok()?;
    caseloads.list_advice_requests(backend.request(request)).await.ok().map(|answer| answer.into_inner().total)
}

const COLUMNS: &[Column] = &[
    Column::text("request", "EHC request"),
    Column::text("pupil", "Pupil"),
    Column::text("school", "School"),
    Column::text("kind", "Advice"),
    Column::plain("Asked of"),
    Column::text("due", "Due"),
    Column::plain("Received"),
    Column::number("late", "Days late"),
];

/// Days past the due date: to the day it came in, or to today while it is not in.
fn days_late(row: &pb::AdviceRequest) -> i32 {
    let day = |d: Option<&pb::Date>| d.and_then(|d| sen_platform::dates::from_proto(d).ok());
    match (day(row.due_on.as_ref()), day(row.received_on.as_ref())) {
        (Some(due), Some(received)) => i32::try_from((received - due).num_days()).unwrap_or(i32::MAX),
        _ => -row.days_left,
    }
}

async fn late_page(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(TEAM)?;
    let backend = web.backend(&session);
    let (rows, schools) = tokio::join!(late_advice(&backend), school_names(&backend, session.role()));
    let mut rows = rows.map_err(|s| from_status(&session, &s))?;
    let pupils = pupil_names(&backend, rows.iter().map(|r| r.pupil_id)).await;
    let school_of = |urn: &str| schools.get(urn).cloned().unwrap_or_default();
    let pupil_of = |id: i64| pupils.get(&id).cloned().unwrap_or_default();
    match query.filter("state") {
        "overdue" => rows.retain(|r| r.state == "overdue"),
        "received_late" => rows.retain(|r| r.state == "received_late"),
        _ => {}
    }
    let kind = query.filter("kind");
    rows.retain(|r| kind.is_empty() || r.kind == kind);
    match query.sort() {
        Some("request") => query.sort_rows(&mut rows, |r| r.referral_id),
        Some("pupil") => query.sort_rows(&mut rows, |r| pupil_of(r.pupil_id)),
        Some("school") => query.sort_rows(&mut rows, |r| school_of(&r.school_urn)),
        Some("kind") => query.sort_rows(&mut rows, |r| r.kind.clone()),
        Some("due") => query.sort_rows(&mut rows, |r| iso_date(r.due_on.as_ref())),
        Some("late") => query.sort_rows(&mut rows, days_late),
        _ => {}
    }
    if let Some(format) = query.format() {
        let lines = rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Number(r.referral_id),
                    Cell::Number(r.pupil_id),
                    pupil_of(r.pupil_id).into(),
                    r.school_urn.as_str().into(),
                    school_of(&r.school_urn).into(),
                    r.kind.as_str().into(),
                    r.from_whom.as_str().into(),
                    Cell::date(r.asked_on.as_ref()),
                    Cell::date(r.due_on.as_ref()),
                    Cell::date(r.received_on.as_ref()),
                    Cell::Number(days_late(r).into()),
                    r.state.as_str().into(),
                ]
            })
            .collect();
        return exports::download(&web, &session, &query, format, SHEET, exports::whole(lines)).await;
    }
    let total = rows.len();
    let (shown, next) = query.paginate(rows);
    let states = [
        (String::new(), "Overdue or in late".to_owned()),
        ("overdue".to_owned(), "Overdue, not in".to_owned()),
        ("received_late".to_owned(), "In late".to_owned()),
    ];
    let kinds: Vec<(String, String)> = std::iter::once((String::new(), "Any advice".to_owned()))
        .chain(
            ["educational", "health", "psychological", "social_care", "other"]
                .map(|code| (code.to_owned(), advice_kind_name(code))),
        )
        .collect();
    let body = html! {
        h1 class="heading-l" { "Late advice" }
        p class="body" {
            "Advice asked for in EHC needs assessments that is past its due date and not yet in, or that came in after it. "
            "Whoever is asked for advice must give it within 6 weeks of being asked (SEN and Disability Regulations 2014, reg. 8(1)), "
            "so each request has its own date, whenever the EHC request was received."
        }
        form class="filters" method="get" action="/late-advice" aria-label="Filter late advice" {
            (select("state", "Show", &states, query.filter("state"), None))
            (select("kind", "Advice", &kinds, query.filter("kind"), None))
            div class="form-group" { button class="button button--secondary" type="submit" { "Apply filters" } }
        }
        (exports::links(&session, &query, "/late-advice", &SHEET))
        @if shown.is_empty() { p class="body" { "No advice is late." } } @else {
            div class="table-wrapper" { table class="table" {
                caption { "Late advice (" (total) ")" }
                (sort_headers(&query, "/late-advice", COLUMNS))
                tbody { @for r in &shown { tr {
                    td { a href={ "/referrals/" (r.referral_id) "#advice-heading" } { "Request " (r.referral_id) } }
                    td { (pupil_link(r.pupil_id, &pupil_of(r.pupil_id))) }
                    td { (school_link(&r.school_urn, &school_of(&r.school_urn))) }
                    td { (advice_kind_name(&r.kind)) }
                    td { (r.from_whom) }
                    td { (long_date(r.due_on.as_ref())) br; span class="secondary" { "asked " (long_date(r.asked_on.as_ref())) } }
                    td { @if r.received_on.is_some() { (long_date(r.received_on.as_ref())) " " } (advice_state_tag(&r.state)) }
                    td class="numeric" { (days_late(r)) }
                } } }
            } }
        }
        (pager(&query, "/late-advice", &next))
    };
    Ok(page(&session, "Late advice", "/dashboard", body).into_response())
}

/// Late advice's file, in the page's order.
const SHEET: Sheet = Sheet {
    list: "late-advice",
    title: "Late advice",
    headers: &[
        "EHC request",
        "Pupil ID",
        "Pupil",
        "School URN",
        "School",
        "Advice",
        "Asked of",
        "Asked on",
        "Due on",
        "Received on",
        "Days late",
        "State",
    ],
    pupil_level: true,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn date(day: i32) -> Option<pb::Date> {
        Some(pb::Date { year: 2027, month: 1, day })
    }

    #[test]
    fn days_late_run_to_the_day_advice_came_in_or_to_today() {
        let received = pb::AdviceRequest { due_on: date(4), received_on: date(11), ..Default::default() };
        assert_eq!(days_late(&received), 7);
        let overdue = pb::AdviceRequest { due_on: date(4), days_left: -3, ..Default::default() };
        assert_eq!(days_late(&overdue), 3);
    }
}
