//! A service's token for every authority at once (the retention pass's, to list
//! what is due across authorities) opens one method only: the pupils service's
//! `TakeErasures`. Every other method of every service, as the descriptor set
//! lists them (so a method added later is covered), refuses it with
//! PERMISSION_DENIED whatever the request. The gateway lets none in: not as a
//! bearer token, nor smuggled in the services' own metadata.

use prost_reflect::DescriptorPool;
use sen_platform::identity::{IDENTITY_METADATA_KEY, ServiceIdentity};
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;
use sen_tests::raw;
use tonic::Code;

/// The one method that takes it.
const ACROSS_TENANTS: &str = "/sen.v1.PupilsService/TakeErasures";

/// The services behind the gateway.
const SERVICES: [&str; 4] =
    [sen_schools::SERVICE_NAME, sen_pupils::SERVICE_NAME, sen_referrals::SERVICE_NAME, sen_caseloads::SERVICE_NAME];

/// Every method of the services, by gRPC path.
fn every_method() -> Vec<String> {
    let pool = DescriptorPool::decode(sen_proto::FILE_DESCRIPTOR_SET).expect("the descriptor set");
    let mut paths = Vec::new();
    for service in pool.services().filter(|s| SERVICES.contains(&s.full_name())) {
        for method in service.methods() {
            paths.push(format!("/{}/{}", service.full_name(), method.name()));
        }
    }
    paths
}

fn every_tenant_token(platform: &TestPlatform) -> String {
    ServiceIdentity::new(platform.issuer.signer.clone(), sen_caseloads::PART)
        .token_for_every_tenant()
        .expect("a token for every authority")
}

#[tokio::test]
async fn a_token_for_every_authority_is_refused_by_every_method_but_take_erasures() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("the platform");
    platform.school_886(100001, "2001", pb::Phase::Secondary, (11, 18), 900).await;
    platform.pupil_on_support("886", 1, 100001, ("Ada", "Byron")).await;
    let token = every_tenant_token(&platform);
    let channel = platform.channel().await.expect("a channel");
    let paths = every_method();
    for service in SERVICES {
        assert!(paths.iter().any(|p| p.starts_with(&format!("/{service}/"))), "no method of {service} listed");
    }
    for path in paths.iter().filter(|p| *p != ACROSS_TENANTS) {
        let answer = raw::call(channel.clone(), path, &[], &[(IDENTITY_METADATA_KEY, &token)]).await;
        let status = answer.expect_err(&format!("{path} answered a token for every authority"));
        assert_eq!(status.code(), Code::PermissionDenied, "{path}: {status:?}");
    }

    // The one method lists across authorities, ids only.
    let mut pupils = platform.pupils_as(&token).await;
    let request = pb::TakeErasuresRequest { holder: String::new(), limit: 10, dry_run: true, lease_seconds: 0 };
    let listed = pupils.take_erasures(request).await.expect("TakeErasures takes it").into_inner();
    assert!(listed.erasures.is_empty(), "nobody on the register is past retention: {listed:?}");
}

#[tokio::test]
async fn the_gateway_lets_no_token_for_every_authority_in() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("the platform");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("the gateway");
    let token = every_tenant_token(&platform);
    let channel = gateway.channel().await.expect("a channel to the gateway");
    let bearer = format!("Bearer {token}");
    for path in every_method() {
        let as_bearer = raw::call(channel.clone(), &path, &[], &[("authorization", &bearer)]).await;
        let status = as_bearer.expect_err(&format!("{path} let a service's bearer token in"));
        assert_eq!(status.code(), Code::PermissionDenied, "{path} as a bearer token: {status:?}");
        // The services' own metadata is dropped at the door: the call has no identity.
        let smuggled = raw::call(channel.clone(), &path, &[], &[(IDENTITY_METADATA_KEY, &token)]).await;
        let status = smuggled.expect_err(&format!("{path} passed a service's token on"));
        assert_eq!(status.code(), Code::Unauthenticated, "{path} in x-sen-identity: {status:?}");
    }
    gateway.stop().await.expect("the gateway stops");
}
