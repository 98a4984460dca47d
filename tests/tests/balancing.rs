//! Calls to a service spread over its replicas, as when Kubernetes scales a
//! Deployment behind a headless Service: three schools replicas over one
//! database, on 127.0.0.1, 127.0.0.2 and 127.0.0.3 at the same port, serving TLS
//! for the Service's name only, and a caller whose resolver answers that name
//! with their addresses. Calls reach every replica; a replica added to the
//! answer gets calls from the next resolution on; a killed replica stops
//! getting them while calls go on succeeding. Each replica counts the calls it
//! is given, so every check is on who answered, not on timing.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use sen_platform::balance::Listed;
use sen_platform::config::{Config, TlsFiles};
use sen_platform::identity::{AttachIdentity, DevIssuer, Grant, IdentityVerifier, Role};
use sen_platform::ids::LaCode;
use sen_platform::serve::{ServeOptions, serve};
use sen_platform::testing::{Engine, TestDatabase};
use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use sen_tests::platform::{SchoolsClient, today};
use tonic::Code;
use tonic::server::NamedService;

/// The name the replicas answer for, as a headless Service's would be.
const NAME: &str = "sen-schools-headless";
/// How often the caller resolves the name again.
const RESOLVE_EVERY: &str = "1";

/// A CA and the replicas' certificate, for [`NAME`] alone (not their addresses).
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a folder");
        let ca_key = KeyPair::generate().expect("a key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "SEN balancing test CA");
        let ca_cert = ca.self_signed(&ca_key).expect("a CA");
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().expect("a key");
        let cert = CertificateParams::new(vec![NAME.to_owned()]).expect("parameters").signed_by(&key, &issuer);
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).expect("CA file");
        std::fs::write(dir.path().join("server.pem"), cert.expect("a certificate").pem()).expect("file");
        std::fs::write(dir.path().join("server-key.pem"), key.serialize_pem()).expect("file");
        Self { dir }
    }

    fn server(&self) -> TlsFiles {
        TlsFiles {
            cert: self.dir.path().join("server.pem"),
            key: self.dir.path().join("server-key.pem"),
            client_ca: None,
        }
    }

    /// A service's configuration: trusting the CA, resolving every [`RESOLVE_EVERY`] seconds.
    fn caller(&self) -> Config {
        let ca = self.dir.path().join("ca.pem").display().to_string();
        Config::from_lookup(&move |name| match name {
            "SEN_UPSTREAM_CA_FILE" => Some(ca.clone()),
            "SEN_RESOLVE_INTERVAL_SECONDS" => Some(RESOLVE_EVERY.to_owned()),
            _ => None,
        })
        .expect("a valid configuration")
    }
}

/// Counts the calls a replica is given.
#[derive(Clone)]
struct Counted<S> {
    inner: S,
    calls: Arc<AtomicUsize>,
}

impl<S: NamedService> NamedService for Counted<S> {
    const NAME: &'static str = S::NAME;
}

impl<S: tower::Service<R>, R> tower::Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.call(request)
    }
}

/// One schools replica, in a runtime of its own so that killing it drops every
/// connection it holds at once, as the end of its process would.
struct Replica {
    calls: Arc<AtomicUsize>,
    kill: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Replica {
    async fn start(listener: std::net::TcpListener, db: String, verifier: IdentityVerifier, tls: TlsFiles) -> Self {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let (kill, killed) = tokio::sync::oneshot::channel::<()>();
        let (ready, started) = tokio::sync::oneshot::channel::<Result<(), String>>();
        let thread = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
            runtime.spawn(async move {
                let prepared = async {
                    let store = sen_schools::Store::connect(&db, &Default::default()).await?;
                    let refusals = sen_platform::audit::RefusalTrail::new(sen_schools::PART, None, Default::default());
                    let api = sen_schools::SchoolsApi::with_clock(store, Arc::new(today));
                    let service = Counted { inner: sen_schools::service(api, &verifier, refusals), calls: counted };
                    let tls = sen_platform::tls::server_tls(&tls)?;
                    listener.set_nonblocking(true)?;
                    anyhow::Ok((tokio::net::TcpListener::from_std(listener)?, service, tls))
                };
                let (listener, service, tls) = match prepared.await {
                    Ok(prepared) => prepared,
                    Err(e) => return drop(ready.send(Err(format!("{e:#}")))),
                };
                let _ = ready.send(Ok(()));
                let options = ServeOptions {
                    tls: Some(tls),
                    shutdown_grace: Duration::ZERO,
                    admin: None,
                    metrics: Default::default(),
                };
                let routes = tonic::service::Routes::new(service);
                let served =
                    serve(listener, routes, &[sen_schools::SERVICE_NAME], options, std::future::pending()).await;
                if let Err(e) = served {
                    eprintln!("a replica stopped serving: {e:#}");
                }
            });
            let _ = runtime.block_on(killed);
            runtime.shutdown_timeout(Duration::from_secs(5));
        });
        match started.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("a replica did not start: {e}"),
            Err(_) => panic!("a replica did not start"),
        }
        Self { calls, kill: Some(kill), thread: Some(thread) }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Ends the replica at once, no goodbye to its callers, and waits until
    /// everything it ran is gone.
    fn kill(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

fn loopback(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// Listeners on 127.0.0.1 to 127.0.0.`count`, all on one port.
fn listeners(count: u8) -> (u16, Vec<std::net::TcpListener>) {
    for _ in 0..20 {
        let Ok(first) = std::net::TcpListener::bind(SocketAddr::new(loopback(1), 0)) else { continue };
        let Ok(port) = first.local_addr().map(|addr| addr.port()) else { continue };
        let rest: Result<Vec<_>, _> =
            (2..=count).map(|n| std::net::TcpListener::bind(SocketAddr::new(loopback(n), port))).collect();
        if let Ok(rest) = rest {
            return (port, std::iter::once(first).chain(rest).collect());
        }
    }
    panic!("no port free on every loopback address");
}

/// Replicas of the schools service (the first three resolved, the others
/// standing by), the resolver the caller asks, and the caller's configuration.
struct Scaled {
    replicas: Vec<Replica>,
    resolver: Listed,
    port: u16,
    pki: Pki,
    issuer: DevIssuer,
    _db: TestDatabase,
}

impl Scaled {
    async fn start(count: u8) -> Self {
        let db = TestDatabase::create(Engine::Sqlite).await.expect("a database");
        let store = sen_schools::Store::connect(&db.url, &Default::default()).await.expect("the store");
        store.create_authority(LaCode::parse("886").expect("a code"), "Kent").await.expect("an authority");
        let issuer = DevIssuer::generate().expect("an issuer");
        let pki = Pki::new();
        let (port, listeners) = listeners(count);
        let mut replicas = Vec::new();
        for listener in listeners {
            replicas.push(Replica::start(listener, db.url.clone(), issuer.verifier.clone(), pki.server()).await);
        }
        let resolver = Listed::new((1..=3).map(loopback));
        Self { replicas, resolver, port, pki, issuer, _db: db }
    }

    /// A council manager's client over a channel to `host` as a service builds it.
    fn caller_for(&self, host: &str) -> SchoolsClient {
        let url = format!("https://{host}:{}", self.port);
        let resolver = Arc::new(self.resolver.clone());
        let channel = sen_platform::client::channel_resolved_by(&url, &self.pki.caller(), resolver).expect("a channel");
        SchoolsServiceClient::with_interceptor(channel, self.attach())
    }

    /// A council manager's identity on every call.
    fn attach(&self) -> AttachIdentity {
        let grant =
            Grant { person: "manager".into(), role: Role::LaManager, tenant: LaCode::parse("886").ok(), school: None };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(300)).expect("a token");
        AttachIdentity::new(&token).expect("a header")
    }

    fn caller(&self) -> SchoolsClient {
        self.caller_for(NAME)
    }

    fn calls(&self) -> Vec<usize> {
        self.replicas.iter().map(Replica::calls).collect()
    }
}

/// How many schools a listing found, or the status code and message it failed with.
async fn list(client: &mut SchoolsClient) -> Result<usize, (Code, String)> {
    match client.list_schools(pb::ListSchoolsRequest::default()).await {
        Ok(listed) => Ok(listed.into_inner().schools.len()),
        Err(status) => Err((status.code(), status.message().to_owned())),
    }
}

/// A read as a caller sends it: once more when the first attempt failed (the
/// replica it went to was lost under it, say).
async fn list_retrying(client: &mut SchoolsClient, first_attempts_failed: &mut usize) -> Result<usize, (Code, String)> {
    match list(client).await {
        Err(_) => {
            *first_attempts_failed += 1;
            list(client).await
        }
        answered => answered,
    }
}

#[tokio::test]
async fn calls_are_spread_over_every_replica_of_a_service() {
    let scaled = Scaled::start(3).await;
    let mut caller = scaled.caller();
    for _ in 0..300 {
        assert_eq!(list(&mut caller).await, Ok(0));
    }
    let calls = scaled.calls();
    assert_eq!(calls.iter().sum::<usize>(), 300, "{calls:?}");
    assert!(calls.iter().all(|&n| n >= 60), "each replica answers a fair share (at least 20 %): {calls:?}");
}

#[tokio::test]
async fn the_gateways_upstreams_spread_their_calls_the_same_way() {
    let scaled = Scaled::start(3).await;
    let url = format!("https://{NAME}:{}", scaled.port);
    let resolver = Arc::new(scaled.resolver.clone());
    let upstream = sen_platform::client::balanced_resolved_by(&url, &scaled.pki.caller(), resolver).expect("upstream");
    let mut caller = SchoolsServiceClient::with_interceptor(upstream.clone(), scaled.attach());
    for _ in 0..300 {
        let listed = caller.list_schools(pb::ListSchoolsRequest::default()).await.map_err(|status| status.code());
        assert_eq!(listed.map(|listed| listed.into_inner().schools.len()), Ok(0));
    }
    let calls = scaled.calls();
    assert!(calls.iter().all(|&n| n >= 60), "each replica answers a fair share (at least 20 %): {calls:?}");
    let expected: Vec<SocketAddr> = (1..=3).map(|n| SocketAddr::new(loopback(n), scaled.port)).collect();
    assert_eq!(upstream.replicas(), expected);
}

#[tokio::test]
async fn a_replica_added_to_the_name_gets_calls_from_the_next_resolution() {
    let mut scaled = Scaled::start(4).await;
    let mut caller = scaled.caller();
    for _ in 0..30 {
        assert_eq!(list(&mut caller).await, Ok(0));
    }
    assert_eq!(scaled.calls()[3], 0, "the fourth replica is not resolved yet");

    let asked = scaled.resolver.times_asked();
    scaled.resolver.set((1..=4).map(loopback));
    let deadline = Instant::now() + Duration::from_secs(30);
    while scaled.calls()[3] == 0 {
        assert!(Instant::now() < deadline, "the fourth replica never got a call: {:?}", scaled.calls());
        assert_eq!(list(&mut caller).await, Ok(0), "calls go on while a replica joins");
    }
    let resolutions = scaled.resolver.times_asked() - asked;
    assert!(resolutions <= 2, "the fourth replica joined at the first resolution listing it, not after {resolutions}");

    let before = scaled.calls();
    for _ in 0..200 {
        assert_eq!(list(&mut caller).await, Ok(0));
    }
    let fourth = scaled.calls()[3] - before[3];
    assert!(fourth >= 25, "the fourth replica takes its share of 200 calls: {fourth} ({:?})", scaled.calls());
    scaled.replicas.truncate(3);
}

#[tokio::test]
async fn a_killed_replica_stops_getting_calls_and_calls_go_on_succeeding() {
    let mut scaled = Scaled::start(3).await;
    let mut caller = scaled.caller();
    for _ in 0..60 {
        assert_eq!(list(&mut caller).await, Ok(0));
    }
    assert!(scaled.calls().iter().all(|&n| n > 0), "every replica is in use: {:?}", scaled.calls());

    scaled.replicas[1].kill();
    let killed_at = scaled.calls()[1];
    // The name still lists the killed replica, as DNS may for a while: it
    // must stay out all the same, through several resolutions.
    let asked = scaled.resolver.times_asked();
    let mut first_attempts_failed = 0;
    let mut calls = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while calls < 300 || scaled.resolver.times_asked() < asked + 3 {
        assert!(Instant::now() < deadline, "the resolver was not asked again");
        let answer = list_retrying(&mut caller, &mut first_attempts_failed).await;
        assert_eq!(answer, Ok(0), "call {calls} after the kill");
        calls += 1;
    }
    assert!(first_attempts_failed <= 1, "only the call that found the replica dead failed: {first_attempts_failed}");
    let now = scaled.calls();
    assert_eq!(now[1], killed_at, "nothing reached the killed replica");
    let survivors = now[0] + now[2];
    assert!(survivors >= calls, "the other two answered every call: {now:?} for {calls} calls");
}

#[tokio::test]
async fn the_certificate_is_checked_against_the_service_name_not_the_replica_address() {
    let scaled = Scaled::start(3).await;
    let mut misnamed = scaled.caller_for("sen-elsewhere-headless");
    let refused = list(&mut misnamed).await;
    assert_eq!(refused.map_err(|(code, _)| code), Err(Code::Unavailable), "a certificate for another name");
    assert!(scaled.calls().iter().all(|&n| n == 0), "no call was served over a connection to the wrong name");
    let mut caller = scaled.caller();
    assert_eq!(list(&mut caller).await, Ok(0), "the replicas' addresses are not in their certificate; the name is");
}
