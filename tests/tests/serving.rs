//! How the service is served: health and reflection beside it, TLS and mutual TLS
//! from PEM files, and a graceful stop that lets in-flight calls finish.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use sen_platform::config::TlsFiles;
use sen_platform::identity::{AttachIdentity, Role};
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use sen_tests::platform::{Options, TestPlatform};
use tokio_stream::StreamExt;
use tonic::transport::Endpoint;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

#[tokio::test]
async fn health_and_reflection_answer_without_an_identity() {
    let platform = TestPlatform::start(Engine::Sqlite).await.unwrap();
    let channel = platform.channel().await.unwrap();
    let mut health = HealthClient::new(channel.clone());
    for service in ["", "sen.v1.SchoolsService"] {
        let request = tonic_health::pb::HealthCheckRequest { service: service.into() };
        let status = health.check(request).await.unwrap().into_inner().status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }

    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
    let Some(Ok(response)) = responses.next().await else { panic!("no reflection answer") };
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else { panic!("{response:?}") };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&"sen.v1.SchoolsService".to_owned()), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health".to_owned()), "{names:?}");
}

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// A CA, a server certificate for localhost and a client certificate, as PEM files.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "SEN test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
        for (name, san) in [("server", "localhost"), ("client", "gateway")] {
            let key = KeyPair::generate().unwrap();
            let cert = CertificateParams::new(vec![san.to_owned()]).unwrap().signed_by(&key, &issuer).unwrap();
            std::fs::write(dir.path().join(format!("{name}.pem")), cert.pem()).unwrap();
            std::fs::write(dir.path().join(format!("{name}-key.pem")), key.serialize_pem()).unwrap();
        }
        Self { dir }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn server_files(&self, mutual: bool) -> TlsFiles {
        TlsFiles {
            cert: self.path("server.pem"),
            key: self.path("server-key.pem"),
            client_ca: mutual.then(|| self.path("ca.pem")),
        }
    }
}

async fn list_over_tls(platform: &TestPlatform, pki: &Pki, with_client_cert: bool) -> Result<usize, String> {
    let client_cert = (pki.path("client.pem"), pki.path("client-key.pem"));
    let identity = with_client_cert.then_some((client_cert.0.as_path(), client_cert.1.as_path()));
    let tls = sen_platform::tls::client_tls(&pki.path("ca.pem"), "localhost", identity).unwrap();
    let endpoint = Endpoint::from_shared(format!("https://{}", platform.addr)).unwrap().tls_config(tls).unwrap();
    let channel = endpoint.connect().await.map_err(|e| e.to_string())?;
    let token = platform.token(Role::LaManager, Some("886"), None);
    let mut client = SchoolsServiceClient::with_interceptor(channel, AttachIdentity::new(&token).unwrap());
    let response = client.list_schools(pb::ListSchoolsRequest::default()).await.map_err(|e| e.to_string())?;
    Ok(response.into_inner().schools.len())
}

#[tokio::test]
async fn tls_serves_clients_that_trust_the_ca() {
    let pki = Pki::new();
    let tls = sen_platform::tls::server_tls(&pki.server_files(false)).unwrap();
    let platform =
        TestPlatform::start_with(Engine::Sqlite, Options { tls: Some(tls), ..Default::default() }).await.unwrap();
    assert_eq!(list_over_tls(&platform, &pki, false).await, Ok(0));
    let plaintext = platform.channel().await;
    let refused = match plaintext {
        Err(_) => true,
        Ok(channel) => {
            let mut health = HealthClient::new(channel);
            health.check(tonic_health::pb::HealthCheckRequest::default()).await.is_err()
        }
    };
    assert!(refused, "a plaintext client must not be served by a TLS port");
}

#[tokio::test]
async fn mutual_tls_refuses_clients_without_a_certificate() {
    let pki = Pki::new();
    let tls = sen_platform::tls::server_tls(&pki.server_files(true)).unwrap();
    let platform =
        TestPlatform::start_with(Engine::Sqlite, Options { tls: Some(tls), ..Default::default() }).await.unwrap();
    assert_eq!(list_over_tls(&platform, &pki, true).await, Ok(0));
    assert!(list_over_tls(&platform, &pki, false).await.is_err());
}

/// The configuration a service process would have: its own certificate (presented
/// to the services it calls) and the CA those services' certificates chain to.
fn service_config(pki: &Pki, with_own_certificate: bool) -> sen_platform::config::Config {
    let mut vars = vec![("SEN_UPSTREAM_CA_FILE", pki.path("ca.pem"))];
    if with_own_certificate {
        vars.push(("SEN_TLS_CERT_FILE", pki.path("client.pem")));
        vars.push(("SEN_TLS_KEY_FILE", pki.path("client-key.pem")));
    }
    let vars: Vec<(String, String)> = vars.into_iter().map(|(k, v)| (k.to_owned(), v.display().to_string())).collect();
    sen_platform::config::Config::from_lookup(&move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        .expect("a valid service configuration")
}

#[tokio::test]
async fn one_service_calls_another_over_mutual_tls_as_configured() {
    let pki = Pki::new();
    let tls = sen_platform::tls::server_tls(&pki.server_files(true)).unwrap();
    let platform =
        TestPlatform::start_with(Engine::Sqlite, Options { tls: Some(tls), ..Default::default() }).await.unwrap();
    let url = format!("https://localhost:{}", platform.addr.port());
    let token = platform.token(Role::LaManager, Some("886"), None);
    let urn = sen_platform::ids::Urn::parse("100001").unwrap();

    let channel = sen_platform::client::channel(&url, &service_config(&pki, true)).unwrap();
    let schools = sen_pupils::schools::Schools::new(channel);
    assert_eq!(schools.get(&token, urn).await.map_err(|e| e.to_string()), Ok(None), "reached, and no such school yet");

    let without_certificate = sen_platform::client::channel(&url, &service_config(&pki, false)).unwrap();
    let refused = sen_pupils::schools::Schools::new(without_certificate).get(&token, urn).await;
    assert!(refused.is_err(), "a caller without a client certificate is refused: {refused:?}");
}
