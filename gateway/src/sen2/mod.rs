//! `GetSen2Return`: the council's person-level SEN2 return, composed by the
//! gateway as the overview is, from the services' own read APIs and with the
//! caller's identity (so each service applies its own roles, tenancy and
//! audit): every EHC needs assessment request from the referrals service
//! (`ListReferrals`, paged), and the persons from the pupils service
//! (`ListSen2Persons`: the pupils with a plan in the year, then those with a
//! request). Unlike the overview it is whole or refused: a return with a part
//! missing would be wrong, so a service that fails fails it.
//!
//! Then [`model::compose`] builds the return, [`rules::check`] lists what fails
//! the DfE's rules, and [`xml::render`] writes the file. The gateway's own
//! `audit` line says who asked for which year and how many persons it named.

pub mod model;
pub mod rules;
pub mod xml;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::time::Duration;

use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use sen_proto::v1::pupils_service_client::PupilsServiceClient;
use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
use tonic::{Request, Response, Status};

use crate::caller::Caller;
use crate::upstream::{GrpcService, Upstreams};

/// How long each page may take.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);
/// Rows asked for per page (the services' largest page).
const PAGE_SIZE: u32 = 500;
/// The most pupils one `ListSen2Persons` call names.
const NAMED_PER_CALL: usize = 500;
/// What the file follows.
pub const SPECIFICATION: &str = "SEN2 person level, 2024 XML schema (SEN2_schema_2024.xsd); DfE SEN2 technical specification (2023 collection, v1.1) for the items' meaning";

/// Who may ask for the return (the gateway's policy says the same; checked
/// here too, since the return is pupil-level data).
const ALLOWED: &[Role] = &[Role::LaManager, Role::CaseOfficer];

fn call<T>(caller: &Caller, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(PAGE_TIMEOUT);
    if let Ok(token) = caller.internal_token.parse() {
        request.metadata_mut().insert(sen_platform::identity::IDENTITY_METADATA_KEY, token);
    }
    sen_platform::telemetry::inject_trace_context(request.metadata_mut());
    request
}

fn channel(upstreams: &Upstreams, service: &str) -> Result<GrpcService, Status> {
    upstreams.route(service).ok_or_else(|| Status::unavailable(format!("{service} is not configured")))
}

/// A service's refusal or failure, said for the officer.
fn failed(part: &str, status: Status) -> Status {
    match status.code() {
        tonic::Code::PermissionDenied | tonic::Code::Unauthenticated | tonic::Code::InvalidArgument => status,
        code => Status::unavailable(format!(
            "the SEN2 return could not be made: the {part} did not answer ({code:?}); try again shortly"
        )),
    }
}

/// The return for the caller's authority.
pub async fn get_sen2_return(
    upstreams: &Upstreams,
    request: Request<pb::GetSen2ReturnRequest>,
) -> Result<Response<pb::Sen2Return>, Status> {
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("the SEN2 return is served through the gateway only"))?;
    if !ALLOWED.contains(&caller.grant.role) {
        return Err(Status::permission_denied("the SEN2 return is for the council SEN team"));
    }
    let req = request.into_inner();
    let mut errors = sen_platform::error::FieldViolations::new();
    let year = errors.check(
        "year",
        if (2014..=2200).contains(&req.year) {
            Ok(req.year)
        } else {
            Err("is not a calendar year since the 2014 Regulations".to_owned())
        },
    );
    for (name, value) in [("dmo", &req.dmo), ("dco", &req.dco)] {
        if !matches!(value.as_str(), "" | "Y" | "N" | "R") {
            errors.add(name, "is Y, N or R (or empty when not known)");
        }
    }
    let (Some(year), true) = (year, errors.is_empty()) else {
        return Err(sen_platform::error::invalid_argument(&errors));
    };
    let tenant = caller
        .grant
        .tenant
        .ok_or_else(|| Status::permission_denied("the SEN2 return is of one authority"))?
        .to_string();
    let (Some((start, _)), Some(reference)) = (model::calendar_year(year), model::reference_date(year)) else {
        return Err(sen_platform::error::invalid_argument(&sen_platform::error::FieldViolations::one(
            "year",
            "is not a calendar year",
        )));
    };

    let referrals = every_request(upstreams, &caller).await?;
    let persons = every_person(upstreams, &caller, &referrals, start, reference).await?;
    let Some(sen2) = model::compose(year, &tenant, (&req.dmo, &req.dco), &referrals, &persons) else {
        return Err(Status::invalid_argument("year: is not a calendar year"));
    };
    let failures = rules::check(&sen2);
    let figures = model::figures(&sen2);
    let xml = if req.report_only { String::new() } else { xml::render(&sen2, chrono::Utc::now()) };
    tracing::info!(
        target: "audit",
        person = %caller.grant.person,
        role = caller.grant.role.as_str(),
        tenant = %tenant,
        year,
        persons = sen2.persons.len(),
        failures = failures.len(),
        report_only = req.report_only,
        "sen2 return exported"
    );
    Ok(Response::new(pb::Sen2Return {
        tenant,
        year,
        reference_date: Some(sen_platform::dates::to_proto(reference)),
        specification: SPECIFICATION.to_owned(),
        xml,
        failures,
        figures: Some(figures),
    }))
}

/// Every EHC needs assessment request the caller may read, page by page.
async fn every_request(upstreams: &Upstreams, caller: &Caller) -> Result<Vec<pb::Referral>, Status> {
    let mut client = ReferralsServiceClient::new(channel(upstreams, "sen.v1.ReferralsService")?);
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let ask = pb::ListReferralsRequest {
            page: Some(pb::PageRequest { page_size: PAGE_SIZE, page_token: page_token.clone() }),
            kind: model::EHC_KIND.to_owned(),
            sort: "id".to_owned(),
            ..Default::default()
        };
        let page =
            client.list_referrals(call(caller, ask)).await.map_err(|s| failed("referrals service", s))?.into_inner();
        all.extend(page.referrals);
        if page.next_page_token.is_empty() {
            return Ok(all);
        }
        page_token = page.next_page_token;
    }
}

/// The persons: those with a plan in the period, then those with a request
/// not among them.
async fn every_person(
    upstreams: &Upstreams,
    caller: &Caller,
    referrals: &[pb::Referral],
    start: chrono::NaiveDate,
    reference: chrono::NaiveDate,
) -> Result<Vec<pb::Sen2Person>, Status> {
    let mut client = PupilsServiceClient::new(channel(upstreams, "sen.v1.PupilsService")?);
    let (period_start, reference_date) =
        (Some(sen_platform::dates::to_proto(start)), Some(sen_platform::dates::to_proto(reference)));
    let mut persons = Vec::new();
    let mut page_token = String::new();
    loop {
        let ask = pb::ListSen2PersonsRequest {
            page: Some(pb::PageRequest { page_size: PAGE_SIZE, page_token: page_token.clone() }),
            period_start,
            reference_date,
            pupil_ids: Vec::new(),
        };
        let page =
            client.list_sen2_persons(call(caller, ask)).await.map_err(|s| failed("pupils service", s))?.into_inner();
        persons.extend(page.persons);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let have: BTreeSet<i64> = persons.iter().map(|p| p.pupil_id).collect();
    let wanted: Vec<i64> = referrals
        .iter()
        .filter(|r| model::in_scope(r, start, reference))
        .filter_map(|r| r.body.as_ref().map(|b| b.pupil_id))
        .filter(|id| *id > 0 && !have.contains(id))
        .collect::<BTreeSet<i64>>()
        .into_iter()
        .collect();
    for ids in wanted.chunks(NAMED_PER_CALL) {
        let ask = pb::ListSen2PersonsRequest { page: None, period_start, reference_date, pupil_ids: ids.to_vec() };
        let answer =
            client.list_sen2_persons(call(caller, ask)).await.map_err(|s| failed("pupils service", s))?.into_inner();
        persons.extend(answer.persons);
    }
    Ok(persons)
}
