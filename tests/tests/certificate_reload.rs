//! Certificates renewed under a running server, as cert-manager renews a pod's
//! mounted Secret: the certificate, key and client CA files are replaced while
//! the services serve mutual TLS. New connections are served the new
//! certificate and accept clients of the new CA; a connection made before goes
//! on with the certificate it was made with; the expiry metric follows.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SerialNumber, date_time_ymd};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use sen_platform::config::TlsFiles;
use sen_platform::testing::Engine;
use sen_tests::platform::{Options, TestPlatform};
use tonic::transport::{Channel, Endpoint, Uri};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// A certificate authority.
struct Authority {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn authority(name: &str) -> Authority {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let pem = params.self_signed(&key).expect("CA").pem();
    Authority { pem, issuer: Issuer::new(params, key) }
}

/// A certificate for `localhost` from `ca`, with `serial`, ending on `year`-01-01.
struct Issued {
    der: CertificateDer<'static>,
    pem: String,
    key: String,
    not_after: i64,
}

fn issue(ca: &Authority, serial: u64, year: i32) -> Issued {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params.serial_number = Some(SerialNumber::from(serial));
    params.not_after = date_time_ymd(year, 1, 1);
    let cert = params.signed_by(&key, &ca.issuer).expect("certificate");
    Issued {
        der: cert.der().clone(),
        pem: cert.pem(),
        key: key.serialize_pem(),
        not_after: params.not_after.unix_timestamp(),
    }
}

/// A client of the server at `port`: trusts `ca`, presents `client`, and
/// records the certificate the server presents on each connection it makes.
struct Client {
    config: Arc<rustls::ClientConfig>,
    port: u16,
    presented: Arc<Mutex<Vec<CertificateDer<'static>>>>,
}

impl Client {
    fn new(port: u16, ca: &str, client: &Issued) -> Self {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
            roots.add(cert.expect("CA PEM")).expect("CA");
        }
        let chain = vec![client.der.clone()];
        let key = PrivateKeyDer::from_pem_slice(client.key.as_bytes()).expect("key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .expect("client certificate");
        config.alpn_protocols = vec![b"h2".to_vec()];
        Self { config: Arc::new(config), port, presented: Arc::default() }
    }

    /// A channel over one connection made now, and the certificate the server presented on it.
    async fn connect(&self) -> Result<(Channel, CertificateDer<'static>), String> {
        let (config, presented) = (self.config.clone(), self.presented.clone());
        let connector = tower::service_fn(move |uri: Uri| {
            let (config, presented) = (config.clone(), presented.clone());
            async move {
                let address = format!("{}:{}", uri.host().unwrap_or_default(), uri.port_u16().unwrap_or(443));
                let tcp = tokio::net::TcpStream::connect(address).await?;
                let name = ServerName::try_from("localhost")?;
                let tls = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await?;
                if let Some(served) = tls.get_ref().1.peer_certificates().and_then(|c| c.first()) {
                    presented.lock().expect("presented").push(served.clone().into_owned());
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(hyper_util::rt::TokioIo::new(tls))
            }
        });
        let endpoint = Endpoint::from_shared(format!("http://127.0.0.1:{}", self.port)).map_err(|e| e.to_string())?;
        let channel = endpoint.connect_with_connector(connector).await.map_err(|e| format!("{e:?}"))?;
        let served = self.presented.lock().expect("presented").last().cloned().ok_or("no certificate")?;
        Ok((channel, served))
    }

    /// Connections made so far.
    fn connections(&self) -> usize {
        self.presented.lock().expect("presented").len()
    }
}

async fn serving(channel: Channel) -> bool {
    let answer = HealthClient::new(channel).check(HealthCheckRequest::default()).await;
    answer.is_ok_and(|answer| answer.into_inner().status() == ServingStatus::Serving)
}

fn write(path: &Path, text: &str) {
    // As a Secret volume does: the new file appears whole, under the same name.
    let next = path.with_extension("next");
    std::fs::write(&next, text).expect("write");
    std::fs::rename(&next, path).expect("rename");
}

#[tokio::test]
async fn renewed_certificates_are_served_to_new_connections_while_open_ones_go_on() {
    let dir = tempfile::tempdir().expect("dir");
    let (cert, key, client_ca) = (dir.path().join("tls.crt"), dir.path().join("tls.key"), dir.path().join("ca.crt"));
    let first_ca = authority("first CA");
    let first = issue(&first_ca, 1001, 2030);
    write(&cert, &first.pem);
    write(&key, &first.key);
    write(&client_ca, &first_ca.pem);
    let files = TlsFiles { cert: cert.clone(), key: key.clone(), client_ca: Some(client_ca.clone()) };
    let tls = sen_platform::tls::ServerTls::load(&files).expect("TLS");
    let metrics = sen_platform::metrics::Metrics::default();
    tls.register(&metrics);
    assert_eq!(tls.expiry().get(), first.not_after);
    let options = Options { tls: Some(tls.clone()), ..Default::default() };
    let platform = TestPlatform::start_with(Engine::Sqlite, options).await.expect("platform");
    let port = platform.addr.port();

    let gateway = Client::new(port, &first_ca.pem, &issue(&first_ca, 7, 2030));
    let (open, served) = gateway.connect().await.expect("a first connection");
    assert_eq!(served, first.der, "the first certificate is served");
    assert!(serving(open.clone()).await);
    // A caller with a certificate of a CA not yet trusted is refused.
    let second_ca = authority("second CA");
    let newcomer = Client::new(port, &first_ca.pem, &issue(&second_ca, 8, 2030));
    let refused = match newcomer.connect().await {
        Err(_) => true,
        // TLS 1.3: the client finishes its handshake before the server has checked its certificate.
        Ok((channel, _)) => !serving(channel).await,
    };
    assert!(refused, "a client of the second CA is refused before it is trusted");

    // Renewal: a new key and certificate, and a CA bundle trusting both CAs.
    let renewed = issue(&first_ca, 2002, 2031);
    write(&key, &renewed.key);
    write(&cert, &renewed.pem);
    write(&client_ca, &format!("{}{}", first_ca.pem, second_ca.pem));

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut every = tokio::time::interval(Duration::from_millis(100));
    loop {
        let fresh = Client::new(port, &first_ca.pem, &issue(&first_ca, 9, 2030));
        let (channel, served) = fresh.connect().await.expect("a new connection");
        if served == renewed.der {
            assert!(serving(channel).await, "served over the renewed certificate");
            break;
        }
        assert_eq!(served, first.der, "either certificate, never another");
        assert!(Instant::now() < deadline, "the renewed certificate was never served");
        every.tick().await;
    }
    let (channel, _) = newcomer.connect().await.expect("a client of the second CA is accepted once it is trusted");
    assert!(serving(channel).await);

    // The connection made before the renewal goes on, with the first certificate.
    assert!(serving(open).await, "the open connection still answers");
    assert_eq!(gateway.connections(), 1, "over the connection it had, not a new one");

    assert_eq!(tls.expiry().get(), renewed.not_after, "the expiry metric follows the served certificate");
    let exposition = metrics.encode();
    let line = format!("sen_tls_certificate_expiry_timestamp_seconds {}", renewed.not_after);
    assert!(exposition.contains(&line), "{exposition}");
}

/// A service's configuration as it calls others: the CA their certificates chain
/// to, and its own certificate, presented to them.
fn caller_config(ca: &Path, cert: &Path, key: &Path) -> sen_platform::config::Config {
    let vars: Vec<(&str, String)> = vec![
        ("SEN_UPSTREAM_CA_FILE", ca.display().to_string()),
        ("SEN_TLS_CERT_FILE", cert.display().to_string()),
        ("SEN_TLS_KEY_FILE", key.display().to_string()),
    ];
    sen_platform::config::Config::from_lookup(&move |name| {
        vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    })
    .expect("a valid service configuration")
}

#[tokio::test]
async fn a_renewed_client_certificate_is_presented_on_the_next_connection() {
    let dir = tempfile::tempdir().expect("dir");
    let path = |name: &str| dir.path().join(name);
    // The callee trusts client certificates of the new CA only.
    let (old_ca, new_ca) = (authority("old CA"), authority("new CA"));
    let served = issue(&new_ca, 1, 2030);
    write(&path("server.crt"), &served.pem);
    write(&path("server.key"), &served.key);
    write(&path("server-ca.crt"), &new_ca.pem);
    write(&path("client-ca.crt"), &new_ca.pem);
    let files = TlsFiles { cert: path("server.crt"), key: path("server.key"), client_ca: Some(path("client-ca.crt")) };
    let tls = sen_platform::tls::ServerTls::load(&files).expect("TLS");
    let options = Options { tls: Some(tls), ..Default::default() };
    let platform = TestPlatform::start_with(Engine::Sqlite, options).await.expect("platform");

    // The caller still holds a certificate of the old CA.
    let old = issue(&old_ca, 2, 2030);
    write(&path("client.crt"), &old.pem);
    write(&path("client.key"), &old.key);
    let config = caller_config(&path("server-ca.crt"), &path("client.crt"), &path("client.key"));
    let url = format!("https://localhost:{}", platform.addr.port());
    let channel = sen_platform::client::channel(&url, &config).expect("channel");
    assert!(!serving(channel.clone()).await, "refused with the old CA's certificate");

    // Its certificate is renewed from the new CA: the same channel's next connection presents it.
    let renewed = issue(&new_ca, 3, 2031);
    write(&path("client.key"), &renewed.key);
    write(&path("client.crt"), &renewed.pem);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut every = tokio::time::interval(Duration::from_millis(100));
    while !serving(channel.clone()).await {
        assert!(Instant::now() < deadline, "the renewed client certificate was never presented");
        every.tick().await;
    }
}

#[tokio::test]
async fn the_gateway_serves_its_renewed_certificate_and_reports_when_it_ends() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let dir = tempfile::tempdir().expect("dir");
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let ca = authority("public CA");
    let first = issue(&ca, 11, 2030);
    write(&cert, &first.pem);
    write(&key, &first.key);
    let admin = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port");
    let vars = [
        ("SEN_TLS_CERT_FILE", cert.display().to_string()),
        ("SEN_TLS_KEY_FILE", key.display().to_string()),
        ("SEN_ADMIN_LISTEN", admin.to_string()),
    ];
    let lookup = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
    let config = sen_platform::config::Config::from_lookup_among(&lookup, sen_platform::config::Serving::Gateway, &[])
        .expect("config");
    let gateway = sen_tests::gateway::gateway_before(&platform, &Default::default()).expect("gateway");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let server = tokio::spawn(async move { sen_gateway::run(listener, &config, Arc::new(gateway), None).await });

    let visitor = Client::new(port, &ca.pem, &issue(&ca, 12, 2030));
    let metrics = || async {
        let answer = reqwest::get(format!("http://{admin}/metrics")).await;
        match answer {
            Ok(answer) => answer.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut every = tokio::time::interval(Duration::from_millis(50));
    while !metrics().await.contains(&format!("{{port=\"front\"}} {}", first.not_after)) {
        assert!(Instant::now() < deadline, "the front port's certificate end is not reported:\n{}", metrics().await);
        every.tick().await;
    }
    let (_, served) = visitor.connect().await.expect("a connection");
    assert_eq!(served, first.der);

    let renewed = issue(&ca, 13, 2031);
    write(&key, &renewed.key);
    write(&cert, &renewed.pem);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, served) = visitor.connect().await.expect("a connection");
        if served == renewed.der {
            break;
        }
        assert!(Instant::now() < deadline, "the gateway never served its renewed certificate");
        every.tick().await;
    }
    let reported = metrics().await;
    let line = format!("sen_tls_certificate_expiry_timestamp_seconds{{port=\"front\"}} {}", renewed.not_after);
    assert!(reported.contains(&line), "{reported}");
    server.abort();
}
