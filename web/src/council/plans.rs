//! The final EHC plans behind the 20-week timeliness figure
//! (`/statutory-clock/plans`), for the council SEN team: the requests whose
//! final plan was issued in a year (`period=2026`) or a month
//! (`period=2026-03`), each with the weeks it took and whether it was within 20
//! weeks, counted as the figure counts them (SEN2: exception cases left out of
//! both numbers and shown apart). The dashboard's figure and its monthly bars
//! open this list; `within=yes`, `no` or `exception` narrows it.
//!
//! The referrals service picks the plans of the period from an index of the
//! days plans were issued (`ListReferrals` with `final_plan_issued_from`/`_to`),
//! so a year's plans are read without walking every request of the authority.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{Datelike, Months, NaiveDate};
use maud::{Markup, html};
use sen_platform::dates::{from_proto, to_proto};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use crate::exports::{self, Cell, Row, Sheet};
use crate::layout::{Tone, page, select, tag};
use crate::lists::{Column, ListQuery, pager, sort_headers};
use crate::lookups::{self, pupil_names, school_names};
use crate::refusals::{PageResult, from_status};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{iso_date, long_date, pupil_link, school_link};

const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];
const PATH: &str = "/statutory-clock/plans";

const COLUMNS: &[Column] = &[
    Column::number("referral", "Request"),
    Column::text("pupil", "Pupil"),
    Column::text("school", "School"),
    Column::text("received", "Received"),
    Column::text("issued", "Final plan issued"),
    Column::number("weeks", "Weeks taken"),
    Column::text("timeliness", "Within 20 weeks"),
];

/// The list's route.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route(PATH, get(list))
}

/// The days a `period` filter names: a year (`2026`) or a month (`2026-03`),
/// with its name for people.
pub fn period_days(period: &str) -> Option<(NaiveDate, NaiveDate, String)> {
    let period = period.trim();
    if let Ok(month) = NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d") {
        let last = month.checked_add_months(Months::new(1))?.pred_opt()?;
        return Some((month, last, month.format("%B %Y").to_string()));
    }
    let year: i32 = period.parse().ok().filter(|y| (1900..=2200).contains(y))?;
    Some((NaiveDate::from_ymd_opt(year, 1, 1)?, NaiveDate::from_ymd_opt(year, 12, 31)?, year.to_string()))
}

/// How a plan counts in the timeliness figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counted {
    /// Issued within 20 weeks of the request.
    Within,
    /// Issued later.
    After,
    /// An exception case: in neither number.
    Exception,
}

impl Counted {
    /// How the plan of `clock` counts (none when no final plan is recorded).
    pub fn of(clock: &pb::StatutoryClock) -> Option<Self> {
        let day = |d: Option<&pb::Date>| d.and_then(|d| from_proto(d).ok());
        let issued = day(clock.final_plan_issued_on.as_ref())?;
        Some(if !clock.exception.is_empty() {
            Self::Exception
        } else if day(clock.final_plan_due.as_ref()).is_some_and(|due| issued <= due) {
            Self::Within
        } else {
            Self::After
        })
    }

    fn code(self) -> &'static str {
        match self {
            Self::Within => "yes",
            Self::After => "no",
            Self::Exception => "exception",
        }
    }

    fn tag(self) -> Markup {
        match self {
            Self::Within => tag("Within 20 weeks", Tone::Green),
            Self::After => tag("After 20 weeks", Tone::Red),
            Self::Exception => tag("Exception: not counted", Tone::Grey),
        }
    }

    fn words(self) -> &'static str {
        match self {
            Self::Within => "within 20 weeks",
            Self::After => "after 20 weeks",
            Self::Exception => "exception case, not counted",
        }
    }
}

/// Whole weeks from the request to its final plan.
fn weeks_taken(clock: &pb::StatutoryClock) -> Option<i64> {
    let day = |d: Option<&pb::Date>| d.and_then(|d| from_proto(d).ok());
    Some((day(clock.final_plan_issued_on.as_ref())? - day(clock.received_on.as_ref())?).num_days() / 7)
}

async fn list(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(TEAM)?;
    let this_year = chrono::Utc::now().date_naive().year().to_string();
    let (first, last, period_name) = period_days(query.filter("period"))
        .or_else(|| period_days(&this_year))
        .unwrap_or((NaiveDate::MIN, NaiveDate::MAX, this_year.clone()));
    let backend = web.backend(&session);
    let request = pb::ListReferralsRequest {
        kind: "ehc_needs_assessment".into(),
        final_plan_issued_from: Some(to_proto(first)),
        final_plan_issued_to: Some(to_proto(last)),
        ..Default::default()
    };
    let (rows, schools) = tokio::join!(lookups::referrals(&backend, request), school_names(&backend, session.role()));
    let mut rows: Vec<(pb::Referral, pb::StatutoryClock, Counted)> = rows
        .map_err(|s| from_status(&session, &s))?
        .into_iter()
        .filter_map(|r| {
            let clock = r.clock.clone()?;
            let counted = Counted::of(&clock)?;
            Some((r, clock, counted))
        })
        .collect();
    let count = |c: Counted| rows.iter().filter(|(_, _, counted)| *counted == c).count();
    let (within, after, exceptions) = (count(Counted::Within), count(Counted::After), count(Counted::Exception));
    let within_filter = query.filter("within");
    rows.retain(|(_, _, counted)| within_filter.is_empty() || counted.code() == within_filter);
    let school = |urn: &str| schools.get(urn).cloned().unwrap_or_default();
    let body_of = |r: &pb::Referral| r.body.clone().unwrap_or_default();
    match query.sort() {
        Some("referral") => query.sort_rows(&mut rows, |(r, _, _)| r.id),
        Some("pupil") => query.sort_rows(&mut rows, |(r, _, _)| body_of(r).pupil_id),
        Some("school") => query.sort_rows(&mut rows, |(r, _, _)| school(&body_of(r).school_urn)),
        Some("received") => query.sort_rows(&mut rows, |(_, c, _)| iso_date(c.received_on.as_ref())),
        Some("weeks") => query.sort_rows(&mut rows, |(_, c, _)| weeks_taken(c)),
        Some("timeliness") => query.sort_rows(&mut rows, |(_, _, counted)| *counted),
        _ => query.sort_rows(&mut rows, |(_, c, _)| iso_date(c.final_plan_issued_on.as_ref())),
    }
    if let Some(format) = query.format() {
        SHEET.check(&session)?;
        let ids = rows.iter().map(|(r, _, _)| body_of(r).pupil_id);
        let names = pupil_names(&backend, ids).await;
        let lines = rows.iter().map(|row| export_row(row, &schools, &names)).collect();
        return exports::download(&web, &session, &query, format, SHEET, exports::whole(lines)).await;
    }
    let total = rows.len();
    let (shown, next) = query.paginate(rows);
    let names = pupil_names(&backend, shown.iter().map(|(r, _, _)| body_of(r).pupil_id)).await;
    let counted = within + after;
    let percent = (counted > 0).then(|| format!("{:.1}%", within as f64 * 100.0 / counted as f64));
    let body = html! {
        span class="caption" { "EHC needs assessments" }
        h1 class="heading-l" { "Final EHC plans issued in " (period_name) }
        p class="body" {
            (within) " of " (counted) " final plans were issued within 20 weeks of the request"
            @if let Some(percent) = &percent { " (" (percent) ")" }
            "; " (after) " after 20 weeks. "
            (exceptions) @if exceptions == 1 { " exception case is" } @else { " exception cases are" }
            " left out of both, as the SEN2 return counts them."
        }
        p class="body" { a href="/statutory-clock" { "Open requests on the statutory clock" } }
        (filters(&query, &period_name))
        @if shown.is_empty() { p class="body" { "No final plans match these filters." } } @else {
            div class="table-wrapper" { table class="table" {
                caption { "Final plans issued in " (period_name) " (" (total) ")" }
                (sort_headers(&query, PATH, COLUMNS))
                tbody { @for (r, clock, counted) in &shown {
                    @let b = body_of(r);
                    tr {
                        td class="numeric" { a href={ "/referrals/" (r.id) } { "Request " (r.id) } }
                        td { (pupil_link(b.pupil_id, names.get(&b.pupil_id).map(String::as_str).unwrap_or(""))) }
                        td { (school_link(&b.school_urn, &school(&b.school_urn))) }
                        td { (long_date(clock.received_on.as_ref())) }
                        td { (long_date(clock.final_plan_issued_on.as_ref())) }
                        td class="numeric" { (weeks_taken(clock).map(|w| w.to_string()).unwrap_or_default()) }
                        td { (counted.tag()) }
                    }
                } }
            } }
        }
        (pager(&query, PATH, &next))
        (exports::links(&session, &query, PATH, &SHEET))
    };
    Ok(page(&session, "Final plans issued", "/dashboard", body).into_response())
}

fn filters(query: &ListQuery, period_name: &str) -> Markup {
    // The chosen period first, then this year and the two before.
    let this_year = chrono::Utc::now().date_naive().year();
    let chosen = query.filter("period").trim().to_owned();
    let mut periods: Vec<(String, String)> = Vec::new();
    if !chosen.is_empty() {
        periods.push((chosen.clone(), period_name.to_owned()));
    }
    for year in (this_year - 2..=this_year).rev() {
        if year.to_string() != chosen {
            periods.push((year.to_string(), year.to_string()));
        }
    }
    let within =
        [("", "Every plan"), ("yes", "Within 20 weeks"), ("no", "After 20 weeks"), ("exception", "Exception cases")]
            .map(|(c, n)| (c.to_owned(), n.to_owned()));
    html! {
        form class="filters" method="get" action=(PATH) aria-label="Filter final plans" {
            (select("period", "Issued in", &periods, &chosen, None))
            (select("within", "Timeliness", &within, query.filter("within"), None))
            div class="form-group" { button class="button button--secondary" type="submit" { "Apply filters" } }
        }
    }
}

/// The final plans' file, in the page's order.
const SHEET: Sheet = Sheet {
    list: "final-plans",
    title: "Final plans",
    headers: &[
        "Referral",
        "Pupil ID",
        "Pupil",
        "School URN",
        "School",
        "Received",
        "Final plan due",
        "Final plan issued",
        "Weeks taken",
        "Timeliness",
    ],
    pupil_level: true,
};

fn export_row(
    (r, clock, counted): &(pb::Referral, pb::StatutoryClock, Counted),
    schools: &HashMap<String, String>,
    names: &HashMap<i64, String>,
) -> Row {
    let b = r.body.clone().unwrap_or_default();
    vec![
        Cell::Number(r.id),
        Cell::Number(b.pupil_id),
        names.get(&b.pupil_id).cloned().unwrap_or_default().into(),
        b.school_urn.as_str().into(),
        schools.get(&b.school_urn).cloned().unwrap_or_default().into(),
        Cell::date(clock.received_on.as_ref()),
        Cell::date(clock.final_plan_due.as_ref()),
        Cell::date(clock.final_plan_issued_on.as_ref()),
        weeks_taken(clock).map_or(Cell::from(""), Cell::Number),
        counted.words().into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: i32, d: i32) -> Option<pb::Date> {
        Some(pb::Date { year: y, month: m, day: d })
    }

    #[test]
    fn a_period_is_a_year_or_a_month() {
        let (first, last, name) = period_days("2026-02").unwrap();
        assert_eq!(
            (first.to_string(), last.to_string(), name.as_str()),
            ("2026-02-01".into(), "2026-02-28".into(), "February 2026")
        );
        let (first, last, name) = period_days("2028").unwrap();
        assert_eq!(
            (first.to_string(), last.to_string(), name.as_str()),
            ("2028-01-01".into(), "2028-12-31".into(), "2028")
        );
        assert!(period_days("2026-13").is_none() && period_days("soon").is_none() && period_days("99999").is_none());
    }

    #[test]
    fn plans_count_as_the_timeliness_figure_counts_them() {
        let clock = |issued, exception: &str| pb::StatutoryClock {
            received_on: day(2026, 1, 5),
            final_plan_due: day(2026, 5, 25),
            final_plan_issued_on: issued,
            exception: exception.into(),
            ..Default::default()
        };
        assert_eq!(Counted::of(&clock(day(2026, 5, 25), "")), Some(Counted::Within), "the due day is in time");
        assert_eq!(Counted::of(&clock(day(2026, 5, 26), "")), Some(Counted::After));
        assert_eq!(Counted::of(&clock(day(2026, 5, 1), "personal_circumstances")), Some(Counted::Exception));
        assert_eq!(Counted::of(&clock(None, "")), None);
        assert_eq!(weeks_taken(&clock(day(2026, 5, 25), "")), Some(20));
    }
}
