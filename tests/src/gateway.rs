//! `TestGateway`: the gateway in front of a [`TestPlatform`], on its own
//! ephemeral port, trusting the platform's development issuer for bearer tokens,
//! as the embedded mode runs it. Each service can be pointed elsewhere (a closed
//! port, to see how the gateway answers when a service is down).

use std::net::SocketAddr;
use std::time::Duration;

use sen_gateway::Gateway;
use sen_gateway::authn::{Authenticator, Authn};
use sen_gateway::config::GatewaySettings;
use sen_gateway::layers::{Limits, Rate};
use sen_gateway::server::ConnectionSettings;
use sen_gateway::sessions::{self, SessionKey, SessionKeySet, SessionSettings};
use sen_gateway::upstream::GrpcService;
use sen_platform::identity::{AttachBearer, Grant, Role};
use sen_platform::ids::{LaCode, Urn};
use sen_web::session::Sessions;
use sen_web::{DemoPerson, Login, Web};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::platform::TestPlatform;

/// How a test gateway is set up.
#[derive(Clone, Debug)]
pub struct GatewayOptions {
    /// Parts whose service is unreachable (pointed at a closed port).
    pub down: Vec<&'static str>,
    /// Requests at work at once.
    pub max_concurrent: usize,
    /// Requests a second per tenant, and the burst.
    pub rate: (u32, u32),
    /// The unary call timeout.
    pub request_timeout: Duration,
    /// The limits on people, strangers and bodies; `rate` sets the tenant's.
    /// By default every limit but the tenant's is far beyond what a test makes.
    pub limits: Limits,
    /// The limits on connections.
    pub connections: ConnectionSettings,
    /// The session store's URL, to share one with another gateway (or to keep
    /// sessions on PostgreSQL); none: a SQLite file of this gateway's own.
    pub session_store: Option<String>,
    /// The gateway key (PKCS#8 PEM) that signs session cookies; none: a fresh one.
    pub session_key: Option<String>,
    /// Earlier gateway keys whose session cookies are still accepted.
    pub previous_session_keys: Vec<String>,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        let unlimited = Rate { per_second: 1_000_000, burst: 1_000_000 };
        Self {
            down: Vec::new(),
            max_concurrent: 64,
            rate: (10_000, 10_000),
            request_timeout: Duration::from_secs(10),
            limits: Limits {
                per_person: unlimited,
                per_address: unlimited,
                person_at_once: 100_000,
                anonymous_at_once: 100_000,
                address_at_once: 100_000,
                body_timeout: Duration::from_secs(30),
                ..Limits::default()
            },
            connections: ConnectionSettings::default(),
            session_store: None,
            session_key: None,
            previous_session_keys: Vec::new(),
        }
    }
}

/// A fresh gateway key, PKCS#8 PEM.
pub fn gateway_key_pem() -> anyhow::Result<String> {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    Ok(key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)?.to_string())
}

/// A running gateway, with its web pages.
pub struct TestGateway {
    /// Where it listens.
    pub addr: SocketAddr,
    sessions: Sessions,
    session_store: String,
    _session_folder: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestGateway {
    /// Starts a gateway in front of `platform`.
    pub async fn start(platform: &TestPlatform, options: GatewayOptions) -> anyhow::Result<Self> {
        let gateway = std::sync::Arc::new(gateway_before(platform, &options)?);
        let (sessions, session_store, session_folder) = sessions_for(&options).await?;
        let web = std::sync::Arc::new(Web {
            upstreams: gateway.upstreams(),
            internal: platform.issuer.signer.clone(),
            sessions: sessions.clone(),
            secure_cookies: false,
        });
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let pages = sen_web::pages(web, Login::Demo(demo_people()));
        let connections = gateway.connections();
        let app = sen_gateway::app(gateway, false, Some(pages));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            sen_gateway::server::serve_with(listener, None, app, &connections, Duration::from_secs(5), async {
                let _ = stopped.await;
            })
            .await
        });
        Ok(Self {
            addr,
            sessions,
            session_store,
            _session_folder: session_folder,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// The sessions of this gateway's pages (to end them as an operator would).
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The session store's URL, for another gateway to share.
    pub fn session_store(&self) -> &str {
        &self.session_store
    }

    /// A browser-like client signed in as `role` in `tenant` (and `school`), as
    /// person `test-<role>`: it sends the session cookie and follows no redirects.
    pub async fn web_client(&self, role: Role, tenant: Option<&str>, school: Option<u32>) -> reqwest::Client {
        self.web_client_for(&format!("test-{role}"), role, tenant, school).await
    }

    /// As [`Self::web_client`], for a person with this id.
    pub async fn web_client_for(
        &self,
        person: &str,
        role: Role,
        tenant: Option<&str>,
        school: Option<u32>,
    ) -> reqwest::Client {
        self.web_client_named(person, None, role, tenant, school).await
    }

    /// As [`Self::web_client_for`], for a person whose sign-in gave their name.
    pub async fn web_client_named(
        &self,
        person: &str,
        name: Option<&str>,
        role: Role,
        tenant: Option<&str>,
        school: Option<u32>,
    ) -> reqwest::Client {
        let grant = Grant {
            person: person.into(),
            role,
            tenant: tenant.and_then(|t| LaCode::parse(t).ok()),
            school: school.and_then(|u| Urn::parse(&u.to_string()).ok()),
        };
        let cookie = self.sessions.sign_in_named(&grant, name, false).await.unwrap_or_default();
        let value = cookie.split(';').next().unwrap_or_default().to_owned();
        let mut headers = http::HeaderMap::new();
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            headers.insert(http::header::COOKIE, value);
        }
        reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    }

    /// The CSRF token the forms of `client`'s pages carry: read it from any page's
    /// `name="csrf"` field.
    pub async fn csrf(&self, client: &reqwest::Client, page: &str) -> String {
        let html = match client.get(format!("{}{page}", self.url())).send().await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        html.split(r#"name="csrf" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_owned()
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A channel to the gateway.
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        Ok(Endpoint::from_shared(self.url())?.connect().await?)
    }

    /// A channel with `token` as the bearer token on every call.
    pub async fn bearer(&self, token: &str) -> anyhow::Result<InterceptedService<Channel, AttachBearer>> {
        let attach = AttachBearer::new(token).map_err(anyhow::Error::msg)?;
        Ok(InterceptedService::new(self.channel().await?, attach))
    }

    /// Stops the gateway and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(server) => server.await?,
            None => Ok(()),
        }
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The sessions of a test gateway: in the store `options` name or a fresh
/// SQLite file, opened as the gateway opens it (sessions signed by keys no
/// longer in the set end), with the keys `options` give or a fresh one.
async fn sessions_for(options: &GatewayOptions) -> anyhow::Result<(Sessions, String, Option<tempfile::TempDir>)> {
    let (url, folder) = match &options.session_store {
        Some(url) => (url.clone(), None),
        None => {
            let folder = sen_platform::testing::private_tempdir()?;
            (sen_platform::config::sqlite_url(&folder.path().join("gateway.db")), Some(folder))
        }
    };
    let current = match &options.session_key {
        Some(pem) => SessionKey::from_pem(pem.as_bytes()),
        None => SessionKey::from_pem(gateway_key_pem()?.as_bytes()),
    }
    .map_err(anyhow::Error::msg)?;
    let previous = options
        .previous_session_keys
        .iter()
        .map(|pem| SessionKey::from_pem(pem.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let keys = SessionKeySet::new(current, previous);
    let config = sen_platform::config::Config::from_lookup(&|_| None)?;
    let settings = SessionSettings {
        database_url: Some(url.clone()),
        previous_keys: Vec::new(),
        recheck: Duration::from_secs(3600),
    };
    let store = sessions::open(&config, &settings, &keys, sen_web::session::now()).await?;
    Ok((Sessions::new(keys, store, None), url, folder))
}

/// The gateway a [`TestGateway`] serves, before it is served: in front of
/// `platform`, trusting its development issuer, set up as `options` say (for a
/// test that serves it itself, e.g. with `sen_gateway::run`).
pub fn gateway_before(platform: &TestPlatform, options: &GatewayOptions) -> anyhow::Result<Gateway> {
    let settings = GatewaySettings {
        signing_key: None,
        oidc: None,
        request_timeout: options.request_timeout,
        max_concurrent: options.max_concurrent,
        limits: Limits {
            per_tenant: Rate { per_second: options.rate.0, burst: options.rate.1 },
            ..options.limits.clone()
        },
        connections: options.connections,
    };
    let authn =
        Authn::new(Authenticator::Development(platform.issuer.verifier.clone()), platform.issuer.signer.clone());
    let live = Endpoint::from_shared(format!("http://{}", platform.addr))?.connect_lazy();
    // A port that was open a moment ago and is closed now: connections are refused.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.local_addr()?
    };
    let dead =
        Endpoint::from_shared(format!("http://{closed}"))?.connect_timeout(Duration::from_secs(1)).connect_lazy();
    let services: Vec<(&'static str, &'static str, GrpcService)> = sen_cli::services::routing()
        .into_iter()
        .map(|(service, part)| {
            let channel = if options.down.contains(&part) { dead.clone() } else { live.clone() };
            (service, part, sen_gateway::upstream::boxed(channel))
        })
        .collect();
    Ok(Gateway::new(authn, services, &settings))
}

/// The people the test gateway's sign-in page offers.
fn demo_people() -> Vec<DemoPerson> {
    let person = |id: &str, name: &str, role: Role, tenant: &str, school: Option<u32>| DemoPerson {
        grant: Grant {
            person: id.into(),
            role,
            tenant: LaCode::parse(tenant).ok(),
            school: school.and_then(|u| Urn::parse(&u.to_string()).ok()),
        },
        description: format!("{id} ({role})"),
        name: name.into(),
    };
    vec![
        person("manager-886", "Alex Morgan", Role::LaManager, "886", None),
        person("officer-886", "Sam Carter", Role::CaseOfficer, "886", None),
        person("senco-100001", "Priya Raman", Role::Senco, "886", Some(100001)),
        person("ep-1", "Dr Eve Example", Role::EducationalPsychologist, "886", None),
        person("manager-887", "Jo Medway", Role::LaManager, "887", None),
    ]
}

/// A loopback address free to bind (see `sen_platform::testing::free_port`).
pub fn free_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], sen_platform::testing::free_port()))
}

/// Serves a gateway in front of `platform` with `sen_gateway::run` in `mode`,
/// with an admin port when `admin` is set (TLS and the identity provider left
/// out: this is about which port serves what); answers the front and admin
/// URLs once each answers, and the server's task.
pub async fn serve_in_mode(
    platform: &TestPlatform,
    mode: sen_platform::config::Mode,
    admin: Option<SocketAddr>,
) -> (String, Option<String>, JoinHandle<anyhow::Result<()>>) {
    use sen_platform::config::{Config, Serving};
    let lookup = |name: &str| match name {
        "SEN_ADMIN_LISTEN" => admin.map(|a| a.to_string()),
        _ => None,
    };
    let mut config = Config::from_lookup_among(&lookup, Serving::Gateway, &[]).expect("config");
    config.mode = mode;
    let gateway = std::sync::Arc::new(gateway_before(platform, &GatewayOptions::default()).expect("gateway"));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let front = format!("http://{}", listener.local_addr().expect("address"));
    let server = tokio::spawn(async move { sen_gateway::run(listener, &config, gateway, None).await });
    let admin = admin.map(|a| format!("http://{a}"));
    for url in std::iter::once(&front).chain(&admin) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut every = tokio::time::interval(Duration::from_millis(50));
        while reqwest::get(format!("{url}/healthz")).await.is_err() {
            assert!(std::time::Instant::now() < deadline, "{url} never answered");
            every.tick().await;
        }
    }
    (front, admin, server)
}
