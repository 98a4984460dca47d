//! The caseload balance (`/professionals`, the SEN manager's): every EP's and
//! advisory teacher's load against their capacity, the overloaded and the idle
//! marked in words, with the load chart and the same rows as a list and CSV.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::html;
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use sen_vocabulary::CapacityKind;

use super::charts::{self, Bar, Reference, Unit};
use crate::exports::{self, Cell, Sheet};
use crate::layout::{Tone, page, tag};
use crate::lists::{Column, ListQuery, pager, sort_headers};
use crate::refusals::{PageResult, from_status};
use crate::session::Session;
use crate::state::Web;

const COLUMNS: &[Column] = &[
    Column::text("name", "Professional"),
    Column::text("role", "Role"),
    Column::number("open", "Open cases"),
    Column::number("capacity", "Capacity"),
    Column::number("load", "Load"),
    Column::number("overdue", "Advice overdue"),
    Column::plain("Status"),
];

/// The caseload balance route.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/professionals", get(balance))
}

fn status(p: &pb::ProfessionalLoad) -> (&'static str, Tone) {
    if p.overloaded {
        ("Over capacity", Tone::Red)
    } else if p.idle {
        ("No open cases", Tone::Grey)
    } else {
        ("Within capacity", Tone::Green)
    }
}

fn capacity(p: &pb::ProfessionalLoad) -> String {
    let unit = if p.capacity_kind == CapacityKind::SessionsPerTerm.code() { "sessions a term" } else { "cases" };
    format!("{} {unit}", p.capacity)
}

async fn balance(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(&[Role::LaManager])?;
    let backend = web.backend(&session);
    let mut rows = match backend.caseloads() {
        Ok(mut client) => {
            client.get_caseload_balance(backend.request(pb::GetCaseloadBalanceRequest { as_of: None })).await
        }
        Err(status) => Err(status),
    }
    .map_err(|s| from_status(&session, &s))?
    .into_inner()
    .professionals;
    let per_mille = |p: &pb::ProfessionalLoad| (p.load * 1000.0).round() as i64;
    match query.sort() {
        Some("name") => query.sort_rows(&mut rows, |p| p.name.clone()),
        Some("role") => query.sort_rows(&mut rows, |p| p.role.clone()),
        Some("open") => query.sort_rows(&mut rows, |p| p.open_cases),
        Some("capacity") => query.sort_rows(&mut rows, |p| p.capacity),
        Some("load") => query.sort_rows(&mut rows, per_mille),
        Some("overdue") => query.sort_rows(&mut rows, |p| p.overdue),
        _ => {}
    }
    if let Some(format) = query.format() {
        let lines = rows
            .iter()
            .map(|p| {
                vec![
                    p.name.as_str().into(),
                    p.role.as_str().into(),
                    Cell::Number(p.open_cases.into()),
                    Cell::Number(p.capacity.into()),
                    p.capacity_kind.as_str().into(),
                    format!("{:.1}", p.load * 100.0).into(),
                    Cell::Number(p.overdue.into()),
                    status(p).0.into(),
                ]
            })
            .collect();
        return exports::download(&web, &session, &query, format, SHEET, exports::whole(lines)).await;
    }
    let bars: Vec<Bar> = rows
        .iter()
        .map(|p| Bar {
            label: p.name.clone(),
            value: p.load * 100.0,
            flag: p.overloaded.then(|| "over capacity".to_owned()),
            href: Some(format!("#professional-{}", p.professional_id)),
        })
        .collect();
    let chart = charts::horizontal_bars(
        "caseload-load",
        "Caseload load per professional",
        "Each professional's load as a share of their capacity; over 100% is over capacity.",
        &bars,
        Unit::Percent,
        Some(&Reference { label: "Capacity".into(), value: 100.0 }),
        "Load",
    );
    let (shown, next) = query.paginate(rows);
    let body = html! {
        h1 class="heading-l" { "Caseload balance" }
        p class="body" { "Load is open work against capacity: 100% is full. Over capacity, allocating needs a reason." }
        (chart)
        (exports::links(&session, &query, "/professionals", &SHEET))
        @if shown.is_empty() { p class="body" { "No professionals are recorded yet." } } @else {
            div class="table-wrapper" { table class="table" {
                caption { "Professionals" }
                (sort_headers(&query, "/professionals", COLUMNS))
                tbody { @for p in &shown {
                    @let (text, tone) = status(p);
                    tr id={ "professional-" (p.professional_id) } {
                        th scope="row" { (p.name) }
                        td { (p.role.replace(['_', ':'], " ")) }
                        td class="numeric" { (p.open_cases) }
                        td class="numeric" { (capacity(p)) }
                        td class="numeric" { (format!("{:.0}%", p.load * 100.0)) }
                        td class="numeric" { (p.overdue) }
                        td { (tag(text, tone)) }
                    }
                } }
            } }
        }
        (pager(&query, "/professionals", &next))
    };
    Ok(page(&session, "Caseload balance", "/professionals", body).into_response())
}

/// The caseload balance's file: one row per professional (no pupils), in the page's order.
const SHEET: Sheet = Sheet {
    list: "professionals",
    title: "Caseload balance",
    headers: &["Professional", "Role", "Open cases", "Capacity", "Capacity kind", "Load %", "Advice overdue", "Status"],
    pupil_level: false,
};
