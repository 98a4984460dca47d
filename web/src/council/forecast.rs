//! The breach forecast (`/forecast`, the council team's): the open EHC needs
//! assessment requests likely to miss their statutory date, each with the
//! reasons; the breaches expected month by month with the team as it is and,
//! beside them, under the manager's what-if (a small form: extra EP days a
//! week, a professional leaving, sessions a term moved by the time-allocation
//! model); and the suggested moves of unstarted statutory work, each accepted
//! by the manager with its own button, which reassigns the case through
//! `ReassignCase` (its checks, its audit). The caseloads service computes the
//! forecast (docs/FORECAST.md) and says when; the same answers are
//! `GET /api/v1/forecast/breaches` and `/api/v1/forecast/capacity`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use tonic::Code;
use tonic_types::StatusExt;

use crate::backend::Backend;
use crate::layout::{FieldError, banner, csrf_field, error_for, error_summary, input_of, page, select};
use crate::refusals::{PageResult, from_status};
use crate::session::{CSRF_FIELD, Session};
use crate::state::Web;
use crate::wording::long_date;

/// Who sees the forecast (as `GetBreachForecast`).
const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];
/// A request at least this likely to breach is listed as likely to.
const LIKELY: f64 = 0.5;

/// The page's routes.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/forecast", get(forecast_page)).route("/forecast/accept", post(accept))
}

/// For the dashboard: requests more likely than not to breach, and the expected
/// number of breaches (`None` when the service did not answer).
pub(super) async fn likely_breaches(backend: &Backend) -> Option<(u32, f64)> {
    let mut caseloads = backend.caseloads().ok()?;
    let request = pb::GetBreachForecastRequest { figures_only: true, ..Default::default() };
    let answer = caseloads.get_breach_forecast(backend.request(request)).await;
    answer.ok().map(|a| a.into_inner()).map(|f| (f.likely_breaches, f.expected_breaches))
}

/// The what-if as typed.
#[derive(Clone, Debug, Default, serde::Deserialize)]
struct WhatIfForm {
    #[serde(default)]
    extra_days: String,
    #[serde(default)]
    leaving: String,
    #[serde(default)]
    sessions: String,
    #[serde(default)]
    done: String,
}

impl WhatIfForm {
    /// The request, or the fields that are not numbers.
    fn request(&self) -> Result<pb::GetCapacityForecastRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut number = |id: &str, typed: &str, message: &str| -> f64 {
            match typed.trim() {
                "" => 0.0,
                t => t.parse::<f64>().ok().filter(|n| n.is_finite()).unwrap_or_else(|| {
                    errors.push(FieldError { id: id.into(), message: message.into() });
                    0.0
                }),
            }
        };
        let extra = number("extra_days", &self.extra_days, "Enter extra EP days a week as a number, for example 2");
        let sessions =
            number("sessions", &self.sessions, "Enter sessions a term as a whole number, for example 20 or -10");
        let leaving = number("leaving", &self.leaving, "Choose a professional from the list");
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(pb::GetCapacityForecastRequest {
            extra_ep_days_per_week: extra,
            leaving_professional_id: leaving as i64,
            sessions_to_statutory_per_term: sessions.round() as i32,
            suggestions: 0,
        })
    }
}

fn field_id(field: &str) -> &'static str {
    match field {
        "extra_ep_days_per_week" => "extra_days",
        "leaving_professional_id" => "leaving",
        _ => "sessions",
    }
}

fn percent(p: f64) -> String {
    format!("{:.0}%", p * 100.0)
}

fn computed_at(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.format("%-d %B %Y at %H:%M UTC").to_string())
        .unwrap_or_else(|_| rfc3339.to_owned())
}

async fn forecast_page(State(web): State<Arc<Web>>, session: Session, Query(typed): Query<WhatIfForm>) -> PageResult {
    session.require(TEAM)?;
    let backend = web.backend(&session);
    let mut caseloads = backend.caseloads().map_err(|s| from_status(&session, &s))?;
    let breaches = caseloads
        .get_breach_forecast(backend.request(pb::GetBreachForecastRequest::default()))
        .await
        .map_err(|s| from_status(&session, &s))?
        .into_inner();
    let (request, mut errors) = match typed.request() {
        Ok(request) => (request, Vec::new()),
        Err(errors) => (pb::GetCapacityForecastRequest::default(), errors),
    };
    let capacity = match caseloads.get_capacity_forecast(backend.request(request)).await {
        Ok(answer) => answer.into_inner(),
        Err(status) if status.code() == Code::InvalidArgument => {
            let violations = status.get_details_bad_request().map(|b| b.field_violations).unwrap_or_default();
            errors.extend(
                violations.into_iter().map(|v| FieldError { id: field_id(&v.field).into(), message: v.description }),
            );
            let plain = pb::GetCapacityForecastRequest::default();
            caseloads
                .get_capacity_forecast(backend.request(plain))
                .await
                .map_err(|s| from_status(&session, &s))?
                .into_inner()
        }
        Err(status) => return Err(from_status(&session, &status).into()),
    };
    let professionals = caseloads
        .list_professionals(backend.request(pb::ListProfessionalsRequest { include_inactive: false }))
        .await
        .map(|a| a.into_inner().professionals)
        .unwrap_or_default();
    let manager = session.role() == Role::LaManager;
    let likely: Vec<&pb::RequestForecast> =
        breaches.requests.iter().filter(|r| r.breach_probability >= LIKELY).collect();
    let body = html! {
        @if typed.done == "moved" { (banner("Case reassigned: the forecast is being worked out again")) }
        h1 class="heading-l" { "Breach forecast" }
        p class="body secondary" {
            "Computed " (computed_at(&breaches.computed_at)) " from " (breaches.requests_learnt)
            " EHC needs assessment requests of the authority's own history. "
            "The same as JSON: GET /api/v1/forecast/breaches."
        }
        h2 class="heading-m" { "Requests likely to breach (" (likely.len()) ")" }
        @if likely.is_empty() {
            p class="body" { "No open request is more likely than not to miss its statutory date." }
        } @else {
            div class="table-wrapper" { table class="table" {
                caption class="visually-hidden" { "Open EHC needs assessment requests likely to breach" }
                thead { tr {
                    th scope="col" { "Request" } th scope="col" { "Received" } th scope="col" { "Final plan due" }
                    th scope="col" { "Chance of breach" } th scope="col" { "Expected final plan" } th scope="col" { "Allocated to" }
                    th scope="col" { "Why" }
                } }
                tbody { @for r in &likely { (request_row(r)) } }
            } }
        }
        p class="body" { "Expected breaches among all " (breaches.requests.len()) " open requests: " (format!("{:.1}", breaches.expected_breaches)) "." }
        h2 class="heading-m" id="expected" { "Expected breaches a month" }
        p class="body" {
            "With today's team and, beside it, under a what-if of yours; new requests counted at "
            (format!("{:.1}", capacity.arrivals_per_month)) " a month."
        }
        (what_if_form(&typed, &professionals, &errors))
        @if capacity.what_if_summary != TEAM_AS_IT_IS && unchanged(&capacity) {
            div class="notice" role="status" { p class="notice__text" {
                strong { "Under " (capacity.what_if_summary) " the expected breaches do not change" }
                ": as learnt from the authority's history, the EPs' load under it does not slow their "
                "psychological advice (see what the model learnt, below)."
            } }
        }
        (months_table(&capacity))
        h2 class="heading-m" { "Suggested moves of unstarted statutory work" }
        @if capacity.suggestions.is_empty() {
            p class="body" { "No move of unstarted work would lower the expected breaches." }
        } @else {
            div class="table-wrapper" { table class="table" {
                caption class="visually-hidden" { "Suggested moves, best first" }
                thead { tr { th scope="col" { "Case" } th scope="col" { "From" } th scope="col" { "To" } th scope="col" { "Fewer breaches expected" } @if manager { th scope="col" { span class="visually-hidden" { "Accept" } } } } }
                tbody { @for s in &capacity.suggestions { tr {
                    td { a href={ "/referrals/" (s.referral_id) } { "Request " (s.referral_id) } " (case " (s.case_id) ")" }
                    td { (s.from_name) } td { (s.to_name) } td { (format!("{:.2}", s.lowers_by)) }
                    @if manager { td {
                        form method="post" action="/forecast/accept" {
                            (csrf_field(&session))
                            input type="hidden" name="case_id" value=(s.case_id);
                            input type="hidden" name="professional_id" value=(s.to_professional_id);
                            button class="button button--secondary" type="submit" { "Accept: move to " (s.to_name) }
                        }
                    } }
                } } }
            } }
        }
        h2 class="heading-m" { "What the model learnt" }
        ul class="list" { @for line in &breaches.model { li { (line) } } }
        p class="body secondary" { "How the forecast works, and where it is weak: docs/FORECAST.md in the platform's documentation." }
    };
    let title = if errors.is_empty() { "Breach forecast" } else { "Error: Breach forecast" };
    Ok(page(&session, title, "/dashboard", body).into_response())
}

fn request_row(r: &pb::RequestForecast) -> Markup {
    let final_step = r.steps.iter().find(|s| s.step == "final plan issued");
    html! { tr {
        td { a href={ "/referrals/" (r.referral_id) } { "Request " (r.referral_id) } }
        td { (long_date(r.received_on.as_ref())) }
        td { (long_date(r.final_plan_due.as_ref())) }
        td { (percent(r.breach_probability)) }
        td { @if let Some(s) = final_step { (long_date(s.expected_on.as_ref())) } }
        td { @if r.allocated_to.is_empty() { "Not allocated" } @else { (r.allocated_to) } }
        td { ul class="list" { @for reason in &r.reasons { li { (reason) } } } }
    } }
}

/// The service's words for a what-if that changes nothing.
const TEAM_AS_IT_IS: &str = "the team as it is";

/// Whether the what-if's months are today's (to a tenth of a breach, as shown).
fn unchanged(c: &pb::CapacityForecast) -> bool {
    c.today.len() == c.what_if.len() && c.today.iter().zip(&c.what_if).all(|(t, w)| (t.total - w.total).abs() < 0.05)
}

fn months_table(c: &pb::CapacityForecast) -> Markup {
    html! {
        div class="table-wrapper" { table class="table" {
            caption class="visually-hidden" { "Expected breaches a month, with today's team and under the what-if: " (c.what_if_summary) }
            thead { tr { th scope="col" { "Month" } th scope="col" { "Today's team" } th scope="col" { "What-if: " (c.what_if_summary) } } }
            tbody { @for (today, what_if) in c.today.iter().zip(&c.what_if) { tr {
                td { (today.month.as_ref().and_then(|d| sen_platform::dates::from_proto(d).ok()).map(|d| d.format("%B %Y").to_string()).unwrap_or_default()) }
                td { (format!("{:.1}", today.total)) }
                td { (format!("{:.1}", what_if.total)) }
            } } }
        } }
    }
}

fn what_if_form(typed: &WhatIfForm, professionals: &[pb::Professional], errors: &[FieldError]) -> Markup {
    let mut options = vec![(String::new(), "Nobody".to_owned())];
    options.extend(
        professionals
            .iter()
            .filter_map(|p| Some((p.id, p.professional.as_ref()?)))
            .filter(|(_, p)| p.role.starts_with("educational_psychologist"))
            .map(|(id, p)| (id.to_string(), p.name.clone())),
    );
    html! {
        h3 class="heading-s" { "What if" }
        (error_summary(errors))
        form method="get" action="/forecast#expected" novalidate {
            (input_of("text", "extra_days", "Extra EP days a week", Some("For example 2"), &typed.extra_days, error_for(errors, "extra_days")))
            (select("leaving", "A professional leaving", &options, &typed.leaving, error_for(errors, "leaving")))
            (input_of("text", "sessions", "Sessions a term moved to statutory work by the time-allocation model", Some("Half-days; negative moves them to schools"), &typed.sessions, error_for(errors, "sessions")))
            button class="button" type="submit" { "Show the what-if" }
        }
    }
}

async fn accept(State(web): State<Arc<Web>>, session: Session, Form(form): Form<Vec<(String, String)>>) -> PageResult {
    session.require(&[Role::LaManager])?;
    let get = |name: &str| form.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_owned());
    session.check_csrf(get(CSRF_FIELD).as_deref())?;
    let number = |name: &str| get(name).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    let request = pb::ReassignCaseRequest {
        case_id: number("case_id"),
        professional_id: number("professional_id"),
        reason: "Rebalancing suggested by the breach forecast".into(),
        override_reason: String::new(),
    };
    let backend = web.backend(&session);
    let mut caseloads = backend.caseloads().map_err(|s| from_status(&session, &s))?;
    caseloads.reassign_case(backend.request(request)).await.map_err(|s| from_status(&session, &s))?;
    Ok(Redirect::to("/forecast?done=moved").into_response())
}
