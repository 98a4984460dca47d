//! The schools' names the pages show are kept in the gateway a short while for
//! each scope of caller (`sen_gateway::schools_cache`), and that keeps every
//! scope: once the council's manager has had them, another authority's
//! manager, a SENCO of one school and a role that may not list schools still see
//! only what the schools service would show them. A school renamed or added
//! through the gateway shows on the very next view.

use reqwest::Client;
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{TestPlatform, primary_school};

/// Kent's two schools ("School 2001", "School 2002") and Medway's two ("School 3001", "School 3002").
const KENT: [(u32, &str); 2] = [(100001, "2001"), (100002, "2002")];
const MEDWAY: [(u32, &str); 2] = [(100003, "3001"), (100004, "3002")];

async fn view(gateway: &TestGateway, client: &Client, path: &str) -> (u16, String) {
    let answer = client.get(format!("{}{path}", gateway.url())).send().await.expect("answered");
    (answer.status().as_u16(), answer.text().await.expect("a body"))
}

async fn the_kept_school_names_keep_every_scope_and_follow_a_change(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    for (urn, estab) in KENT {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 300).await;
    }
    for (urn, estab) in MEDWAY {
        platform.school_of("887", urn, estab, pb::Phase::Primary, (4, 11), 300).await;
    }
    // A referral from Kent's first school.
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Ada", "Reed")).await;
    platform.accepted_referral_886(pupil, "educational_psychology", "kept").await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");

    // Kent's manager sees Kent's schools (in the rows and the school filter), none of Medway's.
    let kent = gateway.web_client(Role::LaManager, Some("886"), None).await;
    for path in ["/referrals", "/annual-reviews-due", "/statutory-clock", "/schools"] {
        let (status, html) = view(&gateway, &kent, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("School 2001") && html.contains("School 2002"), "{path}: {html}");
        assert!(!html.contains("School 300"), "{path}: {html}");
    }

    // Medway's manager, just after, sees Medway's schools alone.
    let medway = gateway.web_client(Role::LaManager, Some("887"), None).await;
    for path in ["/referrals", "/annual-reviews-due", "/schools"] {
        let (status, html) = view(&gateway, &medway, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("School 3001") && html.contains("School 3002"), "{path}: {html}");
        assert!(!html.contains("School 200"), "another authority's names: {path}: {html}");
    }

    // The SENCO of Kent's first school sees their own school's name, never the second's.
    let senco = gateway.web_client(Role::Senco, Some("886"), Some(100001)).await;
    let (status, html) = view(&gateway, &senco, "/referrals").await;
    assert_eq!(status, 200);
    assert!(html.contains("School 2001"), "{html}");
    assert!(!html.contains("School 2002") && !html.contains("School 300"), "{html}");

    // A professional of Kent is refused the lists of schools, and shown no school's name.
    let professional = gateway.web_client(Role::EducationalPsychologist, Some("886"), None).await;
    let (status, html) = view(&gateway, &professional, "/annual-reviews-due").await;
    assert_eq!(status, 403);
    assert!(!html.contains("School 200"), "{html}");
    let (_, html) = view(&gateway, &professional, "/referrals").await;
    assert!(!html.contains("School 200") && !html.contains("School 300"), "{html}");

    // Kent's manager renames a school and adds one through the gateway: the next view shows both.
    let token = platform.token(Role::LaManager, Some("886"), None);
    let mut schools = SchoolsServiceClient::new(gateway.bearer(&token).await.expect("the gateway"));
    let first = schools.get_school(pb::GetSchoolRequest { urn: "100001".into() }).await.expect("a school");
    let rename = pb::UpdateSchoolRequest {
        urn: "100001".into(),
        version: first.into_inner().version,
        school: Some(primary_school("886", "2001", "Renamed Primary School")),
    };
    schools.update_school(rename).await.expect("renamed");
    let added = pb::CreateSchoolRequest {
        urn: "100005".into(),
        school: Some(primary_school("886", "2005", "Newly Opened School")),
    };
    schools.create_school(added).await.expect("added");
    let (_, html) = view(&gateway, &kent, "/referrals").await;
    assert!(html.contains("Renamed Primary School") && html.contains("Newly Opened School"), "{html}");
    assert!(!html.contains("School 2001"), "the old name is gone: {html}");
    let (_, html) = view(&gateway, &medway, "/referrals").await;
    assert!(!html.contains("Renamed Primary School") && !html.contains("Newly Opened School"), "{html}");
}

sen_platform::on_both_engines!(the_kept_school_names_keep_every_scope_and_follow_a_change);
