//! The pupil part of the referral form: finding the pupil by name or UPN (a
//! search the pupils service runs within the reader's reach: a SENCO's own
//! school, the council's whole authority), choosing one of the matches, and,
//! once chosen, the pupil's support cycles and provision to cite as what the
//! graduated approach has tried.
//!
//! It works without JavaScript: the search is a button of the form itself
//! ("Find pupil"), which shows the form again with the matches as radios and
//! everything typed kept; "Choose pupil" shows it again with the one chosen and
//! their support to cite.

use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use tonic::Code;

use crate::backend::Backend;
use crate::fields::{self, Posted};
use crate::layout::{FieldError, checkboxes, error_for, radios, text_input};
use crate::session::Session;
use crate::wording::long_date;

/// The search box's id and name.
pub const SEARCH: &str = "pupil_search";
/// The chosen pupil's input (a radio among matches, hidden once chosen).
pub const PUPIL: &str = "pupil_id";
/// The cited support cycles' checkboxes.
pub const CYCLES: &str = "support_cycle_ids";
/// The cited provision's checkboxes.
pub const PROVISION: &str = "provision_ids";
/// The most matches shown.
const MATCHES: u32 = 20;
/// The longest search the pupils service takes.
const SEARCH_MAX_CHARS: usize = 100;

/// The chosen pupil, with what the referral may cite.
#[derive(Clone, Debug, Default)]
pub struct Chosen {
    /// The pupil.
    pub pupil: pb::Pupil,
    /// Their support cycles (assess, plan, do, review).
    pub cycles: Vec<pb::SupportCycle>,
    /// Their provision.
    pub provision: Vec<pb::Provision>,
}

/// Pupils matching a search.
#[derive(Clone, Debug, Default)]
pub struct Matches {
    /// What was searched for.
    pub text: String,
    /// The first matches, by name.
    pub pupils: Vec<pb::Pupil>,
    /// More matched than are shown.
    pub more: bool,
}

/// A form opened from a pupil's page names the pupil: `?pupil_id=`.
#[derive(serde::Deserialize)]
pub struct Prefill {
    #[serde(default)]
    pupil_id: String,
}

impl Prefill {
    /// The pupil the link named, as the reader may see them; none when it named
    /// none (or one out of reach), a refusal when the service could not say.
    pub async fn chosen(
        &self,
        web: &crate::state::Web,
        session: &Session,
    ) -> Result<Option<Chosen>, crate::refusals::Refused> {
        match self.pupil_id.trim().parse::<i64>() {
            Ok(id) => chosen(&web.backend(session), id)
                .await
                .map_err(|s| crate::refusals::Refused::from(crate::refusals::from_status(session, &s))),
            Err(_) => Ok(None),
        }
    }
}

/// The pupil `id` as the reader may see them, with their support; `None` when
/// out of reach (or no such pupil).
pub async fn chosen(backend: &Backend, id: i64) -> Result<Option<Chosen>, tonic::Status> {
    let pupils = backend.pupils()?;
    let (mut a, mut b, mut c) = (pupils.clone(), pupils.clone(), pupils);
    let (pupil, cycles, provision) = tokio::join!(
        a.get_pupil(backend.request(pb::GetPupilRequest { id })),
        b.list_support_cycles(backend.request(pb::ListSupportCyclesRequest { pupil_id: id })),
        c.list_provision(backend.request(pb::ListProvisionRequest { pupil_id: id })),
    );
    let pupil = match pupil {
        Ok(pupil) => pupil.into_inner(),
        Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => return Ok(None),
        Err(status) => return Err(status),
    };
    Ok(Some(Chosen {
        pupil,
        cycles: cycles.map(|r| r.into_inner().cycles).unwrap_or_default(),
        provision: provision.map(|r| r.into_inner().provision).unwrap_or_default(),
    }))
}

/// The pupils matching `text` within the reader's reach (a SENCO's school), by name.
pub async fn search(backend: &Backend, session: &Session, text: &str) -> Result<Matches, tonic::Status> {
    let text = text.trim().to_owned();
    let school_urn = match (session.role(), session.caller.grant.school) {
        (Role::Senco, Some(urn)) => urn.to_string(),
        _ => String::new(),
    };
    let request = pb::ListPupilsRequest {
        page: Some(pb::PageRequest { page_size: MATCHES, page_token: String::new() }),
        school_urn,
        search: text.clone(),
        order: pb::PupilOrder::Name as i32,
        ..Default::default()
    };
    let answer = backend.pupils()?.list_pupils(backend.request(request)).await?.into_inner();
    Ok(Matches { text, more: !answer.next_page_token.is_empty(), pupils: answer.pupils })
}

/// A search the form should not send: blank, or longer than the service takes.
pub fn search_problem(text: &str) -> Option<String> {
    let count = text.trim().chars().count();
    if count == 0 {
        Some("Enter the pupil's name or UPN to find them".to_owned())
    } else if count > SEARCH_MAX_CHARS {
        Some(format!("Enter at most {SEARCH_MAX_CHARS} characters of the pupil's name or UPN"))
    } else {
        None
    }
}

/// How a pupil reads in a list of matches.
fn described(pupil: &pb::Pupil, with_school: bool) -> String {
    let mut text = format!("{} (UPN {}, year {}", fields::pupil_name(pupil), pupil.upn, pupil.nc_year);
    if with_school {
        text.push_str(&format!(", school {}", pupil.school_urn));
    }
    text.push(')');
    text
}

/// The pupil part: the chosen pupil, or the search with its matches.
pub fn pupil_part(
    session: &Session,
    values: &Posted,
    chosen: Option<&Chosen>,
    matches: Option<&Matches>,
    errors: &[FieldError],
) -> Markup {
    let e = |id: &str| error_for(errors, id);
    let council = session.role() != Role::Senco;
    html! {
        @if let Some(chosen) = chosen {
            div class="form-group" {
                h2 class="heading-m" { "Pupil" }
                input type="hidden" name=(PUPIL) value=(chosen.pupil.id);
                p class="body" id=(PUPIL) {
                    strong { (fields::pupil_name(&chosen.pupil)) }
                    " (UPN " (chosen.pupil.upn) ", year " (chosen.pupil.nc_year) ")"
                    @if council { ", school " (chosen.pupil.school_urn) }
                    " "
                    a href="/referrals/new" { "Choose another pupil" span class="visually-hidden" { " (starts the form again)" } }
                }
            }
        } @else {
            div class="search-row" {
                (text_input(SEARCH, "Find the pupil", Some(if council { "Their name or UPN, at any school of the authority" } else { "Their name or UPN" }), values.get(SEARCH), e(SEARCH)))
                button type="submit" name="action" value="find" class="button button--secondary" { "Find pupil" }
            }
            @if let Some(matches) = matches {
                @if matches.pupils.is_empty() {
                    p class="body" id=(PUPIL) { "No pupil " @if council { "in the authority" } @else { "on your school's roll" } " matches ‘" (matches.text) "’. Check the spelling, or search by UPN." }
                } @else {
                    @let options: Vec<(String, String)> = matches.pupils.iter().map(|p| (p.id.to_string(), described(p, council))).collect();
                    (radios(PUPIL, PUPIL, "Choose the pupil", &options, values.get(PUPIL), e(PUPIL)))
                    @if matches.more { p class="body-s secondary" { "More than " (MATCHES) " pupils match: add more of the name to find the one you mean." } }
                    // Choosing shows the pupil's support cycles and provision to cite.
                    button type="submit" name="action" value="choose" class="button button--secondary" { "Choose pupil" }
                }
            } @else if let Some(error) = e(PUPIL) {
                p class="error-message" id=(PUPIL) { span class="visually-hidden" { "Error: " } (error) }
            }
        }
    }
}

/// The pupil's support cycles and provision to cite, ticked as sent.
pub fn cited_part(chosen: &Chosen, values: &Posted, errors: &[FieldError]) -> Markup {
    let cycles: Vec<(String, String)> = chosen.cycles.iter().map(|c| (c.id.to_string(), cycle_text(c))).collect();
    let provision: Vec<(String, String)> = chosen
        .provision
        .iter()
        .map(|p| {
            let until =
                if p.end_on.is_some() { format!(" until {}", long_date(p.end_on.as_ref())) } else { String::new() };
            let text = format!(
                "{} ({}, {:.1} hours a week) from {}{until}",
                p.provision_type,
                p.provider,
                p.hours_per_week,
                long_date(p.start_on.as_ref())
            );
            (p.id.to_string(), text)
        })
        .collect();
    html! {
        @if cycles.is_empty() && provision.is_empty() {
            p class="body secondary" { "No support cycles or provision are recorded for this pupil to cite. "
                a href={ "/pupils/" (chosen.pupil.id) } { "Record them on the pupil's page" } " first if the school has tried any." }
        }
        @if !cycles.is_empty() {
            (checkboxes(CYCLES, CYCLES, "Support cycles to cite (assess, plan, do, review)", &cycles, &values.all(CYCLES), error_for(errors, CYCLES)))
        }
        @if !provision.is_empty() {
            (checkboxes(PROVISION, PROVISION, "Provision to cite", &provision, &values.all(PROVISION), error_for(errors, PROVISION)))
        }
    }
}

/// A support cycle as a choice: when it began, what it sought, how it ended.
fn cycle_text(cycle: &pb::SupportCycle) -> String {
    let outcome = match pb::SupportOutcome::try_from(cycle.outcome) {
        Ok(pb::SupportOutcome::Met) => "outcomes met",
        Ok(pb::SupportOutcome::PartlyMet) => "outcomes partly met",
        Ok(pb::SupportOutcome::NotMet) => "outcomes not met",
        _ => "",
    };
    let review = if cycle.reviewed_on.is_some() {
        format!("reviewed {}: {outcome}", long_date(cycle.reviewed_on.as_ref()))
    } else {
        format!("review due {}", long_date(cycle.review_due.as_ref()))
    };
    format!("From {}: {} ({review})", long_date(cycle.started_on.as_ref()), cycle.outcomes_sought)
}

/// The ids ticked in `name`, as the service takes them; any that is not one of
/// the pupil's is an error (a tampered form).
pub fn ticked_ids(values: &Posted, name: &str, errors: &mut Vec<FieldError>) -> Vec<i64> {
    let mut ids = Vec::new();
    for value in values.all(name) {
        match value.trim().parse::<i64>() {
            Ok(id) => ids.push(id),
            Err(_) => fields::add_error(errors, name, "Tick the support the school has tried from the list"),
        }
    }
    ids
}
