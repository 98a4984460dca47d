//! The SEN2 return (`/sen2`, the council team's): the year's headline figures,
//! every record that fails the DfE's checks for the officer to fix, and the
//! file to download for the DfE collection (`/sen2/download`). The gateway
//! composes it (`GetSen2Return`); the same is `GET /api/v1/sen2?year=2026` and
//! `sen sen2 --year 2026`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::Datelike;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use serde::Deserialize;

use crate::layout::{page, select};
use crate::refusals::{PageResult, from_status};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{long_date, thousands};

/// Who may see and download the return (as `GetSen2Return`).
const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];

/// The largest return the page takes from the gateway.
const MOST_BYTES: usize = 256 * 1024 * 1024;

/// The page's routes.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/sen2", get(sen2_page)).route("/sen2/download", get(download))
}

/// What the form asks: the year, and the two header items the platform does not hold.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Sen2Query {
    #[serde(default)]
    year: String,
    #[serde(default)]
    dmo: String,
    #[serde(default)]
    dco: String,
}

impl Sen2Query {
    /// The year asked for (last calendar year when not given), or what is wrong with it.
    fn year(&self) -> Result<i32, &'static str> {
        if self.year.trim().is_empty() {
            return Ok(chrono::Utc::now().year() - 1);
        }
        self.year
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|y| (2014..=2200).contains(y))
            .ok_or("Enter a year from 2014, like 2026")
    }

    fn code(value: &str) -> String {
        if matches!(value, "Y" | "N" | "R") { value.to_owned() } else { String::new() }
    }

    fn request(&self, year: i32, report_only: bool) -> pb::GetSen2ReturnRequest {
        pb::GetSen2ReturnRequest { year, report_only, dmo: Self::code(&self.dmo), dco: Self::code(&self.dco) }
    }
}

async fn sen2_return(
    web: &Web,
    session: &Session,
    request: pb::GetSen2ReturnRequest,
) -> Result<pb::Sen2Return, tonic::Status> {
    let backend = web.backend(session);
    let mut gateway = backend.gateway()?.max_decoding_message_size(MOST_BYTES);
    Ok(gateway.get_sen2_return(backend.request(request)).await?.into_inner())
}

async fn sen2_page(State(web): State<Arc<Web>>, session: Session, Query(query): Query<Sen2Query>) -> PageResult {
    session.require(TEAM)?;
    let (year, error) = match query.year() {
        Ok(year) => (year, None),
        Err(message) => (chrono::Utc::now().year() - 1, Some(message)),
    };
    let answer = sen2_return(&web, &session, query.request(year, true)).await.map_err(|s| from_status(&session, &s))?;
    let codes: Vec<(String, String)> = [("", "Not given"), ("Y", "Y"), ("N", "N"), ("R", "R")]
        .iter()
        .map(|(code, text)| ((*code).to_owned(), (*text).to_owned()))
        .collect();
    let download =
        format!("/sen2/download?year={year}&dmo={}&dco={}", Sen2Query::code(&query.dmo), Sen2Query::code(&query.dco));
    let body = html! {
        h1 class="heading-l" { "SEN2 return " (year) }
        p class="body" {
            "The person-level return to the DfE for the calendar year " (year) ", as at the census day "
            (long_date(answer.reference_date.as_ref())) ". Fix the records listed below, then download the file and "
            "upload it to the DfE's collection. " (answer.specification) "."
        }
        form class="filters" method="get" action="/sen2" aria-label="Choose the return" {
            div class={ "form-group" @if error.is_some() { " form-group--error" } } {
                label class="label" for="year" { "Calendar year" }
                @if let Some(error) = error {
                    p class="error-message" id="year-error" { span class="visually-hidden" { "Error: " } (error) }
                }
                input class="input input--width-4" id="year" name="year" inputmode="numeric" value=(year);
            }
            (select("dmo", "Designated Medical Officer", &codes, &Sen2Query::code(&query.dmo), None))
            (select("dco", "Designated Clinical Officer", &codes, &Sen2Query::code(&query.dco), None))
            div class="form-group" { button class="button button--secondary" type="submit" { "Check the return" } }
        }
        (figures(answer.figures.as_ref()))
        p class="body" { a class="button" href=(download) download { "Download the SEN2 file (XML)" } }
        (failures(&answer.failures))
    };
    Ok(page(&session, "SEN2 return", "/dashboard", body).into_response())
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "None issued".to_owned(), |p| format!("{p:.1}%"))
}

fn figures(figures: Option<&pb::Sen2Figures>) -> Markup {
    let Some(f) = figures else { return html! {} };
    let items = [
        (thousands(f.requests_received.into()), "Requests received"),
        (thousands(f.plans_issued_including_exceptions.into()), "Plans issued"),
        (percent(f.percent_within_20_weeks), "Within 20 weeks (exceptions excluded)"),
        (percent(f.percent_within_20_weeks_including_exceptions), "Within 20 weeks (exceptions included)"),
        (thousands(f.active_plans.into()), "Plans in force on the census day"),
        (thousands(f.plans_ceased.into()), "Plans ceased"),
        (thousands(f.persons.into()), "Persons in the return"),
    ];
    html! {
        div class="figures" {
            @for (value, label) in items {
                div class="figure" { span class="figure__value" { (value) } span class="figure__label" { (label) } }
            }
        }
    }
}

fn failures(failures: &[pb::Sen2Failure]) -> Markup {
    html! {
        h2 class="heading-m" { "Records to fix (" (failures.len()) ")" }
        @if failures.is_empty() { p class="body" { "No record fails the checks." } } @else {
            div class="table-wrapper" { table class="table" {
                caption class="visually-hidden" { "Records that fail the DfE's checks" }
                thead { tr { th scope="col" { "Record" } th scope="col" { "Item" } th scope="col" { "Rule" } th scope="col" { "What to fix" } } }
                tbody { @for f in failures { tr {
                    td {
                        @if f.referral_id != 0 { a href={ "/referrals/" (f.referral_id) } { "Request " (f.referral_id) } br; }
                        @if f.pupil_id != 0 { a href={ "/pupils/" (f.pupil_id) } { "Pupil " (f.pupil_id) } }
                        @else { (f.record) }
                    }
                    td { (f.field) }
                    td { (f.rule) }
                    td { (f.message) }
                } } }
            } }
        }
    }
}

/// `GET /sen2/download`: the file, as an attachment.
async fn download(State(web): State<Arc<Web>>, session: Session, Query(query): Query<Sen2Query>) -> PageResult {
    session.require(TEAM)?;
    let Ok(year) = query.year() else {
        return Ok(axum::response::Redirect::to("/sen2").into_response());
    };
    let answer =
        sen2_return(&web, &session, query.request(year, false)).await.map_err(|s| from_status(&session, &s))?;
    let filename = format!("attachment; filename=\"sen2-{}-{year}.xml\"", answer.tenant);
    Ok((
        [
            (http::header::CONTENT_TYPE, "application/xml; charset=utf-8".to_owned()),
            (http::header::CONTENT_DISPOSITION, filename),
            (http::header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".to_owned()),
        ],
        answer.xml,
    )
        .into_response())
}
