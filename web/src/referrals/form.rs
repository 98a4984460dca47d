//! The referral form (`/referrals/new`): a SENCO (for a pupil on their school's
//! register) or a case officer asks the council for educational psychology, an
//! advisory teacher or an EHC needs assessment, with the areas of need, the
//! concern, what the school has tried and the parents' consent.
//!
//! Every error shows at once against its field and everything typed is kept.
//! The form carries an idempotency key made when it is first shown, so a double
//! submit (or a retry after a lost answer) makes one referral.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use sen_vocabulary::{BroadArea, ConsentMethod, Priority};
use tonic::Code;

use crate::fields::{self, FieldMap, Posted, add_error};
use crate::layout::{
    FieldError, checkboxes, csrf_field, error_for, error_summary, input_of, page, select, text_input, textarea,
};
use crate::refusals::{self, PageResult};
use crate::session::Session;
use crate::state::Web;
use crate::{lists, wording};

/// Who may make a referral.
const SUBMITTERS: &[Role] = &[Role::Senco, Role::CaseOfficer];

/// How parents' consent may be recorded, as the form offers it.
fn consent_label(method: ConsentMethod) -> &'static str {
    match method {
        ConsentMethod::SignedForm => "Signed consent form",
        ConsentMethod::Email => "Email from the parent or carer",
        ConsentMethod::Verbal => "Said to a member of staff, who recorded it",
        ConsentMethod::Letter => "Letter from the parent or carer",
    }
}

/// The form's inputs, in the order they appear (the error summary follows it).
const ORDER: [&str; 10] = [
    "pupil_id",
    "school_urn",
    "kind",
    "broad_areas",
    "concern",
    "graduated_approach",
    "consent_given_by",
    "consent_given_on",
    "consent_method",
    "priority",
];

const MAP: FieldMap<'static> = &[
    ("referral", "pupil_id", "Referral"),
    ("referral.pupil_id", "pupil_id", "Pupil"),
    ("referral.school_urn", "school_urn", "School URN"),
    ("referral.kind", "kind", "Service asked for"),
    ("referral.broad_areas", "broad_areas", "Areas of need"),
    ("referral.concern", "concern", "Concern"),
    ("referral.graduated_approach", "graduated_approach", "What the school has tried"),
    ("referral.consent", "consent_given_by", "Parental consent"),
    ("referral.consent.given_by", "consent_given_by", "Who gave consent"),
    ("referral.consent.given_on", "consent_given_on", "Date consent was given"),
    ("referral.consent.method", "consent_method", "How consent was given"),
    ("referral.priority", "priority", "Priority"),
];

pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new().route("/referrals/new", get(new_referral).post(submit))
}

/// Every kind of referral, as `(code, name)` select options after a blank one.
fn kinds() -> Vec<(String, String)> {
    std::iter::once((String::new(), "Choose a service".to_owned())).chain(wording::kind_options()).collect()
}

/// The pupils a SENCO may refer: their school's register, as select options.
async fn register_options(web: &Web, session: &Session, urn: &str) -> Result<Vec<(String, String)>, tonic::Status> {
    let backend = web.backend(session);
    let mut pupils = lists::fetch_all(|page| {
        let request = backend.request(pb::ListPupilsRequest {
            page: Some(page),
            school_urn: urn.to_owned(),
            ..Default::default()
        });
        let backend = backend.clone();
        async move {
            let response = backend.pupils()?.list_pupils(request).await?.into_inner();
            Ok::<_, tonic::Status>((response.pupils, response.next_page_token))
        }
    })
    .await?;
    pupils.sort_by_key(|p| (p.legal_surname.to_lowercase(), p.legal_forename.to_lowercase()));
    Ok(std::iter::once((String::new(), "Choose a pupil".to_owned()))
        .chain(
            pupils
                .iter()
                .map(|p| (p.id.to_string(), format!("{} (UPN {}, year {})", fields::pupil_name(p), p.upn, p.nc_year))),
        )
        .collect())
}

fn form(session: &Session, values: &Posted, pupils: &[(String, String)], errors: &[FieldError]) -> Markup {
    let e = |id: &str| error_for(errors, id);
    let areas: Vec<(String, String)> =
        BroadArea::ALL.iter().map(|a| (a.code().to_owned(), fields::sentence(a.name()))).collect();
    let methods: Vec<(String, String)> =
        ConsentMethod::ALL.iter().map(|m| (m.code().to_owned(), consent_label(*m).to_owned())).collect();
    // A priority's code is one word, which the form shows as its name.
    let priorities: Vec<(String, String)> =
        Priority::ALL.iter().map(|p| (p.code().to_owned(), fields::sentence(p.code()))).collect();
    let method = match values.get("consent_method") {
        "" => ConsentMethod::SignedForm.code(),
        method => method,
    };
    let priority = match values.get("priority") {
        "" => Priority::Routine.code(),
        priority => priority,
    };
    html! {
        (error_summary(errors))
        form method="post" action="/referrals/new" novalidate {
            (csrf_field(session))
            input type="hidden" name="idempotency_key" value=(values.get("idempotency_key"));
            @if session.role() == Role::Senco {
                (select("pupil_id", "Pupil", pupils, values.get("pupil_id"), e("pupil_id")))
            } @else {
                (input_of("number", "pupil_id", "Pupil number", Some("The pupil's number in the register, from their page"), values.get("pupil_id"), e("pupil_id")))
                (text_input("school_urn", "School URN", Some("The school the pupil is on roll at"), values.get("school_urn"), e("school_urn")))
            }
            (select("kind", "Service asked for", &kinds(), values.get("kind"), e("kind")))
            (checkboxes("broad_areas", "broad_areas", "Areas of need", &areas, &values.all("broad_areas"), e("broad_areas")))
            (textarea("concern", "Concern", Some("What worries you, in your own words"), values.get("concern"), e("concern")))
            (textarea("graduated_approach", "What the school has tried", Some("The support cycles and provision so far, and what came of them"), values.get("graduated_approach"), e("graduated_approach")))
            fieldset class="fieldset" {
                legend class="fieldset__legend" { "Parental consent" }
                (text_input("consent_given_by", "Who gave consent", Some("For example, Mother, Sarah Khan"), values.get("consent_given_by"), e("consent_given_by")))
                (input_of("date", "consent_given_on", "Date consent was given", Some("Within the last 12 months"), values.get("consent_given_on"), e("consent_given_on")))
                (select("consent_method", "How consent was given", &methods, method, e("consent_method")))
            }
            (select("priority", "Priority", &priorities, priority, e("priority")))
            button type="submit" class="button" { "Send referral" }
        }
    }
}

async fn render(web: &Web, session: &Session, values: &Posted, errors: &[FieldError]) -> PageResult {
    let pupils = match (session.role(), session.caller.grant.school) {
        (Role::Senco, Some(urn)) => register_options(web, session, &urn.to_string())
            .await
            .map_err(|status| refusals::from_status(session, &status))?,
        (Role::Senco, None) => return Err(refusals::not_found(session).into()),
        _ => Vec::new(),
    };
    let body = html! {
        h1 class="heading-l" { "Make a referral" }
        p class="body" { "Ask the council for educational psychology, an advisory teacher, or an EHC needs assessment. Parents must have given consent." }
        (form(session, values, &pupils, errors))
    };
    let status = if errors.is_empty() { http::StatusCode::OK } else { http::StatusCode::BAD_REQUEST };
    Ok((status, page(session, "Make a referral", "/referrals/new", body)).into_response())
}

#[derive(serde::Deserialize)]
struct Prefill {
    #[serde(default)]
    pupil_id: String,
    #[serde(default)]
    school_urn: String,
}

async fn new_referral(State(web): State<Arc<Web>>, session: Session, Query(prefill): Query<Prefill>) -> PageResult {
    session.require(SUBMITTERS)?;
    let values = Posted(vec![
        ("idempotency_key".into(), fields::new_key()),
        ("pupil_id".into(), prefill.pupil_id.trim().to_owned()),
        ("school_urn".into(), prefill.school_urn.trim().to_owned()),
    ]);
    render(&web, &session, &values, &[]).await
}

/// The referral as the service takes it, with the problems the web sees itself.
fn body(session: &Session, values: &Posted, errors: &mut Vec<FieldError>) -> pb::ReferralBody {
    let pupil_id = values.get("pupil_id").trim();
    let pupil_id = if pupil_id.is_empty() {
        0
    } else {
        pupil_id.parse::<i64>().unwrap_or_else(|_| {
            add_error(errors, "pupil_id", "Pupil number must be a number");
            0
        })
    };
    let school_urn = match (session.role(), session.caller.grant.school) {
        (Role::Senco, Some(urn)) => urn.to_string(),
        _ => values.get("school_urn").trim().to_owned(),
    };
    pb::ReferralBody {
        pupil_id,
        school_urn,
        kind: values.get("kind").to_owned(),
        broad_areas: values.all("broad_areas"),
        concern: values.get("concern").to_owned(),
        graduated_approach: Some(pb::GraduatedApproach {
            summary: values.get("graduated_approach").to_owned(),
            ..Default::default()
        }),
        consent: Some(pb::ParentalConsent {
            given_by: values.get("consent_given_by").to_owned(),
            given_on: fields::date_from(
                values.get("consent_given_on"),
                "consent_given_on",
                "Date consent was given",
                errors,
            ),
            method: values.get("consent_method").to_owned(),
        }),
        priority: values.get("priority").to_owned(),
    }
}

async fn submit(
    State(web): State<Arc<Web>>,
    session: Session,
    Form(posted): Form<Vec<(String, String)>>,
) -> PageResult {
    session.require(SUBMITTERS)?;
    let mut values = Posted(posted);
    session.check_csrf(values.csrf())?;
    if values.get("idempotency_key").is_empty() {
        values.0.push(("idempotency_key".into(), fields::new_key()));
    }
    let mut errors = Vec::new();
    let referral = body(&session, &values, &mut errors);
    // A date or number the web cannot read: ask nothing of the service yet.
    let unreadable = !errors.is_empty();
    if session.role() == Role::Senco && values.get("pupil_id").trim().is_empty() {
        add_error(&mut errors, "pupil_id", "Choose the pupil");
    }
    // The referrals service refuses any referral without who gave consent; say it
    // in the words of the form, whatever else the service reports first.
    if values.get("consent_given_by").trim().is_empty() {
        add_error(&mut errors, "consent_given_by", "Enter who gave parental consent");
    }
    if !unreadable {
        let request = pb::SubmitReferralRequest {
            referral: Some(referral),
            idempotency_key: values.get("idempotency_key").to_owned(),
        };
        let backend = web.backend(&session);
        match async { backend.referrals()?.submit_referral(backend.request(request)).await }.await {
            Ok(made) => {
                let id = made.into_inner().id;
                return Ok(Redirect::to(&format!("/referrals/{id}?done=submitted")).into_response());
            }
            Err(status) => match fields::field_errors(&status, MAP, "pupil_id") {
                Some(found) => found.into_iter().for_each(|e| add_error(&mut errors, &e.id, e.message)),
                None if status.code() == Code::AlreadyExists => {
                    // This form's key already made a referral with other details.
                    values.0.retain(|(n, _)| n != "idempotency_key");
                    values.0.push(("idempotency_key".into(), fields::new_key()));
                    add_error(
                        &mut errors,
                        "pupil_id",
                        "A referral was already sent from this form. Check your referrals; to send another, check the details and send again",
                    );
                }
                None if status.code() == Code::FailedPrecondition => {
                    add_error(&mut errors, "pupil_id", fields::sentence(status.message()));
                }
                None => return Err(refusals::from_status(&session, &status).into()),
            },
        }
    }
    errors.sort_by_key(|e| ORDER.iter().position(|id| *id == e.id).unwrap_or(ORDER.len()));
    render(&web, &session, &values, &errors).await
}
