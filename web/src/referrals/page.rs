//! The referral page (`/referrals/{id}`): what the school asked for, its status,
//! the statutory clock of an EHC needs assessment request, and the timeline of
//! every change, and its documents ([`super::attachments`]). The council team moves it along its lifecycle from here; the SEN
//! manager sees the suggested professionals of an accepted referral and allocates
//! it in one click (the forms are [`super::actions`]).
//!
//! The referrals service scopes what each reader sees: the team their authority,
//! a SENCO their school, a professional what is allocated to them; anything else
//! is the 404 page.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use sen_vocabulary::{BroadArea, Priority};

use super::actions::{Extra, actions, suggestions};
use super::advice;
use super::attachments;
use super::steps;
use crate::fields::{self, long_time};
use crate::layout::{Tone, banner, error_summary, page, summary_card, tag};
use crate::people::{People, day_of};
use crate::refusals::{self, PageResult};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{health_tag, kind_name, long_date, stage_name, status_name, status_tag};

/// Who may read a referral (the service narrows it further).
pub const READERS: &[Role] =
    &[Role::LaManager, Role::CaseOfficer, Role::Senco, Role::EducationalPsychologist, Role::AdvisoryTeacher];

#[derive(serde::Deserialize)]
pub(super) struct Done {
    #[serde(default)]
    done: String,
    #[serde(default)]
    case: Option<i64>,
    /// `link_first`: the school's link professional first in the suggestions.
    #[serde(default)]
    order: String,
}

/// `GET /referrals/{id}`.
pub(super) async fn referral_page(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> PageResult {
    session.require(READERS)?;
    let banner = match done.done.as_str() {
        "submitted" => Some("Referral sent".to_owned()),
        "resubmitted" => Some("Referral sent again".to_owned()),
        "status" => Some("Referral updated".to_owned()),
        "allocated" => Some(allocated_banner(&web, &session, done.case).await),
        "attached" => Some("Documents attached".to_owned()),
        "submitted_without_documents" => {
            Some("Referral sent, but its documents could not all be attached: attach them below".to_owned())
        }
        other => steps::banner(other).or_else(|| advice::banner(other)).map(str::to_owned),
    };
    let link_first = done.order == "link_first";
    render(&web, &session, id, Extra { banner, link_first, ..Extra::default() }).await
}

async fn allocated_banner(web: &Web, session: &Session, case: Option<i64>) -> String {
    let backend = web.backend(session);
    let name = match case {
        Some(case_id) => async { backend.caseloads()?.get_case(backend.request(pb::GetCaseRequest { case_id })).await }
            .await
            .ok()
            .map(|c| c.into_inner().professional_name),
        None => None,
    };
    match name {
        Some(name) => format!("Allocated to {name}"),
        None => "Allocated".to_owned(),
    }
}

/// The referral page, 200 unless `extra` carries errors (400) or a notice (409).
pub async fn render(web: &Web, session: &Session, id: i64, extra: Extra) -> PageResult {
    let backend = web.backend(session);
    let referrals = backend.referrals().map_err(|s| refusals::from_status(session, &s))?;
    let (mut a, mut b) = (referrals.clone(), referrals);
    let (referral, timeline) = tokio::join!(
        a.get_referral(backend.request(pb::GetReferralRequest { id, as_of: None })),
        b.get_referral_timeline(backend.request(pb::GetReferralTimelineRequest { id })),
    );
    let referral = referral.map_err(|s| refusals::from_status(session, &s))?.into_inner();
    let timeline = timeline.map(|t| t.into_inner().entries).unwrap_or_default();
    // What the council asked for when it last returned the referral, shown beside the form that answers it.
    let asked_for = timeline.iter().rev().find(|e| e.to == pb::ReferralStatus::Returned as i32).map(|e| e.note.clone());
    let extra = Extra { asked_for, ..extra };
    let documents = attachments::fetch(&backend, id).await;
    let advice = advice::fetch(&backend, session, &referral).await;
    let body = referral.body.clone().unwrap_or_default();
    let pupil = async { backend.pupils()?.get_pupil(backend.request(pb::GetPupilRequest { id: body.pupil_id })).await }
        .await
        .ok()
        .map(tonic::Response::into_inner);
    let names = People::look_up(&backend, session, Some(&body.school_urn)).await;
    let candidates = if session.role() == Role::LaManager && referral.status == pb::ReferralStatus::Accepted as i32 {
        Some(suggestions(web, session, id, extra.link_first).await)
    } else {
        None
    };
    let title = format!("Referral {id}");
    let markup = html! {
        @if let Some(text) = &extra.banner { (banner(text)) }
        @if let Some(notice) = &extra.notice {
            div class="error-summary" role="alert" tabindex="-1" data-module="error-summary" {
                h2 class="error-summary__title" { "This referral has changed" }
                p class="body" { (notice) }
            }
        }
        (error_summary(&extra.errors))
        span class="caption" { (kind_name(&body.kind)) }
        h1 class="heading-l" { (title) " " (status_tag(referral.status)) }
        (details(session, &referral, &body, pupil.as_ref(), &names))
        @if let Some(clock) = &referral.clock { (clock_card(clock)) }
        @if let Some(card) = super::register::card(&referral) { (card) }
        (steps::steps(session, &referral, &extra))
        (advice::section(session, &referral, advice.as_ref(), &extra))
        (actions(session, &referral, &extra))
        @if let Some(candidates) = &candidates { (candidates.render(session, id, &extra)) }
        (attachments::section(session, &referral, &documents, &extra))
        (timeline_list(&timeline, &names, &body.kind))
    };
    let status = if extra.notice.is_some() {
        http::StatusCode::CONFLICT
    } else if extra.errors.is_empty() {
        http::StatusCode::OK
    } else {
        http::StatusCode::BAD_REQUEST
    };
    Ok((status, page(session, &title, "/referrals", markup)).into_response())
}

fn details(
    session: &Session,
    referral: &pb::Referral,
    body: &pb::ReferralBody,
    pupil: Option<&pb::Pupil>,
    names: &People,
) -> Markup {
    let sees_schools = matches!(session.role(), Role::LaManager | Role::CaseOfficer | Role::Senco);
    let areas: Vec<String> = body
        .broad_areas
        .iter()
        .map(|a| BroadArea::parse(a).map(|a| fields::sentence(a.name())).unwrap_or_else(|_| a.clone()))
        .collect();
    let consent = body.consent.clone().unwrap_or_default();
    let mut rows = vec![
        (
            "Pupil",
            match pupil {
                Some(p) => html! { a href={ "/pupils/" (p.id) } { (fields::pupil_name(p)) } " (UPN " (p.upn) ")" },
                None => html! { "Pupil " (body.pupil_id) },
            },
        ),
        (
            "School",
            if sees_schools {
                html! {
                    a href={ "/schools/" (body.school_urn) } {
                        @match names.school() { Some(name) => (name), None => { "School " (body.school_urn) } }
                    }
                }
            } else {
                html! { (body.school_urn) }
            },
        ),
        ("Service asked for", html! { (kind_name(&body.kind)) }),
        ("Areas of need", html! { (areas.join("; ")) }),
        (
            "Priority",
            if body.priority == Priority::Urgent.code() {
                tag("Urgent", Tone::Red)
            } else {
                html! { "Routine" }
            },
        ),
        ("Submitted", html! { (long_date(referral.submitted_on.as_ref())) }),
        ("Concern", html! { (body.concern) }),
        ("What the school has tried", html! { (body.graduated_approach.as_ref().map_or("", |g| g.summary.as_str())) }),
        (
            "Parental consent",
            html! { (consent.given_by) ", " (long_date(consent.given_on.as_ref())) " (" (consent.method.replace('_', " ")) ")" },
        ),
    ];
    if let Some(cited) = cited(body.graduated_approach.as_ref(), body.pupil_id) {
        let at = rows.iter().position(|(k, _)| *k == "What the school has tried").map_or(rows.len(), |n| n + 1);
        rows.insert(at, ("Cited from the pupil's record", cited));
    }
    if !referral.allocated_to.is_empty() {
        rows.push(("Allocated to", html! { (fields::sentence(&names.allocated(&referral.allocated_to, &body.kind))) }));
    }
    if !referral.outcome.is_empty() {
        rows.push(("Outcome", html! { (referral.outcome) }));
    }
    summary_card("Referral", &rows)
}

/// The support cycles and provision the referral cites, in words, linking to
/// the pupil's record where they are (`None` when it cites none).
fn cited(tried: Option<&pb::GraduatedApproach>, pupil: i64) -> Option<Markup> {
    let tried = tried?;
    let count = |n: usize, one: &str, many: &str| match n {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {many}")),
    };
    let parts: Vec<String> = [
        count(tried.support_cycle_ids.len(), "support cycle", "support cycles"),
        count(tried.provision_ids.len(), "provision", "provisions"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        return None;
    }
    Some(
        html! { (parts.join(" and ")) " (" a href={ "/pupils/" (pupil) "#support-cycles" } { "on the pupil's page" } ")" },
    )
}

fn clock_card(clock: &pb::StatutoryClock) -> Markup {
    let mut rows = vec![
        ("Request received", html! { (long_date(clock.received_on.as_ref())) " " (steps::requested_by(clock)) }),
        ("Stage", html! { (stage_name(&clock.stage)) }),
        ("Health", health_tag(&clock.health)),
        ("Weeks elapsed", html! { (clock.weeks_elapsed) }),
        ("Decision to assess due (6 weeks)", html! { (long_date(clock.decision_due.as_ref())) }),
        ("Notice of no plan due (16 weeks)", html! { (long_date(clock.no_plan_notice_due.as_ref())) }),
        ("Final plan due (20 weeks)", html! { (long_date(clock.final_plan_due.as_ref())) }),
    ];
    if !clock.next_deadline.is_empty() {
        rows.push((
            "Next deadline",
            html! { (clock.next_deadline.replace('_', " ")) ", " (long_date(clock.next_deadline_on.as_ref())) " (" (clock.days_left) " days left)" },
        ));
    }
    if clock.draft_plan_sent_on.is_some() {
        rows.push((
            "Draft plan sent; consultation ends",
            html! { (long_date(clock.draft_plan_sent_on.as_ref())) "; " (long_date(clock.consultation_ends_on.as_ref())) },
        ));
    }
    if !clock.exception.is_empty() {
        rows.push(("Exception", html! { (clock.exception.replace('_', " ")) @if clock.exception_on.is_some() { ", from " (long_date(clock.exception_on.as_ref())) } }));
    }
    summary_card("Statutory clock", &rows)
}

/// A timeline entry's note; an allocation's names the professional by name
/// where the reader may know them, else what they are, never by id.
fn note(entry: &pb::TimelineEntry, people: &People, kind: &str) -> String {
    match sen_vocabulary::allocation_of_note(&entry.note) {
        Some((professional, case)) => format!("Allocated to {} (case {case})", people.allocated(professional, kind)),
        None => entry.note.clone(),
    }
}

fn timeline_list(entries: &[pb::TimelineEntry], people: &People, kind: &str) -> Markup {
    html! {
        h2 class="heading-m" { "Timeline" }
        @if entries.is_empty() { p class="body" { "No changes recorded." } } @else {
            ol class="timeline" {
                @for entry in entries {
                    li class="timeline__item" {
                        h3 class="heading-s" {
                            @if entry.from == 0 { (status_name(entry.to)) } @else { (status_name(entry.from)) " to " (status_name(entry.to)) }
                        }
                        p class="body-s secondary" { (long_time(&entry.at)) " by " (people.who(&entry.by, &entry.by_role, day_of(&entry.at))) }
                        @if !entry.note.is_empty() { p class="body" { (note(entry, people, kind)) } }
                    }
                }
            }
        }
    }
}
