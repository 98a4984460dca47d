//! The production topology, as separate processes: each service `sen serve <part>`
//! on its own PostgreSQL database, mutual TLS between all of them with
//! certificates made here, an OpenID Connect provider on loopback, and the
//! gateway in front. Any link between two parts can be passed through a
//! [`LinkProxy`] the test controls, and any part can be killed, stopped and
//! started again on the same port and database.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, QueryResult, Statement};
use sen_gateway::oidc::testing::StubProvider;
use sen_platform::testing::{Engine, TestDatabase};
use serde_json::Value;

use super::proxy::LinkProxy;

/// The audience the stub provider's tokens carry.
pub const AUDIENCE: &str = "api://sen-platform";
/// The services, each after the ones it calls.
pub const PARTS: [&str; 4] = ["schools", "pupils", "referrals", "caseloads"];

/// The parts `part` calls.
pub fn peers_of(part: &str) -> &'static [&'static str] {
    match part {
        "pupils" => &["schools"],
        "referrals" => &["pupils"],
        "caseloads" => &["schools", "pupils", "referrals"],
        "gateway" => &PARTS,
        _ => &[],
    }
}

/// A child process killed when the test ends, whatever happens.
pub struct Process {
    pub name: String,
    pub child: Child,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Everything it has written to standard error so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

/// How to start the cluster; the default is the plain production topology.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Extra variables, by part (`"gateway"` or a service).
    pub env: Vec<(&'static str, &'static str, String)>,
    /// Links (caller, called) that go through a [`LinkProxy`].
    pub proxied: Vec<(&'static str, &'static str)>,
    /// Databases to serve instead of fresh ones, by service (e.g. restored ones).
    pub databases: BTreeMap<&'static str, String>,
    /// `SEN_SHUTDOWN_GRACE_SECONDS` of every part (1 unless set).
    pub grace_seconds: Option<u64>,
    /// Services whose database connections go through a [`LinkProxy`] (under
    /// `(service, "postgres")`), to slow their queries down.
    pub proxied_databases: Vec<&'static str>,
}

/// How a part is started, kept so that it can be started again.
struct Spec {
    args: Vec<String>,
    vars: HashMap<String, String>,
}

/// The whole platform, as a cluster runs it.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    _databases: Vec<TestDatabase>,
    /// Each service's database.
    pub database_urls: BTreeMap<&'static str, String>,
    specs: BTreeMap<String, Spec>,
    /// The running parts (a killed one is gone until started again).
    processes: Mutex<Vec<Process>>,
    /// The proxies of [`Options::proxied`].
    pub proxies: HashMap<(&'static str, &'static str), LinkProxy>,
    pub oidc: StubProvider,
    pub gateway: String,
    pub admin: String,
    /// Each service's admin port (health checks and `/metrics`), as a URL.
    pub service_admins: BTreeMap<&'static str, String>,
    pub ca: PathBuf,
    pub http: reqwest::Client,
}

pub use sen_platform::testing::free_port;

fn spawn(name: &str, spec: &Spec) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sen"))
        .args(&spec.args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(&spec.vars)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sen starts");
    let stderr = child.stderr.take().expect("piped");
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(mut log) = sink.lock() {
                log.push(line);
            }
        }
    });
    Process { name: name.to_owned(), child, log }
}

/// A proxy in front of the PostgreSQL server of `url`, and the URL through it.
async fn proxied_database(url: &str) -> (LinkProxy, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (credentials, rest) = rest.rsplit_once('@').map_or(("", rest), |(c, r)| (c, r));
    let (address, database) = rest.split_once('/').expect("a database name");
    let server: std::net::SocketAddr =
        tokio::net::lookup_host(address).await.expect("the PostgreSQL server's address").next().expect("an address");
    let proxy = LinkProxy::start(server).await;
    let at = if credentials.is_empty() { String::new() } else { format!("{credentials}@") };
    // In the clear on loopback, so the proxy can tell one query from another.
    let separator = if database.contains('?') { '&' } else { '?' };
    let through = format!("{scheme}://{at}127.0.0.1:{}/{database}{separator}sslmode=disable", proxy.port());
    (proxy, through)
}

fn path(dir: &Path, file: &str) -> String {
    dir.join(file).display().to_string()
}

fn vars(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

impl Cluster {
    /// The plain production topology, ready.
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    /// The production topology as `options` say, ready.
    pub async fn start_with(options: Options) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = super::certificates::material(dir.path(), &PARTS);
        let oidc = StubProvider::start().await;
        let grace = options.grace_seconds.unwrap_or(1).to_string();
        let ports: HashMap<&str, u16> = PARTS.iter().map(|p| (*p, free_port())).collect();
        let mut proxies = HashMap::new();
        for &(from, to) in &options.proxied {
            let upstream = std::net::SocketAddr::from(([127, 0, 0, 1], ports[to]));
            proxies.insert((from, to), LinkProxy::start(upstream).await);
        }
        let proxy_ports: HashMap<(&str, &str), u16> =
            proxies.iter().map(|(link, proxy)| (*link, proxy.port())).collect();
        let url = |from: &str, to: &str| match proxy_ports.get(&(from, to)) {
            Some(port) => format!("https://localhost:{port}"),
            None => format!("https://localhost:{}", ports[to]),
        };
        let mut databases = Vec::new();
        let mut database_urls = BTreeMap::new();
        let mut specs = BTreeMap::new();
        let mut service_admins = BTreeMap::new();
        for part in PARTS {
            let database = match options.databases.get(part) {
                Some(url) => url.clone(),
                None => {
                    let database = TestDatabase::for_service(Engine::Postgres).await.expect("a PostgreSQL database");
                    let url = database.url.clone();
                    databases.push(database);
                    url
                }
            };
            let mut vars = vars(&[
                ("SEN_MODE", "production".to_owned()),
                ("SEN_LOG", "warn".to_owned()),
                ("SEN_LISTEN", format!("127.0.0.1:{}", ports[part])),
                ("SEN_DATABASE_URL", database.clone()),
                ("SEN_TLS_CERT_FILE", path(dir.path(), &format!("{part}.pem"))),
                ("SEN_TLS_KEY_FILE", path(dir.path(), &format!("{part}-key.pem"))),
                ("SEN_TLS_CLIENT_CA_FILE", path(dir.path(), "ca.pem")),
                ("SEN_UPSTREAM_CA_FILE", path(dir.path(), "ca.pem")),
                (
                    "SEN_IDENTITY_PUBLIC_KEY_FILES",
                    format!(
                        "{},{}",
                        path(dir.path(), "gateway-signing.pub.pem"),
                        path(dir.path(), "service-signing.pub.pem")
                    ),
                ),
                ("SEN_SHUTDOWN_GRACE_SECONDS", grace.clone()),
            ]);
            let service_admin = free_port();
            vars.insert("SEN_ADMIN_LISTEN".into(), format!("127.0.0.1:{service_admin}"));
            service_admins.insert(part, format!("http://127.0.0.1:{service_admin}"));
            for called in peers_of(part) {
                vars.insert(format!("SEN_{}_URL", called.to_uppercase()), url(part, called));
            }
            // The services that call others as themselves (allocation; a final plan's register change).
            if matches!(part, "caseloads" | "referrals") {
                vars.insert("SEN_SERVICE_SIGNING_KEY_FILE".into(), path(dir.path(), "service-signing.pem"));
            }
            if options.proxied_databases.contains(&part) {
                let (proxy, url) = proxied_database(&database).await;
                vars.insert("SEN_DATABASE_URL".into(), url);
                proxies.insert((part, "postgres"), proxy);
            }
            database_urls.insert(part, database);
            specs.insert(part.to_owned(), Spec { args: vec!["serve".into(), part.into()], vars });
        }
        let (front, admin) = (free_port(), free_port());
        let mut gateway_vars = vars(&[
            ("SEN_MODE", "production".to_owned()),
            ("SEN_LOG", "warn".to_owned()),
            ("SEN_LISTEN", format!("127.0.0.1:{front}")),
            ("SEN_ADMIN_LISTEN", format!("127.0.0.1:{admin}")),
            ("SEN_TLS_CERT_FILE", path(dir.path(), "gateway.pem")),
            ("SEN_TLS_KEY_FILE", path(dir.path(), "gateway-key.pem")),
            ("SEN_UPSTREAM_CA_FILE", path(dir.path(), "ca.pem")),
            ("SEN_GATEWAY_SIGNING_KEY_FILE", path(dir.path(), "gateway-signing.pem")),
            ("SEN_OIDC_ISSUER", oidc.issuer()),
            ("SEN_OIDC_AUDIENCE", AUDIENCE.to_owned()),
            ("SEN_SHUTDOWN_GRACE_SECONDS", grace),
        ]);
        for part in PARTS {
            gateway_vars.insert(format!("SEN_{}_URL", part.to_uppercase()), url("gateway", part));
        }
        specs.insert("gateway".to_owned(), Spec { args: vec!["serve".into(), "gateway".into()], vars: gateway_vars });
        for (part, name, value) in &options.env {
            if let Some(spec) = specs.get_mut(*part) {
                spec.vars.insert((*name).to_owned(), value.clone());
            }
        }
        let processes = Mutex::new(PARTS.iter().chain(&["gateway"]).map(|part| spawn(part, &specs[*part])).collect());
        let ca_pem = std::fs::read(&ca).expect("CA");
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).expect("CA"))
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let cluster = Self {
            dir,
            _databases: databases,
            database_urls,
            specs,
            processes,
            proxies,
            oidc,
            gateway: format!("https://localhost:{front}"),
            admin: format!("http://127.0.0.1:{admin}"),
            service_admins,
            ca,
            http,
        };
        cluster.wait_until_ready(Duration::from_secs(90)).await;
        cluster
    }

    /// Whether the gateway is ready and says every service answers (its own
    /// readiness leaves the services out: `/readyz/upstreams` has them).
    pub async fn ready(&self) -> bool {
        for probe in ["/readyz", "/readyz/upstreams"] {
            let answer = self.http.get(format!("{}{probe}", self.admin)).timeout(Duration::from_secs(5)).send().await;
            if !answer.is_ok_and(|response| response.status() == 200) {
                return false;
            }
        }
        true
    }

    /// Waits until the gateway says every service answers, or fails naming what each part said.
    pub async fn wait_until_ready(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.ready().await {
            assert!(Instant::now() < deadline, "the cluster did not become ready within {within:?}:\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, Vec<Process>> {
        self.processes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every running part's log, for a failure message.
    pub fn logs(&self) -> String {
        self.running().iter().map(|p| format!("--- {} said:\n{}", p.name, p.log())).collect::<Vec<_>>().join("\n")
    }

    /// What `part` has logged so far.
    pub fn log_of(&self, part: &str) -> String {
        self.running().iter().find(|p| p.name == part).map(Process::log).unwrap_or_default()
    }

    /// The process id of `part`.
    pub fn pid(&self, part: &str) -> u32 {
        let running = self.running();
        running.iter().find(|p| p.name == part).map(|p| p.child.id()).unwrap_or_else(|| panic!("{part} is not running"))
    }

    /// Whether `part` is running (started and not yet exited).
    pub fn is_running(&self, part: &str) -> bool {
        let mut running = self.running();
        running.iter_mut().find(|p| p.name == part).is_some_and(|p| matches!(p.child.try_wait(), Ok(None)))
    }

    /// Kills `part` with SIGKILL (no chance to finish anything) and reaps it.
    pub fn kill(&self, part: &str) {
        let mut running = self.running();
        let at = running.iter().position(|p| p.name == part).unwrap_or_else(|| panic!("{part} is not running"));
        drop(running.remove(at));
    }

    /// Sends SIGTERM to `part` (a graceful stop) and returns at once.
    pub fn terminate(&self, part: &str) {
        let pid = self.pid(part).to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(sent.success(), "SIGTERM sent to {part}");
    }

    /// Waits for `part` to exit by itself and forgets it; its exit status and log.
    pub async fn wait_exit(&self, part: &str, within: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + within;
        loop {
            {
                let mut running = self.running();
                let at = running.iter().position(|p| p.name == part).unwrap_or_else(|| panic!("{part} is not running"));
                if let Some(status) = running[at].child.try_wait().expect("try_wait") {
                    let gone = running.remove(at);
                    return (status, gone.log());
                }
            }
            assert!(Instant::now() < deadline, "{part} did not exit within {within:?}:\n{}", self.log_of(part));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts `part` again, as it was first started (same port, same database).
    pub fn restart(&self, part: &str) {
        let mut running = self.running();
        assert!(running.iter().all(|p| p.name != part), "{part} is still running");
        let spec = self.specs.get(part).unwrap_or_else(|| panic!("{part} is no part"));
        running.push(spawn(part, spec));
    }

    /// The proxy on the link from `from` to `to`.
    pub fn proxy(&self, from: &str, to: &str) -> &LinkProxy {
        self.proxies
            .iter()
            .find_map(|((f, t), proxy)| (*f == from && *t == to).then_some(proxy))
            .unwrap_or_else(|| panic!("no proxy between {from} and {to}"))
    }

    /// The gateway's front port, for the load.
    pub fn front(&self) -> super::load::Front {
        super::load::Front { base: self.gateway.clone(), http: self.http.clone() }
    }

    pub fn token(&self, person: &str, role: &str, tenant: Option<&str>, school: Option<&str>) -> String {
        self.oidc.token(&self.oidc.claims(person, role, tenant, school, AUDIENCE, Duration::from_secs(3600)))
    }

    /// POSTs JSON to the gateway; the status and the body (Null when not JSON).
    pub async fn post(&self, token: &str, route: &str, body: Value) -> (u16, Value) {
        self.try_post(token, route, body).await.unwrap_or_else(|e| panic!("POST {route}: {e}"))
    }

    /// POSTs JSON to the gateway; a transport failure is an error, not a panic.
    pub async fn try_post(&self, token: &str, route: &str, body: Value) -> Result<(u16, Value), reqwest::Error> {
        let response = self.http.post(format!("{}{route}", self.gateway)).bearer_auth(token).json(&body).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    pub async fn get(&self, token: &str, route: &str) -> (u16, Value) {
        self.try_get(token, route).await.unwrap_or_else(|e| panic!("GET {route}: {e}"))
    }

    pub async fn try_get(&self, token: &str, route: &str) -> Result<(u16, Value), reqwest::Error> {
        let response = self.http.get(format!("{}{route}", self.gateway)).bearer_auth(token).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// Runs the `sen` client against the gateway as `token`.
    pub async fn sen(&self, token: &str, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sen"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SEN_GATEWAY_URL", &self.gateway)
            .env("SEN_CA_FILE", &self.ca)
            .env("SEN_TOKEN", token);
        tokio::task::spawn_blocking(move || command.output().expect("sen runs")).await.expect("joined")
    }

    /// The rows of `sql` in `part`'s database.
    pub async fn query(&self, part: &str, sql: &str) -> Vec<QueryResult> {
        query(&self.database_urls[part], sql).await
    }
}

/// A connection to the database at `url` that reads and writes every council's
/// rows, as an administrator inspecting it: on PostgreSQL each session starts
/// with `sen.tenant` set to `*`, through the row-level security walls.
pub async fn inspect(url: &str) -> DatabaseConnection {
    let mut options = sea_orm::ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).map_sqlx_postgres_opts(|o| o.options([("sen.tenant", "*")]));
    Database::connect(options).await.unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// The rows of `sql` in the database at `url`, every council's.
pub async fn query(url: &str, sql: &str) -> Vec<QueryResult> {
    let db = inspect(url).await;
    let rows = db
        .query_all(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = db.close().await;
    rows
}

/// The output of a `sen` command, both streams.
pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}
