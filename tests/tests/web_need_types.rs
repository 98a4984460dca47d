//! The council's type-of-need codes page (`/need-types`) over HTTP, through the
//! real gateway and services: the SEN manager sees the codes and adds one, which
//! the pupil forms then offer; a wrong code is refused against its field and
//! writes nothing; no other role reaches the page.

use reqwest::{Client, StatusCode};
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;

async fn get(gateway: &TestGateway, client: &Client, path: &str) -> (StatusCode, String) {
    let response = client.get(format!("{}{path}", gateway.url())).send().await.expect("answer");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

async fn post(gateway: &TestGateway, client: &Client, form: &[(&str, &str)]) -> (StatusCode, String) {
    let csrf = gateway.csrf(client, "/need-types").await;
    let mut fields: Vec<(&str, &str)> = form.to_vec();
    fields.push(("csrf", &csrf));
    let response = client.post(format!("{}/need-types", gateway.url())).form(&fields).send().await.expect("answer");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn the_sen_manager_adds_a_code_that_the_pupil_forms_then_offer() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let manager = gateway.web_client(Role::LaManager, Some("886"), None).await;

    let (status, html) = get(&gateway, &manager, "/need-types").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Down syndrome") && html.contains("DfE (national)"), "{html}");
    assert!(html.contains("SEN support (K) only"), "NSA is shown as valid only with K");

    let (status, html) = post(&gateway, &manager, &[("code", "fasd"), ("name", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("2 to 6 capital letters") && html.contains("Enter what the code means"), "{html}");
    assert!(html.contains(r#"value="fasd""#), "what was typed is kept");

    let form = [
        ("code", "FASD"),
        ("name", "Fetal alcohol spectrum disorder"),
        ("broad_area", "BROAD_AREA_COGNITION_AND_LEARNING"),
    ];
    let (status, _) = post(&gateway, &manager, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the page is shown again, with the code added");
    let (_, html) = get(&gateway, &manager, "/need-types?added=FASD").await;
    assert!(html.contains("Code FASD added") && html.contains("Added by the council"), "{html}");
    let (status, html) = post(&gateway, &manager, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("already a type of need"), "{html}");

    // The status form lists the council's code beside the national ones.
    let senco = gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let (status, html) = get(&gateway, &senco, &format!("/pupils/{pupil}/status")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<option value="FASD""#) && html.contains(r#"<option value="DS""#), "{html}");

    // No other role reaches the page.
    for (role, school) in [(Role::CaseOfficer, None), (Role::Senco, Some(100001))] {
        let client = gateway.web_client(role, Some("886"), school).await;
        let (status, _) = get(&gateway, &client, "/need-types").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
    }
}
