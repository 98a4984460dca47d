//! The council SEN team's dashboard (`/dashboard`): the headline figures, each
//! a link to the list behind it, and four charts drawn on the server.
//!
//! Everything but the annual reviews comes from one `GatewayService.GetOverview`
//! call, which composes the services; a part that did not come back (a service
//! down, or closed to the reader's role, as the caseload balance is to a case
//! officer) is named in a notice and the rest of the page still renders. The
//! figures and charts follow the referrals as they change, as the referrals
//! list does (`crate::layout::live_region`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{Datelike, NaiveDate};
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use super::charts::{self, Bar, Label, Reference, Series, Unit};
use super::deadlines::reviews_overdue;
use crate::layout::{figure, live_region, page};
use crate::refusals::{PageResult, from_status};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{self, thousands};

/// Who sees the dashboard (as `GetOverview`).
const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];

/// New EHC plans issued within 20 weeks in England, exceptions excluded
/// (DfE, "Education, health and care plans", June 2025 release): shown beside
/// the authority's own figure, with the calendar year it is for. Update with
/// each year's release.
pub const NATIONAL_TIMELINESS: (f64, &str) = (46.4, "2024");

/// A school's SEN rate at least this many times the national rate, or at most
/// its inverse, is marked as an outlier on the chart.
const OUTLIER_RATIO: f64 = 1.5;

/// The dashboard's route.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/dashboard", get(dashboard))
}

async fn dashboard(State(web): State<Arc<Web>>, session: Session) -> PageResult {
    session.require(TEAM)?;
    let backend = web.backend(&session);
    let overview = match backend.gateway() {
        Ok(mut client) => client.get_overview(backend.request(pb::GetOverviewRequest { as_of: None })).await,
        Err(status) => Err(status),
    }
    .map_err(|s| from_status(&session, &s))?
    .into_inner();
    let today = overview
        .as_of
        .as_ref()
        .and_then(|d| sen_platform::dates::from_proto(d).ok())
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let reviews_overdue = annual_reviews_overdue(&web, &session).await;
    let amendments_late = super::amendments::late_count(&web.backend(&session)).await;
    let advice_late = super::late_advice::late_count(&web.backend(&session)).await;
    let forecast = super::forecast::likely_breaches(&web.backend(&session)).await;
    // Everything below the heading follows the referrals as they change (`live_region`).
    let figures = html! {
        p class="body secondary" { "Figures as at " (today.format("%-d %B %Y")) "." }
        @for part in &overview.unavailable {
            div class="notice" role="status" {
                p class="notice__text" { strong { (part_name(&part.part)) " is not available" } ": " (part.reason) "." }
            }
        }
        @if reviews_overdue.is_none() {
            div class="notice" role="status" { p class="notice__text" { strong { "Annual reviews" } " are not available just now." } }
        }
        h2 class="heading-m" { "Headline figures" }
        div class="figures" {
            (register_figures(overview.register.as_ref()))
            (referral_figures(overview.referrals.as_ref()))
            (clock_figures(overview.statutory_clock.as_ref()))
            (transfer_figures(overview.transitions_due.as_ref(), today))
            @if let Some(n) = reviews_overdue {
                (figure(&thousands(n as u64), "Annual reviews overdue", Some("/annual-reviews-due?overdue=yes"), None))
            }
            @if let Some(n) = amendments_late {
                (figure(&thousands(u64::from(n)), "Review amendments late", Some("/late-amendments"), None))
            }
            @if let Some(n) = advice_late {
                (figure(&thousands(u64::from(n)), "Advice late (6 weeks from asking)", Some("/late-advice"), None))
            }
            @if let Some((likely, expected)) = forecast {
                (figure(&likely.to_string(), "Requests likely to breach (forecast)", Some("/forecast"),
                    Some(&format!("{expected:.1} breaches expected among the open requests"))))
            }
            (super::appeals::appeal_figures(overview.appeals.as_ref()))
            @if let Some(c) = &overview.senco_compliance {
                (figure(&c.without_senco.len().to_string(), "Schools with no SENCO", Some("/senco-compliance?issue=no_senco"), None))
                (figure(&c.awards_overdue.len().to_string(), "SENCO awards overdue", Some("/senco-compliance?issue=award_overdue"), None))
            }
        }
        p class="body" { a href="/sen2" { "The SEN2 return for the DfE" } ": check it and download the file." }
        h2 class="heading-m" { "Charts" }
        div class="columns" {
            @if let Some(stats) = &overview.referrals {
                div { h3 class="heading-s" { "Referrals per month" } (referrals_chart(stats)) }
                div { h3 class="heading-s" { "20-week timeliness" } (timeliness_chart(stats)) }
            }
            @if let Some(balance) = &overview.caseload_balance {
                div { h3 class="heading-s" { a href="/professionals" { "Caseload load per professional" } } (load_chart(balance)) }
            }
            @if let Some(register) = &overview.register {
                div { h3 class="heading-s" { a href="/schools?sort=sen&dir=desc" { "SEN by school" } } (sen_chart(register)) }
            }
        }
    };
    let body = html! {
        h1 class="heading-l" { span class="caption" { "Local authority " (overview.tenant) } "SEN dashboard" }
        (live_region("dashboard-live", figures))
    };
    Ok(page(&session, "Dashboard", "/dashboard", body).into_response())
}

fn part_name(part: &str) -> &str {
    match part {
        "register" => "The SEN register",
        "senco_compliance" => "SENCO compliance",
        "referrals" => "Referrals",
        "statutory_clock" => "The statutory clock",
        "caseload_balance" => "Caseload balance",
        "transitions_due" => "Phase transfers",
        "appeals" => "Appeals to the Tribunal",
        other => other,
    }
}

/// How many annual reviews are overdue (`None` when the service did not answer).
async fn annual_reviews_overdue(web: &Web, session: &Session) -> Option<u32> {
    reviews_overdue(&web.backend(session)).await
}

fn percent(value: f64) -> String {
    format!("{value:.1}%")
}

fn register_figures(register: Option<&pb::RegisterStats>) -> Markup {
    let Some(register) = register else { return html! {} };
    let all = register.authority.clone().unwrap_or_default();
    let national = register.national.clone().unwrap_or_default();
    let detail = |share: f64, national: f64| {
        format!("{} of the roll; England {}{}", percent(share), percent(national), as_at(&register.national))
    };
    html! {
        (figure(&thousands(all.sen_support.into()), "Pupils on SEN support", Some("/pupils?status=K"),
            Some(&detail(all.sen_support_percent, national.sen_support_percent))))
        (figure(&thousands(all.ehc_plan.into()), "Pupils with an EHC plan", Some("/pupils?status=E"),
            Some(&detail(all.ehc_plan_percent, national.ehc_plan_percent))))
    }
}

fn as_at(national: &Option<pb::NationalFigures>) -> String {
    national.as_ref().filter(|n| !n.as_at.is_empty()).map(|n| format!(" ({})", n.as_at)).unwrap_or_default()
}

fn referral_figures(stats: Option<&pb::ReferralStats>) -> Markup {
    let Some(stats) = stats else { return html! {} };
    let open: Vec<&pb::StatusCount> = stats.by_status.iter().filter(|s| wording::is_open(s.status)).collect();
    let total: u32 = open.iter().map(|s| s.count).sum();
    html! {
        div class="figure" {
            a class="figure__link" href="/referrals?status=open" {
                span class="figure__value" { (thousands(total.into())) }
                span class="figure__label" { "Open referrals" }
            }
            ul class="figure__list" {
                @for s in &open {
                    li { a href={ "/referrals?status=" (wording::status_code(s.status)) } { (wording::status_name(s.status)) ": " (s.count) } }
                }
            }
        }
    }
}

fn clock_figures(clock: Option<&pb::StatutoryClockReport>) -> Markup {
    let Some(clock) = clock else { return html! {} };
    let timeliness = clock.percent_within_20_weeks.map(percent).unwrap_or_else(|| "None issued".to_owned());
    // The DfE publishes the figure both excluding and including exception cases (reg. 10(4)).
    let including =
        clock.percent_within_20_weeks_including_exceptions.map(percent).unwrap_or_else(|| "none issued".to_owned());
    let detail = format!(
        "{} of {} plans issued in {}, exception cases excluded; {} ({} of {}) including them; England {} in {}",
        clock.issued_within_20_weeks,
        clock.plans_issued,
        clock.year,
        including,
        clock.issued_within_20_weeks_including_exceptions,
        clock.plans_issued_including_exceptions,
        percent(NATIONAL_TIMELINESS.0),
        NATIONAL_TIMELINESS.1
    );
    html! {
        (figure(&clock.at_risk.to_string(), "EHC needs assessments at risk", Some("/statutory-clock?health=at_risk"), None))
        (figure(&clock.breached.to_string(), "EHC needs assessments past a deadline", Some("/statutory-clock?health=breached"), None))
        (figure(&timeliness, "Final plans issued within 20 weeks this year", Some(&plans_issued_in(&clock.year.to_string())), Some(&detail)))
    }
}

/// The next 15 February (school transfers) and 31 March (post-16) on or after `today`.
pub fn next_transfer_deadlines(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let next = |month, day| {
        let this_year = NaiveDate::from_ymd_opt(today.year(), month, day).unwrap_or(today);
        if this_year >= today {
            this_year
        } else {
            NaiveDate::from_ymd_opt(today.year() + 1, month, day).unwrap_or(today)
        }
    };
    (next(2, 15), next(3, 31))
}

fn transfer_figures(transitions: Option<&pb::ListTransitionsDueResponse>, today: NaiveDate) -> Markup {
    let Some(transitions) = transitions else { return html! {} };
    let (february, march) = next_transfer_deadlines(today);
    // Counted by the service over every transfer listed, not one page of them.
    let counts = transitions.counts.clone().unwrap_or_default();
    let by_march = counts.by_deadline.iter().filter(|d| {
        d.deadline.as_ref().and_then(|d| sen_platform::dates::from_proto(d).ok()).is_some_and(|d| d <= march)
    });
    let (due, unnamed) = by_march.fold((0, 0), |(n, u), d| (n + d.transfers, u + d.without_setting));
    let label = format!("Phase transfers due by {} / {}", february.format("%-d %B %Y"), march.format("%-d %B %Y"));
    let detail = format!("{unnamed} with no named setting yet");
    // Amended plans issued after their deadline: counted apart from those on time.
    let (late, on_time) = (counts.issued_late, counts.issued_on_time);
    let issued_detail = format!("{on_time} issued on time");
    html! {
        (figure(&due.to_string(), &label, Some("/transitions"), Some(&detail)))
        (figure(&late.to_string(), "Amended plans issued late", Some("/transitions?status=issued_late"), Some(&issued_detail)))
    }
}

/// The list of final plans issued in `period` (a year, `2026`, or a month, `2026-03`).
fn plans_issued_in(period: &str) -> String {
    format!("/statutory-clock/plans?period={period}")
}

/// A month's label, leading to `href(YYYY-MM)`.
fn month_label(month: Option<&pb::Date>, href: impl Fn(&str) -> String) -> Label {
    match month.and_then(|d| sen_platform::dates::from_proto(d).ok()) {
        Some(d) => Label {
            axis: d.format("%b").to_string(),
            full: d.format("%B %Y").to_string(),
            href: Some(href(&d.format("%Y-%m").to_string())),
        },
        None => Label::same("?"),
    }
}

/// The month of a label's address (`YYYY-MM`), as [`month_label`] made it.
fn month_of(month: Option<&pb::Date>) -> Option<String> {
    month.and_then(|d| sen_platform::dates::from_proto(d).ok()).map(|d| d.format("%Y-%m").to_string())
}

/// The referral kind a chart groups under, as the referrals list filters by it
/// (advisory teachers of every specialism together), and its name.
fn kind_group(kind: &str) -> (String, String) {
    if kind.starts_with("advisory_teacher:") {
        ("advisory_teacher".into(), "Advisory teacher".into())
    } else {
        (kind.to_owned(), wording::kind_name(kind))
    }
}

fn referrals_chart(stats: &pb::ReferralStats) -> Markup {
    let labels: Vec<Label> = stats
        .months
        .iter()
        .map(|m| month_label(m.month.as_ref(), |month| format!("/referrals?month={month}")))
        .collect();
    let mut groups: Vec<(String, String)> = Vec::new();
    for kind in stats.months.iter().flat_map(|m| &m.submitted) {
        let group = kind_group(&kind.kind);
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    let series: Vec<Series> = groups
        .into_iter()
        .map(|(code, name)| Series {
            values: stats
                .months
                .iter()
                .map(|m| m.submitted.iter().filter(|k| kind_group(&k.kind).0 == code).map(|k| f64::from(k.count)).sum())
                .collect(),
            links: stats
                .months
                .iter()
                .map(|m| month_of(m.month.as_ref()).map(|month| format!("/referrals?kind={code}&month={month}")))
                .collect(),
            label: name,
        })
        .collect();
    let range = match (labels.first(), labels.last()) {
        (Some(first), Some(last)) => format!("{} to {}", first.full, last.full),
        _ => "no months".to_owned(),
    };
    let desc = format!("Referrals submitted each month by kind, {range}.");
    charts::stacked_bars("referrals-by-month", "Referrals per month by kind", &desc, &labels, &series, "Referrals")
}

fn timeliness_chart(stats: &pb::ReferralStats) -> Markup {
    let points: Vec<(Label, Option<f64>)> = stats
        .months
        .iter()
        .map(|m| {
            let share =
                (m.plans_issued > 0).then(|| f64::from(m.issued_within_20_weeks) / f64::from(m.plans_issued) * 100.0);
            (month_label(m.month.as_ref(), plans_issued_in), share)
        })
        .collect();
    let national = Reference { label: format!("England, {}", NATIONAL_TIMELINESS.1), value: NATIONAL_TIMELINESS.0 };
    charts::percent_bars(
        "timeliness-by-month",
        "Final EHC plans issued within 20 weeks, by month",
        "The share of final plans issued each month that were issued within 20 weeks of the request, against \
         the national rate; months with no plans issued are gaps.",
        &points,
        Some(&national),
        "No plans issued",
    )
}

fn load_chart(balance: &pb::CaseloadBalance) -> Markup {
    let bars: Vec<Bar> = balance
        .professionals
        .iter()
        .map(|p| Bar {
            label: p.name.clone(),
            value: p.load * 100.0,
            flag: if p.overloaded {
                Some("over capacity".to_owned())
            } else if p.idle {
                Some("no open cases".to_owned())
            } else {
                None
            },
            href: Some(format!("/professionals#professional-{}", p.professional_id)),
        })
        .collect();
    charts::horizontal_bars(
        "caseload-load",
        "Caseload load per professional",
        "Each professional's load as a share of their capacity; over 100% is over capacity.",
        &bars,
        Unit::Percent,
        Some(&Reference { label: "Capacity".into(), value: 100.0 }),
        "Load",
    )
}

/// Schools' SEN rates (support and EHC plans together) ranked, against the
/// national rate; schools whose roll is unknown are left out.
pub fn sen_chart(register: &pb::RegisterStats) -> Markup {
    let national = register.national.as_ref().map(|n| n.sen_support_percent + n.ehc_plan_percent).unwrap_or(0.0);
    let mut bars: Vec<Bar> = register
        .schools
        .iter()
        .filter(|s| s.number_on_roll > 0)
        .map(|s| {
            let value = s.sen_support_percent + s.ehc_plan_percent;
            let flag = if national > 0.0 && value >= national * OUTLIER_RATIO {
                Some("well above the national rate".to_owned())
            } else if national > 0.0 && value <= national / OUTLIER_RATIO {
                Some("well below the national rate".to_owned())
            } else {
                None
            };
            let href = Some(format!("/pupils?school={}", s.school_urn));
            Bar { label: s.school_name.clone(), value, flag, href }
        })
        .collect();
    bars.sort_by(|a, b| b.value.total_cmp(&a.value));
    let reference = (national > 0.0).then(|| Reference { label: "England".into(), value: national });
    charts::horizontal_bars(
        "sen-by-school",
        "Pupils with SEN by school",
        "Each school's pupils on SEN support or with an EHC plan as a share of its roll, highest first, against \
         the national rate; schools well above or below it are marked.",
        &bars,
        Unit::Percent,
        reference.as_ref(),
        "SEN % of roll",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_transfer_deadlines_roll_over_after_they_pass() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(next_transfer_deadlines(day(2026, 11, 24)), (day(2027, 2, 15), day(2027, 3, 31)));
        assert_eq!(next_transfer_deadlines(day(2027, 2, 15)), (day(2027, 2, 15), day(2027, 3, 31)));
        assert_eq!(next_transfer_deadlines(day(2027, 3, 1)), (day(2028, 2, 15), day(2027, 3, 31)));
    }

    #[test]
    fn a_school_far_above_the_national_rate_stands_out() {
        let school = |name: &str, support: f64| pb::SchoolRegisterStats {
            school_name: name.into(),
            number_on_roll: 100,
            sen_support_percent: support,
            ..Default::default()
        };
        let register = pb::RegisterStats {
            schools: vec![school("Low", 15.0), school("High", 40.0), pb::SchoolRegisterStats::default()],
            national: Some(pb::NationalFigures { sen_support_percent: 14.2, ehc_plan_percent: 5.3, as_at: "x".into() }),
            ..Default::default()
        };
        let html = sen_chart(&register).into_string();
        assert_eq!(html.matches("data-value=").count(), 2, "a school of unknown roll is left out");
        assert!(html.contains("40.0% – well above the national rate"));
        assert!(html.find("High").unwrap() < html.find("Low").unwrap(), "ranked highest first");
    }
}
