//! The verifier against a real (stub) provider over HTTP: each test is one thing
//! a council's identity provider or an attacker may send.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sen_platform::identity::{Grant, Role};
use sen_platform::ids::{LaCode, Urn};
use serde_json::{Value, json};

use super::testing::StubProvider;
use super::{AuthError, OidcSettings, OidcVerifier, TenantSource};

const AUDIENCE: &str = "sen-platform";
const LIFETIME: Duration = Duration::from_secs(300);

fn code(s: &str) -> LaCode {
    LaCode::parse(s).unwrap()
}

fn case_officer(provider: &StubProvider) -> Value {
    provider.claims("p-1", "case_officer", Some("886"), None, AUDIENCE, LIFETIME)
}

async fn started() -> (StubProvider, OidcVerifier) {
    let provider = StubProvider::start().await;
    let verifier = OidcVerifier::new(provider.settings(AUDIENCE)).unwrap();
    (provider, verifier)
}

/// A verifier that may fetch keys as often as it likes, to test rotation and
/// outages without waiting out the refresh interval.
fn eager(provider: &StubProvider) -> OidcVerifier {
    let settings = OidcSettings { jwks_min_refresh: Duration::ZERO, ..provider.settings(AUDIENCE) };
    OidcVerifier::new(settings).unwrap()
}

async fn refusal(verifier: &OidcVerifier, token: &str) -> AuthError {
    verifier.verify(token).await.expect_err("the token must be refused")
}

/// Asserts the token is refused as not valid, with a reason (for the logs) saying `why`.
async fn assert_invalid(verifier: &OidcVerifier, token: &str, why: &str) {
    match refusal(verifier, token).await {
        AuthError::Invalid(reason) => assert!(reason.contains(why), "'{reason}' does not say '{why}'"),
        other => panic!("refused as {other:?}, not as invalid ({why})"),
    }
}

#[tokio::test]
async fn a_good_token_maps_to_its_grant() {
    let (provider, verifier) = started().await;
    let verified = verifier.verify(&provider.token(&case_officer(&provider))).await.unwrap();
    assert_eq!(
        verified.grant,
        Grant { person: "p-1".into(), role: Role::CaseOfficer, tenant: Some(code("886")), school: None }
    );
    assert!(verified.expires_at > std::time::SystemTime::now());
}

#[tokio::test]
async fn a_role_claim_may_be_a_plain_string() {
    let (provider, verifier) = started().await;
    let mut claims = case_officer(&provider);
    claims["roles"] = json!("la_manager");
    assert_eq!(verifier.verify(&provider.token(&claims)).await.unwrap().grant.role, Role::LaManager);
}

#[tokio::test]
async fn a_senco_token_carries_their_school() {
    let (provider, verifier) = started().await;
    let claims = provider.claims("s-1", "senco", Some("886"), Some("100001"), AUDIENCE, LIFETIME);
    let grant = verifier.verify(&provider.token(&claims)).await.unwrap().grant;
    assert_eq!((grant.role, grant.school), (Role::Senco, Some(Urn::parse("100001").unwrap())));
}

#[tokio::test]
async fn entra_app_roles_map_with_a_fixed_tenant() {
    let provider = StubProvider::start().await;
    let mut settings = provider.settings(AUDIENCE);
    settings.claims.person_claim = "oid".into();
    settings.claims.role_map = Some(HashMap::from([
        ("SEN.Manager".to_owned(), Role::LaManager),
        ("SEN.EducationalPsychologist".to_owned(), Role::EducationalPsychologist),
    ]));
    settings.claims.tenant = TenantSource::Fixed(code("990"));
    let verifier = OidcVerifier::new(settings).unwrap();
    let mut claims = provider.claims("pairwise-sub", "SEN.EducationalPsychologist", None, None, AUDIENCE, LIFETIME);
    claims["oid"] = json!("0c9e4d1a-object-id");
    let grant = verifier.verify(&provider.token(&claims)).await.unwrap().grant;
    assert_eq!(
        grant,
        Grant {
            person: "0c9e4d1a-object-id".into(),
            role: Role::EducationalPsychologist,
            tenant: Some(code("990")),
            school: None,
        }
    );
}

#[tokio::test]
async fn entra_groups_map_to_a_role_and_tid_to_a_tenant() {
    let provider = StubProvider::start().await;
    let mut settings = provider.settings(AUDIENCE);
    settings.claims.role_claim = "groups".into();
    settings.claims.role_map = Some(HashMap::from([("3f2a9c1e-sencos".to_owned(), Role::Senco)]));
    settings.claims.tenant =
        TenantSource::Mapped { claim: "tid".into(), map: HashMap::from([("7a1c-tenant".to_owned(), code("990"))]) };
    settings.claims.school_claim = "extn.senSchoolUrn".into();
    let verifier = OidcVerifier::new(settings).unwrap();
    let mut claims = provider.claims("s-2", "unused", None, None, AUDIENCE, LIFETIME);
    claims["groups"] = json!(["11111111-all-staff", "3f2a9c1e-sencos"]);
    claims["tid"] = json!("7a1c-tenant");
    claims["extn.senSchoolUrn"] = json!(["100002"]);
    let grant = verifier.verify(&provider.token(&claims)).await.unwrap().grant;
    assert_eq!(grant.role, Role::Senco);
    assert_eq!(grant.tenant, Some(code("990")));
    assert_eq!(grant.school, Some(Urn::parse("100002").unwrap()));
}

#[tokio::test]
async fn keys_come_from_the_configured_jwks_url_without_discovery() {
    let provider = StubProvider::start().await;
    let settings = OidcSettings { jwks_url: Some(provider.jwks_url()), ..provider.settings(AUDIENCE) };
    let verifier = OidcVerifier::new(settings).unwrap();
    assert!(verifier.verify(&provider.token(&case_officer(&provider))).await.is_ok());
    assert_eq!(provider.fetches(), 1);
}

#[tokio::test]
async fn rs256_tokens_from_an_rsa_key_are_accepted() {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let rsa = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
    let (provider, verifier) = started().await;
    provider.rotate_to_rsa(rsa.to_pkcs1_der().unwrap().as_bytes());
    let token = provider.token(&case_officer(&provider));
    assert_eq!(jsonwebtoken::decode_header(&token).unwrap().alg, Algorithm::RS256);
    assert_eq!(verifier.verify(&token).await.unwrap().grant.role, Role::CaseOfficer);
}

#[tokio::test]
async fn an_expired_token_is_refused_as_expired() {
    let (provider, verifier) = started().await;
    let mut claims = case_officer(&provider);
    claims["exp"] = json!(claims["iat"].as_u64().unwrap() - 120);
    let refused = refusal(&verifier, &provider.token(&claims)).await;
    assert_eq!(refused, AuthError::Expired);
    assert_eq!(refused.client_message(), "the token has expired");
}

#[tokio::test]
async fn a_token_within_the_clock_skew_is_accepted() {
    let (provider, verifier) = started().await;
    let mut claims = case_officer(&provider);
    let now = claims["iat"].as_u64().unwrap();
    claims["exp"] = json!(now - 20);
    claims["nbf"] = json!(now + 20);
    assert!(verifier.verify(&provider.token(&claims)).await.is_ok());
}

#[tokio::test]
async fn a_token_not_yet_valid_is_refused() {
    let (provider, verifier) = started().await;
    let mut claims = case_officer(&provider);
    claims["nbf"] = json!(claims["iat"].as_u64().unwrap() + 600);
    claims["exp"] = json!(claims["iat"].as_u64().unwrap() + 900);
    assert_invalid(&verifier, &provider.token(&claims), "not valid yet").await;
}

#[tokio::test]
async fn a_token_from_another_issuer_or_for_another_audience_is_refused() {
    let (provider, verifier) = started().await;
    for (claim, value, why) in [
        ("iss", json!(format!("{}/", provider.issuer())), "issuer"),
        ("iss", json!("https://login.microsoftonline.com/another/v2.0"), "issuer"),
        ("aud", json!("another-api"), "audience"),
        ("aud", json!(["another-api", "a-third"]), "audience"),
    ] {
        let mut claims = case_officer(&provider);
        claims[claim] = value;
        let token = provider.token(&claims);
        assert_invalid(&verifier, &token, why).await;
        assert_eq!(refusal(&verifier, &token).await.client_message(), "the token is not valid");
    }
}

#[tokio::test]
async fn a_token_for_several_audiences_including_ours_is_accepted() {
    let (provider, verifier) = started().await;
    let mut claims = case_officer(&provider);
    claims["aud"] = json!(["another-api", AUDIENCE]);
    assert!(verifier.verify(&provider.token(&claims)).await.is_ok());
}

#[tokio::test]
async fn a_token_signed_by_an_unknown_key_is_refused() {
    let (provider, verifier) = started().await;
    let token = provider.token_signed_by_unknown_key(&case_officer(&provider));
    assert_invalid(&verifier, &token, "not in the identity provider's key set").await;
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let (provider, verifier) = started().await;
    let token = provider.token(&case_officer(&provider));
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["roles"] = json!(["la_manager"]);
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    assert_invalid(&verifier, &forged, "signature").await;
    for malformed in ["", "not-a-jwt", "a.b.c", &token[..token.len() - 4]] {
        assert!(matches!(refusal(&verifier, malformed).await, AuthError::Invalid(_)), "{malformed}");
    }
}

#[tokio::test]
async fn unsigned_and_hmac_tokens_are_refused() {
    let (provider, verifier) = started().await;
    let claims = case_officer(&provider);
    let kid = provider.current_kid();
    let header = json!({"alg": "none", "typ": "JWT", "kid": kid});
    let unsigned =
        format!("{}.{}.", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    assert_invalid(&verifier, &unsigned, "malformed token header").await;
    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.kid = Some(kid.clone());
    let hmac =
        jsonwebtoken::encode(&hs256, &claims, &EncodingKey::from_secret(provider.jwks_url().as_bytes())).unwrap();
    assert_invalid(&verifier, &hmac, "HS256 is not accepted").await;
    // An ES256 key named under another algorithm is refused before any signature check.
    let signed = provider.token(&claims);
    let mut confused = Header::new(Algorithm::RS256);
    confused.kid = Some(kid);
    let confused_header = URL_SAFE_NO_PAD.encode(serde_json::to_string(&confused).unwrap());
    let (_, rest) = signed.split_once('.').unwrap();
    assert_invalid(&verifier, &format!("{confused_header}.{rest}"), "is for ES256").await;
}

#[tokio::test]
async fn a_token_mapping_to_the_service_role_is_refused() {
    let (provider, verifier) = started().await;
    let claims = provider.claims("svc", "service", Some("886"), None, AUDIENCE, LIFETIME);
    let refused = refusal(&verifier, &provider.token(&claims)).await;
    assert!(matches!(refused, AuthError::NotPermitted(_)), "{refused}");
    assert_eq!(refused.client_message(), "the token grants no role on this platform");
}

#[tokio::test]
async fn a_token_mapping_to_two_roles_is_refused_as_ambiguous() {
    let (provider, verifier) = started().await;
    let mut claims = case_officer(&provider);
    claims["roles"] = json!(["case_officer", "la_manager"]);
    let refused = refusal(&verifier, &provider.token(&claims)).await;
    assert!(matches!(&refused, AuthError::NotPermitted(reason) if reason.contains("ambiguous")), "{refused}");
}

#[tokio::test]
async fn a_token_granting_no_role_tenant_or_school_is_not_permitted() {
    let (provider, verifier) = started().await;
    for claims in [
        provider.claims("p", "Admin", Some("886"), None, AUDIENCE, LIFETIME),
        provider.claims("p", "la_manager", None, None, AUDIENCE, LIFETIME),
        provider.claims("p", "senco", Some("886"), None, AUDIENCE, LIFETIME),
    ] {
        let refused = refusal(&verifier, &provider.token(&claims)).await;
        assert!(matches!(refused, AuthError::NotPermitted(_)), "{claims}: {refused}");
    }
}

#[tokio::test]
async fn a_newly_rotated_key_is_accepted_after_one_refresh() {
    let provider = StubProvider::start().await;
    let verifier = eager(&provider);
    let before = provider.token(&case_officer(&provider));
    verifier.verify(&before).await.unwrap();
    assert_eq!(provider.fetches(), 1);
    provider.rotate();
    let after = provider.token(&case_officer(&provider));
    verifier.verify(&after).await.unwrap();
    assert_eq!(provider.fetches(), 2);
    verifier.verify(&before).await.unwrap();
    verifier.verify(&after).await.unwrap();
    assert_eq!(provider.fetches(), 2, "known keys need no fetch");
}

#[tokio::test]
async fn concurrent_tokens_with_a_new_key_share_one_fetch() {
    let provider = StubProvider::start().await;
    let verifier = eager(&provider);
    verifier.verify(&provider.token(&case_officer(&provider))).await.unwrap();
    provider.rotate();
    let token = provider.token(&case_officer(&provider));
    let checks = (0..20).map(|_| {
        let (verifier, token) = (verifier.clone(), token.clone());
        tokio::spawn(async move { verifier.verify(&token).await })
    });
    for check in futures::future::join_all(checks).await {
        assert!(check.unwrap().is_ok());
    }
    assert_eq!(provider.fetches(), 2);
}

#[tokio::test]
async fn made_up_key_ids_cause_at_most_one_fetch_per_interval() {
    let (provider, verifier) = started().await;
    let claims = case_officer(&provider);
    let flood: Vec<String> = (0..40).map(|_| provider.token_signed_by_unknown_key(&claims)).collect();
    let checks = flood.iter().map(|token| verifier.verify(token));
    for result in futures::future::join_all(checks).await {
        assert!(matches!(result, Err(AuthError::Invalid(_))), "{result:?}");
    }
    for token in &flood {
        assert!(matches!(verifier.verify(token).await, Err(AuthError::Invalid(_))));
    }
    assert_eq!(provider.fetches(), 1);
    verifier.verify(&provider.token(&claims)).await.unwrap();
    assert_eq!(provider.fetches(), 1, "the one fetch brought the real keys");
}

#[tokio::test]
async fn an_unreachable_provider_is_unavailable_but_cached_keys_keep_working() {
    let provider = StubProvider::start().await;
    let verifier = eager(&provider);
    let known = provider.token(&case_officer(&provider));
    verifier.verify(&known).await.unwrap();
    provider.set_available(false);
    verifier.verify(&known).await.unwrap();
    provider.rotate();
    let new_key = provider.token(&case_officer(&provider));
    let refused = refusal(&verifier, &new_key).await;
    assert!(matches!(refused, AuthError::ProviderUnavailable(_)), "{refused}");
    assert_eq!(refused.client_message(), "the identity provider cannot be reached");
    verifier.verify(&known).await.unwrap();
    provider.set_available(true);
    verifier.verify(&new_key).await.unwrap();
}

#[tokio::test]
async fn a_provider_down_from_the_start_is_unavailable() {
    let (provider, verifier) = started().await;
    provider.set_available(false);
    let refused = refusal(&verifier, &provider.token(&case_officer(&provider))).await;
    assert!(matches!(refused, AuthError::ProviderUnavailable(_)), "{refused}");
    assert!(verifier.refresh_keys().await.is_err());
}

#[tokio::test]
async fn keys_can_be_fetched_ahead_of_the_first_token() {
    let (provider, verifier) = started().await;
    verifier.refresh_keys().await.unwrap();
    assert_eq!(provider.fetches(), 1);
    verifier.verify(&provider.token(&case_officer(&provider))).await.unwrap();
    assert_eq!(provider.fetches(), 1);
}

#[test]
fn a_ca_file_must_hold_pem_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let settings = OidcSettings { ca_file: Some(not_pem), ..OidcSettings::new("https://idp.example.org", AUDIENCE) };
    let error = OidcVerifier::new(settings).expect_err("a file without certificates is refused").to_string();
    assert!(error.contains("SEN_OIDC_CA_FILE"), "{error}");

    let ca = rcgen::generate_simple_self_signed(vec!["idp.example.org".into()]).unwrap();
    let good = dir.path().join("ca.pem");
    std::fs::write(&good, ca.cert.pem()).unwrap();
    let settings = OidcSettings { ca_file: Some(good), ..OidcSettings::new("https://idp.example.org", AUDIENCE) };
    assert!(OidcVerifier::new(settings).is_ok());
}
