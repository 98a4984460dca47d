//! A professional's own caseload (`/caseload`): their open cases with the next
//! deadline of each, soonest first, sortable and as CSV.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use crate::layout::{Tone, page, tag};
use crate::lists::{Column, ListQuery, sort_headers};
use crate::refusals::{self, PageResult};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{days_left, kind_name, long_date};

/// Who has a caseload (`GetMyCaseload`).
pub const PROFESSIONALS: &[Role] = &[Role::EducationalPsychologist, Role::AdvisoryTeacher];

const COLUMNS: &[Column] = &[
    Column::text("case", "Case"),
    Column::text("referral", "Referral"),
    Column::text("pupil", "Pupil"),
    Column::text("school", "School"),
    Column::text("kind", "Kind"),
    Column::text("deadline", "Next deadline"),
    Column::number("sessions", "Sessions used"),
];

/// The caseload's route.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/caseload", get(caseload))
}

/// One row of the caseload table.
struct Row {
    case: pb::Case,
    pupil: String,
    school: String,
    deadline: Option<(String, pb::Date, i32)>,
    /// A statutory case without a date yet: "advice not yet requested".
    undated: Option<String>,
}

async fn caseload(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(PROFESSIONALS)?;
    let backend = web.backend(&session);
    let entries = backend
        .caseloads()
        .map_err(|s| refusals::from_status(&session, &s))?
        .get_my_caseload(backend.request(pb::GetMyCaseloadRequest { as_of: None }))
        .await
        .map_err(|s| refusals::from_status(&session, &s))?
        .into_inner()
        .cases;
    // The caseloads service names the pupils and schools, as this reader may see them.
    let mut rows: Vec<Row> = entries
        .into_iter()
        .filter_map(|entry| {
            let case = entry.case?;
            let undated = (entry.next_deadline_on.is_none() && !entry.next_deadline.is_empty())
                .then(|| entry.next_deadline.clone());
            let deadline = entry.next_deadline_on.map(|d| (entry.next_deadline, d, entry.days_left));
            let pupil =
                if case.pupil_name.is_empty() { format!("Pupil {}", case.pupil_id) } else { case.pupil_name.clone() };
            let school =
                if case.school_name.is_empty() { format!("URN {}", case.school_urn) } else { case.school_name.clone() };
            Some(Row { case, pupil, school, deadline, undated })
        })
        .collect();
    match query.sort() {
        Some("case") => query.sort_rows(&mut rows, |r| r.case.id),
        Some("referral") => query.sort_rows(&mut rows, |r| r.case.referral_id),
        Some("pupil") => query.sort_rows(&mut rows, |r| r.pupil.to_lowercase()),
        Some("school") => query.sort_rows(&mut rows, |r| r.school.to_lowercase()),
        Some("kind") => query.sort_rows(&mut rows, |r| r.case.kind.clone()),
        Some("deadline") => query.sort_rows(&mut rows, |r| (r.deadline.is_none(), r.deadline.as_ref().map(|d| d.2))),
        Some("sessions") => query.sort_rows(&mut rows, |r| r.case.sessions_used),
        _ => {}
    }
    if query.format().is_some() {
        // A caseload names pupils: only the council's SEN team may download such a
        // list, and a caseload is read by the professional it belongs to, on the page.
        return Err(refusals::forbidden(&session).into());
    }
    let body = html! {
        h1 class="heading-l" { "My caseload" }
        @if rows.is_empty() {
            p class="body" { "You have no open cases. Cases appear here when the SEN manager allocates a referral to you." }
        } @else {
            div class="table-wrapper" {
                table class="table" {
                    caption { "Your open cases (" (rows.len()) "), soonest deadline first" }
                    (sort_headers(&query, "/caseload", COLUMNS))
                    tbody {
                        @for row in &rows {
                            tr {
                                td { a href={ "/cases/" (row.case.id) } { "Case " (row.case.id) } }
                                td { a href={ "/referrals/" (row.case.referral_id) } { "Referral " (row.case.referral_id) } }
                                td { a href={ "/pupils/" (row.case.pupil_id) } { (row.pupil) } }
                                td { (row.school) }
                                td { (kind_name(&row.case.kind)) }
                                td {
                                    @if let Some(words) = &row.undated { (tag(&crate::fields::sentence(words), Tone::Grey)) }
                                    @else { (deadline_cell(row.deadline.as_ref())) }
                                }
                                td class="numeric" { (row.case.sessions_used) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&session, "My caseload", "/caseload", body).into_response())
}

fn deadline_cell(deadline: Option<&(String, pb::Date, i32)>) -> Markup {
    html! {
        @match deadline {
            None => { "None set" }
            Some((what, on, left)) => {
                (what) ": " (long_date(Some(on)))
                br;
                @if *left < 0 {
                    (tag("Overdue", Tone::Red)) " " (days_left(*left))
                } @else if *left == 0 {
                    (tag("Due today", Tone::Yellow))
                } @else {
                    span class={ @if *left <= 7 { "deadline deadline--soon" } @else { "deadline" } } { (days_left(*left)) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overdue_deadline_says_so_in_words() {
        let html = deadline_cell(Some(&("Advice".into(), pb::Date { year: 2026, month: 1, day: 2 }, -3))).into_string();
        assert!(
            html.contains("Overdue") && html.contains("3 days overdue") && html.contains("2 January 2026"),
            "{html}"
        );
        assert_eq!(deadline_cell(None).into_string(), "None set");
    }
}
