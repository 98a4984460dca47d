//! The gateway in front of the real services: who may call what, that no one
//! can speak for someone else, that another authority sees nothing, how it
//! answers when a service is down or it is overloaded, and the JSON face.

use std::time::{Duration, Instant};

use bytes::Bytes;
use sen_gateway::policy::RULES;
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::caseloads_service_client::CaseloadsServiceClient;
use sen_proto::v1::gateway_service_client::GatewayServiceClient;
use sen_proto::v1::pupils_service_client::PupilsServiceClient;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;
use sen_tests::raw::Raw;
use tonic::Code;

use Role::*;

const PEOPLE: [Role; 6] = [LaManager, CaseOfficer, Senco, EducationalPsychologist, AdvisoryTeacher, PlatformOperator];

/// Calls the method at `path` with one empty message and returns the status code
/// and message of the answer.
async fn call_raw(gateway: &TestGateway, token: &str, path: &str) -> (Code, String) {
    let channel = gateway.bearer(token).await.expect("gateway");
    call_on(channel, path).await
}

type Bearer =
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, sen_platform::identity::AttachBearer>;

async fn call_on(channel: Bearer, path: &str) -> (Code, String) {
    let server_streaming = sen_gateway::proxy::shape(path).server_streaming;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let path: http::uri::PathAndQuery = path.parse().expect("path");
    let request = tonic::Request::new(tokio_stream::iter(vec![Bytes::new()]));
    let outcome = match grpc.streaming(request, path, Raw).await {
        // A stream that opened is an answer; its first change may be a long time coming.
        Ok(_) if server_streaming => Ok(()),
        Ok(response) => {
            let mut stream = response.into_inner();
            match stream.message().await {
                Ok(_) => Ok(()),
                Err(status) => Err(status),
            }
        }
        Err(status) => Err(status),
    };
    match outcome {
        Ok(()) => (Code::Ok, String::new()),
        Err(status) => (status.code(), status.message().to_owned()),
    }
}

fn identity(role: Role, tenant: &str) -> (Option<&str>, Option<u32>) {
    match role {
        PlatformOperator => (None, None),
        Senco => (Some(tenant), Some(100001)),
        _ => (Some(tenant), None),
    }
}

#[tokio::test]
async fn every_method_admits_exactly_the_roles_of_the_gateway_policy_and_no_more() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    for tenant in ["886", "887"] {
        for role in PEOPLE {
            let (tenant, school) = identity(role, tenant);
            let token = platform.token(role, tenant, school);
            let channel = gateway.bearer(&token).await.expect("gateway");
            for rule in RULES {
                let (code, message) = call_on(channel.clone(), &rule.grpc_path()).await;
                let refused_here = code == Code::PermissionDenied
                    && (message.contains("may not call") || message.contains("not open through the gateway"));
                if rule.admits(role) {
                    assert!(!refused_here, "{} must be open to {role}: {message}", rule.grpc_path());
                    assert_ne!(code, Code::Unauthenticated, "{} as {role}: {message}", rule.grpc_path());
                    // The services apply the same table; only the event-by-event check of
                    // ChangeReferralStatus is finer than the gateway's.
                    if rule.method != "ChangeReferralStatus" {
                        assert_ne!(code, Code::PermissionDenied, "{} as {role}: {message}", rule.grpc_path());
                    }
                } else {
                    assert!(refused_here, "{} must be refused to {role}, got {code:?} {message}", rule.grpc_path());
                }
            }
        }
    }
    let token = platform.token(LaManager, Some("886"), None);
    let (code, _) = call_raw(&gateway, &token, "/sen.v1.PupilsService/DropEverything").await;
    assert_eq!(code, Code::PermissionDenied, "a method without a rule is refused");
}

#[tokio::test]
async fn a_client_cannot_speak_for_someone_else_by_sending_internal_metadata() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100002, "2002", pb::Phase::Primary, (4, 11), 100).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    // A validly signed manager identity, sent as the internal header by a SENCO of another school.
    let forged = platform.token(LaManager, Some("886"), None);
    let senco = platform.token(Senco, Some("886"), Some(100001));
    let channel = gateway.bearer(&senco).await.expect("gateway");
    let mut schools = SchoolsServiceClient::new(channel);
    let mut request = tonic::Request::new(pb::GetSchoolRequest { urn: "100002".into() });
    request.metadata_mut().insert("x-sen-identity", forged.parse().expect("ascii"));
    let status = schools.get_school(request).await.expect_err("another school");
    assert_eq!(status.code(), Code::NotFound, "the call was made as the SENCO, not as the forged manager");

    // Without a bearer token the internal header alone gets nowhere.
    let mut anonymous = SchoolsServiceClient::new(gateway.channel().await.expect("gateway"));
    let mut request = tonic::Request::new(pb::GetSchoolRequest { urn: "100002".into() });
    request.metadata_mut().insert("x-sen-identity", forged.parse().expect("ascii"));
    assert_eq!(anonymous.get_school(request).await.expect_err("anonymous").code(), Code::Unauthenticated);

    for bad in ["garbage", "a.b.c", ""] {
        let channel = gateway.bearer(bad).await.expect("gateway");
        let status = SchoolsServiceClient::new(channel)
            .list_schools(pb::ListSchoolsRequest::default())
            .await
            .expect_err("bad token");
        assert_eq!(status.code(), Code::Unauthenticated, "token {bad:?}");
    }
}

#[tokio::test]
async fn another_authority_and_another_school_see_nothing_through_either_face() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    platform.school_886(100002, "2002", pb::Phase::Primary, (4, 11), 200).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let officer = platform.token(CaseOfficer, Some("886"), None);
    let mut pupils = PupilsServiceClient::new(gateway.bearer(&officer).await.expect("gateway"));
    let upn = sen_pupils::domain::Upn::from_body("886200125001").expect("upn");
    let created = pupils
        .create_pupil(pb::CreatePupilRequest {
            pupil: Some(pb::PupilFields {
                upn: upn.as_str().into(),
                legal_forename: "Musa".into(),
                legal_surname: "Ali".into(),
                date_of_birth: Some(pb::Date { year: 2017, month: 2, day: 2 }),
                school_urn: "100001".into(),
                ..Default::default()
            }),
            sen_status: pb::SenProvision::SenSupport as i32,
            primary_need_code: "SLCN".into(),
            ..Default::default()
        })
        .await
        .expect("pupil")
        .into_inner();

    for (role, tenant, school) in [(LaManager, "887", None), (CaseOfficer, "887", None), (Senco, "886", Some(100002))] {
        let token = platform.token(role, Some(tenant), school);
        let mut pupils = PupilsServiceClient::new(gateway.bearer(&token).await.expect("gateway"));
        let status = pupils.get_pupil(pb::GetPupilRequest { id: created.id }).await.expect_err("out of scope");
        assert_eq!(status.code(), Code::NotFound, "{role} of {tenant}");
        let listed = pupils.list_pupils(pb::ListPupilsRequest::default()).await.expect("list").into_inner();
        assert!(listed.pupils.is_empty(), "{role} of {tenant} sees no one");

        let http = reqwest::Client::new();
        let response = http
            .get(format!("{}/api/v1/pupils/{}", gateway.url(), created.id))
            .bearer_auth(&token)
            .send()
            .await
            .expect("json");
        assert_eq!(response.status(), 404, "{role} of {tenant} over JSON");
        let body: serde_json::Value = response.json().await.expect("error body");
        assert_eq!(body["error"]["code"], "NOT_FOUND");
    }
    // The pupil's own council reads them over JSON, and no cache keeps the answer.
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/pupils/{}", gateway.url(), created.id))
        .bearer_auth(&officer)
        .send()
        .await
        .expect("json");
    assert_eq!(response.status(), 200);
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(header("cache-control").as_deref(), Some("no-store"), "a pupil's record is never cached");
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    // An EP with no case of this pupil sees nothing either.
    let ep = platform.token(EducationalPsychologist, Some("886"), None);
    let mut pupils = PupilsServiceClient::new(gateway.bearer(&ep).await.expect("gateway"));
    assert_eq!(
        pupils.get_pupil(pb::GetPupilRequest { id: created.id }).await.expect_err("no case").code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn a_downed_service_answers_unavailable_quickly_and_the_overview_still_answers_the_rest() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let options = GatewayOptions { down: vec!["caseloads"], ..Default::default() };
    let gateway = TestGateway::start(&platform, options).await.expect("gateway");
    let manager = platform.token(LaManager, Some("886"), None);

    let started = Instant::now();
    let mut caseloads = CaseloadsServiceClient::new(gateway.bearer(&manager).await.expect("gateway"));
    let status = caseloads.list_professionals(pb::ListProfessionalsRequest::default()).await.expect_err("down");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("caseloads"), "{}", status.message());
    assert!(started.elapsed() < Duration::from_secs(3), "answered in {:?}", started.elapsed());

    let mut overview = GatewayServiceClient::new(gateway.bearer(&manager).await.expect("gateway"));
    let answer = overview.get_overview(pb::GetOverviewRequest::default()).await.expect("overview").into_inner();
    assert_eq!(answer.tenant, "886");
    assert!(answer.register.is_some() && answer.referrals.is_some() && answer.statutory_clock.is_some());
    assert!(answer.senco_compliance.is_some() && answer.transitions_due.is_some());
    assert!(answer.caseload_balance.is_none());
    let parts: Vec<&str> = answer.unavailable.iter().map(|p| p.part.as_str()).collect();
    assert_eq!(parts, ["caseload_balance"]);

    // The same over JSON; the gateway stays ready, for it serves all the rest.
    let http = reqwest::Client::new();
    let body: serde_json::Value = http
        .get(format!("{}/api/v1/overview", gateway.url()))
        .bearer_auth(&manager)
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("overview body");
    assert_eq!(body["unavailable"][0]["part"], "caseload_balance");
    let ready = http.get(format!("{}/readyz", gateway.url())).send().await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let healthy = http.get(format!("{}/healthz", gateway.url())).send().await.expect("healthz");
    assert_eq!(healthy.status(), 200);
}

#[tokio::test]
async fn the_overview_for_a_case_officer_leaves_out_what_their_role_may_not_see() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let officer = platform.token(CaseOfficer, Some("886"), None);
    let mut overview = GatewayServiceClient::new(gateway.bearer(&officer).await.expect("gateway"));
    let answer = overview.get_overview(pb::GetOverviewRequest::default()).await.expect("overview").into_inner();
    assert!(answer.caseload_balance.is_none());
    assert_eq!(answer.unavailable.len(), 1);
    assert_eq!(answer.unavailable[0].reason, "not available to your role");
    let senco = platform.token(Senco, Some("886"), Some(100001));
    let mut overview = GatewayServiceClient::new(gateway.bearer(&senco).await.expect("gateway"));
    let refused = overview.get_overview(pb::GetOverviewRequest::default()).await.expect_err("senco");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let upstreams = reqwest::get(format!("{}/readyz/upstreams", gateway.url())).await.expect("upstreams");
    assert_eq!(upstreams.status(), 200, "every service answers");
}

#[tokio::test]
async fn at_the_concurrency_limit_requests_are_refused_at_once_not_queued() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let options = GatewayOptions { max_concurrent: 1, ..Default::default() };
    let gateway = TestGateway::start(&platform, options).await.expect("gateway");
    let manager = platform.token(LaManager, Some("886"), None);
    // An import whose upload is still open holds the one place.
    let (chunks, upload) = tokio::sync::mpsc::channel::<pb::ImportSchoolsRequest>(1);
    let mut importer = SchoolsServiceClient::new(gateway.bearer(&manager).await.expect("gateway"));
    let import =
        tokio::spawn(async move { importer.import_schools(tokio_stream::wrappers::ReceiverStream::new(upload)).await });
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let shed = loop {
        let response =
            http.get(format!("{}/api/v1/schools", gateway.url())).bearer_auth(&manager).send().await.expect("json");
        if response.status() == 503 {
            break response;
        }
        assert!(Instant::now() < deadline, "the open import never took the place");
        tokio::task::yield_now().await;
    };
    let body: serde_json::Value = shed.json().await.expect("error body");
    assert_eq!(body["error"]["code"], "UNAVAILABLE");
    let mut schools = SchoolsServiceClient::new(gateway.bearer(&manager).await.expect("gateway"));
    let status = schools.list_schools(pb::ListSchoolsRequest::default()).await.expect_err("shed");
    assert_eq!(status.code(), Code::Unavailable);
    // Probes are never shed.
    assert_eq!(http.get(format!("{}/healthz", gateway.url())).send().await.expect("healthz").status(), 200);

    drop(chunks);
    let _ = import.await.expect("import task");
    let listed = schools.list_schools(pb::ListSchoolsRequest::default()).await;
    assert!(listed.is_ok(), "the place is free again: {listed:?}");
    let metrics =
        http.get(format!("{}/metrics", gateway.url())).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("sen_gateway_requests_shed_total"), "{metrics}");
}

#[tokio::test]
async fn a_tenant_over_its_rate_limit_is_told_to_slow_down_and_others_are_not() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let options = GatewayOptions { rate: (1, 2), ..Default::default() };
    let gateway = TestGateway::start(&platform, options).await.expect("gateway");
    let busy = platform.token(LaManager, Some("886"), None);
    let mut schools = SchoolsServiceClient::new(gateway.bearer(&busy).await.expect("gateway"));
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(schools.list_schools(pb::ListSchoolsRequest::default()).await.err().map(|s| s.code()));
    }
    assert_eq!(codes, [None, None, Some(Code::ResourceExhausted)]);
    let other = platform.token(LaManager, Some("887"), None);
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/schools", gateway.url()))
        .bearer_auth(&other)
        .send()
        .await
        .expect("json");
    assert_eq!(response.status(), 200, "another authority has its own allowance");
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/schools", gateway.url()))
        .bearer_auth(&busy)
        .send()
        .await
        .expect("json");
    assert_eq!(response.status(), 429);
}

#[tokio::test]
async fn standard_grpc_tools_discover_every_service_on_the_front_port() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let mut reflection = ServerReflectionClient::new(gateway.channel().await.expect("gateway"));
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers =
        reflection.server_reflection_info(tokio_stream::iter(vec![request])).await.expect("reflection").into_inner();
    let answer = answers.message().await.expect("answer").expect("one answer");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("not a service list");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "sen.v1.SchoolsService",
        "sen.v1.PupilsService",
        "sen.v1.ReferralsService",
        "sen.v1.CaseloadsService",
        "sen.v1.GatewayService",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
}

#[tokio::test]
async fn a_referral_sent_as_json_without_consent_names_the_field_and_writes_nothing() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let http = reqwest::Client::new();
    let senco = platform.token(Senco, Some("886"), Some(100001));
    let upn = sen_pupils::domain::Upn::from_body("886200125001").expect("upn");
    let pupil: serde_json::Value = http
        .post(format!("{}/api/v1/pupils", gateway.url()))
        .bearer_auth(&senco)
        .json(&serde_json::json!({
            "pupil": {
                "upn": upn.as_str(), "legal_forename": "Musa", "legal_surname": "Ali",
                "date_of_birth": "2017-02-02", "school_urn": "100001"
            },
            "sen_status": "SEN_PROVISION_SEN_SUPPORT",
            "primary_need_code": "SLCN"
        }))
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("pupil");
    let pupil_id = pupil["id"].as_i64().expect("pupil id");
    let mut referral = serde_json::json!({
        "referral": {
            "pupil_id": pupil_id, "school_urn": "100001", "kind": "educational_psychology",
            "broad_areas": ["communication_and_interaction"],
            "concern": "Speech is hard to understand",
            "graduated_approach": {"summary": "Two cycles of small-group language work"},
            "priority": "routine"
        },
        "idempotency_key": "json-1"
    });
    let refused = http
        .post(format!("{}/api/v1/referrals", gateway.url()))
        .bearer_auth(&senco)
        .json(&referral)
        .send()
        .await
        .expect("json");
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value = refused.json().await.expect("error body");
    assert_eq!(body["error"]["code"], "INVALID_ARGUMENT");
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
    assert!(fields.iter().any(|f| f.contains("consent")), "{body}");
    let listed: serde_json::Value = http
        .get(format!("{}/api/v1/referrals", gateway.url()))
        .bearer_auth(&senco)
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("list");
    assert!(listed["referrals"].as_array().is_none_or(|r| r.is_empty()), "nothing was written: {listed}");

    referral["referral"]["consent"] =
        serde_json::json!({"given_by": "Mother", "given_on": "2026-11-10", "method": "signed_form"});
    let accepted = http
        .post(format!("{}/api/v1/referrals", gateway.url()))
        .bearer_auth(&senco)
        .json(&referral)
        .send()
        .await
        .expect("json");
    assert_eq!(accepted.status(), 200);
    let made: serde_json::Value = accepted.json().await.expect("referral");
    assert_eq!(made["status"], "REFERRAL_STATUS_SUBMITTED");
    assert_eq!(made["body"]["consent"]["given_on"], "2026-11-10");

    let openapi: serde_json::Value = http
        .get(format!("{}/api/v1/openapi.json", gateway.url()))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("doc");
    assert!(openapi["paths"]["/api/v1/referrals"]["post"].is_object());

    let metrics =
        http.get(format!("{}/metrics", gateway.url())).send().await.expect("metrics").text().await.expect("text");
    assert!(
        metrics.contains(r#"sen_gateway_requests_total{route="/api/v1/referrals",status="400",protocol="http"} 1"#),
        "{metrics}"
    );
}
