//! Appeals to the First-tier Tribunal (SEND) (`/appeals`): the authority's open
//! appeals and mediations, soonest next date first (the mediation, the
//! council's response, the hearing, or the family's last day to appeal), the
//! yearly counts (registered, ended by outcome, mediations held) and the latest
//! outcomes. The pupils service works out every date (Children and Families Act
//! 2014 ss. 51–55; HESC Rules 2008 rr. 12, 20, 21) and lets only the council
//! SEN team see appeals; the dashboard's appeal figures link here.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use crate::backend::Backend;
use crate::layout::{Tone, figure, page, tag};
use crate::lists::{self, ListQuery, pager};
use crate::lookups::school_names;
use crate::refusals::{PageResult, Refused, from_status};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{long_date, pupil_link, school_link};

/// Who sees appeals (as `ListOpenAppeals`): the council SEN team only.
const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];

/// The page's route.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/appeals", get(appeals_page))
}

/// What is appealed, in words, with the disputed sections of a plan.
pub fn ground_name(fields: &pb::AppealFields) -> String {
    let ground = match pb::AppealGround::try_from(fields.ground) {
        Ok(pb::AppealGround::RefusalToAssess) => "Refusal to assess",
        Ok(pb::AppealGround::RefusalToIssue) => "Refusal to issue a plan",
        Ok(pb::AppealGround::FinalPlan) => "Final plan",
        Ok(pb::AppealGround::AmendedPlan) => "Amended plan",
        Ok(pb::AppealGround::Cessation) => "Ceasing the plan",
        _ => "Not recorded",
    };
    let sections: Vec<&str> = fields
        .sections
        .iter()
        .filter_map(|s| match pb::PlanSection::try_from(*s) {
            Ok(pb::PlanSection::B) => Some("B"),
            Ok(pb::PlanSection::F) => Some("F"),
            Ok(pb::PlanSection::I) => Some("I"),
            _ => None,
        })
        .collect();
    if sections.is_empty() { ground.to_owned() } else { format!("{ground}: sections {}", sections.join(", ")) }
}

/// Where the appeal stands, as a tag.
pub fn stage_tag(stage: i32) -> Markup {
    match pb::AppealStage::try_from(stage) {
        Ok(pb::AppealStage::Mediation) => tag("In mediation", Tone::Blue),
        Ok(pb::AppealStage::AwaitingRegistration) => tag("Awaiting registration", Tone::Grey),
        Ok(pb::AppealStage::AwaitingResponse) => tag("Response due", Tone::Yellow),
        Ok(pb::AppealStage::AwaitingHearing) => tag("Awaiting hearing", Tone::Purple),
        Ok(pb::AppealStage::AwaitingDecision) => tag("Awaiting decision", Tone::Purple),
        Ok(pb::AppealStage::ResolvedInMediation) => tag("Resolved in mediation", Tone::Green),
        Ok(pb::AppealStage::Closed) => tag("Closed", Tone::Green),
        _ => html! {},
    }
}

/// How an appeal ended, in words.
pub fn outcome_name(outcome: i32) -> &'static str {
    match pb::AppealOutcome::try_from(outcome) {
        Ok(pb::AppealOutcome::Upheld) => "Upheld",
        Ok(pb::AppealOutcome::PartlyUpheld) => "Partly upheld",
        Ok(pb::AppealOutcome::Dismissed) => "Dismissed",
        Ok(pb::AppealOutcome::Withdrawn) => "Withdrawn",
        Ok(pb::AppealOutcome::Conceded) => "Conceded by the council",
        _ => "",
    }
}

/// An outcome's key in the counts, in words.
fn outcome_key_name(key: &str) -> &str {
    match key {
        "upheld" => "upheld",
        "partly_upheld" => "partly upheld",
        "dismissed" => "dismissed",
        "withdrawn" => "withdrawn",
        "conceded" => "conceded",
        other => other,
    }
}

/// The next date and what it is, with the response marked when late.
pub fn next_date(appeal: &pb::Appeal) -> Markup {
    html! {
        @if appeal.next_date.is_some() {
            (long_date(appeal.next_date.as_ref())) br; span class="secondary" { (appeal.next_step) }
        } @else { "None" }
        @if appeal.response_late { " " (tag("Response late", Tone::Red)) }
    }
}

/// Every open appeal (`None` when the service did not answer).
async fn open_appeals(backend: &Backend) -> Option<Vec<pb::AppealRow>> {
    let client = backend.pupils().ok()?;
    lists::fetch_all(|page| {
        let mut client = client.clone();
        let request = backend.request(pb::ListOpenAppealsRequest { as_of: None, page: Some(page) });
        async move {
            let answer = client.list_open_appeals(request).await?.into_inner();
            Ok::<_, tonic::Status>((answer.appeals, answer.next_page_token))
        }
    })
    .await
    .ok()
}

/// The dashboard's appeal figures: open appeals (by what waits), responses
/// overdue, and this year's outcomes.
pub fn appeal_figures(stats: Option<&pb::AppealStats>) -> Markup {
    let Some(stats) = stats else { return html! {} };
    let waiting = |key: &str| stats.open_by_stage.iter().find(|c| c.key == key).map_or(0, |c| c.count);
    let detail = format!(
        "{} in mediation, {} awaiting a hearing, {} responses overdue",
        waiting("mediation"),
        waiting("awaiting_hearing"),
        stats.responses_overdue
    );
    let this_year = stats.years.first();
    let outcomes = this_year.map(|y| {
        let parts: Vec<String> =
            y.ended_by_outcome.iter().map(|c| format!("{} {}", c.count, outcome_key_name(&c.key))).collect();
        if parts.is_empty() { "none yet".to_owned() } else { parts.join(", ") }
    });
    html! {
        (figure(&stats.open.to_string(), "Open appeals to the Tribunal", Some("/appeals"), Some(&detail)))
        @if let Some(year) = this_year {
            (figure(&year.ended.to_string(), &format!("Appeals ended in {}", year.year), Some("/appeals#outcomes"), outcomes.as_deref()))
        }
    }
}

fn years_table(stats: &pb::AppealStats) -> Markup {
    let count =
        |year: &pb::AppealYear, key: &str| year.ended_by_outcome.iter().find(|c| c.key == key).map_or(0, |c| c.count);
    html! {
        div class="table-wrapper" { table class="table" {
            caption { "Appeals per calendar year" }
            thead { tr {
                th scope="col" { "Year" }
                th scope="col" class="numeric" { "Mediations held" }
                th scope="col" class="numeric" { "Registered" }
                th scope="col" class="numeric" { "Upheld" }
                th scope="col" class="numeric" { "Partly upheld" }
                th scope="col" class="numeric" { "Dismissed" }
                th scope="col" class="numeric" { "Withdrawn" }
                th scope="col" class="numeric" { "Conceded" }
                th scope="col" class="numeric" { "Ended" }
            } }
            tbody { @for y in &stats.years { tr {
                th scope="row" { (y.year) }
                td class="numeric" { (y.mediations) }
                td class="numeric" { (y.registered) }
                @for key in ["upheld", "partly_upheld", "dismissed", "withdrawn", "conceded"] { td class="numeric" { (count(y, key)) } }
                td class="numeric" { (y.ended) }
            } } }
        } }
    }
}

async fn appeals_page(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
    session.require(TEAM)?;
    let backend = web.backend(&session);
    let stats = async {
        let mut client = backend.pupils()?;
        client.get_appeal_stats(backend.request(pb::GetAppealStatsRequest { as_of: None, years: 0 })).await
    };
    let (rows, stats, schools) = tokio::join!(open_appeals(&backend), stats, school_names(&backend, session.role()));
    let rows = rows.ok_or_else(|| -> Refused {
        from_status(&session, &tonic::Status::unavailable("the pupils service did not answer")).into()
    })?;
    let stats = stats.map_err(|s| from_status(&session, &s))?.into_inner();
    let name_of = |urn: &str| schools.get(urn).cloned().unwrap_or_default();
    let total = rows.len();
    let (shown, next) = query.paginate(rows);
    let body = html! {
        h1 class="heading-l" { "Appeals to the Tribunal" }
        p class="body" {
            "Families' mediations and appeals to the First-tier Tribunal (SEND) against a refusal to assess, a refusal to issue a plan, "
            "a final or amended plan (sections B, F and I) or ceasing a plan, soonest next date first. "
            "Mediation takes place within 30 days of the council being told the family wishes to mediate; "
            "the council's response is due 30 working days after the appeal is registered, not counting August or 25 December to 1 January."
        }
        div class="figures" { (figure(&stats.open.to_string(), "Open", None, None)) (figure(&stats.responses_overdue.to_string(), "Responses overdue", None, None)) }
        @if shown.is_empty() { p class="body" { "No appeals are open." } } @else {
            div class="table-wrapper" { table class="table" {
                caption { "Open appeals (" (total) ")" }
                thead { tr {
                    th scope="col" { "Pupil" } th scope="col" { "School" } th scope="col" { "Appealed" }
                    th scope="col" { "Decision" } th scope="col" { "Stage" } th scope="col" { "Next date" }
                } }
                tbody { @for row in &shown {
                    @let p = row.pupil.clone().unwrap_or_default();
                    @let a = row.appeal.clone().unwrap_or_default();
                    @let fields = a.appeal.clone().unwrap_or_default();
                    tr {
                        td { (pupil_link(p.id, &p.display_name)) }
                        td { (school_link(&p.school_urn, &name_of(&p.school_urn))) }
                        td { (ground_name(&fields)) }
                        td { (long_date(fields.decision_on.as_ref())) }
                        td { (stage_tag(a.stage)) }
                        td { (next_date(&a)) }
                    }
                } }
            } }
        }
        (pager(&query, "/appeals", &next))
        h2 class="heading-m" id="outcomes" { "Counts and outcomes" }
        (years_table(&stats))
        h3 class="heading-s" { "Latest outcomes" }
        @if stats.recent_outcomes.is_empty() { p class="body" { "No appeal has ended yet." } } @else {
            ul class="list" { @for row in &stats.recent_outcomes {
                @let p = row.pupil.clone().unwrap_or_default();
                @let a = row.appeal.clone().unwrap_or_default();
                @let fields = a.appeal.clone().unwrap_or_default();
                li { (pupil_link(p.id, &p.display_name)) ": " (ground_name(&fields)) ", " (outcome_name(fields.outcome).to_lowercase()) " on " (long_date(fields.decided_on.as_ref())) }
            } }
        }
    };
    Ok(page(&session, "Appeals to the Tribunal", "/dashboard", body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_appeal_against_a_plan_reads_with_its_sections() {
        let fields = pb::AppealFields {
            ground: pb::AppealGround::AmendedPlan as i32,
            sections: vec![pb::PlanSection::B as i32, pb::PlanSection::I as i32],
            ..Default::default()
        };
        assert_eq!(ground_name(&fields), "Amended plan: sections B, I");
        let refusal = pb::AppealFields { ground: pb::AppealGround::RefusalToAssess as i32, ..Default::default() };
        assert_eq!(ground_name(&refusal), "Refusal to assess");
    }

    #[test]
    fn the_dashboard_counts_open_appeals_and_this_years_outcomes() {
        let stats = pb::AppealStats {
            open: 2,
            open_by_stage: vec![pb::CountByKey { key: "mediation".into(), count: 1 }],
            years: vec![pb::AppealYear {
                year: 2026,
                ended: 2,
                ended_by_outcome: vec![
                    pb::CountByKey { key: "upheld".into(), count: 1 },
                    pb::CountByKey { key: "withdrawn".into(), count: 1 },
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        let html = appeal_figures(Some(&stats)).into_string();
        assert!(html.contains("Open appeals to the Tribunal") && html.contains("1 in mediation"), "{html}");
        assert!(html.contains("Appeals ended in 2026") && html.contains("1 upheld, 1 withdrawn"), "{html}");
    }
}
