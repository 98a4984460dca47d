//! The advice asked for in an EHC needs assessment, on the request's page:
//! each request for advice (educational, health, psychological, social care or
//! other; reg. 6(1)) with the day it was asked for, its due date 6 weeks on
//! (reg. 8(1)), when it came in and whether that was late; and, for the council
//! team, the form to record advice asked for and, beside each request not yet
//! in, the form to record the day it came in. The caseloads service keeps the
//! records and scopes them: the team sees every request's advice, a
//! professional only their own case's. What the forms send is handled in
//! [`super::advice_changes`].

use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use super::actions::Extra;
use crate::backend::Backend;
use crate::layout::{csrf_field, error_for, input_of, select, text_input};
use crate::session::Session;
use crate::wording::{advice_kind_name, advice_state_tag, long_date};

/// Who records advice asked for and received (as `RecordAdviceRequest`).
pub const RECORDERS: &[Role] = &[Role::LaManager, Role::CaseOfficer];
/// Who may read a request's advice (the service narrows a professional to their own cases).
const READERS: &[Role] = &[Role::LaManager, Role::CaseOfficer, Role::EducationalPsychologist, Role::AdvisoryTeacher];

/// The kinds of advice (codes as the service has them), in words, in the order of reg. 6(1).
pub const KINDS: [(&str, &str); 5] = [
    ("educational", "Educational advice (usually the head teacher)"),
    ("health", "Health advice (a health care professional)"),
    ("psychological", "Psychological advice (an educational psychologist)"),
    ("social_care", "Social care advice"),
    ("other", "Other advice (anyone else the council or the parent asks)"),
];

/// Ids of the form that records advice asked for.
pub const KIND_ID: &str = "advice-kind";
/// Who was asked, as the council names them.
pub const FROM_ID: &str = "advice-from_whom";
/// One of the service's professionals asked.
pub const PROFESSIONAL_ID: &str = "advice-professional_id";
/// The day it was asked for.
pub const ASKED_ID: &str = "advice-asked_on";

/// The id of the received-on input of advice request `id`.
pub fn received_id(id: i64) -> String {
    format!("advice-{id}-received_on")
}

/// What the page shows: the request's advice and, for the team, the service's
/// professionals to choose from; `None` when the request is not an EHC needs
/// assessment request, the reader may not see advice, or the service did not answer.
pub struct AdviceSection {
    advice: Vec<pb::AdviceRequest>,
    professionals: Vec<pb::Professional>,
}

/// The banner after a form is sent, by its `done` code.
pub fn banner(done: &str) -> Option<&'static str> {
    match done {
        "advice_asked" => Some("Advice request recorded: it is due 6 weeks from the day it was asked for"),
        "advice_received" => Some("Advice recorded as received"),
        _ => None,
    }
}

/// Reads the advice of EHC request `referral` as the signed-in person may see it.
pub async fn fetch(backend: &Backend, session: &Session, referral: &pb::Referral) -> Option<AdviceSection> {
    let kind = referral.body.as_ref().map(|b| b.kind.as_str()).unwrap_or_default();
    if kind != "ehc_needs_assessment" || !READERS.contains(&session.role()) {
        return None;
    }
    let mut caseloads = backend.caseloads().ok()?;
    let request = pb::ListAdviceRequestsRequest { referral_id: referral.id, ..Default::default() };
    let advice = caseloads.list_advice_requests(backend.request(request)).await.ok()?.into_inner().advice;
    let professionals = if RECORDERS.contains(&session.role()) {
        let request = pb::ListProfessionalsRequest { include_inactive: false };
        caseloads.list_professionals(backend.request(request)).await.map(|r| r.into_inner().professionals).ok()
    } else {
        None
    };
    Some(AdviceSection { advice, professionals: professionals.unwrap_or_default() })
}

/// The advice asked for, and for the team the forms.
pub fn section(session: &Session, referral: &pb::Referral, section: Option<&AdviceSection>, extra: &Extra) -> Markup {
    let Some(section) = section else { return html! {} };
    let records = RECORDERS.contains(&session.role());
    html! {
        section aria-labelledby="advice-heading" {
            h2 class="heading-m" id="advice-heading" { "Advice for the assessment" }
            p class="body" { "Each person asked for advice has 6 weeks from the day they were asked (SEN and Disability Regulations 2014, reg. 8(1))." }
            @if section.advice.is_empty() {
                p class="body" { "No advice has been asked for yet." }
            } @else {
                table class="table" {
                    thead { tr {
                        th scope="col" { "Advice" } th scope="col" { "Asked of" } th scope="col" { "Asked" }
                        th scope="col" { "Due" } th scope="col" { "Received" }
                    } }
                    tbody {
                        @for advice in &section.advice {
                            tr {
                                td { (advice_kind_name(&advice.kind)) }
                                td { (advice.from_whom) }
                                td { (long_date(advice.asked_on.as_ref())) }
                                td { (long_date(advice.due_on.as_ref())) " " (advice_state_tag(&advice.state)) }
                                td {
                                    @if advice.received_on.is_some() { (long_date(advice.received_on.as_ref())) }
                                    @else if records { (received_form(session, referral.id, advice, extra)) }
                                    @else { "Not yet" }
                                }
                            }
                        }
                    }
                }
            }
            @if records { (ask_form(session, referral, &section.professionals, extra)) }
        }
    }
}

fn typed<'a>(extra: &'a Extra, id: &str) -> &'a str {
    extra.typed.iter().find(|(n, _)| n == id).map_or("", |(_, v)| v.as_str())
}

fn received_form(session: &Session, referral: i64, advice: &pb::AdviceRequest, extra: &Extra) -> Markup {
    let id = received_id(advice.id);
    html! {
        form method="post" action={ "/referrals/" (referral) "/advice/" (advice.id) "/received" } novalidate {
            (csrf_field(session))
            (input_of("date", &id, "Date received", None, typed(extra, &id), error_for(&extra.errors, &id)))
            button type="submit" class="button button--secondary" { "Record as received" }
        }
    }
}

fn ask_form(session: &Session, referral: &pb::Referral, professionals: &[pb::Professional], extra: &Extra) -> Markup {
    let kinds: Vec<(String, String)> = std::iter::once((String::new(), "Choose the advice".to_owned()))
        .chain(KINDS.iter().map(|(c, w)| ((*c).to_owned(), (*w).to_owned())))
        .collect();
    let people: Vec<(String, String)> = std::iter::once((String::new(), "Someone else (name them below)".to_owned()))
        .chain(professionals.iter().map(|p| {
            let name = p.professional.as_ref().map_or(String::new(), |f| f.name.clone());
            (p.id.to_string(), name)
        }))
        .collect();
    let received = referral.clock.as_ref().map(|c| long_date(c.received_on.as_ref())).unwrap_or_default();
    html! {
        section class="step-form" aria-labelledby="advice-form-heading" {
            h3 class="heading-s" id="advice-form-heading" { "Record advice asked for" }
            form method="post" action={ "/referrals/" (referral.id) "/advice" } novalidate {
                (csrf_field(session))
                (select(KIND_ID, "Advice asked for", &kinds, typed(extra, KIND_ID), error_for(&extra.errors, KIND_ID)))
                (select(PROFESSIONAL_ID, "Asked of one of the service's professionals", &people, typed(extra, PROFESSIONAL_ID), error_for(&extra.errors, PROFESSIONAL_ID)))
                (text_input(FROM_ID, "Or who was asked", Some("For example, Head teacher, or Community paediatrician"), typed(extra, FROM_ID), error_for(&extra.errors, FROM_ID)))
                (input_of("date", ASKED_ID, "Date asked", Some(&format!("Not before the request was received ({received}), not in the future")), typed(extra, ASKED_ID), error_for(&extra.errors, ASKED_ID)))
                button type="submit" class="button" { "Record the advice request" }
            }
        }
    }
}
