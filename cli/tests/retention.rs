//! `sen retention run` as an operator runs it on the embedded data folder,
//! beside a running `sen`: the dry run lists a pupil past their authority's
//! retention period by id, never by name, and erases nothing (the pupil is still
//! readable); the real run erases them in every service and says so; a bad
//! argument is named.

mod support;

use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{AttachBearer, DevIssuer, Grant, Role};
use sen_platform::ids::{LaCode, Urn};
use sen_proto::v1 as pb;
use sen_proto::v1::pupils_service_client::PupilsServiceClient;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use sen_pupils::domain::{NeedCode, PupilDetails, SenRecord, SenStatus, Upn};
use support::{sen, start, stop, token};
use tonic::Code;

/// The demo authority the pupil is added to.
const TENANT: &str = "990";

async fn channel(address: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .expect("address")
        .connect()
        .await
        .expect("connects")
}

/// The URN of one of the authority's demo schools, as its manager sees them.
async fn a_demo_school(address: &str, bearer: &str) -> u32 {
    let mut schools =
        SchoolsServiceClient::with_interceptor(channel(address).await, AttachBearer::new(bearer).unwrap());
    let listed = schools.list_schools(pb::ListSchoolsRequest::default()).await.expect("the schools").into_inner();
    listed.schools.iter().find_map(|s| s.urn.parse().ok()).expect("a demo school")
}

/// A pupil like the demo's, born in 1990 so past the 31 years, added straight to
/// the data folder's register (the API takes no one older than 25).
async fn a_pupil_past_retention(data: &Path, urn: u32) -> i64 {
    let url = sen_platform::config::sqlite_url(&data.join("pupils.db"));
    let store = sen_pupils::Store::connect(&url, &Default::default()).await.expect("the pupils store");
    let issuer = DevIssuer::load_or_create(data).expect("the data folder's issuer");
    let grant = Grant {
        person: "dev-officer".into(),
        role: Role::CaseOfficer,
        tenant: LaCode::parse(TENANT).ok(),
        school: None,
    };
    let token = issuer.signer.mint(&grant, Duration::from_secs(60)).expect("a token");
    let who = issuer.verifier.verify(&token).expect("an identity");
    let details = PupilDetails {
        upn: Upn::from_body(&format!("{TENANT}199025901")).expect("a UPN"),
        legal_forename: "Augusta".into(),
        legal_surname: "Lovelace".into(),
        preferred_forename: None,
        preferred_surname: None,
        date_of_birth: NaiveDate::from_ymd_opt(1990, 3, 14).expect("a date"),
        school_urn: Urn::parse(&urn.to_string()).expect("a URN"),
        nc_year_override: None,
        looked_after: false,
    };
    let sen =
        SenRecord { status: SenStatus::SenSupport, primary: Some(NeedCode::parse("SPLD").unwrap()), secondary: None };
    let today = chrono::Utc::now().date_naive();
    let pupil = store.create_pupil(&who.scope().expect("scope"), &who.actor(), &details, &sen, None, today).await;
    pupil.expect("the pupil").id
}

/// Whether the running platform still has the pupil, as the authority's manager reads it.
async fn readable(address: &str, bearer: &str, id: i64) -> bool {
    let mut pupils = PupilsServiceClient::with_interceptor(channel(address).await, AttachBearer::new(bearer).unwrap());
    match pupils.get_pupil(pb::GetPupilRequest { id }).await {
        Ok(_) => true,
        Err(status) if status.code() == Code::NotFound => false,
        Err(status) => panic!("reading pupil {id}: {status:?}"),
    }
}

fn retention_run(data: &Path, args: &[&str]) -> (bool, String, String) {
    let output = sen(data).args(["retention", "run"]).args(args).output().expect("sen retention runs");
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.success(), said, String::from_utf8_lossy(&output.stderr).into_owned())
}

#[tokio::test]
async fn sen_retention_run_lists_a_pupil_past_retention_then_erases_them() {
    let data = tempfile::tempdir().expect("a data folder");
    let running = start(data.path());
    let manager = token(data.path(), &["--role", "la_manager", "--tenant", TENANT]);
    let urn = a_demo_school(&running.address, &manager).await;
    let past = a_pupil_past_retention(data.path(), urn).await;
    assert!(readable(&running.address, &manager, past).await);

    let (ok, said, log) = retention_run(data.path(), &["--dry-run", "--tenant", TENANT]);
    assert!(ok, "{log}");
    assert!(said.contains("Dry run: nothing was written."), "{said}");
    assert!(said.contains(&format!("Authority {TENANT}: 1 pupil would be erased: pupil {past}")), "{said}");
    assert!(readable(&running.address, &manager, past).await, "a dry run erases nothing");

    let (ok, said, log) = retention_run(data.path(), &[]);
    assert!(ok, "{log}");
    assert!(said.contains(&format!("Authority {TENANT}: 1 pupil erased: pupil {past}")), "{said}");
    assert!(!readable(&running.address, &manager, past).await, "the pupil is erased");
    for output in [&said, &log] {
        assert!(!output.contains("Lovelace") && !output.contains("Augusta"), "a name was shown: {output}");
    }

    let (ok, said, log) = retention_run(data.path(), &["--tenant", TENANT]);
    assert!(ok, "{log}");
    assert!(said.contains(&format!("No pupil is past retention in authority {TENANT}.")), "{said}");
    stop(running).await;
}

#[test]
fn sen_retention_run_names_a_bad_argument() {
    let data = tempfile::tempdir().expect("a data folder");
    let (ok, _, log) = retention_run(data.path(), &["--dry-run", "--tenant", "nowhere"]);
    assert!(!ok);
    assert!(log.contains("--tenant"), "{log}");
}
