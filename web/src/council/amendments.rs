//! Amended plans issued late or overdue (`/late-amendments`): annual reviews that
//! decided to amend the plan whose amended plan was issued after its due date,
//! or is not issued and its due date has passed. The due date is the earlier of
//! 8 weeks after the proposed amendments were sent (SEN and Disability
//! Regulations 2014, reg. 22(3)) and 12 weeks after the review meeting (regs.
//! 20(10) and 22(3)); the pupils service works it out and scopes the rows (a
//! SENCO sees their own school's pupils). Filterable, sortable, paged and
//! exportable as CSV with the list toolkit; linked from the dashboard and the
//! annual reviews due list.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use crate::backend::Backend;
use crate::exports::{self, Cell, Sheet};
use crate::layout::{Tone, page, select, tag};
use crate::lists::{self, Column, ListQuery, pager, sort_headers};
use crate::lookups::school_names;
use crate::refusals::{PageResult, Refused, from_status};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{iso_date, long_date, pupil_link, school_link};

/// Who may list late amendments (as `ListLateAmendments`).
const REGISTER_EDITORS: &[Role] = &[Role::LaManager, Role::CaseOfficer, Role::Senco];

/// The page's route.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/late-amendments", get(late_page))
}

/// Every amended plan issued late or overdue today (`None` when the service did not answer).
pub(super) async fn late_amendments(backend: &Backend) -> Option<Vec<pb::LateAmendment>> {
    let client = backend.pupils().ok()?;
    lists::fetch_all(|page| {
        let mut client = client.clone();
        let request = backend.request(pb::ListLateAmendmentsRequest { page: Some(page), ..Default::default() });
        async move {
            let answer = client.list_late_amendments(request).await?.into_inner();
            Ok::<_, tonic::Status>((answer.amendments, answer.next_page_token))
        }
    })
    .await
    .ok()
}

/// Whether the amended plan is still to be issued.
fn overdue(row: &pb::LateAmendment) -> bool {
    row.review.as_ref().is_some_and(|r| r.amendment_status == pb::AmendmentStatus::Overdue as i32)
}

/// Which rule gave the due date, in words.
fn rule_name(rule: i32) -> &'static str {
    match pb::AmendmentDueRule::try_from(rule) {
        Ok(pb::AmendmentDueRule::Proposal8Weeks) => "8 weeks after the proposal",
        Ok(pb::AmendmentDueRule::Meeting12Weeks) => "12 weeks after the meeting",
        _ => "",
    }
}

fn status_tag(row: &pb::LateAmendment) -> Markup {
    if overdue(row) { tag("Overdue", Tone::Red) } else { tag("Issued late", Tone::Purple) }
}

const COLUMNS: &[Column] = &[
    Column::text("pupil", "Pupil"),
    Column::text("school", "School"),
    Column::text("meeting", "Review meeting"),
    Column::text("proposed", "Amendments proposed"),
    Column::text("due", "Amended plan due"),
    Column::plain("Issued"),
    Column::number("late", "Days late"),
];

async fn late_page(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(REGISTER_EDITORS)?;
    let backend = web.backend(&session);
    let (rows, schools) = tokio::join!(late_amendments(&backend), school_names(&backend, session.role()));
    let mut rows = rows.ok_or_else(|| -> Refused {
        from_status(&session, &tonic::Status::unavailable("the pupils service did not answer")).into()
    })?;
    let name_of = |urn: &str| schools.get(urn).cloned().unwrap_or_default();
    let school = query.filter("school");
    rows.retain(|r| school.is_empty() || r.pupil.as_ref().is_some_and(|p| p.school_urn == school));
    match query.filter("status") {
        "overdue" => rows.retain(overdue),
        "issued_late" => rows.retain(|r| !overdue(r)),
        _ => {}
    }
    let review = |r: &pb::LateAmendment| r.review.unwrap_or_default();
    match query.sort() {
        Some("pupil") => query.sort_rows(&mut rows, |r| r.pupil.as_ref().map(|p| p.display_name.clone())),
        Some("school") => query.sort_rows(&mut rows, |r| r.pupil.as_ref().map(|p| name_of(&p.school_urn))),
        Some("meeting") => query.sort_rows(&mut rows, |r| iso_date(review(r).meeting_on.as_ref())),
        Some("proposed") => query.sort_rows(&mut rows, |r| iso_date(review(r).amendments_proposed_on.as_ref())),
        Some("due") => query.sort_rows(&mut rows, |r| iso_date(review(r).amended_plan_due.as_ref())),
        Some("late") => query.sort_rows(&mut rows, |r| r.days_late),
        _ => {}
    }
    if let Some(format) = query.format() {
        let lines = rows
            .iter()
            .map(|r| {
                let p = r.pupil.clone().unwrap_or_default();
                let rv = review(r);
                vec![
                    Cell::Number(p.id),
                    p.display_name.into(),
                    p.school_urn.as_str().into(),
                    name_of(&p.school_urn).into(),
                    Cell::date(rv.meeting_on.as_ref()),
                    Cell::date(rv.amendments_proposed_on.as_ref()),
                    Cell::date(rv.amended_plan_due.as_ref()),
                    rule_name(rv.amended_plan_due_rule).into(),
                    Cell::date(rv.amended_plan_issued_on.as_ref()),
                    Cell::Number(r.days_late.into()),
                    if overdue(r) { "overdue" } else { "issued late" }.into(),
                ]
            })
            .collect();
        return exports::download(&web, &session, &query, format, SHEET, exports::whole(lines)).await;
    }
    let total = rows.len();
    let (shown, next) = query.paginate(rows);
    let statuses = [
        (String::new(), "Overdue or issued late".to_owned()),
        ("overdue".to_owned(), "Overdue, not issued".to_owned()),
        ("issued_late".to_owned(), "Issued late".to_owned()),
    ];
    let mut school_options: Vec<(String, String)> = schools.iter().map(|(u, n)| (u.clone(), n.clone())).collect();
    school_options.sort_by(|a, b| a.1.cmp(&b.1));
    school_options.insert(0, (String::new(), "Any school".into()));
    let body = html! {
        h1 class="heading-l" { "Late amendments after annual reviews" }
        p class="body" {
            "Annual reviews that decided to amend the EHC plan, whose amended plan was issued after its due date or is overdue. "
            "The amended plan is due 8 weeks after the proposed amendments are sent to the family, and at the latest 12 weeks after the review meeting, whichever is earlier. "
            a href="/annual-reviews-due" { "Annual reviews due" } "."
        }
        form class="filters" method="get" action="/late-amendments" aria-label="Filter late amendments" {
            @if schools.len() > 1 { (select("school", "School", &school_options, query.filter("school"), None)) }
            (select("status", "Show", &statuses, query.filter("status"), None))
            div class="form-group" { button class="button button--secondary" type="submit" { "Apply filters" } }
        }
        (exports::links(&session, &query, "/late-amendments", &SHEET))
        @if shown.is_empty() { p class="body" { "No amendments after an annual review are late." } } @else {
            div class="table-wrapper" { table class="table" {
                caption { "Late amendments (" (total) ")" }
                (sort_headers(&query, "/late-amendments", COLUMNS))
                tbody { @for r in &shown {
                    @let p = r.pupil.clone().unwrap_or_default();
                    @let rv = review(r);
                    tr {
                        td { (pupil_link(p.id, &p.display_name)) }
                        td { (school_link(&p.school_urn, &name_of(&p.school_urn))) }
                        td { (long_date(rv.meeting_on.as_ref())) }
                        td { @if rv.amendments_proposed_on.is_some() { (long_date(rv.amendments_proposed_on.as_ref())) } @else { "Not recorded" } }
                        td { (long_date(rv.amended_plan_due.as_ref())) br; span class="secondary" { (rule_name(rv.amended_plan_due_rule)) } }
                        td { @if rv.amended_plan_issued_on.is_some() { (long_date(rv.amended_plan_issued_on.as_ref())) " " } (status_tag(r)) }
                        td class="numeric" { (r.days_late) }
                    }
                } }
            } }
        }
        (pager(&query, "/late-amendments", &next))
    };
    Ok(page(&session, "Late amendments after annual reviews", "/transitions", body).into_response())
}

/// The number of late amendments, for the dashboard (`None` when the service did not answer).
pub(super) async fn late_count(backend: &Backend) -> Option<u32> {
    let request = pb::ListLateAmendmentsRequest { count_only: true, ..Default::default() };
    let mut pupils = backend.pupils().ok()?;
    pupils.list_late_amendments(backend.request(request)).await.ok().map(|answer| answer.into_inner().total)
}

/// Late amendments' file, in the page's order.
const SHEET: Sheet = Sheet {
    list: "late-amendments",
    title: "Late amendments",
    headers: &[
        "Pupil ID",
        "Pupil",
        "School URN",
        "School",
        "Review meeting",
        "Amendments proposed",
        "Amended plan due",
        "Due by",
        "Amended plan issued",
        "Days late",
        "Status",
    ],
    pupil_level: true,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: pb::AmendmentStatus) -> pb::LateAmendment {
        pb::LateAmendment {
            review: Some(pb::AnnualReview { amendment_status: status as i32, ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn an_amendment_not_issued_is_overdue_and_one_issued_late_is_not() {
        assert!(overdue(&row(pb::AmendmentStatus::Overdue)));
        assert!(!overdue(&row(pb::AmendmentStatus::IssuedLate)));
        assert_eq!(rule_name(pb::AmendmentDueRule::Proposal8Weeks as i32), "8 weeks after the proposal");
        assert_eq!(rule_name(pb::AmendmentDueRule::Meeting12Weeks as i32), "12 weeks after the meeting");
    }
}
