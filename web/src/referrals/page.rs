//! The referral page (`/referrals/{id}`): what the school asked for, its status,
//! the statutory clock of an EHC needs assessment request, and the timeline of
//! every change. The council team moves it along its lifecycle from here; the SEN
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
use crate::backend::Backend;
use crate::fields::{self, long_time};
use crate::layout::{Tone, banner, error_summary, page, summary_card, tag};
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
        _ => None,
    };
    render(&web, &session, id, Extra { banner, ..Extra::default() }).await
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
    let body = referral.body.clone().unwrap_or_default();
    let pupil = async { backend.pupils()?.get_pupil(backend.request(pb::GetPupilRequest { id: body.pupil_id })).await }
        .await
        .ok()
        .map(tonic::Response::into_inner);
    let names = Names::look_up(&backend, session, &body.school_urn, &referral.allocated_to).await;
    let candidates = if session.role() == Role::LaManager && referral.status == pb::ReferralStatus::Accepted as i32 {
        Some(suggestions(web, session, id).await)
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
        (actions(session, &referral, &extra))
        @if let Some(candidates) = &candidates { (candidates.render(session, id, &extra)) }
        (timeline_list(&timeline))
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

/// The school's and the allocated professional's names, where the reader may see them.
#[derive(Default)]
struct Names {
    school: Option<String>,
    professional: Option<String>,
}

impl Names {
    async fn look_up(backend: &Backend, session: &Session, urn: &str, person: &str) -> Self {
        let reads_schools = matches!(session.role(), Role::LaManager | Role::CaseOfficer | Role::Senco);
        let school = async {
            if !reads_schools {
                return None;
            }
            let request = backend.request(pb::GetSchoolRequest { urn: urn.to_owned() });
            let school = backend.schools().ok()?.get_school(request).await.ok()?.into_inner();
            Some(school.name)
        };
        let professional = async {
            if person.is_empty() || !matches!(session.role(), Role::LaManager | Role::CaseOfficer) {
                return None;
            }
            let request = backend.request(pb::ListProfessionalsRequest { include_inactive: true });
            let team = backend.caseloads().ok()?.list_professionals(request).await.ok()?.into_inner();
            team.professionals.into_iter().filter_map(|p| p.professional).find(|p| p.person == person).map(|p| p.name)
        };
        let (school, professional) = tokio::join!(school, professional);
        Self { school, professional }
    }
}

fn details(
    session: &Session,
    referral: &pb::Referral,
    body: &pb::ReferralBody,
    pupil: Option<&pb::Pupil>,
    names: &Names,
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
                        @match &names.school { Some(name) => (name), None => { "School " (body.school_urn) } }
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
    if !referral.allocated_to.is_empty() {
        rows.push((
            "Allocated to",
            match &names.professional {
                Some(name) => html! { (name) },
                None => html! { (referral.allocated_to) },
            },
        ));
    }
    if !referral.outcome.is_empty() {
        rows.push(("Outcome", html! { (referral.outcome) }));
    }
    summary_card("Referral", &rows)
}

fn clock_card(clock: &pb::StatutoryClock) -> Markup {
    let mut rows = vec![
        ("Request received", html! { (long_date(clock.received_on.as_ref())) }),
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
    if !clock.exception.is_empty() {
        rows.push(("Exception", html! { (clock.exception.replace('_', " ")) }));
    }
    summary_card("Statutory clock", &rows)
}

fn timeline_list(entries: &[pb::TimelineEntry]) -> Markup {
    html! {
        h2 class="heading-m" { "Timeline" }
        @if entries.is_empty() { p class="body" { "No changes recorded." } } @else {
            ol class="timeline" {
                @for entry in entries {
                    li class="timeline__item" {
                        h3 class="heading-s" {
                            @if entry.from == 0 { (status_name(entry.to)) } @else { (status_name(entry.from)) " to " (status_name(entry.to)) }
                        }
                        p class="body-s secondary" { (long_time(&entry.at)) " by " (entry.by) " (" (entry.by_role.replace('_', " ")) ")" }
                        @if !entry.note.is_empty() { p class="body" { (entry.note) } }
                    }
                }
            }
        }
    }
}
