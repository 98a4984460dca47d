//! The production topology, as separate processes: each service `sen serve <part>`
//! on its own PostgreSQL database, mutual TLS between all of them with
//! certificates made here, an OpenID Connect provider on loopback, and the
//! gateway in front. A SENCO refers, a manager allocates, an EP works the case
//! with the `sen` client, and the overview shows it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use sen_gateway::oidc::testing::StubProvider;
use sen_platform::testing::{Engine, TestDatabase};
use serde_json::{Value, json};

const AUDIENCE: &str = "api://sen-platform";
const PARTS: [&str; 4] = ["schools", "pupils", "referrals", "caseloads"];

/// A child process killed when the test ends, whatever happens.
struct Process {
    name: String,
    child: Child,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn spawn(name: &str, args: &[&str], vars: &HashMap<String, String>) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sen"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(vars)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sen starts");
    let stderr = child.stderr.take().expect("piped");
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
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

/// Certificates for every part from one CA, and the two Ed25519 signing keys.
fn material(dir: &Path) -> PathBuf {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA");
    let issuer = Issuer::new(ca_params, ca_key);
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).expect("write");
    for name in PARTS.iter().chain(&["gateway"]) {
        let key = KeyPair::generate().expect("key");
        let cert = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("params")
            .signed_by(&key, &issuer)
            .expect("cert");
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).expect("write");
        std::fs::write(dir.join(format!("{name}-key.pem")), key.serialize_pem()).expect("write");
    }
    for signer in ["gateway-signing", "service-signing"] {
        let key = SigningKey::generate(&mut rand_core::OsRng);
        let private = key.to_pkcs8_pem(LineEnding::LF).expect("pem");
        let public = key.verifying_key().to_public_key_pem(LineEnding::LF).expect("pem");
        std::fs::write(dir.join(format!("{signer}.pem")), private.as_bytes()).expect("write");
        std::fs::write(dir.join(format!("{signer}.pub.pem")), public).expect("write");
    }
    dir.join("ca.pem")
}

fn path(dir: &Path, file: &str) -> String {
    dir.join(file).display().to_string()
}

/// The whole platform, as a cluster runs it.
struct Cluster {
    _dir: tempfile::TempDir,
    _databases: Vec<TestDatabase>,
    processes: Vec<Process>,
    oidc: StubProvider,
    gateway: String,
    admin: String,
    ca: PathBuf,
    http: reqwest::Client,
}

impl Cluster {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = material(dir.path());
        let oidc = StubProvider::start().await;
        let ports: HashMap<&str, u16> = PARTS.iter().map(|p| (*p, free_port())).collect();
        let url = |part: &str| format!("https://localhost:{}", ports[part]);
        let mut databases = Vec::new();
        let mut processes = Vec::new();
        for part in PARTS {
            let database = TestDatabase::create(Engine::Postgres).await.expect("a PostgreSQL database");
            let mut vars: HashMap<String, String> = [
                ("SEN_MODE", "production".to_owned()),
                ("SEN_LOG", "warn".to_owned()),
                ("SEN_LISTEN", format!("127.0.0.1:{}", ports[part])),
                ("SEN_DATABASE_URL", database.url.clone()),
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
                ("SEN_SHUTDOWN_GRACE_SECONDS", "1".to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            let calls: &[&str] = match part {
                "pupils" => &["schools"],
                "referrals" => &["pupils"],
                "caseloads" => &["schools", "pupils", "referrals"],
                _ => &[],
            };
            for called in calls {
                vars.insert(format!("SEN_{}_URL", called.to_uppercase()), url(called));
            }
            if part == "caseloads" {
                vars.insert("SEN_SERVICE_SIGNING_KEY_FILE".into(), path(dir.path(), "service-signing.pem"));
            }
            processes.push(spawn(part, &["serve", part], &vars));
            databases.push(database);
        }
        let (front, admin) = (free_port(), free_port());
        let mut vars: HashMap<String, String> = [
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
            ("SEN_SHUTDOWN_GRACE_SECONDS", "1".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for part in PARTS {
            vars.insert(format!("SEN_{}_URL", part.to_uppercase()), url(part));
        }
        processes.push(spawn("gateway", &["serve", "gateway"], &vars));
        let ca_pem = std::fs::read(&ca).expect("CA");
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).expect("CA"))
            .build()
            .expect("client");
        let cluster = Self {
            _dir: dir,
            _databases: databases,
            processes,
            oidc,
            gateway: format!("https://localhost:{front}"),
            admin: format!("http://127.0.0.1:{admin}"),
            ca,
            http,
        };
        cluster.wait_until_ready().await;
        cluster
    }

    /// Waits until the gateway says every service answers.
    async fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(response) = self.http.get(format!("{}/readyz", self.admin)).send().await
                && response.status() == 200
            {
                return;
            }
            for process in &self.processes {
                assert!(
                    Instant::now() < deadline,
                    "the cluster did not become ready; {} said:\n{}",
                    process.name,
                    process.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn token(&self, person: &str, role: &str, tenant: Option<&str>, school: Option<&str>) -> String {
        self.oidc.token(&self.oidc.claims(person, role, tenant, school, AUDIENCE, Duration::from_secs(600)))
    }

    async fn post(&self, token: &str, route: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{route}", self.gateway))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, token: &str, route: &str) -> (u16, Value) {
        let response = self.http.get(format!("{}{route}", self.gateway)).bearer_auth(token).send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Runs the `sen` client against the gateway as `token`.
    async fn sen(&self, token: &str, args: &[&str]) -> Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sen"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SEN_GATEWAY_URL", &self.gateway)
            .env("SEN_CA_FILE", &self.ca)
            .env("SEN_TOKEN", token);
        tokio::task::spawn_blocking(move || command.output().expect("sen runs")).await.expect("joined")
    }
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test]
async fn a_referral_goes_from_senco_to_ep_and_back_to_the_overview_across_the_production_topology() {
    let cluster = Cluster::start().await;
    let operator = cluster.token("op-1", "platform_operator", None, None);
    let manager = cluster.token("mgr-1", "la_manager", Some("990"), None);
    let senco = cluster.token("senco-1", "senco", Some("990"), Some("100001"));
    let ep = cluster.token("ep-ada", "educational_psychologist", Some("990"), None);

    let (status, body) =
        cluster.post(&operator, "/api/v1/authorities", json!({"la_code": "990", "name": "Northmoor"})).await;
    assert_eq!(status, 200, "{body}");
    let school = json!({
        "urn": "100001",
        "school": {
            "laestab": "9902001", "name": "Moorside Primary", "establishment_type_code": 1,
            "phase": "PHASE_PRIMARY", "statutory_low_age": 4, "statutory_high_age": 11,
            "number_on_roll": 210, "postcode": "NM1 1AA", "status": "ESTABLISHMENT_STATUS_OPEN"
        }
    });
    let (status, body) = cluster.post(&manager, "/api/v1/schools", school).await;
    assert_eq!(status, 200, "{body}");

    // The SENCO registers a pupil (the pupils service checks the school with the schools service).
    let upn = sen_pupils::domain::Upn::from_body("990200125001").expect("upn");
    let (status, pupil) = cluster
        .post(
            &senco,
            "/api/v1/pupils",
            json!({
                "pupil": {"upn": upn.as_str(), "legal_forename": "Musa", "legal_surname": "Ali",
                          "date_of_birth": "2017-02-02", "school_urn": "100001"},
                "sen_status": "SEN_PROVISION_SEN_SUPPORT", "primary_need": "NEED_TYPE_SLCN"
            }),
        )
        .await;
    assert_eq!(status, 200, "{pupil}");
    let pupil_id = pupil["id"].as_i64().expect("id");

    // ... and refers them, with consent.
    let consent_day = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let (status, referral) = cluster
        .post(
            &senco,
            "/api/v1/referrals",
            json!({
                "referral": {
                    "pupil_id": pupil_id, "school_urn": "100001", "kind": "educational_psychology",
                    "broad_areas": ["communication_and_interaction"],
                    "concern": "Speech is hard to understand",
                    "graduated_approach": {"summary": "Two cycles of small-group language work"},
                    "consent": {"given_by": "Mother", "given_on": consent_day, "method": "signed_form"},
                    "priority": "routine"
                },
                "idempotency_key": "topology-1"
            }),
        )
        .await;
    assert_eq!(status, 200, "{referral}");
    let referral_id = referral["id"].as_i64().expect("id");

    // The manager accepts it, names an EP and allocates.
    let (status, accepted) = cluster
        .post(
            &manager,
            &format!("/api/v1/referrals/{referral_id}/status"),
            json!({"version": referral["version"], "event": "REFERRAL_EVENT_ACCEPT"}),
        )
        .await;
    assert_eq!(status, 200, "{accepted}");
    let (status, professional) = cluster
        .post(
            &manager,
            "/api/v1/professionals",
            json!({"professional": {"person": "ep-ada", "name": "Dr Ada Okafor",
                   "role": "educational_psychologist:senior", "fte": 1.0,
                   "capacity_kind": "open_cases", "capacity": 20, "active": true}}),
        )
        .await;
    assert_eq!(status, 200, "{professional}");
    let (status, case) = cluster
        .post(
            &manager,
            "/api/v1/cases",
            json!({"referral_id": referral_id, "professional_id": professional["id"], "idempotency_key": "alloc-1"}),
        )
        .await;
    assert_eq!(status, 200, "{case}");
    let case_id = case["id"].as_i64().expect("case id").to_string();

    // The EP sees it with `sen caseload`, records a visit, and closes it.
    let listed = cluster.sen(&ep, &["caseload"]).await;
    assert!(listed.status.success(), "{}", text(&listed));
    assert!(text(&listed).contains(&case_id) && text(&listed).contains("100001"), "{}", text(&listed));
    let logged = cluster
        .sen(&ep, &["case", "log", &case_id, "--kind", "consultation", "--sessions", "1", "--note", "Met the SENCO"])
        .await;
    assert!(logged.status.success(), "{}", text(&logged));
    let shown = cluster.sen(&ep, &["case", "show", &case_id]).await;
    assert!(shown.status.success() && text(&shown).contains("consultation"), "{}", text(&shown));
    let closed = cluster.sen(&ep, &["case", "close", &case_id, "--outcome", "Advice given to school"]).await;
    assert!(closed.status.success(), "{}", text(&closed));
    let after = cluster.sen(&ep, &["caseload", "--json"]).await;
    assert!(after.status.success(), "{}", text(&after));
    assert!(!String::from_utf8_lossy(&after.stdout).contains(&format!("\"id\": {case_id}")), "{}", text(&after));

    // The overview shows the closed referral and the EP's load.
    let (status, overview) = cluster.get(&manager, "/api/v1/overview").await;
    assert_eq!(status, 200, "{overview}");
    assert_eq!(overview["unavailable"], json!([]), "{overview}");
    let closed_count = overview["referrals"]["by_status"]
        .as_array()
        .expect("by status")
        .iter()
        .find(|s| s["status"] == "REFERRAL_STATUS_CLOSED")
        .map(|s| s["count"].clone());
    assert_eq!(closed_count, Some(json!(1)), "{overview}");
    let sen_overview = cluster.sen(&manager, &["overview"]).await;
    assert!(sen_overview.status.success(), "{}", text(&sen_overview));

    // Another authority's manager sees none of it.
    let other = cluster.token("mgr-2", "la_manager", Some("991"), None);
    let (status, _) = cluster.get(&other, &format!("/api/v1/referrals/{referral_id}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn tokens_that_are_expired_for_another_audience_unknown_or_from_the_development_issuer_are_refused() {
    let cluster = Cluster::start().await;
    let expired = {
        let mut claims =
            cluster.oidc.claims("mgr-1", "la_manager", Some("990"), None, AUDIENCE, Duration::from_secs(60));
        let now = chrono::Utc::now().timestamp();
        claims["iat"] = json!(now - 7200);
        claims["nbf"] = json!(now - 7200);
        claims["exp"] = json!(now - 3600);
        cluster.oidc.token(&claims)
    };
    let wrong_audience = cluster.oidc.token(&cluster.oidc.claims(
        "mgr-1",
        "la_manager",
        Some("990"),
        None,
        "api://someone-else",
        Duration::from_secs(600),
    ));
    let unknown_key = cluster.oidc.token_signed_by_unknown_key(&cluster.oidc.claims(
        "mgr-1",
        "la_manager",
        Some("990"),
        None,
        AUDIENCE,
        Duration::from_secs(600),
    ));
    let development = {
        let dev = sen_platform::identity::DevIssuer::generate().expect("dev issuer");
        let grant = sen_platform::identity::Grant {
            person: "mgr-1".into(),
            role: sen_platform::identity::Role::LaManager,
            tenant: sen_platform::ids::LaCode::parse("990").ok(),
            school: None,
        };
        dev.signer.mint(&grant, Duration::from_secs(600)).expect("token")
    };
    for (what, token) in [
        ("expired", &expired),
        ("wrong audience", &wrong_audience),
        ("unknown key", &unknown_key),
        ("development", &development),
    ] {
        let (status, body) = cluster.get(token, "/api/v1/schools").await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body["error"]["code"], "UNAUTHENTICATED", "{what}");
        let refused = cluster.sen(token, &["overview"]).await;
        assert_eq!(refused.status.code(), Some(3), "{what}: {}", text(&refused));
    }
    // A good token with a role the platform does not know grants nothing.
    let stranger = cluster.token("x-1", "janitor", Some("990"), None);
    let (status, _) = cluster.get(&stranger, "/api/v1/schools").await;
    assert_eq!(status, 403);
    // The gateway reports itself unready when a service stops.
    let mut cluster = cluster;
    let referrals = cluster.processes.iter().position(|p| p.name == "referrals").expect("referrals");
    drop(cluster.processes.remove(referrals));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = cluster.http.get(format!("{}/readyz", cluster.admin)).send().await.expect("readyz");
        if ready.status() == 503 {
            break;
        }
        assert!(Instant::now() < deadline, "still ready with the referrals service gone");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let manager = cluster.token("mgr-1", "la_manager", Some("990"), None);
    let (status, body) = cluster.get(&manager, "/api/v1/referrals").await;
    assert_eq!(status, 503, "{body}");
    let metrics = cluster.http.get(format!("{}/metrics", cluster.admin)).send().await.expect("metrics");
    let metrics = metrics.text().await.expect("text");
    assert!(metrics.contains("sen_gateway_upstream_up{service=\"referrals\"} 0"), "{metrics}");
}
