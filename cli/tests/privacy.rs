//! Pupil names never reach logs or traces, even at debug level: a pupil with an
//! unmistakable name is added, read and listed, and neither the log nor the spans
//! exported to a collector contain it.

mod support;

use std::time::Duration;

use sen_platform::identity::AttachBearer;
use sen_proto::v1 as pb;
use sen_proto::v1::pupils_service_client::PupilsServiceClient;

const FORENAME: &str = "Zephyrine";
const SURNAME: &str = "Quillfeather";

#[tokio::test]
async fn a_pupils_name_reaches_neither_the_log_nor_the_traces() {
    let (collector, mut received) = support::collector().await;
    let data = tempfile::tempdir().expect("temp dir");
    let running = support::start_with(
        data.path(),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &collector), ("OTEL_BSP_SCHEDULE_DELAY", "100"), ("SEN_LOG", "debug")],
    );
    let token = support::token(data.path(), &["--role", "la_manager", "--tenant", "990"]);
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", running.address))
        .expect("address")
        .connect()
        .await
        .expect("connects");
    let mut pupils = PupilsServiceClient::with_interceptor(channel, AttachBearer::new(&token).expect("token"));
    let upn = sen_pupils::domain::Upn::from_body("990200126999").expect("upn").as_str().to_owned();
    let fields = pb::PupilFields {
        upn,
        legal_forename: FORENAME.into(),
        legal_surname: SURNAME.into(),
        date_of_birth: Some(pb::Date { year: 2017, month: 4, day: 9 }),
        school_urn: "100001".into(),
        ..Default::default()
    };
    let request = pb::CreatePupilRequest { pupil: Some(fields), sen_status: 1, ..Default::default() };
    let created = pupils.create_pupil(request).await.expect("created").into_inner();
    assert_eq!(created.legal_surname, SURNAME, "the caller itself gets the name back");
    pupils.get_pupil(pb::GetPupilRequest { id: created.id }).await.expect("read");
    let duplicate = pb::CreatePupilRequest {
        pupil: Some(pb::PupilFields {
            upn: created.upn.clone(),
            legal_forename: FORENAME.into(),
            legal_surname: SURNAME.into(),
            date_of_birth: created.date_of_birth,
            school_urn: "100001".into(),
            ..Default::default()
        }),
        sen_status: 1,
        ..Default::default()
    };
    pupils.create_pupil(duplicate).await.expect_err("a duplicate UPN is refused");

    // Wait until the collector has the spans of these calls, then look at everything.
    let mut exported = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(batch) = received.recv().await {
            exported.push_str(&format!("{batch:?}"));
            if exported.contains("GetPupil") {
                return;
            }
        }
    })
    .await;
    assert!(exported.contains("GetPupil"), "the collector received the request spans");
    let captured = running.log.clone();
    support::stop(running).await;
    let log = captured.lock().expect("log").join("\n");
    assert!(log.len() > 1000, "the debug log was captured");
    for name in [FORENAME, SURNAME] {
        assert!(!log.contains(name), "{name} appeared in the log");
        assert!(!exported.contains(name), "{name} appeared in an exported span");
    }
}
