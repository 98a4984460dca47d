//! The pupil page (`/pupils/{id}`): who the pupil is, their SEN status and need
//! with its history, the graduated approach (support cycles, overdue reviews
//! tagged), provision, the EHC plan with its annual review and phase transfer
//! dates, and the referrals made for them.
//!
//! The pupils service decides who may read the pupil (the team, the SENCO of
//! their school, a professional with their case open); anyone else gets the
//! 404 page, never a hint that the pupil exists.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use super::access::EDITORS;
use crate::fields::{self, Needs};
use crate::layout::{Tone, banner, page, summary_card, tag};
use crate::lookups;
use crate::people::{People, day_of};
use crate::refusals::{self, PageResult};
use crate::session::Session;
use crate::state::Web;
use crate::wording::{kind_name, long_date, school_link, status_tag};

/// Who may read a pupil (the service narrows it to their own pupils).
const READERS: &[Role] =
    &[Role::LaManager, Role::CaseOfficer, Role::Senco, Role::EducationalPsychologist, Role::AdvisoryTeacher];

#[derive(serde::Deserialize)]
pub(super) struct Done {
    #[serde(default)]
    done: String,
}

fn done_text(done: &str) -> Option<&'static str> {
    match done {
        "added" => Some("Pupil added to the register"),
        "updated" => Some("Pupil's details saved"),
        "status" => Some("SEN status changed"),
        "cycle" => Some("Support cycle added"),
        "reviewed" => Some("Support cycle review recorded"),
        "provision" => Some("Provision added"),
        _ => None,
    }
}

/// Everything the page shows beside the pupil; each part empty when its call fails
/// (a plan that does not exist, a part the reader may not see).
#[derive(Default)]
struct Record {
    history: Vec<pb::HistoryEntry>,
    cycles: Vec<pb::SupportCycle>,
    provision: Vec<pb::Provision>,
    ehcp: Option<pb::Ehcp>,
    reviews: Vec<pb::AnnualReview>,
    referrals: Vec<pb::Referral>,
}

async fn record(web: &Web, session: &Session, pupil: &pb::Pupil) -> Result<Record, tonic::Status> {
    let backend = web.backend(session);
    let id = pupil.id;
    let pupils = backend.pupils()?;
    let (mut a, mut b, mut c, mut d, mut e) = (pupils.clone(), pupils.clone(), pupils.clone(), pupils.clone(), pupils);
    let has_plan = pupil.sen_status == pb::SenProvision::EhcPlan as i32;
    let (history, cycles, provision, ehcp, reviews) = tokio::join!(
        a.list_pupil_history(backend.request(pb::ListPupilHistoryRequest { pupil_id: id })),
        b.list_support_cycles(backend.request(pb::ListSupportCyclesRequest { pupil_id: id })),
        c.list_provision(backend.request(pb::ListProvisionRequest { pupil_id: id })),
        async {
            if has_plan {
                d.get_ehcp(backend.request(pb::GetEhcpRequest { pupil_id: id, as_of: None })).await.ok()
            } else {
                None
            }
        },
        e.list_annual_reviews(backend.request(pb::ListAnnualReviewsRequest { pupil_id: id, as_of: None })),
    );
    let reviews = reviews.map(|r| r.into_inner().reviews).unwrap_or_default();
    let mut ehcp = ehcp.map(tonic::Response::into_inner);
    // A pupil off E with reviews had a plan that ceased: show it and how it ended.
    if ehcp.is_none() && !reviews.is_empty() {
        let request = backend.request(pb::GetEhcpRequest { pupil_id: id, as_of: None });
        ehcp = d.get_ehcp(request).await.ok().map(tonic::Response::into_inner);
    }
    let filter = pb::ListReferralsRequest { school_urn: pupil.school_urn.clone(), ..Default::default() };
    let referrals = lookups::referrals(&backend, filter).await.unwrap_or_default();
    Ok(Record {
        history: history?.into_inner().entries,
        cycles: cycles?.into_inner().cycles,
        provision: provision?.into_inner().provision,
        ehcp,
        reviews,
        referrals: referrals.into_iter().filter(|r| r.body.as_ref().is_some_and(|b| b.pupil_id == id)).collect(),
    })
}

/// `GET /pupils/{id}`.
pub(super) async fn pupil_page(
    State(web): State<Arc<Web>>,
    session: Session,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> PageResult {
    session.require(READERS)?;
    let backend = web.backend(&session);
    let pupil = async { backend.pupils()?.get_pupil(backend.request(pb::GetPupilRequest { id })).await }
        .await
        .map_err(|status| refusals::from_status(&session, &status))?
        .into_inner();
    let (record, people, appeals, needs) = tokio::join!(
        record(&web, &session, &pupil),
        People::look_up(&backend, &session, Some(&pupil.school_urn)),
        super::appeals::appeals_of(&web, &session, id),
        lookups::need_types(&backend)
    );
    let record = record.map_err(|status| refusals::from_status(&session, &status))?;
    let name = fields::pupil_name(&pupil);
    let editor = EDITORS.contains(&session.role());
    let sees_schools = matches!(session.role(), Role::LaManager | Role::CaseOfficer | Role::Senco);
    let body = html! {
        @if let Some(text) = done_text(&done.done) { (banner(text)) }
        span class="caption" { "Pupil" }
        h1 class="heading-l" { (name) }
        @if editor {
            div class="button-group" {
                a class="button button--secondary" href={ "/pupils/" (id) "/edit" } { "Edit details" span class="visually-hidden" { " of " (name) } }
                a class="button button--secondary" href={ "/pupils/" (id) "/status" } { "Change SEN status" }
                @if matches!(session.role(), Role::Senco | Role::CaseOfficer) {
                    a class="button button--secondary" href={ "/referrals/new?pupil_id=" (id) "&school_urn=" (pupil.school_urn) } { "Make a referral" }
                }
            }
        }
        (details(&pupil, sees_schools, people.school(), &needs))
        (history(&record.history, &people, &needs))
        (cycles(id, &record.cycles, editor))
        (provision(id, &record.provision, editor))
        @if let Some(ehcp) = &record.ehcp {
            (plan(ehcp))
            (reviews(id, &record.reviews, super::annual_review::TEAM.contains(&session.role())))
        }
        (referrals(&record.referrals))
        @if let Some(appeals) = &appeals { (super::appeals::appeals_section(id, appeals)) }
    };
    Ok(page(&session, &name, "/register", body).into_response())
}

fn details(pupil: &pb::Pupil, sees_schools: bool, school_name: Option<&str>, needs: &Needs) -> Markup {
    let legal = format!("{} {}", pupil.legal_forename, pupil.legal_surname);
    let school = if sees_schools {
        html! { (school_link(&pupil.school_urn, school_name.unwrap_or_default())) }
    } else {
        html! { (pupil.school_urn) }
    };
    summary_card(
        "Details",
        &[
            ("Legal name", html! { (legal) }),
            ("UPN", html! { (pupil.upn) @if pupil.upn_temporary { " " (tag("Temporary", Tone::Yellow)) } }),
            ("Date of birth", html! { (long_date(pupil.date_of_birth.as_ref())) }),
            ("Year group", html! { (pupil.nc_year) @if pupil.nc_year_out_of_cohort { " (taught out of cohort)" } }),
            ("School", school),
            ("Looked after", html! { @if pupil.looked_after { "Yes" } @else { "No" } }),
            ("SEN status", fields::status_tag(pupil.sen_status)),
            ("Primary need", html! { (or_none(needs.name(&pupil.primary_need_code))) }),
            ("Secondary need", html! { (or_none(needs.name(&pupil.secondary_need_code))) }),
        ],
    )
}

fn or_none(text: String) -> String {
    if text.is_empty() { "None".into() } else { text }
}

fn history(entries: &[pb::HistoryEntry], people: &People, needs: &Needs) -> Markup {
    html! {
        div class="table-wrapper" {
            table class="table" {
                caption { "Status history" }
                thead { tr { th scope="col" { "From" } th scope="col" { "Change" } th scope="col" { "SEN status" } th scope="col" { "Need" } th scope="col" { "Reason" } th scope="col" { "By" } } }
                tbody {
                    @for entry in entries {
                        tr {
                            td { (long_date(entry.effective_on.as_ref())) }
                            td { (match pb::HistoryKind::try_from(entry.kind) {
                                Ok(pb::HistoryKind::Added) => "Added to the register",
                                Ok(pb::HistoryKind::SchoolMove) => "Moved school",
                                _ => "SEN status",
                            }) }
                            td { (fields::status_tag(entry.sen_status)) }
                            td { (needs.name(&entry.primary_need_code)) }
                            td { (entry.reason) }
                            td { (people.who(&entry.changed_by, &entry.changed_by_role, day_of(&entry.recorded_at))) }
                        }
                    }
                }
            }
        }
    }
}

fn cycles(id: i64, cycles: &[pb::SupportCycle], editor: bool) -> Markup {
    html! {
        h2 class="heading-m" id="support-cycles" { "Support cycles" }
        p class="body" { "The graduated approach: assess, plan, do, review." }
        @if cycles.is_empty() { p class="body" { "No support cycles recorded." } } @else {
            div class="table-wrapper" {
                table class="table" {
                    caption class="visually-hidden" { "Support cycles" }
                    thead { tr { th scope="col" { "Started" } th scope="col" { "Outcomes sought" } th scope="col" { "Planned provision" } th scope="col" { "Review due" } th scope="col" { "Review" } } }
                    tbody {
                        @for cycle in cycles {
                            tr {
                                td { (long_date(cycle.started_on.as_ref())) }
                                td { (cycle.outcomes_sought) }
                                td { (cycle.planned_provision) }
                                td { (long_date(cycle.review_due.as_ref())) }
                                td {
                                    @if cycle.reviewed_on.is_some() {
                                        "Reviewed " (long_date(cycle.reviewed_on.as_ref())) ": " (outcome_words(cycle.outcome))
                                        @if !cycle.review_notes.is_empty() { p class="body-s" { (cycle.review_notes) } }
                                    } @else {
                                        @if cycle.review_overdue {
                                            (tag("Review overdue", Tone::Red))
                                        } @else {
                                            (tag("Open", Tone::Blue))
                                        }
                                        @if editor {
                                            " " a href={ "/pupils/" (id) "/support-cycles/" (cycle.id) "/review" } {
                                                "Record the review" span class="visually-hidden" { " of the cycle started " (long_date(cycle.started_on.as_ref())) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if editor { p class="body" { a href={ "/pupils/" (id) "/support-cycles/new" } { "Add a support cycle" } } }
    }
}

/// A support cycle's reviewed outcome in words.
fn outcome_words(outcome: i32) -> &'static str {
    match pb::SupportOutcome::try_from(outcome) {
        Ok(pb::SupportOutcome::Met) => "outcomes met",
        Ok(pb::SupportOutcome::PartlyMet) => "outcomes partly met",
        Ok(pb::SupportOutcome::NotMet) => "outcomes not met",
        _ => "outcome not recorded",
    }
}

fn provision(id: i64, rows: &[pb::Provision], editor: bool) -> Markup {
    html! {
        h2 class="heading-m" { "Provision" }
        @if rows.is_empty() { p class="body" { "No provision recorded." } } @else {
            div class="table-wrapper" {
                table class="table" {
                    caption class="visually-hidden" { "Provision" }
                    thead { tr { th scope="col" { "Provision" } th scope="col" { "Provider" } th scope="col" class="numeric" { "Hours a week" } th scope="col" { "From" } th scope="col" { "Until" } } }
                    tbody {
                        @for p in rows {
                            tr {
                                td { (p.provision_type) }
                                td { (p.provider) }
                                td class="numeric" { (format!("{:.1}", p.hours_per_week)) }
                                td { (long_date(p.start_on.as_ref())) }
                                td { (or_none(long_date(p.end_on.as_ref()))) }
                            }
                        }
                    }
                }
            }
        }
        @if editor { p class="body" { a href={ "/pupils/" (id) "/provision/new" } { "Add provision" } } }
    }
}

fn plan(ehcp: &pb::Ehcp) -> Markup {
    let active = ehcp.status == pb::EhcpStatus::Active as i32;
    let review = if ehcp.review_overdue {
        html! { (long_date(ehcp.next_review_due.as_ref())) " " (tag("Overdue", Tone::Red)) }
    } else {
        html! { (long_date(ehcp.next_review_due.as_ref())) }
    };
    let mut rows = vec![
        ("Status", if active { tag("Active", Tone::Green) } else { tag("Ceased", Tone::Grey) }),
        ("Issued", html! { (long_date(ehcp.issued_on.as_ref())) }),
        ("Named setting", html! { (ehcp.named_setting) }),
        ("Last annual review", html! { (or_none(long_date(ehcp.last_annual_review_on.as_ref()))) }),
        ("Next annual review due", review),
    ];
    if !active {
        rows.push(("Ceased", html! { (long_date(ehcp.ceased_on.as_ref())) " – " (ehcp.ceased_reason) }));
    }
    if let Some(t) = &ehcp.transfer {
        let rag = match (pb::TransferStatus::try_from(t.status), pb::Rag::try_from(t.rag)) {
            (Ok(pb::TransferStatus::IssuedLate), _) => tag("Issued late", Tone::Purple),
            (Ok(pb::TransferStatus::IssuedOnTime), _) => tag("Issued on time", Tone::Green),
            (Ok(pb::TransferStatus::Overdue), _) => tag("Overdue", Tone::Red),
            (_, Ok(pb::Rag::Red)) => tag("At risk", Tone::Red),
            (_, Ok(pb::Rag::Amber)) => tag("Due soon", Tone::Yellow),
            _ => tag("On track", Tone::Green),
        };
        rows.push(("Phase transfer", html! { (t.kind.replace('_', " ")) " on " (long_date(t.transfer_on.as_ref())) }));
        rows.push((
            "Transfer deadline",
            html! { (long_date(t.deadline.as_ref())) " (" (t.days_left) " days left) " (rag) },
        ));
        rows.push((
            "Transfer decision",
            if t.next_setting.is_empty() {
                html! { "No setting named yet" }
            } else {
                html! { (t.next_setting) @if t.amended_plan_issued_on.is_some() { ", amended plan issued " (long_date(t.amended_plan_issued_on.as_ref())) } }
            },
        ));
    }
    if ehcp.staying_in_own_sixth_form {
        rows.push(("Phase transfer", html! { "None: staying in their school's own sixth form" }));
    }
    summary_card("Education, health and care plan", &rows)
}

fn reviews(id: i64, reviews: &[pb::AnnualReview], team: bool) -> Markup {
    html! {
        h2 class="heading-m" id="annual-reviews" { "Annual reviews" }
        @if team { p class="body" { a href={ "/pupils/" (id) "/annual-reviews/new" } { "Record an annual review" } } }
        @if reviews.is_empty() { p class="body" { "No annual reviews recorded." } } @else {
            div class="table-wrapper" {
                table class="table" {
                    caption class="visually-hidden" { "Annual reviews" }
                    thead { tr { th scope="col" { "Meeting" } th scope="col" { "Report" } th scope="col" { "Decision" } th scope="col" { "Outcome" } } }
                    tbody {
                        @for r in reviews {
                            tr {
                                td { (long_date(r.meeting_on.as_ref())) }
                                td {
                                    @if r.report_sent_on.is_some() { "Sent " (long_date(r.report_sent_on.as_ref())) } @else { "Due " (long_date(r.report_due.as_ref())) }
                                    @if r.report_late { " " (tag("Late", Tone::Red)) }
                                }
                                td {
                                    (match pb::ReviewDecision::try_from(r.decision) {
                                        Ok(pb::ReviewDecision::Maintain) => "Maintain the plan",
                                        Ok(pb::ReviewDecision::Amend) => "Amend the plan",
                                        Ok(pb::ReviewDecision::Cease) => "Cease the plan",
                                        _ => "Not decided",
                                    })
                                    @if r.decision_late { " " (tag("Late", Tone::Red)) }
                                }
                                td {
                                    (super::review_outcome::outcome(r))
                                    @if team {
                                        br;
                                        a href={ "/pupils/" (id) "/annual-reviews/new?meeting=" (crate::wording::iso_date(r.meeting_on.as_ref())) } { "Update this review" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn referrals(rows: &[pb::Referral]) -> Markup {
    html! {
        h2 class="heading-m" { "Referrals" }
        @if rows.is_empty() { p class="body" { "No referrals you can see." } } @else {
            div class="table-wrapper" {
                table class="table" {
                    caption class="visually-hidden" { "Referrals" }
                    thead { tr { th scope="col" { "Referral" } th scope="col" { "Kind" } th scope="col" { "Submitted" } th scope="col" { "Status" } } }
                    tbody {
                        @for r in rows {
                            tr {
                                td { a href={ "/referrals/" (r.id) } { "Referral " (r.id) } }
                                td { (kind_name(r.body.as_ref().map_or("", |b| b.kind.as_str()))) }
                                td { (long_date(r.submitted_on.as_ref())) }
                                td { (status_tag(r.status)) }
                            }
                        }
                    }
                }
            }
        }
    }
}
