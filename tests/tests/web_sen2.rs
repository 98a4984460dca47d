//! The SEN2 return's page and download over HTTP, through the real gateway and
//! services: the council's officer sees the headline figures, the records to
//! fix and the download button, and downloads the file naming their pupil; a
//! SENCO may not see the page; another authority's file names none of 886's
//! pupils.

use reqwest::StatusCode;
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;

/// One pupil of 886 whose EHC needs assessment request was taken to its final
/// plan on 24 November 2026 (the test platform's today); a pupil of 887.
async fn world(engine: Engine) -> (TestPlatform, TestGateway, String) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Ola", "Reed")).await;
    let id = platform.accepted_referral_886(pupil, "ehc_needs_assessment", "sen2-web").await;
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let on = Some(pb::Date { year: 2026, month: 11, day: 24 });
    let assess = pb::RecordAssessmentDecisionRequest { id, decision: "assess".into(), decided_on: on, version: None };
    officer.record_assessment_decision(assess).await.expect("assessing");
    let issue = pb::RecordPlanDecisionRequest { id, decision: "issue".into(), decided_on: on, version: None };
    officer.record_plan_decision(issue).await.expect("to issue");
    let issued = pb::RecordFinalPlanIssuedRequest { id, issued_on: on, version: None };
    officer.record_final_plan_issued(issued).await.expect("issued");
    let upn = platform
        .pupils(Role::CaseOfficer, Some("886"), None)
        .await
        .get_pupil(pb::GetPupilRequest { id: pupil })
        .await
        .expect("pupil")
        .into_inner()
        .upn;
    let medway = pb::SchoolFields {
        laestab: "8872001".into(),
        name: "Medway School".into(),
        establishment_type_code: 1,
        phase: pb::Phase::Primary as i32,
        status: pb::EstablishmentStatus::Open as i32,
        number_on_roll: Some(100),
        ..Default::default()
    };
    let request = pb::CreateSchoolRequest { urn: "200001".into(), school: Some(medway) };
    platform.manager("887").await.create_school(request).await.expect("school");
    platform.pupil_on_support("887", 1, 200001, ("Ada", "Lane")).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    (platform, gateway, upn)
}

async fn get(gateway: &TestGateway, client: &reqwest::Client, path: &str) -> (StatusCode, String, String) {
    let response = client.get(format!("{}{path}", gateway.url())).send().await.expect("answered");
    let disposition = response
        .headers()
        .get(http::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (response.status(), disposition, response.text().await.expect("body"))
}

async fn the_council_checks_the_sen2_return_and_downloads_the_file(engine: Engine) {
    let (platform, gateway, upn) = world(engine).await;
    let officer = gateway.web_client(Role::CaseOfficer, Some("886"), None).await;

    let (status, _, page) = get(&gateway, &officer, "/sen2?year=2026&dmo=Y&dco=N").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("SEN2 return 2026"), "{page}");
    assert!(page.contains("Requests received") && page.contains("Plans issued"), "the headline figures: {page}");
    assert!(page.contains("Records to fix") && page.contains("PostCode"), "the failures listed: {page}");
    assert!(page.contains("href=\"/sen2/download?year=2026&amp;dmo=Y&amp;dco=N\""), "the download button: {page}");

    let (status, disposition, file) = get(&gateway, &officer, "/sen2/download?year=2026&dmo=Y&dco=N").await;
    assert_eq!(status, StatusCode::OK, "{file}");
    assert_eq!(disposition, "attachment; filename=\"sen2-886-2026.xml\"");
    assert!(file.starts_with("<?xml") && file.contains("<LEA>886</LEA>"), "{file}");
    assert!(file.contains(&format!("<UPN>{upn}</UPN>")), "the pupil with the request: {file}");
    assert!(file.contains("<StartDate>2026-11-24</StartDate>"), "the plan issued: {file}");
    assert!(file.contains("<Week20>true</Week20>"), "{file}");

    // A bad year is named on the page, not a failure.
    let (status, _, page) = get(&gateway, &officer, "/sen2?year=soon").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Enter a year from 2014"), "{page}");

    // A SENCO may not see the return.
    let senco = gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    for path in ["/sen2?year=2026", "/sen2/download?year=2026"] {
        let (status, _, body) = get(&gateway, &senco, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(!body.contains(&upn), "{path}");
    }

    // Another authority's file names none of 886's pupils.
    let medway = gateway.web_client(Role::LaManager, Some("887"), None).await;
    let (status, _, theirs) = get(&gateway, &medway, "/sen2/download?year=2026").await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    assert!(theirs.contains("<LEA>887</LEA>") && !theirs.contains(&upn), "{theirs}");
    platform.stop().await.expect("stops");
}

sen_platform::on_both_engines!(the_council_checks_the_sen2_return_and_downloads_the_file);
