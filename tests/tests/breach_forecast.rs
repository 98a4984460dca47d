//! The breach forecast through the real services: GetBreachForecast and
//! GetCapacityForecast for the council team of the authority, each answer
//! saying when it was computed; the what-if refused naming its field when it is
//! out of range; and nothing seen from another authority or by another role;
//! the dashboard's forecast figure, the `/forecast` page with its what-if, and
//! a move accepted there going through ReassignCase.

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::bad_fields;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{TestPlatform, create_ep};
use tonic::Code;

/// An EHC needs assessment request of school 100001 of 886, received today and
/// allocated to Dr ep-ana; Dr ep-bo has no case.
struct World {
    platform: TestPlatform,
    request: i64,
    ana: i64,
    case: i64,
}

async fn world(engine: Engine) -> World {
    let platform = TestPlatform::start(engine).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let request = platform.accepted_referral_886(pupil, "ehc_needs_assessment", "ehc-1").await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let ana = create_ep(&mut manager, "ep-ana", "senior", 10).await;
    create_ep(&mut manager, "ep-bo", "senior", 10).await;
    let allocate = pb::AllocateCaseRequest {
        referral_id: request,
        professional_id: ana,
        idempotency_key: "alloc-1".into(),
        override_reason: String::new(),
    };
    let case = manager.allocate_case(allocate).await.expect("allocated").into_inner().id;
    World { platform, request, ana, case }
}

async fn the_council_team_sees_each_open_request_forecast_with_when_it_was_computed(engine: Engine) {
    let w = world(engine).await;
    for role in [Role::LaManager, Role::CaseOfficer] {
        let mut client = w.platform.caseloads(role, Some("886")).await;
        let answer = client.get_breach_forecast(pb::GetBreachForecastRequest::default()).await;
        let forecast = answer.expect("forecast").into_inner();
        assert!(chrono::DateTime::parse_from_rfc3339(&forecast.computed_at).is_ok(), "{}", forecast.computed_at);
        assert_eq!(forecast.requests.len(), 1, "{forecast:?}");
        let r = &forecast.requests[0];
        assert_eq!((r.referral_id, r.case_id, r.allocated_to.as_str()), (w.request, w.case, "Dr ep-ana"));
        assert!((0.0..=1.0).contains(&r.breach_probability) && !r.reasons.is_empty(), "{r:?}");
        assert!(r.steps.iter().any(|s| s.step == "final plan issued"), "{:?}", r.steps);
        // Nothing learnt yet: the model says it assumes the statutory timetable.
        assert!(forecast.model.iter().any(|line| line.contains("statutory timetable assumed")), "{forecast:?}");
        // The dashboard's figures alone: the same figures, no request listed.
        let figures = pb::GetBreachForecastRequest { figures_only: true, ..Default::default() };
        let figures = client.get_breach_forecast(figures).await.expect("figures").into_inner();
        assert!(figures.requests.is_empty(), "{figures:?}");
        assert_eq!(
            (figures.likely_breaches, figures.expected_breaches, &figures.model, &figures.computed_at),
            (forecast.likely_breaches, forecast.expected_breaches, &forecast.model, &forecast.computed_at)
        );

        let capacity = client.get_capacity_forecast(pb::GetCapacityForecastRequest::default()).await;
        let capacity = capacity.expect("capacity").into_inner();
        assert_eq!((capacity.today.len(), capacity.what_if.len()), (6, 6));
        assert_eq!(capacity.what_if_summary, "the team as it is");
        assert!(!capacity.computed_at.is_empty());
    }
    let mut manager = w.platform.caseloads(Role::LaManager, Some("886")).await;
    let what_if = pb::GetCapacityForecastRequest {
        extra_ep_days_per_week: 2.0,
        leaving_professional_id: w.ana,
        ..Default::default()
    };
    let answer = manager.get_capacity_forecast(what_if).await.expect("what-if").into_inner();
    assert_eq!(answer.what_if_summary, "2 extra EP days a week; Dr ep-ana leaving");
    assert_eq!(answer.what_if.len(), 6);
}

async fn a_what_if_out_of_range_is_refused_naming_its_field(engine: Engine) {
    let w = world(engine).await;
    let mut manager = w.platform.caseloads(Role::LaManager, Some("886")).await;
    let wild = pb::GetCapacityForecastRequest {
        extra_ep_days_per_week: -1.0,
        sessions_to_statutory_per_term: 5000,
        suggestions: 50,
        ..Default::default()
    };
    let refused = manager.get_capacity_forecast(wild).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["extra_ep_days_per_week", "sessions_to_statutory_per_term", "suggestions"]);
    let stranger = pb::GetCapacityForecastRequest { leaving_professional_id: 9999, ..Default::default() };
    assert_eq!(bad_fields(&manager.get_capacity_forecast(stranger).await.unwrap_err()), ["leaving_professional_id"]);
    let odd = pb::GetBreachForecastRequest { min_probability: 1.5, ..Default::default() };
    assert_eq!(bad_fields(&manager.get_breach_forecast(odd).await.unwrap_err()), ["min_probability"]);
}

async fn another_authority_and_other_roles_see_no_forecast(engine: Engine) {
    let w = world(engine).await;
    let mut elsewhere = w.platform.caseloads(Role::LaManager, Some("887")).await;
    let theirs = elsewhere.get_breach_forecast(pb::GetBreachForecastRequest::default()).await.unwrap().into_inner();
    assert!(theirs.requests.is_empty(), "not another authority's requests: {theirs:?}");
    let capacity = elsewhere.get_capacity_forecast(pb::GetCapacityForecastRequest::default()).await.unwrap();
    assert!(capacity.into_inner().suggestions.is_empty());
    let mut ana = w.platform.caseloads_as(&w.platform.token_for("ep-ana", Role::EducationalPsychologist, "886")).await;
    let refused = ana.get_breach_forecast(pb::GetBreachForecastRequest::default()).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let mut senco = w.platform.caseloads_for(Role::Senco, Some("886"), Some(100001)).await;
    let refused = senco.get_capacity_forecast(pb::GetCapacityForecastRequest::default()).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
}

sen_platform::on_both_engines!(
    the_council_team_sees_each_open_request_forecast_with_when_it_was_computed,
    a_what_if_out_of_range_is_refused_naming_its_field,
    another_authority_and_other_roles_see_no_forecast,
);

#[tokio::test]
async fn the_forecast_page_shows_the_what_if_and_an_accepted_move_reassigns_the_case() {
    let w = world(Engine::Sqlite).await;
    let mut manager = w.platform.caseloads(Role::LaManager, Some("886")).await;
    let balance = manager.get_caseload_balance(pb::GetCaseloadBalanceRequest::default()).await.unwrap().into_inner();
    let bo = balance.professionals.iter().find(|p| p.name == "Dr ep-bo").expect("bo").professional_id;
    let gateway = TestGateway::start(&w.platform, GatewayOptions::default()).await.expect("gateway");
    let web = gateway.web_client(Role::LaManager, Some("886"), None).await;
    let dashboard = web.get(format!("{}/dashboard", gateway.url())).send().await.expect("page").text().await;
    assert!(dashboard.expect("html").contains("Requests likely to breach (forecast)"), "the dashboard's figure");
    let page = web.get(format!("{}/forecast?extra_days=2", gateway.url())).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("Breach forecast") && html.contains("2 extra EP days a week"), "{html}");
    // Reached from the dashboard's figure, it is marked as within the dashboard, as its sibling pages are.
    assert!(html.contains(r#"nav__link--current" href="/dashboard""#), "{html}");
    let typo = web.get(format!("{}/forecast?extra_days=lots", gateway.url())).send().await.expect("page");
    let html = typo.text().await.expect("html");
    assert!(html.contains("href=\"#extra_days\"") && html.contains("Enter extra EP days a week"), "{html}");

    // Accepting a move is a reassignment: checked, and the case moves.
    let csrf = gateway.csrf(&web, "/forecast").await;
    let no_token = [("case_id", w.case.to_string()), ("professional_id", bo.to_string())];
    let refused = web.post(format!("{}/forecast/accept", gateway.url())).form(&no_token).send().await.expect("answer");
    assert_eq!(refused.status(), 403, "no CSRF token, no move");
    let accept = [("case_id", w.case.to_string()), ("professional_id", bo.to_string()), ("csrf", csrf)];
    let moved = web.post(format!("{}/forecast/accept", gateway.url())).form(&accept).send().await.expect("answer");
    assert!(moved.status().is_success() || moved.status().is_redirection(), "{:?}", moved.status());
    let case = manager.get_case(pb::GetCaseRequest { case_id: w.case }).await.unwrap().into_inner();
    assert_eq!(case.professional_id, bo, "moved through ReassignCase");

    let officer = gateway.web_client(Role::CaseOfficer, Some("886"), None).await;
    let csrf = gateway.csrf(&officer, "/forecast").await;
    let again = [("case_id", w.case.to_string()), ("professional_id", w.ana.to_string()), ("csrf", csrf)];
    let answer = officer.post(format!("{}/forecast/accept", gateway.url())).form(&again).send().await.expect("answer");
    assert_eq!(answer.status(), 403, "only a manager reassigns");
    let senco = gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let answer = senco.get(format!("{}/forecast", gateway.url())).send().await.expect("page");
    assert_eq!(answer.status(), 403);
}
