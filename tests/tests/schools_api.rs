//! The schools service over real gRPC: who sees what, what bad input gets back,
//! and what concurrent editors get.

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::bad_fields;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{SchoolsClient, TestPlatform};
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

fn school_fields(laestab: &str, name: &str) -> pb::SchoolFields {
    pb::SchoolFields {
        laestab: laestab.into(),
        name: name.into(),
        establishment_type_code: 1,
        phase: pb::Phase::Primary as i32,
        statutory_low_age: Some(4),
        statutory_high_age: Some(11),
        number_on_roll: Some(210),
        postcode: "ct1 1aa".into(),
        status: pb::EstablishmentStatus::Open as i32,
        open_date: date(1990, 9, 1),
        close_date: None,
    }
}

async fn create(client: &mut SchoolsClient, urn: &str, laestab: &str, name: &str) -> pb::School {
    let request = pb::CreateSchoolRequest { urn: urn.into(), school: Some(school_fields(laestab, name)) };
    client.create_school(request).await.expect("school created").into_inner()
}

fn senco(name: &str, award: pb::SencoAward) -> Option<pb::SencoFields> {
    Some(pb::SencoFields {
        person_name: name.into(),
        email: "senco@school.example".into(),
        qualified_teacher: true,
        award: award as i32,
        award_achieved_on: None,
    })
}

async fn list(client: &mut SchoolsClient) -> Vec<String> {
    let response = client.list_schools(pb::ListSchoolsRequest::default()).await.expect("listed");
    response.into_inner().schools.into_iter().map(|s| s.urn).collect()
}

async fn another_authoritys_manager_sees_nothing(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let mut kent = platform.manager("886").await;
    let mut medway = platform.manager("887").await;
    create(&mut kent, "100001", "8862001", "Oakfield Primary").await;

    let get = medway.get_school(pb::GetSchoolRequest { urn: "100001".into() }).await.unwrap_err();
    assert_eq!(get.code(), Code::NotFound);
    assert!(list(&mut medway).await.is_empty());
    let history = pb::ListSencoAppointmentsRequest { urn: "100001".into() };
    assert_eq!(medway.list_senco_appointments(history).await.unwrap_err().code(), Code::NotFound);
    let update = pb::UpdateSchoolRequest {
        urn: "100001".into(),
        version: 1,
        school: Some(school_fields("8872001", "Taken Over")),
    };
    assert_eq!(medway.update_school(update).await.unwrap_err().code(), Code::NotFound);
    let appoint = pb::AppointSencoRequest {
        urn: "100001".into(),
        senco: senco("Intruder", pb::SencoAward::None),
        appointed_on: date(2026, 1, 5),
        prior_senco_experience_over_12_months: false,
    };
    assert_eq!(medway.appoint_senco(appoint).await.unwrap_err().code(), Code::NotFound);
    let own = medway.list_authorities(pb::ListAuthoritiesRequest {}).await.unwrap().into_inner();
    assert_eq!(own.authorities.iter().map(|a| a.la_code.as_str()).collect::<Vec<_>>(), ["887"]);
    assert_eq!(list(&mut kent).await, ["100001"]);
}

#[tokio::test]
async fn another_authoritys_manager_sees_nothing_on_sqlite() {
    another_authoritys_manager_sees_nothing(Engine::Sqlite).await;
}

#[tokio::test]
async fn another_authoritys_manager_sees_nothing_on_postgres() {
    another_authoritys_manager_sees_nothing(Engine::Postgres).await;
}

#[tokio::test]
async fn a_senco_reads_their_own_school_and_nothing_else() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let mut manager = platform.manager("886").await;
    create(&mut manager, "100001", "8862001", "Oakfield Primary").await;
    create(&mut manager, "100002", "8862002", "Beechwood Primary").await;
    let mut senco = platform.client(Role::Senco, Some("886"), Some(100001)).await;

    assert_eq!(list(&mut senco).await, ["100001"]);
    let own = senco.get_school(pb::GetSchoolRequest { urn: "100001".into() }).await.unwrap().into_inner();
    assert_eq!(own.name, "Oakfield Primary");
    let other = senco.get_school(pb::GetSchoolRequest { urn: "100002".into() }).await.unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
    let history = pb::ListSencoAppointmentsRequest { urn: "100002".into() };
    assert_eq!(senco.list_senco_appointments(history).await.unwrap_err().code(), Code::NotFound);
    let report = senco.list_senco_compliance(pb::ListSencoComplianceRequest::default()).await.unwrap_err();
    assert_eq!(report.code(), Code::PermissionDenied);
    let write = pb::CreateSchoolRequest { urn: "100003".into(), school: Some(school_fields("8862003", "New")) };
    assert_eq!(senco.create_school(write).await.unwrap_err().code(), Code::PermissionDenied);
    // A SENCO of another authority's school with the same URN sees nothing here either.
    let mut elsewhere = platform.client(Role::Senco, Some("887"), Some(100001)).await;
    assert!(list(&mut elsewhere).await.is_empty());
}

#[tokio::test]
async fn roles_without_the_right_are_refused() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let mut manager = platform.manager("886").await;
    create(&mut manager, "100001", "8862001", "Oakfield Primary").await;

    let mut officer = platform.client(Role::CaseOfficer, Some("886"), None).await;
    assert_eq!(list(&mut officer).await, ["100001"], "case officers read the whole authority");
    let write = pb::CreateSchoolRequest { urn: "100003".into(), school: Some(school_fields("8862003", "New")) };
    assert_eq!(officer.create_school(write).await.unwrap_err().code(), Code::PermissionDenied);

    let mut psychologist = platform.client(Role::EducationalPsychologist, Some("886"), None).await;
    let read = psychologist.get_school(pb::GetSchoolRequest { urn: "100001".into() }).await.unwrap_err();
    assert_eq!(read.code(), Code::PermissionDenied);

    let mut operator = platform.client(Role::PlatformOperator, None, None).await;
    let read = operator.list_schools(pb::ListSchoolsRequest::default()).await.unwrap_err();
    assert_eq!(read.code(), Code::PermissionDenied, "the platform operator never reads tenant data");
    let created = operator
        .create_authority(pb::CreateAuthorityRequest { la_code: "888".into(), name: "Lancashire".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.la_code, "888");
    let again = pb::CreateAuthorityRequest { la_code: "888".into(), name: "Lancashire".into() };
    assert_eq!(operator.create_authority(again).await.unwrap_err().code(), Code::AlreadyExists);

    let by_manager = pb::CreateAuthorityRequest { la_code: "889".into(), name: "Blackburn".into() };
    assert_eq!(manager.create_authority(by_manager).await.unwrap_err().code(), Code::PermissionDenied);
}

#[tokio::test]
async fn calls_without_a_valid_identity_are_unauthenticated() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let mut anonymous =
        sen_proto::v1::schools_service_client::SchoolsServiceClient::new(platform.channel().await.unwrap());
    let err = anonymous.list_schools(pb::ListSchoolsRequest::default()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    let mut forged = platform.client_with_token("eyJhbGciOiJub25lIn0.eyJyb2xlIjoibGFfbWFuYWdlciJ9.").await.unwrap();
    assert_eq!(forged.list_schools(pb::ListSchoolsRequest::default()).await.unwrap_err().code(), Code::Unauthenticated);

    let stranger = sen_platform::identity::DevIssuer::generate().unwrap();
    let grant = sen_platform::identity::Grant {
        person: "x".into(),
        role: Role::LaManager,
        tenant: sen_platform::ids::LaCode::parse("886").ok(),
        school: None,
    };
    let token = stranger.signer.mint(&grant, std::time::Duration::from_secs(60)).unwrap();
    let mut other_key = platform.client_with_token(&token).await.unwrap();
    let err = other_key.list_schools(pb::ListSchoolsRequest::default()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn bad_input_names_every_field_and_writes_nothing() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let mut manager = platform.manager("886").await;
    let mut fields = school_fields("8872001", " ");
    fields.postcode = "NOT A POSTCODE".into();
    fields.phase = pb::Phase::Unspecified as i32;
    fields.statutory_low_age = Some(11);
    fields.statutory_high_age = Some(4);
    fields.establishment_type_code = 999;
    fields.open_date = date(2021, 2, 30);
    let request = pb::CreateSchoolRequest { urn: "12345".into(), school: Some(fields) };
    let err = manager.create_school(request).await.unwrap_err();
    assert_eq!(
        bad_fields(&err),
        [
            "urn",
            "school.laestab",
            "school.name",
            "school.establishment_type_code",
            "school.phase",
            "school.statutory_high_age",
            "school.postcode",
            "school.open_date",
        ]
    );
    assert!(err.message().contains("belongs to LA 887"), "{}", err.message());
    assert!(list(&mut manager).await.is_empty(), "nothing was written");

    create(&mut manager, "100001", "8862001", "Oakfield Primary").await;
    let appoint = pb::AppointSencoRequest {
        urn: "100001".into(),
        senco: Some(pb::SencoFields {
            person_name: "".into(),
            email: "not-an-email".into(),
            qualified_teacher: true,
            award: pb::SencoAward::NpqSenco as i32,
            award_achieved_on: None,
        }),
        appointed_on: None,
        prior_senco_experience_over_12_months: false,
    };
    let err = manager.appoint_senco(appoint).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["senco.person_name", "senco.email", "senco.award_achieved_on", "appointed_on"]);
    let history = manager.list_senco_appointments(pb::ListSencoAppointmentsRequest { urn: "100001".into() }).await;
    assert!(history.unwrap().into_inner().appointments.is_empty());

    let page = pb::ListSchoolsRequest {
        page: Some(pb::PageRequest { page_size: 10_000, page_token: "forged".into() }),
        ..Default::default()
    };
    assert_eq!(bad_fields(&manager.list_schools(page).await.unwrap_err()), ["page.page_size", "page.page_token"]);
}

#[tokio::test]
async fn saving_over_someone_elses_change_is_aborted() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let mut alice = platform.manager("886").await;
    let mut bob = platform.manager("886").await;
    let read = create(&mut alice, "100001", "8862001", "Oakfield Primary").await;

    let save = |name: &str| pb::UpdateSchoolRequest {
        urn: "100001".into(),
        version: read.version,
        school: Some(school_fields("8862001", name)),
    };
    let saved = alice.update_school(save("Oakfield Primary Academy")).await.unwrap().into_inner();
    assert_eq!(saved.version, read.version + 1);
    let err = bob.update_school(save("Oakfield Community Primary")).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    let now = bob.get_school(pb::GetSchoolRequest { urn: "100001".into() }).await.unwrap().into_inner();
    assert_eq!(now.name, "Oakfield Primary Academy");
}

#[tokio::test]
async fn a_senco_appointment_runs_from_appointment_to_end_with_history() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let mut manager = platform.manager("886").await;
    create(&mut manager, "100001", "8862001", "Oakfield Primary").await;
    let appoint = |name: &str| pb::AppointSencoRequest {
        urn: "100001".into(),
        senco: senco(name, pb::SencoAward::InProgress),
        appointed_on: date(2023, 9, 1),
        prior_senco_experience_over_12_months: false,
    };
    let first = manager.appoint_senco(appoint("Priya Raman")).await.unwrap().into_inner();
    assert_eq!(first.award_deadline, date(2026, 9, 1));
    let school = manager.get_school(pb::GetSchoolRequest { urn: "100001".into() }).await.unwrap().into_inner();
    assert_eq!(school.current_senco.map(|s| s.person_name), Some("Priya Raman".into()));
    assert!(school.requires_senco);

    let err = manager.appoint_senco(appoint("Second Person")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);

    let report = manager
        .list_senco_compliance(pb::ListSencoComplianceRequest { as_of: date(2026, 11, 24), due_within_days: 0 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.awards_overdue.len(), 1);
    assert_eq!(report.awards_overdue[0].days_to_deadline, -84);

    let end = pb::EndSencoAppointmentRequest { id: first.id, ended_on: date(2026, 10, 31), reason: "moved on".into() };
    manager.end_senco_appointment(end).await.unwrap();
    let second = manager.appoint_senco(appoint("Second Person")).await.unwrap().into_inner();
    let achieved = pb::UpdateSencoAppointmentRequest {
        id: second.id,
        version: second.version,
        senco: Some(pb::SencoFields {
            award: pb::SencoAward::NpqSenco as i32,
            award_achieved_on: date(2026, 7, 10),
            ..senco("Second Person", pb::SencoAward::NpqSenco).unwrap()
        }),
    };
    let updated = manager.update_senco_appointment(achieved).await.unwrap().into_inner();
    assert_eq!(updated.award_deadline, None);
    let history = manager
        .list_senco_appointments(pb::ListSencoAppointmentsRequest { urn: "100001".into() })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = history.appointments.iter().map(|a| a.person_name.as_str()).collect();
    assert_eq!(names, ["Second Person", "Priya Raman"]);

    let report = manager.list_senco_compliance(pb::ListSencoComplianceRequest::default()).await.unwrap().into_inner();
    assert!(report.awards_overdue.is_empty() && report.without_senco.is_empty());
}

fn nasenco_achieved(name: &str, on: Option<pb::Date>) -> Option<pb::SencoFields> {
    Some(pb::SencoFields { award_achieved_on: on, ..senco(name, pb::SencoAward::Nasenco).unwrap() })
}

async fn appoint(
    client: &mut SchoolsClient,
    urn: &str,
    senco: Option<pb::SencoFields>,
    on: Option<pb::Date>,
) -> pb::SencoAppointment {
    let request = pb::AppointSencoRequest {
        urn: urn.into(),
        senco,
        appointed_on: on,
        prior_senco_experience_over_12_months: false,
    };
    client.appoint_senco(request).await.expect("appointed").into_inner()
}

/// (URN, days to deadline) of the overdue and the due-soon lines on `as_of`.
async fn compliance_on(
    client: &mut SchoolsClient,
    as_of: Option<pb::Date>,
) -> (Vec<(String, i32)>, Vec<(String, i32)>) {
    let request = pb::ListSencoComplianceRequest { as_of, due_within_days: 90 };
    let report = client.list_senco_compliance(request).await.expect("report").into_inner();
    let lines = |items: Vec<pb::SencoComplianceItem>| {
        items.into_iter().map(|i| (i.school.unwrap_or_default().urn, i.days_to_deadline)).collect::<Vec<_>>()
    };
    (lines(report.awards_overdue), lines(report.awards_due_soon))
}

async fn a_nasenco_counts_only_for_sencos_appointed_before_1_september_2024(engine: Engine) {
    let platform = TestPlatform::start(engine).await.unwrap();
    let mut manager = platform.manager("886").await;
    create(&mut manager, "100001", "8862001", "Oakfield Primary").await;
    create(&mut manager, "100002", "8862002", "Beechwood Primary").await;
    create(&mut manager, "100003", "8862003", "Ashgrove Primary").await;
    let before =
        appoint(&mut manager, "100001", nasenco_achieved("Before Change", date(2025, 7, 1)), date(2024, 8, 31)).await;
    assert_eq!(before.qualification_status, pb::SencoQualificationStatus::Qualified as i32);
    assert_eq!((before.award_deadline, before.required_qualification), (None, 0));
    let after =
        appoint(&mut manager, "100002", nasenco_achieved("After Change", date(2025, 7, 1)), date(2024, 9, 1)).await;
    assert_eq!(after.award, pb::SencoAward::Nasenco as i32, "the NASENCO is recorded as such");
    assert_eq!(after.qualification_status, pb::SencoQualificationStatus::WorkingTowards as i32);
    assert_eq!(after.required_qualification, pb::SencoRequiredQualification::NpqSenco as i32);
    assert_eq!(after.award_deadline, date(2027, 9, 1));
    let leap = appoint(&mut manager, "100003", senco("Leap Day", pb::SencoAward::InProgress), date(2024, 2, 29)).await;
    assert_eq!(leap.required_qualification, pb::SencoRequiredQualification::NasencoOrNpq as i32);
    assert_eq!(leap.award_deadline, date(2027, 2, 28));

    assert_eq!(compliance_on(&mut manager, date(2027, 2, 27)).await, (vec![], vec![("100003".into(), 1)]));
    assert_eq!(compliance_on(&mut manager, date(2027, 2, 28)).await, (vec![], vec![("100003".into(), 0)]));
    assert_eq!(compliance_on(&mut manager, date(2027, 3, 1)).await, (vec![("100003".into(), -1)], vec![]));
    let (_, soon) = compliance_on(&mut manager, date(2027, 8, 31)).await;
    assert_eq!(soon, [("100002".into(), 1)]);
    let (_, soon) = compliance_on(&mut manager, date(2027, 9, 1)).await;
    assert_eq!(soon, [("100002".into(), 0)], "the third anniversary is still in time");
    let (overdue, _) = compliance_on(&mut manager, date(2027, 9, 2)).await;
    assert_eq!(overdue, [("100002".into(), -1), ("100003".into(), -186)]);

    // Another authority's compliance report holds none of it.
    let mut medway = platform.manager("887").await;
    assert_eq!(compliance_on(&mut medway, date(2027, 9, 2)).await, (vec![], vec![]));

    // The NPQ for SENCOs, once recorded, clears the deadline.
    let npq = pb::UpdateSencoAppointmentRequest {
        id: after.id,
        version: after.version,
        senco: Some(pb::SencoFields {
            award_achieved_on: date(2026, 7, 10),
            ..senco("After Change", pb::SencoAward::NpqSenco).unwrap()
        }),
    };
    let updated = manager.update_senco_appointment(npq).await.unwrap().into_inner();
    assert_eq!(updated.qualification_status, pb::SencoQualificationStatus::Qualified as i32);
    assert_eq!(updated.award_deadline, None);
}

#[tokio::test]
async fn a_nasenco_counts_only_for_sencos_appointed_before_1_september_2024_on_sqlite() {
    a_nasenco_counts_only_for_sencos_appointed_before_1_september_2024(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_nasenco_counts_only_for_sencos_appointed_before_1_september_2024_on_postgres() {
    a_nasenco_counts_only_for_sencos_appointed_before_1_september_2024(Engine::Postgres).await;
}

#[tokio::test]
async fn the_json_api_shows_a_senco_working_towards_the_npq() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let mut manager = platform.manager("886").await;
    create(&mut manager, "100001", "8862001", "Oakfield Primary").await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let token = platform.token(Role::LaManager, Some("886"), None);
    let http = reqwest::Client::new();
    let made: serde_json::Value = http
        .post(format!("{}/api/v1/schools/100001/senco-appointments", gateway.url()))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "senco": {
                "person_name": "Nia Jones", "email": "n.jones@oakfield.example", "qualified_teacher": true,
                "award": "SENCO_AWARD_NASENCO", "award_achieved_on": "2025-07-01"
            },
            "appointed_on": "2024-09-01"
        }))
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("appointment");
    assert_eq!(made["award"], "SENCO_AWARD_NASENCO", "{made}");
    assert_eq!(made["qualification_status"], "SENCO_QUALIFICATION_STATUS_WORKING_TOWARDS", "{made}");
    assert_eq!(made["required_qualification"], "SENCO_REQUIRED_QUALIFICATION_NPQ_SENCO", "{made}");
    assert_eq!(made["award_deadline"], "2027-09-01", "{made}");
    let report: serde_json::Value = http
        .get(format!("{}/api/v1/senco-compliance?as_of=2027-09-02", gateway.url()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("report");
    let overdue = &report["awards_overdue"][0];
    assert_eq!(overdue["school"]["urn"], "100001", "{report}");
    assert_eq!(overdue["days_to_deadline"], -1, "{report}");
    assert_eq!(overdue["senco"]["required_qualification"], "SENCO_REQUIRED_QUALIFICATION_NPQ_SENCO", "{report}");
}
