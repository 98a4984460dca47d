//! Whom the council is offered for a referral, and where its time goes, over the
//! real services and the gateway on both engines: a link EP over capacity is
//! suggested after one with room unless the manager asks for the link first
//! (gRPC, JSON and the referral's page), each suggestion saying why it stands
//! where it does; a closed school leaves the time-allocation model, takes no new
//! link professional, counts no link in suggestions and leaves SENCO
//! compliance, on the pages too.

use reqwest::Client;
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{CaseloadsClient, TestPlatform, create_ep};
use serde_json::Value;
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<pb::Date> {
    Some(pb::Date { year, month, day })
}

/// An accepted educational psychology referral for `pupil` at school `urn` of 886.
async fn accepted_referral(platform: &TestPlatform, pupil: i64, urn: u32, key: &str) -> i64 {
    let body = pb::ReferralBody {
        pupil_id: pupil,
        school_urn: urn.to_string(),
        kind: "educational_psychology".into(),
        broad_areas: vec!["cognition_and_learning".into()],
        concern: "Reading age three years behind".into(),
        graduated_approach: Some(pb::GraduatedApproach {
            summary: "Two cycles of phonics".into(),
            ..Default::default()
        }),
        consent: Some(pb::ParentalConsent {
            given_by: "Mother".into(),
            given_on: date(2026, 11, 1),
            method: "email".into(),
        }),
        priority: "routine".into(),
    };
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let request = pb::SubmitReferralRequest { referral: Some(body), idempotency_key: key.into(), ..Default::default() };
    let referral = officer.submit_referral(request).await.expect("submitted").into_inner();
    let accept = pb::ChangeReferralStatusRequest {
        id: referral.id,
        version: referral.version,
        event: pb::ReferralEvent::Accept as i32,
        note: String::new(),
    };
    officer.change_referral_status(accept).await.expect("accepted");
    referral.id
}

fn allocate(referral: i64, professional: i64, key: &str, override_reason: &str) -> pb::AllocateCaseRequest {
    pb::AllocateCaseRequest {
        referral_id: referral,
        professional_id: professional,
        idempotency_key: key.into(),
        override_reason: override_reason.into(),
    }
}

async fn suggest(
    manager: &mut CaseloadsClient,
    referral: i64,
    order: pb::SuggestionOrder,
) -> pb::SuggestAllocationResponse {
    let request = pb::SuggestAllocationRequest { referral_id: referral, order: order as i32 };
    manager.suggest_allocation(request).await.expect("suggestions").into_inner()
}

fn ids(answer: &pb::SuggestAllocationResponse) -> Vec<i64> {
    answer.candidates.iter().map(|c| c.professional_id).collect()
}

async fn get_json(http: &Client, url: String, token: &str) -> (u16, Value) {
    let response = http.get(url).bearer_auth(token).send().await.expect("answered");
    (response.status().as_u16(), response.json().await.expect("json"))
}

async fn page(gateway: &TestGateway, role: Role, path: &str) -> String {
    let client = gateway.web_client(role, Some("886"), None).await;
    let response = client.get(format!("{}{path}", gateway.url())).send().await.expect("page");
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.expect("html")
}

async fn a_link_ep_over_capacity_is_suggested_after_one_with_room_unless_the_manager_asks(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let mut pupils = Vec::new();
    for serial in 1..=4 {
        pupils.push(platform.pupil_on_support("886", serial, 100001, ("Finn", "Hall")).await);
    }
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let link = create_ep(&mut manager, "ep-link", "main_grade", 2).await;
    let free = create_ep(&mut manager, "ep-free", "main_grade", 10).await;
    manager.link_school(pb::LinkSchoolRequest { professional_id: link, urn: "100001".into() }).await.expect("linked");
    // The link EP takes three cases against a limit of two: 150 %.
    for (n, pupil) in pupils[..3].iter().enumerate() {
        let referral = accepted_referral(&platform, *pupil, 100001, &format!("r{n}")).await;
        let reason = if n >= 2 { "Knows the family well" } else { "" };
        manager.allocate_case(allocate(referral, link, &format!("a{n}"), reason)).await.expect("allocated");
    }
    let referral = accepted_referral(&platform, pupils[3], 100001, "r-next").await;

    let default = suggest(&mut manager, referral, pb::SuggestionOrder::Unspecified).await;
    assert_eq!(ids(&default), [free, link], "room first");
    assert_eq!(default.order, pb::SuggestionOrder::RoomFirst as i32);
    assert!(!default.school_closed);
    assert_eq!(default.candidates[0].placement, "has room (0% of capacity)");
    assert_eq!(
        default.candidates[1].placement,
        "link educational psychologist for this school; 150% of capacity: after everyone with room"
    );
    assert!(default.candidates[1].over_capacity);

    let link_first = suggest(&mut manager, referral, pb::SuggestionOrder::LinkFirst).await;
    assert_eq!(ids(&link_first), [link, free], "the manager's choice");
    assert_eq!(link_first.order, pb::SuggestionOrder::LinkFirst as i32);
    assert_eq!(
        link_first.candidates[0].placement,
        "link educational psychologist for this school: first, as asked; 150% of capacity"
    );

    let bad = manager.suggest_allocation(pb::SuggestAllocationRequest { referral_id: referral, order: 9 }).await;
    let bad = bad.expect_err("an order that does not exist");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("order") || format!("{:?}", bad.details()).contains("order"), "{bad:?}");
    let mut medway = platform.caseloads(Role::LaManager, Some("887")).await;
    let elsewhere = medway.suggest_allocation(pb::SuggestAllocationRequest { referral_id: referral, order: 0 }).await;
    assert_eq!(elsewhere.expect_err("another authority's referral").code(), Code::NotFound);

    // The same over JSON, the order by its name.
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let http = Client::new();
    let token = platform.token(Role::LaManager, Some("886"), None);
    let url = |query: &str| format!("{}/api/v1/referrals/{referral}/suggestions{query}", gateway.url());
    let (status, body) = get_json(&http, url(""), &token).await;
    assert_eq!(status, 200);
    assert_eq!(body["candidates"][0]["professional_id"], free);
    assert_eq!(body["order"], "SUGGESTION_ORDER_ROOM_FIRST");
    let (status, body) = get_json(&http, url("?order=SUGGESTION_ORDER_LINK_FIRST"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(body["candidates"][0]["professional_id"], link);
    assert!(body["candidates"][0]["placement"].as_str().is_some_and(|p| p.contains("first, as asked")));
    let (status, body) = get_json(&http, url("?order=SIDEWAYS"), &token).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("order"), "{body}");

    // And on the referral's page, with the choice to see the link first.
    let html = page(&gateway, Role::LaManager, &format!("/referrals/{referral}")).await;
    assert!(html.contains("link educational psychologist for this school; 150% of capacity: after everyone with room"));
    assert!(html.contains("?order=link_first#allocate"), "the manager can ask for the link first");
    let html = page(&gateway, Role::LaManager, &format!("/referrals/{referral}?order=link_first")).await;
    assert!(html.contains("first, as asked"));
    let first = html.find("Allocate to Dr ep-link").expect("the link EP offered");
    assert!(first < html.find("Allocate to Dr ep-free").expect("the other offered"), "link first on the page");
}

/// Closes school `urn` of 886 (a community primary of roll `roll`), as its manager would.
async fn close(platform: &TestPlatform, urn: &str, estab: &str, roll: u32) {
    let mut schools = platform.manager("886").await;
    let school = schools.get_school(pb::GetSchoolRequest { urn: urn.into() }).await.expect("school").into_inner();
    let fields = pb::SchoolFields {
        laestab: format!("886{estab}"),
        name: format!("School {estab}"),
        establishment_type_code: 1,
        phase: pb::Phase::Primary as i32,
        statutory_low_age: Some(4),
        statutory_high_age: Some(11),
        number_on_roll: Some(roll),
        postcode: "CT1 1AA".into(),
        status: pb::EstablishmentStatus::Closed as i32,
        open_date: None,
        close_date: date(2026, 11, 20),
    };
    let request = pb::UpdateSchoolRequest { urn: urn.into(), version: school.version, school: Some(fields) };
    schools.update_school(request).await.expect("closed");
}

async fn a_closed_school_leaves_the_time_model_links_suggestions_and_senco_compliance(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    for (urn, estab, roll) in [(100001, "2001", 200), (100002, "2002", 300), (100003, "2003", 500)] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), roll).await;
    }
    let first = platform.pupil_on_support("886", 1, 100002, ("Ada", "Moss")).await;
    let second = platform.pupil_on_support("886", 2, 100002, ("Ben", "Moss")).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let link = create_ep(&mut manager, "ep-link", "main_grade", 10).await;
    let other = create_ep(&mut manager, "ep-other", "main_grade", 10).await;
    manager.link_school(pb::LinkSchoolRequest { professional_id: link, urn: "100002".into() }).await.expect("linked");
    let referral = accepted_referral(&platform, first, 100002, "r1").await;
    let case = manager.allocate_case(allocate(referral, link, "a1", "")).await.expect("allocated").into_inner();
    let ep = platform.token_for("ep-link", Role::EducationalPsychologist, "886");
    let visit = pb::RecordCaseActivityRequest {
        case_id: case.id,
        on: date(2026, 11, 10),
        kind: "consultation".into(),
        sessions: 2,
        note: String::new(),
        ..Default::default()
    };
    platform.caseloads_as(&ep).await.record_case_activity(visit).await.expect("recorded");
    let model = pb::SetTimeAllocationModelRequest {
        term: "2026-autumn".into(),
        sessions_available: 100,
        base_per_school: 10,
        weight_number_on_roll: 1,
        weight_sen_support: 0,
        weight_ehc_plans: 0,
    };
    manager.set_time_allocation_model(model).await.expect("model");
    close(&platform, "100002", "2002", 300).await;

    // The time: shared between the two open schools (80 after the base, 200:500
    // by roll), the closed one listed only for what it used before it closed.
    let allocations =
        manager.list_school_allocations(pb::ListSchoolAllocationsRequest::default()).await.expect("model").into_inner();
    let rows: Vec<(&str, f64, u32, bool)> =
        allocations.schools.iter().map(|s| (s.urn.as_str(), s.allocated, s.used, s.closed)).collect();
    assert_eq!(rows, [("100001", 32.9, 0, false), ("100003", 67.1, 0, false), ("100002", 0.0, 2, true)]);
    let shared: f64 = allocations.schools.iter().map(|s| s.allocated).sum();
    assert!((shared - 100.0).abs() < 0.05, "all the term's time goes to open schools: {shared}");
    let mut medway = platform.caseloads(Role::LaManager, Some("887")).await;
    let theirs = medway.list_school_allocations(pb::ListSchoolAllocationsRequest::default()).await;
    assert_eq!(theirs.expect_err("887 has no model").code(), Code::NotFound);

    // No new link to it; the old link no longer counts in suggestions.
    let refused = manager.link_school(pb::LinkSchoolRequest { professional_id: other, urn: "100002".into() }).await;
    let refused = refused.expect_err("a closed school takes no link professional");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("100002 is closed"), "{}", refused.message());
    let professionals = manager.list_professionals(pb::ListProfessionalsRequest::default()).await.expect("list");
    let others_links = professionals.into_inner().professionals.into_iter().find(|p| p.id == other).expect("other");
    assert!(others_links.link_schools.is_empty(), "nothing written");
    let next = accepted_referral(&platform, second, 100002, "r2").await;
    for order in [pb::SuggestionOrder::RoomFirst, pb::SuggestionOrder::LinkFirst] {
        let answer = suggest(&mut manager, next, order).await;
        assert!(answer.school_closed);
        assert_eq!(ids(&answer), [other, link], "lightest first, no link counted ({order:?})");
        for candidate in &answer.candidates {
            let said = format!("{} {:?}", candidate.placement, candidate.reasons);
            assert!(!said.contains("link educational psychologist for this school"), "{said}");
        }
    }

    // SENCO compliance: the closed school needs no SENCO and takes none.
    let mut schools = platform.manager("886").await;
    let closed = schools.get_school(pb::GetSchoolRequest { urn: "100002".into() }).await.expect("school").into_inner();
    assert!(!closed.requires_senco);
    let report = schools
        .list_senco_compliance(pb::ListSencoComplianceRequest::default())
        .await
        .expect("compliance")
        .into_inner();
    let without: Vec<&str> = report.without_senco.iter().map(|s| s.urn.as_str()).collect();
    assert_eq!(without, ["100001", "100003"]);
    let appoint = pb::AppointSencoRequest {
        urn: "100002".into(),
        senco: Some(pb::SencoFields {
            person_name: "Sam Senco".into(),
            email: "sam@school.example".into(),
            qualified_teacher: true,
            award: pb::SencoAward::None as i32,
            award_achieved_on: None,
        }),
        appointed_on: date(2026, 11, 1),
        prior_senco_experience_over_12_months: false,
    };
    let refused = schools.appoint_senco(appoint).await.expect_err("a closed school takes no SENCO");
    assert_eq!(refused.code(), Code::FailedPrecondition);

    // The pages: tagged closed, never "No SENCO"; its page says it has no share of time.
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let html = page(&gateway, Role::LaManager, "/schools").await;
    let row = &html[html.find("School 2002").expect("the closed school listed")..];
    let row = &row[..row.find("</tr>").expect("its row")];
    assert!(row.contains("School closed") && !row.contains("No SENCO"), "{row}");
    assert_eq!(html.matches("tag--red\">No SENCO<").count(), 2, "the two open schools without one");
    let html = page(&gateway, Role::LaManager, "/schools/100002").await;
    assert!(html.contains("The school is closed, so it has no share of this term"), "the school's page");
    let html = page(&gateway, Role::LaManager, &format!("/referrals/{next}")).await;
    assert!(html.contains("The school is closed."), "the allocation warns");
}

sen_platform::on_both_engines!(
    a_link_ep_over_capacity_is_suggested_after_one_with_room_unless_the_manager_asks,
    a_closed_school_leaves_the_time_model_links_suggestions_and_senco_compliance,
);
