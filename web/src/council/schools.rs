//! Schools as the council sees them: the list (`/schools`: phase, roll, SENCO
//! status, SEN rates) and one school's page (`/schools/{urn}`: SENCO and award,
//! register summary, referrals, EP time used against allocated, transfers and
//! reviews due), which a SENCO also sees for their own school (`/school` takes
//! them there). The schools service answers NOT_FOUND for any other school, so
//! a SENCO asking for one gets the 404 page and nothing of it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use super::deadlines::{reviews_due, transitions, transitions_table};
use crate::backend::Backend;
use crate::exports::{self, Cell, Sheet};
use crate::layout::{Tone, back_link, live_region, page, select, summary_card, tag};
use crate::lists::{Column, ListQuery, pager, sort_headers};
use crate::lookups;
use crate::refusals::{PageResult, from_status, not_found};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{self, long_date, pupil_link};

const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];
const SCHOOL_READERS: &[Role] = &[Role::LaManager, Role::CaseOfficer, Role::Senco];

const COLUMNS: &[Column] = &[
    Column::text("name", "School"),
    Column::text("phase", "Phase"),
    Column::number("roll", "Roll"),
    Column::text("senco", "SENCO"),
    Column::number("sen_support", "SEN support %"),
    Column::number("ehc_plan", "EHC plan %"),
    Column::number("sen", "SEN %"),
];

/// The schools routes.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/schools", get(list)).route("/schools/{urn}", get(school)).route("/school", get(own_school))
}

/// A school's SENCO position in words and as a tag; a closed school has none to judge.
fn senco_status(school: &pb::School, today: chrono::NaiveDate) -> (&'static str, Tone) {
    match &school.current_senco {
        _ if school.status == pb::EstablishmentStatus::Closed as i32 => ("School closed", Tone::Grey),
        None if school.requires_senco => ("No SENCO", Tone::Red),
        None => ("Not required", Tone::Grey),
        Some(senco) => {
            let deadline = senco.award_deadline.as_ref().and_then(|d| sen_platform::dates::from_proto(d).ok());
            match deadline {
                Some(d) if d < today => ("Award overdue", Tone::Red),
                _ => ("In post", Tone::Green),
            }
        }
    }
}

async fn register_stats(backend: &Backend) -> Option<pb::RegisterStats> {
    let mut client = backend.pupils().ok()?;
    client
        .get_register_stats(backend.request(pb::GetRegisterStatsRequest { as_of: None, figures_only: true }))
        .await
        .ok()
        .map(|r| r.into_inner())
}

/// The schools list's file: one row per school (no pupils), in the page's order.
const SCHOOLS_SHEET: Sheet = Sheet {
    list: "schools",
    title: "Schools",
    headers: &["URN", "School", "Phase", "Number on roll", "SENCO", "SEN support %", "EHC plan %", "SEN %"],
    pupil_level: false,
};

async fn list(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(TEAM)?;
    let backend = web.backend(&session);
    let (schools, stats) = tokio::join!(lookups::schools(&backend), register_stats(&backend));
    let schools = schools.map_err(|s| from_status(&session, &s))?;
    let by_urn: HashMap<String, pb::SchoolRegisterStats> =
        stats.map(|s| s.schools.into_iter().map(|r| (r.school_urn.clone(), r)).collect()).unwrap_or_default();
    let today = chrono::Utc::now().date_naive();
    let mut rows: Vec<(&pb::School, pb::SchoolRegisterStats)> = schools
        .iter()
        .map(|s| {
            let stats = by_urn.get(&s.urn).cloned().unwrap_or_default();
            (s, stats)
        })
        .filter(|(s, _)| query.filter("phase").is_empty() || wording::phase_name(s.phase) == query.filter("phase"))
        .filter(|(s, _)| query.filter("senco").is_empty() || senco_status(s, today).0 == query.filter("senco"))
        .collect();
    let sen = |r: &pb::SchoolRegisterStats| ((r.sen_support_percent + r.ehc_plan_percent) * 10.0).round() as i64;
    match query.sort() {
        Some("name") => query.sort_rows(&mut rows, |(s, _)| s.name.clone()),
        Some("phase") => query.sort_rows(&mut rows, |(s, _)| wording::phase_name(s.phase)),
        Some("roll") => query.sort_rows(&mut rows, |(s, _)| s.number_on_roll),
        Some("senco") => query.sort_rows(&mut rows, |(s, _)| senco_status(s, today).0),
        Some("sen_support") => query.sort_rows(&mut rows, |(_, r)| (r.sen_support_percent * 10.0).round() as i64),
        Some("ehc_plan") => query.sort_rows(&mut rows, |(_, r)| (r.ehc_plan_percent * 10.0).round() as i64),
        Some("sen") => query.sort_rows(&mut rows, |(_, r)| sen(r)),
        _ => {}
    }
    let pct =
        |v: f64, r: &pb::SchoolRegisterStats| if r.number_on_roll > 0 { format!("{v:.1}") } else { String::new() };
    if let Some(format) = query.format() {
        let lines = rows
            .iter()
            .map(|(s, r)| {
                vec![
                    s.urn.as_str().into(),
                    s.name.as_str().into(),
                    wording::phase_name(s.phase).into(),
                    s.number_on_roll.map_or(Cell::from(""), |n| Cell::Number(n.into())),
                    senco_status(s, today).0.into(),
                    pct(r.sen_support_percent, r).into(),
                    pct(r.ehc_plan_percent, r).into(),
                    pct(r.sen_support_percent + r.ehc_plan_percent, r).into(),
                ]
            })
            .collect();
        return exports::download(&web, &session, &query, format, SCHOOLS_SHEET, exports::whole(lines)).await;
    }
    let total = rows.len();
    let (shown, next) = query.paginate(rows);
    let phases: Vec<(String, String)> = std::iter::once((String::new(), "Any phase".to_owned()))
        .chain((2..=8).map(|p| (wording::phase_name(p).to_owned(), wording::phase_name(p).to_owned())))
        .collect();
    let sencos: Vec<(String, String)> = ["", "No SENCO", "Award overdue", "In post", "Not required", "School closed"]
        .iter()
        .map(|s| (s.to_string(), if s.is_empty() { "Any".to_owned() } else { s.to_string() }))
        .collect();
    let body = html! {
        h1 class="heading-l" { "Schools" }
        form class="filters" method="get" action="/schools" aria-label="Filter schools" {
            (select("phase", "Phase", &phases, query.filter("phase"), None))
            (select("senco", "SENCO", &sencos, query.filter("senco"), None))
            div class="form-group" { button class="button button--secondary" type="submit" { "Apply filters" } }
        }
        (exports::links(&session, &query, "/schools", &SCHOOLS_SHEET))
        div class="table-wrapper" {
            table class="table" {
                caption { "Schools (" (total) ")" }
                (sort_headers(&query, "/schools", COLUMNS))
                tbody {
                    @for (s, r) in &shown {
                        @let (senco, tone) = senco_status(s, today);
                        tr {
                            td { (wording::school_link(&s.urn, &s.name)) }
                            td { (wording::phase_name(s.phase)) }
                            td class="numeric" { (s.number_on_roll.map(|n| wording::thousands(n.into())).unwrap_or_else(|| "Unknown".into())) }
                            td { (tag(senco, tone)) }
                            td class="numeric" { (pct(r.sen_support_percent, r)) }
                            td class="numeric" { (pct(r.ehc_plan_percent, r)) }
                            td class="numeric" { (pct(r.sen_support_percent + r.ehc_plan_percent, r)) }
                        }
                    }
                }
            }
        }
        (pager(&query, "/schools", &next))
    };
    Ok(page(&session, "Schools", "/schools", body).into_response())
}

async fn own_school(session: Session) -> PageResult {
    session.require(&[Role::Senco])?;
    match &session.caller.grant.school {
        Some(urn) => Ok(Redirect::to(&format!("/schools/{urn}")).into_response()),
        None => Err(not_found(&session).into()),
    }
}

async fn school(State(web): State<Arc<Web>>, session: Session, Path(urn): Path<String>) -> PageResult {
    session.require(SCHOOL_READERS)?;
    let backend = web.backend(&session);
    let school = match backend.schools() {
        Ok(mut client) => client.get_school(backend.request(pb::GetSchoolRequest { urn: urn.clone() })).await,
        Err(status) => Err(status),
    }
    .map_err(|s| from_status(&session, &s))?
    .into_inner();
    let team = TEAM.contains(&session.role());
    let referral_filter = pb::ListReferralsRequest { school_urn: urn.clone(), ..Default::default() };
    let (appointments, stats, referrals, allocations, transitions, reviews) = tokio::join!(
        async {
            let mut client = backend.schools().ok()?;
            let request = backend.request(pb::ListSencoAppointmentsRequest { urn: urn.clone() });
            client.list_senco_appointments(request).await.ok().map(|r| r.into_inner().appointments)
        },
        register_stats(&backend),
        lookups::referrals(&backend, referral_filter),
        async {
            if !team {
                return None;
            }
            let mut client = backend.caseloads().ok()?;
            let request = backend.request(pb::ListSchoolAllocationsRequest { term: String::new() });
            let answer = client.list_school_allocations(request).await.ok()?.into_inner();
            Some((answer.term, answer.schools.into_iter().find(|s| s.urn == urn)))
        },
        transitions(&backend, &urn),
        reviews_due(&backend, &urn),
    );
    let today = chrono::Utc::now().date_naive();
    let (senco_text, tone) = senco_status(&school, today);
    let row = stats.as_ref().and_then(|s| s.schools.iter().find(|r| r.school_urn == urn).cloned());
    let national = stats.as_ref().and_then(|s| s.national.clone()).unwrap_or_default();
    let unavailable = || html! { p class="body secondary" { "Not available just now." } };
    let senco = school.current_senco.clone();
    // Everything below the heading follows the school's referrals as they change (`live_region`).
    let details = html! {
        div class="columns" {
            (summary_card("SENCO", &[
                ("Status", tag(senco_text, tone)),
                ("Name", html! { @if let Some(s) = &senco { (s.person_name) } @else { "None" } }),
                ("Appointed", html! { (long_date(senco.as_ref().and_then(|s| s.appointed_on.as_ref()))) }),
                ("Qualification", html! { @if let Some(s) = &senco { (award_text(s, today)) } }),
                ("Previous SENCOs", html! { @match &appointments {
                    Some(a) => (a.iter().filter(|a| a.ended_on.is_some()).count()),
                    None => "Not available",
                } }),
            ]))
            (summary_card("Register", &match &row {
                Some(r) => vec![
                    ("Number on roll", html! { @if r.number_on_roll > 0 { (wording::thousands(r.number_on_roll.into())) } @else { "Unknown" } }),
                    ("Pupils recorded", html! { (r.pupils_recorded) }),
                    ("SEN support", html! { (r.sen_support) " (" (format!("{:.1}", r.sen_support_percent)) "%; England " (national.sen_support_percent) "%)" }),
                    ("EHC plans", html! { (r.ehc_plan) " (" (format!("{:.1}", r.ehc_plan_percent)) "%; England " (national.ehc_plan_percent) "%)" }),
                ],
                None => vec![("Register", unavailable())],
            }))
        }
        @if let Some((term, allocation)) = &allocations {
            h2 class="heading-m" { "Educational psychology time, " (term) }
            @match allocation {
                Some(a) if a.closed => p class="body" { "The school is closed, so it has no share of this term's time; "
                    (a.used) " sessions were recorded against it before it closed." },
                Some(a) => p class="body" { (a.used) " sessions used of " (format!("{:.1}", a.allocated)) " allocated; "
                    @if a.balance < 0.0 { strong { (format!("{:.1}", -a.balance)) " over" } } @else { (format!("{:.1}", a.balance)) " left" } "." },
                None if school.status == pb::EstablishmentStatus::Closed as i32 => p class="body" { "The school is closed, so it has no share of this term's time." },
                None => p class="body" { "No allocation for this school this term." },
            }
        }
        h2 class="heading-m" { "Referrals" }
        @match &referrals {
            Ok(rows) if rows.is_empty() => p class="body" { "No referrals." },
            Ok(rows) => p class="body" { a href={ "/referrals?school=" (urn) } { (rows.len()) " referrals from this school" } ", "
                (rows.iter().filter(|r| wording::is_open(r.status)).count()) " open." },
            Err(_) => (unavailable()),
        }
        h2 class="heading-m" { "Phase transfers due" }
        @match &transitions {
            Some(rows) => (transitions_table(&rows.iter().filter(|t| in_school(&t.pupil, &urn)).cloned().collect::<Vec<_>>(), &HashMap::from([(urn.clone(), school.name.clone())]))),
            None => (unavailable()),
        }
        h2 class="heading-m" { "Annual reviews due" }
        @match &reviews {
            Some(rows) => (reviews_list(rows.iter().filter(|r| in_school(&r.pupil, &urn)))),
            None => (unavailable()),
        }
    };
    let body = html! {
        @if team { (back_link("/schools", "All schools")) }
        h1 class="heading-l" { span class="caption" { "URN " (school.urn) } (school.name) }
        (live_region("school-live", details))
    };
    Ok(page(&session, &school.name, if team { "/schools" } else { "/school" }, body).into_response())
}

fn in_school(pupil: &Option<pb::PupilSummary>, urn: &str) -> bool {
    pupil.as_ref().is_some_and(|p| p.school_urn == urn)
}

/// A SENCO's qualification in words, judged on `today` (SEND Regulations 2014
/// reg. 49: the NPQ for SENCOs for anyone appointed from 1 September 2024).
pub(super) fn award_text(senco: &pb::SencoAppointment, today: chrono::NaiveDate) -> String {
    let award = pb::SencoAward::try_from(senco.award).unwrap_or(pb::SencoAward::Unspecified);
    let achieved = long_date(senco.award_achieved_on.as_ref());
    let held = match award {
        pb::SencoAward::Nasenco => Some(format!("NASENCO, {achieved}")),
        pb::SencoAward::NpqSenco => Some(format!("NPQ for SENCOs, {achieved}")),
        _ => None,
    };
    match pb::SencoQualificationStatus::try_from(senco.qualification_status) {
        Ok(pb::SencoQualificationStatus::Exempt) => match held {
            Some(held) => format!("{held} (exempt: over 12 months as a SENCO before)"),
            None => "Exempt (over 12 months as a SENCO before)".into(),
        },
        Ok(pb::SencoQualificationStatus::WorkingTowards) => {
            let required = match pb::SencoRequiredQualification::try_from(senco.required_qualification) {
                Ok(pb::SencoRequiredQualification::NpqSenco) => "NPQ for SENCOs",
                _ => "NASENCO or NPQ for SENCOs",
            };
            let deadline = senco.award_deadline.as_ref().and_then(|d| sen_platform::dates::from_proto(d).ok());
            let due = long_date(senco.award_deadline.as_ref());
            let when = match deadline {
                Some(d) if d < today => format!("was due {due}, overdue"),
                _ => format!("due {due}"),
            };
            let mut text = match award {
                pb::SencoAward::None => format!("Not started: {required} {when}"),
                _ => format!("Working towards {required} — {when}"),
            };
            if award == pb::SencoAward::Nasenco {
                let why = if required == "NPQ for SENCOs" {
                    "a SENCO appointed from 1 September 2024 needs the NPQ for SENCOs"
                } else {
                    "a NASENCO completed from 1 September 2027 does not count"
                };
                text.push_str(&format!(" (the NASENCO achieved {achieved} does not count: {why})"));
            }
            text
        }
        _ => held.unwrap_or_default(),
    }
}

fn reviews_list<'a>(reviews: impl Iterator<Item = &'a pb::ReviewDue>) -> Markup {
    let reviews: Vec<&pb::ReviewDue> = reviews.collect();
    html! {
        @if reviews.is_empty() { p class="body" { "None due in the next 60 days." } } @else {
            ul class="list" {
                @for r in reviews {
                    @let pupil = r.pupil.clone().unwrap_or_default();
                    li { (pupil_link(pupil.id, &pupil.display_name)) ": " (long_date(r.next_review_due.as_ref())) " "
                        @if r.overdue { (tag("Overdue", Tone::Red)) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn nasenco_after_the_change() -> pb::SencoAppointment {
        pb::SencoAppointment {
            award: pb::SencoAward::Nasenco as i32,
            award_achieved_on: Some(pb::Date { year: 2025, month: 7, day: 1 }),
            appointed_on: Some(pb::Date { year: 2024, month: 9, day: 1 }),
            award_deadline: Some(pb::Date { year: 2027, month: 9, day: 1 }),
            qualification_status: pb::SencoQualificationStatus::WorkingTowards as i32,
            required_qualification: pb::SencoRequiredQualification::NpqSenco as i32,
            ..Default::default()
        }
    }

    #[test]
    fn a_nasenco_after_the_change_reads_as_working_towards_the_npq_until_the_deadline_day() {
        let senco = nasenco_after_the_change();
        for today in [day(2027, 8, 31), day(2027, 9, 1)] {
            let text = award_text(&senco, today);
            assert!(text.starts_with("Working towards NPQ for SENCOs — due 1 September 2027"), "{today}: {text}");
            assert!(text.contains("a SENCO appointed from 1 September 2024 needs the NPQ for SENCOs"));
        }
        let text = award_text(&senco, day(2027, 9, 2));
        assert!(text.starts_with("Working towards NPQ for SENCOs — was due 1 September 2027, overdue"), "{text}");
    }

    #[test]
    fn a_qualified_or_exempt_senco_reads_as_such() {
        let npq = pb::SencoAppointment {
            award: pb::SencoAward::NpqSenco as i32,
            award_achieved_on: Some(pb::Date { year: 2026, month: 7, day: 10 }),
            qualification_status: pb::SencoQualificationStatus::Qualified as i32,
            ..Default::default()
        };
        assert_eq!(award_text(&npq, day(2026, 12, 1)), "NPQ for SENCOs, 10 July 2026");
        let exempt = pb::SencoAppointment {
            award: pb::SencoAward::None as i32,
            prior_senco_experience_over_12_months: true,
            qualification_status: pb::SencoQualificationStatus::Exempt as i32,
            ..Default::default()
        };
        assert_eq!(award_text(&exempt, day(2026, 12, 1)), "Exempt (over 12 months as a SENCO before)");
        let not_started = pb::SencoAppointment {
            award: pb::SencoAward::None as i32,
            award_deadline: Some(pb::Date { year: 2027, month: 2, day: 28 }),
            qualification_status: pb::SencoQualificationStatus::WorkingTowards as i32,
            required_qualification: pb::SencoRequiredQualification::NasencoOrNpq as i32,
            ..Default::default()
        };
        assert_eq!(
            award_text(&not_started, day(2027, 2, 28)),
            "Not started: NASENCO or NPQ for SENCOs due 28 February 2027"
        );
    }
}
