//! The council's deadline lists, each behind a dashboard figure: phase
//! transfers due (`/transitions`), annual reviews due (`/annual-reviews-due`),
//! and open EHC needs assessment requests on the statutory clock
//! (`/statutory-clock`). Each is
//! filterable, sortable, paged and exportable as CSV with the list toolkit; the
//! services scope the rows (a SENCO sees their own school's transfers and reviews).

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
use crate::layout::{Tone, page, select, tag};
use crate::lists::{self, Column, Dir, ListQuery, pager, sort_headers};
use crate::lookups::{pupil_names, school_names};
use crate::refusals::{PageResult, from_status};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{self, days_left, long_date, pupil_link, school_link};

const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];
/// Who may list transfers and reviews due (as `ListTransitionsDue`, `ListAnnualReviewsDue`).
const REGISTER_EDITORS: &[Role] = &[Role::LaManager, Role::CaseOfficer, Role::Senco];

/// The deadline lists' routes.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/transitions", get(transitions_page))
        .route("/annual-reviews-due", get(reviews_page))
        .route("/statutory-clock", get(clock_page))
}

/// The service's request for the transfers page's filters and sort (paging is added per call).
fn transitions_request(query: &ListQuery) -> pb::ListTransitionsDueRequest {
    let statuses = STATUS_FILTERS
        .iter()
        .find(|(code, _, _)| *code == query.filter("status"))
        .map(|(_, _, statuses)| statuses.iter().map(|s| *s as i32).collect())
        .unwrap_or_default();
    let sort = query.sort().filter(|key| TRANSITION_COLUMNS.iter().any(|c| c.key == *key)).unwrap_or("");
    pb::ListTransitionsDueRequest {
        sort: sort.to_owned(),
        descending: !sort.is_empty() && query.dir() == Dir::Desc,
        school_urn: query.filter("school").to_owned(),
        without_setting: query.filter("setting") == "none",
        statuses,
        ..Default::default()
    }
}

/// The service's request for the reviews page's filters and sort (paging is added per call).
fn reviews_request(query: &ListQuery) -> pb::ListAnnualReviewsDueRequest {
    let sort = query.sort().filter(|key| REVIEW_COLUMNS.iter().any(|c| c.key == *key)).unwrap_or("");
    pb::ListAnnualReviewsDueRequest {
        sort: sort.to_owned(),
        descending: !sort.is_empty() && query.dir() == Dir::Desc,
        school_urn: query.filter("school").to_owned(),
        overdue_only: query.filter("overdue") == "yes",
        ..Default::default()
    }
}

/// Every phase transfer `request` asks for, every page of it.
async fn all_transitions(
    backend: &Backend,
    request: pb::ListTransitionsDueRequest,
) -> Result<Vec<pb::TransitionDue>, tonic::Status> {
    let client = backend.pupils()?;
    lists::fetch_all(|page| {
        let mut client = client.clone();
        let request = backend.request(pb::ListTransitionsDueRequest { page: Some(page), ..request.clone() });
        async move {
            let answer = client.list_transitions_due(request).await?.into_inner();
            Ok::<_, tonic::Status>((answer.transitions, answer.next_page_token))
        }
    })
    .await
}

/// Every annual review `request` asks for, every page of it.
async fn all_reviews(
    backend: &Backend,
    request: pb::ListAnnualReviewsDueRequest,
) -> Result<Vec<pb::ReviewDue>, tonic::Status> {
    let client = backend.pupils()?;
    lists::fetch_all(|page| {
        let mut client = client.clone();
        let request = backend.request(pb::ListAnnualReviewsDueRequest { page: Some(page), ..request.clone() });
        async move {
            let answer = client.list_annual_reviews_due(request).await?.into_inner();
            Ok::<_, tonic::Status>((answer.reviews, answer.next_page_token))
        }
    })
    .await
}

/// Every phase transfer due in the next year at school `urn` (`None` when the service did not answer).
pub(super) async fn transitions(backend: &Backend, urn: &str) -> Option<Vec<pb::TransitionDue>> {
    let request = pb::ListTransitionsDueRequest { school_urn: urn.to_owned(), ..Default::default() };
    all_transitions(backend, request).await.ok()
}

/// Every annual review due in the next 60 days or overdue at school `urn` (`None` when the service did not answer).
pub(super) async fn reviews_due(backend: &Backend, urn: &str) -> Option<Vec<pb::ReviewDue>> {
    let request = pb::ListAnnualReviewsDueRequest { school_urn: urn.to_owned(), ..Default::default() };
    all_reviews(backend, request).await.ok()
}

/// How many annual reviews are overdue (`None` when the service did not answer):
/// a count, with no pupil's record read.
pub(super) async fn reviews_overdue(backend: &Backend) -> Option<u32> {
    let mut client = backend.pupils().ok()?;
    let request =
        backend.request(pb::ListAnnualReviewsDueRequest { overdue_only: true, count_only: true, ..Default::default() });
    Some(client.list_annual_reviews_due(request).await.ok()?.into_inner().total)
}

fn school_filter(query: &ListQuery, schools: &HashMap<String, String>) -> Markup {
    let mut options: Vec<(String, String)> = schools.iter().map(|(u, n)| (u.clone(), n.clone())).collect();
    options.sort_by(|a, b| a.1.cmp(&b.1));
    options.insert(0, (String::new(), "Any school".into()));
    html! { @if schools.len() > 1 { (select("school", "School", &options, query.filter("school"), None)) } }
}

fn apply() -> Markup {
    html! { div class="form-group" { button class="button button--secondary" type="submit" { "Apply filters" } } }
}

fn name_of(schools: &HashMap<String, String>, urn: &str) -> String {
    schools.get(urn).cloned().unwrap_or_default()
}

const TRANSITION_COLUMNS: &[Column] = &[
    Column::text("pupil", "Pupil"),
    Column::text("school", "School"),
    Column::text("kind", "Transfer"),
    Column::text("deadline", "Deadline"),
    Column::text("setting", "Named setting"),
    Column::text("rag", "Status"),
];

/// A transfer's kind for people.
fn transfer_kind_name(kind: &str) -> String {
    match kind {
        "early_years_to_school" => "Early years to school".into(),
        "infant_to_junior" => "Infant to junior".into(),
        "primary_to_middle" => "Primary to middle".into(),
        "primary_to_secondary" => "Primary to secondary".into(),
        "middle_to_secondary" => "Middle to secondary".into(),
        "secondary_to_post16" => "Secondary to post-16".into(),
        "post16_move" => "Between post-16 settings".into(),
        other => other.replace('_', " "),
    }
}

/// Where a transfer stands, in words: issued on time or late, overdue, or due.
fn transfer_status_name(status: i32) -> &'static str {
    match pb::TransferStatus::try_from(status) {
        Ok(pb::TransferStatus::IssuedOnTime) => "Issued on time",
        Ok(pb::TransferStatus::IssuedLate) => "Issued late",
        Ok(pb::TransferStatus::Overdue) => "Overdue",
        Ok(pb::TransferStatus::Due) => "Due",
        _ => "Not known",
    }
}

/// A transfer's status as a tag: an amended plan issued late keeps its own
/// colour, apart from the red of an overdue one and the green of one on time;
/// one not yet issued shows its red/amber/green rating.
fn transfer_tag(transfer: &pb::PhaseTransfer) -> Markup {
    match pb::TransferStatus::try_from(transfer.status) {
        Ok(pb::TransferStatus::IssuedLate) => tag("Issued late", Tone::Purple),
        Ok(pb::TransferStatus::IssuedOnTime) => tag("Issued on time", Tone::Green),
        Ok(pb::TransferStatus::Overdue) => tag("Overdue", Tone::Red),
        _ => wording::rag_tag(transfer.rag),
    }
}

/// The status filter's values, each with the statuses it keeps.
const STATUS_FILTERS: &[(&str, &str, &[pb::TransferStatus])] = &[
    ("outstanding", "Not issued yet", &[pb::TransferStatus::Due, pb::TransferStatus::Overdue]),
    ("overdue", "Overdue", &[pb::TransferStatus::Overdue]),
    ("issued_on_time", "Issued on time", &[pb::TransferStatus::IssuedOnTime]),
    ("issued_late", "Issued late", &[pb::TransferStatus::IssuedLate]),
];

/// A table of phase transfers (as on the list and a school's page).
pub(super) fn transitions_table(rows: &[pb::TransitionDue], schools: &HashMap<String, String>) -> Markup {
    transitions_rows(rows, schools, None)
}

fn transitions_rows(
    rows: &[pb::TransitionDue],
    schools: &HashMap<String, String>,
    query: Option<&ListQuery>,
) -> Markup {
    html! {
        @if rows.is_empty() { p class="body" { "No phase transfers due." } } @else {
            div class="table-wrapper" { table class="table" {
                caption class=[query.is_none().then_some("visually-hidden")] { "Phase transfers due" }
                @match query {
                    Some(q) => (sort_headers(q, "/transitions", TRANSITION_COLUMNS)),
                    None => (sort_headers(&ListQuery::default(), "/transitions", &TRANSITION_COLUMNS.iter().map(|c| Column::plain(c.label)).collect::<Vec<_>>())),
                }
                tbody { @for t in rows {
                    @let pupil = t.pupil.clone().unwrap_or_default();
                    @let transfer = t.transfer.clone().unwrap_or_default();
                    tr {
                        td { (pupil_link(pupil.id, &pupil.display_name)) }
                        td { (school_link(&pupil.school_urn, &name_of(schools, &pupil.school_urn))) }
                        td {
                            (transfer_kind_name(&transfer.kind))
                            @if transfer.kind == "post16_move" { br; span class="secondary" { "Moving " (long_date(transfer.transfer_on.as_ref())) } }
                        }
                        td {
                            (long_date(transfer.deadline.as_ref())) br;
                            @if let Some(issued) = transfer.amended_plan_issued_on.as_ref() {
                                span class="secondary" { "Amended plan issued " (long_date(Some(issued))) }
                            } @else {
                                span class="secondary" { (days_left(transfer.days_left)) }
                            }
                        }
                        td { @if transfer.next_setting.is_empty() { (tag("None yet", Tone::Yellow)) } @else { (transfer.next_setting) } }
                        td { (transfer_tag(&transfer)) }
                    }
                } }
            } }
        }
    }
}

async fn transitions_page(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(REGISTER_EDITORS)?;
    let backend = web.backend(&session);
    let request = transitions_request(&query);
    if let Some(format) = query.format() {
        TRANSFERS_SHEET.check(&session)?;
        let schools = Arc::new(school_names(&backend, session.role()).await);
        let backend = backend.clone();
        let pages = exports::paged(move |page| {
            let (backend, schools) = (backend.clone(), schools.clone());
            let request = backend.request(pb::ListTransitionsDueRequest { page: Some(page), ..request.clone() });
            async move {
                let answer = backend.pupils()?.list_transitions_due(request).await?.into_inner();
                Ok((answer.transitions.iter().map(|t| transfer_row(t, &schools)).collect(), answer.next_page_token))
            }
        });
        return exports::download(&web, &session, &query, format, TRANSFERS_SHEET, pages).await;
    }
    let one_page = async {
        let mut client = backend.pupils()?;
        let request = pb::ListTransitionsDueRequest { page: Some(query.page_request()), ..request };
        Ok::<_, tonic::Status>(client.list_transitions_due(backend.request(request)).await?.into_inner())
    };
    let (answer, schools) = tokio::join!(one_page, school_names(&backend, session.role()));
    let answer = answer.map_err(|s| from_status(&session, &s))?;
    let (shown, next) = (answer.transitions, answer.next_page_token);
    let settings = [(String::new(), "Any".to_owned()), ("none".to_owned(), "No named setting yet".to_owned())];
    let statuses: Vec<(String, String)> = std::iter::once((String::new(), "Any".to_owned()))
        .chain(STATUS_FILTERS.iter().map(|(code, name, _)| ((*code).to_owned(), (*name).to_owned())))
        .collect();
    let body = html! {
        h1 class="heading-l" { "Phase transfers due" }
        p class="body" {
            "Pupils with an EHC plan moving school: the amended plan naming the next setting is due by 15 February (31 March from secondary school to a post-16 institution; five months before a move between post-16 settings). "
            "Next academic year's transfers are listed from 1 April. A Year 11 pupil staying in their school's own sixth form has no transfer and is not listed."
        }
        form class="filters" method="get" action="/transitions" aria-label="Filter phase transfers" {
            (school_filter(&query, &schools))
            (select("setting", "Named setting", &settings, query.filter("setting"), None))
            (select("status", "Status", &statuses, query.filter("status"), None))
            (apply())
        }
        (exports::links(&session, &query, "/transitions", &TRANSFERS_SHEET))
        (transitions_rows(&shown, &schools, Some(&query)))
        (pager(&query, "/transitions", &next))
    };
    Ok(page(&session, "Phase transfers due", "/transitions", body).into_response())
}

const REVIEW_COLUMNS: &[Column] = &[
    Column::text("pupil", "Pupil"),
    Column::text("school", "School"),
    Column::text("due", "Review due"),
    Column::plain("Status"),
];

async fn reviews_page(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(REGISTER_EDITORS)?;
    let backend = web.backend(&session);
    let request = reviews_request(&query);
    if let Some(format) = query.format() {
        REVIEWS_SHEET.check(&session)?;
        let schools = Arc::new(school_names(&backend, session.role()).await);
        let backend = backend.clone();
        let pages = exports::paged(move |page| {
            let (backend, schools) = (backend.clone(), schools.clone());
            let request = backend.request(pb::ListAnnualReviewsDueRequest { page: Some(page), ..request.clone() });
            async move {
                let answer = backend.pupils()?.list_annual_reviews_due(request).await?.into_inner();
                Ok((answer.reviews.iter().map(|r| review_row(r, &schools)).collect(), answer.next_page_token))
            }
        });
        return exports::download(&web, &session, &query, format, REVIEWS_SHEET, pages).await;
    }
    let one_page = async {
        let mut client = backend.pupils()?;
        let request = pb::ListAnnualReviewsDueRequest { page: Some(query.page_request()), ..request };
        Ok::<_, tonic::Status>(client.list_annual_reviews_due(backend.request(request)).await?.into_inner())
    };
    let (answer, schools) = tokio::join!(one_page, school_names(&backend, session.role()));
    let answer = answer.map_err(|s| from_status(&session, &s))?;
    let (total, shown, next) = (answer.total, answer.reviews, answer.next_page_token);
    let overdue = [(String::new(), "Due or overdue".to_owned()), ("yes".to_owned(), "Overdue only".to_owned())];
    let body = html! {
        h1 class="heading-l" { "Annual reviews due" }
        p class="body" { "EHC plans whose annual review falls due in the next 60 days or is overdue (a plan is reviewed at least every 12 months)." }
        form class="filters" method="get" action="/annual-reviews-due" aria-label="Filter annual reviews" {
            (school_filter(&query, &schools))
            (select("overdue", "Show", &overdue, query.filter("overdue"), None))
            (apply())
        }
        p class="body" { a href="/late-amendments" { "Amendments after annual reviews issued late or overdue" } }
        (exports::links(&session, &query, "/annual-reviews-due", &REVIEWS_SHEET))
        @if shown.is_empty() { p class="body" { "No annual reviews due." } } @else {
            div class="table-wrapper" { table class="table" {
                caption { "Annual reviews due (" (total) ")" }
                (sort_headers(&query, "/annual-reviews-due", REVIEW_COLUMNS))
                tbody { @for r in &shown {
                    @let p = r.pupil.clone().unwrap_or_default();
                    tr {
                        td { (pupil_link(p.id, &p.display_name)) }
                        td { (school_link(&p.school_urn, &name_of(&schools, &p.school_urn))) }
                        td { (long_date(r.next_review_due.as_ref())) }
                        td { @if r.overdue { (tag("Overdue", Tone::Red)) " " } (days_left(r.days_left)) }
                    }
                } }
            } }
        }
        (pager(&query, "/annual-reviews-due", &next))
    };
    Ok(page(&session, "Annual reviews due", "/transitions", body).into_response())
}

const CLOCK_COLUMNS: &[Column] = &[
    Column::number("referral", "Request"),
    Column::text("pupil", "Pupil"),
    Column::text("school", "School"),
    Column::text("received", "Received"),
    Column::text("stage", "Stage"),
    Column::text("deadline", "Next deadline"),
    Column::text("health", "Health"),
];

/// The healths the clock page filters by, with their names.
const HEALTHS: [(&str, &str); 4] =
    [("", "Any"), ("at_risk", "At risk"), ("breached", "Breached"), ("on_track", "On track")];

/// The service's request for the clock page's filters and sort (paging is added
/// per call); `None` when the health asked for is none the service knows, so no
/// request matches.
fn open_requests_request(query: &ListQuery, schools: &HashMap<String, String>) -> Option<pb::ListOpenRequestsRequest> {
    let health = query.filter("health");
    if !HEALTHS.iter().any(|(code, _)| *code == health) {
        return None;
    }
    let sort = query.sort().filter(|key| CLOCK_COLUMNS.iter().any(|c| c.key == *key)).unwrap_or("");
    let school_order = if sort == "school" { crate::lookups::school_order(schools) } else { Vec::new() };
    Some(pb::ListOpenRequestsRequest {
        health: health.to_owned(),
        school_urn: query.filter("school").to_owned(),
        sort: sort.to_owned(),
        descending: !sort.is_empty() && query.dir() == Dir::Desc,
        school_order,
        ..Default::default()
    })
}

/// One page of the open requests `request` asks for (none when it is `None`).
async fn open_requests(
    backend: &Backend,
    request: Option<pb::ListOpenRequestsRequest>,
    page: pb::PageRequest,
) -> Result<pb::ListOpenRequestsResponse, tonic::Status> {
    let Some(request) = request else { return Ok(pb::ListOpenRequestsResponse::default()) };
    let request = backend.request(pb::ListOpenRequestsRequest { page: Some(page), ..request });
    Ok(backend.referrals()?.list_open_requests(request).await?.into_inner())
}

async fn clock_page(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(TEAM)?;
    let backend = web.backend(&session);
    let schools = school_names(&backend, session.role()).await;
    let request = open_requests_request(&query, &schools);
    if let Some(format) = query.format() {
        CLOCK_SHEET.check(&session)?;
        let (schools, backend) = (Arc::new(schools), backend.clone());
        // A page of open requests at a time, in the page's order, each page's pupils named as it comes.
        let pages = exports::paged(move |page| {
            let (backend, schools, request) = (backend.clone(), schools.clone(), request.clone());
            async move {
                let answer = open_requests(&backend, request, page).await?;
                let names = pupil_names(&backend, answer.open.iter().map(|r| r.pupil_id)).await;
                Ok((answer.open.iter().map(|r| clock_row(r, &names, &schools)).collect(), answer.next_page_token))
            }
        });
        return exports::download(&web, &session, &query, format, CLOCK_SHEET, pages).await;
    }
    let figures = async {
        let request = pb::GetStatutoryClockReportRequest { as_of: None, year: 0, figures_only: true };
        Ok::<_, tonic::Status>(
            backend.referrals()?.get_statutory_clock_report(backend.request(request)).await?.into_inner(),
        )
    };
    let (report, answer) = tokio::join!(figures, open_requests(&backend, request, query.page_request()));
    let (report, answer) =
        (report.map_err(|s| from_status(&session, &s))?, answer.map_err(|s| from_status(&session, &s))?);
    let (total, shown, next) = (answer.total, answer.open, answer.next_page_token);
    let clock = |r: &pb::OpenRequest| r.clock.clone().unwrap_or_default();
    let names = pupil_names(&backend, shown.iter().map(|r| r.pupil_id)).await;
    let healths = HEALTHS.map(|(c, n)| (c.to_owned(), n.to_owned()));
    let health = query.filter("health");
    let timeliness =
        report.percent_within_20_weeks.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "no plans issued yet".into());
    let including = report
        .percent_within_20_weeks_including_exceptions
        .map(|p| format!("{p:.1}%"))
        .unwrap_or_else(|| "no plans issued yet".into());
    let body = html! {
        h1 class="heading-l" { "EHC needs assessments: the statutory clock" }
        p class="body" { (report.at_risk) " at risk and " (report.breached) " past a deadline. In " (report.year) ", "
            (report.issued_within_20_weeks) " of " (report.plans_issued) " final plans were issued within 20 weeks (" (timeliness) "; "
            (report.excluded_exceptions) " exception cases left out). Including exception cases, "
            (report.issued_within_20_weeks_including_exceptions) " of " (report.plans_issued_including_exceptions) " ("
            (including) ")." }
        p class="body" { "A request still being assessed after 16 weeks is at risk: a notice not to issue a plan can no longer be given in time, but the final plan can still meet the 20 weeks. "
            a href="/ehc-requests/new" { "Record a request received by letter, email or another route" } "." }
        form class="filters" method="get" action="/statutory-clock" aria-label="Filter requests" {
            (select("health", "Health", &healths, health, None))
            (school_filter(&query, &schools))
            (apply())
        }
        (exports::links(&session, &query, "/statutory-clock", &CLOCK_SHEET))
        @if shown.is_empty() { p class="body" { "No open requests match these filters." } } @else {
            div class="table-wrapper" { table class="table" {
                caption { "Open requests (" (total) ")" }
                (sort_headers(&query, "/statutory-clock", CLOCK_COLUMNS))
                tbody { @for r in &shown {
                    @let c = clock(r);
                    tr {
                        td class="numeric" { a href={ "/referrals/" (r.referral_id) } { "Request " (r.referral_id) } }
                        td { (pupil_link(r.pupil_id, names.get(&r.pupil_id).map(String::as_str).unwrap_or(""))) }
                        td { (school_link(&r.school_urn, &name_of(&schools, &r.school_urn))) }
                        td { (long_date(c.received_on.as_ref())) br; span class="secondary" { "Week " (c.weeks_elapsed) } }
                        td { (wording::stage_name(&c.stage)) }
                        td { (c.next_deadline.replace('_', " ")) br; (long_date(c.next_deadline_on.as_ref())) " (" (days_left(c.days_left)) ")" }
                        td { (wording::health_tag(&c.health)) }
                    }
                } }
            } }
        }
        (pager(&query, "/statutory-clock", &next))
    };
    Ok(page(&session, "Statutory clock", "/dashboard", body).into_response())
}

/// The phase transfers' file, in the list's order.
const TRANSFERS_SHEET: Sheet = Sheet {
    list: "transitions",
    title: "Phase transfers due",
    headers: &[
        "Pupil ID",
        "Pupil",
        "School URN",
        "School",
        "Transfer",
        "Deadline",
        "Days left",
        "Named setting",
        "Amended plan issued",
        "Status",
        "Rating",
    ],
    pupil_level: true,
};

fn transfer_row(t: &pb::TransitionDue, schools: &HashMap<String, String>) -> Row {
    let (p, tr) = (t.pupil.clone().unwrap_or_default(), t.transfer.clone().unwrap_or_default());
    vec![
        Cell::Number(p.id),
        p.display_name.into(),
        p.school_urn.as_str().into(),
        name_of(schools, &p.school_urn).into(),
        tr.kind.into(),
        Cell::date(tr.deadline.as_ref()),
        Cell::Number(tr.days_left.into()),
        tr.next_setting.into(),
        Cell::date(tr.amended_plan_issued_on.as_ref()),
        transfer_status_name(tr.status).into(),
        wording::rag_name(tr.rag).into(),
    ]
}

/// The annual reviews' file, in the list's order.
const REVIEWS_SHEET: Sheet = Sheet {
    list: "annual-reviews-due",
    title: "Annual reviews due",
    headers: &["Pupil ID", "Pupil", "School URN", "School", "Review due", "Days left", "Overdue"],
    pupil_level: true,
};

fn review_row(r: &pb::ReviewDue, schools: &HashMap<String, String>) -> Row {
    let p = r.pupil.clone().unwrap_or_default();
    vec![
        Cell::Number(p.id),
        p.display_name.into(),
        p.school_urn.as_str().into(),
        name_of(schools, &p.school_urn).into(),
        Cell::date(r.next_review_due.as_ref()),
        Cell::Number(r.days_left.into()),
        if r.overdue { "yes" } else { "no" }.into(),
    ]
}

/// The open EHC requests' file, in the page's order.
const CLOCK_SHEET: Sheet = Sheet {
    list: "statutory-clock",
    title: "Open EHC requests",
    headers: &[
        "Referral",
        "Pupil ID",
        "Pupil",
        "School URN",
        "School",
        "Received",
        "Stage",
        "Next deadline",
        "Due",
        "Days left",
        "Weeks elapsed",
        "Health",
    ],
    pupil_level: true,
};

fn clock_row(r: &pb::OpenRequest, names: &HashMap<i64, String>, schools: &HashMap<String, String>) -> Row {
    let c = r.clock.clone().unwrap_or_default();
    vec![
        Cell::Number(r.referral_id),
        Cell::Number(r.pupil_id),
        names.get(&r.pupil_id).cloned().unwrap_or_default().into(),
        r.school_urn.as_str().into(),
        name_of(schools, &r.school_urn).into(),
        Cell::date(c.received_on.as_ref()),
        c.stage.into(),
        c.next_deadline.into(),
        Cell::date(c.next_deadline_on.as_ref()),
        Cell::Number(c.days_left.into()),
        Cell::Number(c.weeks_elapsed.into()),
        c.health.into(),
    ]
}
