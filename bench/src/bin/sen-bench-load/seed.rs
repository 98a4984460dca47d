//! `seed`: a school and a pupil for the benchmarks, made through the gateway as
//! the people who make them (the platform operator registers the authority, its
//! SEN manager the school, a case officer the pupil), for a platform started on
//! empty databases (PostgreSQL). Prints what `discover` prints.

use std::collections::HashMap;

use sen_platform::identity::AttachBearer;
use sen_proto::v1 as pb;
use tonic::Code;

use super::required;

/// The benchmarks' authority, school and pupil.
const TENANT: &str = "990";
const URN: &str = "990001";

pub async fn seed(options: &HashMap<String, String>) -> anyhow::Result<()> {
    let url = required(options, "url")?.to_owned();
    let channel = tonic::transport::Endpoint::from_shared(url)?.connect().await?;
    let as_who = |name: &str| -> anyhow::Result<AttachBearer> {
        AttachBearer::new(required(options, name)?).map_err(anyhow::Error::msg)
    };
    let mut operator =
        pb::schools_service_client::SchoolsServiceClient::with_interceptor(channel.clone(), as_who("operator")?);
    let created = operator
        .create_authority(pb::CreateAuthorityRequest { la_code: TENANT.into(), name: "Northmoor".into() })
        .await;
    ignore_existing(created.map(drop))?;
    let mut manager =
        pb::schools_service_client::SchoolsServiceClient::with_interceptor(channel.clone(), as_who("manager")?);
    let school = pb::SchoolFields {
        laestab: format!("{TENANT}2001"),
        name: "Benchmark Primary School".into(),
        establishment_type_code: 1,
        phase: pb::Phase::Primary as i32,
        statutory_low_age: Some(4),
        statutory_high_age: Some(11),
        number_on_roll: Some(400),
        postcode: "NM1 1AA".into(),
        status: pb::EstablishmentStatus::Open as i32,
        open_date: None,
        close_date: None,
    };
    let created = manager.create_school(pb::CreateSchoolRequest { urn: URN.into(), school: Some(school) }).await;
    ignore_existing(created.map(drop))?;
    let mut officer = pb::pupils_service_client::PupilsServiceClient::with_interceptor(channel, as_who("officer")?);
    let upn = sen_pupils::domain::Upn::from_body(&format!("{TENANT}200125001")).map_err(anyhow::Error::msg)?;
    let pupil = pb::PupilFields {
        upn: upn.as_str().into(),
        legal_forename: "Musa".into(),
        legal_surname: "Ali".into(),
        date_of_birth: Some(pb::Date { year: 2017, month: 2, day: 2 }),
        school_urn: URN.into(),
        ..Default::default()
    };
    let request = pb::CreatePupilRequest {
        pupil: Some(pupil),
        sen_status: pb::SenProvision::SenSupport as i32,
        primary_need_code: "SLCN".into(),
        ..Default::default()
    };
    let id = match officer.create_pupil(request).await {
        Ok(created) => created.into_inner().id,
        Err(status) if status.code() == Code::AlreadyExists => {
            let list = pb::ListPupilsRequest { upn: upn.as_str().into(), ..Default::default() };
            let found = officer.list_pupils(list).await?.into_inner().pupils;
            found.first().map(|p| p.id).ok_or_else(|| anyhow::anyhow!("pupil {} not found", upn.as_str()))?
        }
        Err(status) => return Err(status.into()),
    };
    println!("urn={URN} pupil={id} pupil_urn={URN}");
    Ok(())
}

fn ignore_existing(outcome: Result<(), tonic::Status>) -> anyhow::Result<()> {
    match outcome {
        Err(status) if status.code() != Code::AlreadyExists => Err(status.into()),
        _ => Ok(()),
    }
}
