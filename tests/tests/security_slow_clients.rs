//! Slow clients cannot lock the platform. An attacker who
//! opens many connections and sends their headers or bodies slowly, or not at
//! all, holds connections for a bounded time and no working place: while the
//! attack holds, a signed-in person of another council is served as usual, and
//! the attacker's connections are cut off (408 for a body that stopped coming).
//! Readiness tells a load balancer when the gateway is really out of room.
//!
//! The attackers speak raw TCP, each from a loopback address of its own
//! (127.0.0.x), as clients on different machines would.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How long the test gateway gives a body to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(6);
/// How long the test gateway gives headers to arrive.
const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
/// Longer than any limit the test gateway sets: a connection still open after
/// this was never going to be closed.
const NEVER: Duration = Duration::from_secs(15);

fn options() -> GatewayOptions {
    let mut options = GatewayOptions { max_concurrent: 8, ..Default::default() };
    options.limits.anonymous_at_once = 4;
    options.limits.address_at_once = 2;
    options.limits.body_timeout = BODY_TIMEOUT;
    options.connections.header_read_timeout = HEADER_TIMEOUT;
    options.connections.keep_alive = HEADER_TIMEOUT;
    options
}

/// A raw connection to the gateway from the loopback address `from`.
async fn connect_from(gateway: SocketAddr, from: Ipv4Addr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::from((from, 0))).expect("a loopback address of its own");
    socket.connect(gateway).await.expect("connect")
}

/// Opens `per_address` connections from each of `addresses` and sends `bytes` on each.
async fn attack(
    gateway: SocketAddr,
    addresses: std::ops::Range<u8>,
    per_address: usize,
    bytes: &[u8],
) -> Vec<TcpStream> {
    let mut connections = Vec::new();
    for last in addresses {
        for _ in 0..per_address {
            let mut stream = connect_from(gateway, Ipv4Addr::new(127, 0, 0, last)).await;
            stream.write_all(bytes).await.expect("send");
            connections.push(stream);
        }
    }
    connections
}

/// What the gateway sent on `stream` before closing it; `None` if it was still
/// open after `within`.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut seen = Vec::new();
    let read = async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok()?;
    Some(String::from_utf8_lossy(&seen).into_owned())
}

/// A client that sends from the loopback address `from`.
fn client_from(from: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder().local_address(std::net::IpAddr::V4(from)).build().expect("client")
}

/// Waits until the gateway is reading `n` request bodies at once: the attack's
/// requests are in. Panics if that does not happen before `deadline`.
async fn until_reading_bodies(gateway: &TestGateway, n: u64, deadline: Instant) {
    let mut every = tokio::time::interval(Duration::from_millis(20));
    loop {
        let metrics = reqwest::get(format!("{}/metrics", gateway.url())).await.expect("metrics");
        let metrics = metrics.text().await.expect("text");
        let reading = metrics
            .lines()
            .find_map(|line| line.strip_prefix("sen_gateway_requests_reading_body "))
            .and_then(|value| value.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if reading >= n {
            return;
        }
        assert!(Instant::now() < deadline, "the attack never took hold ({reading} bodies being read)");
        every.tick().await;
    }
}

/// A manager of council 887 uses all three faces and is served each time.
async fn another_council_is_served(platform: &TestPlatform, gateway: &TestGateway) {
    let manager = platform.token(Role::LaManager, Some("887"), None);
    let json = reqwest::Client::new()
        .get(format!("{}/api/v1/schools", gateway.url()))
        .bearer_auth(&manager)
        .send()
        .await
        .expect("json");
    assert_eq!(json.status(), 200, "the JSON API serves another council during the attack");
    let mut schools = SchoolsServiceClient::new(gateway.bearer(&manager).await.expect("gateway"));
    let listed = schools.list_schools(pb::ListSchoolsRequest::default()).await;
    assert!(listed.is_ok(), "gRPC serves another council during the attack: {listed:?}");
    let pages = gateway.web_client(Role::LaManager, Some("887"), None).await;
    let page = pages.get(format!("{}/dashboard", gateway.url())).send().await.expect("page");
    assert_eq!(page.status(), 200, "the pages serve another council during the attack");
}

#[tokio::test]
async fn slow_bodies_sent_without_signing_in_lock_no_council_out_and_are_cut_off_with_408() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let gateway = TestGateway::start(&platform, options()).await.expect("gateway");
    let started = Instant::now();
    // Forty connections from ten addresses: each promises a 100,000-byte sign-in form and sends 7 bytes.
    let slow_body = b"POST /sign-in HTTP/1.1\r\nHost: sen.example\r\n\
        Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nperson=";
    let mut attackers = attack(gateway.addr, 10..20, 4, slow_body).await;
    // The places kept for strangers (four) are all taken by attackers.
    until_reading_bodies(&gateway, 4, started + BODY_TIMEOUT).await;
    let stranger = client_from(Ipv4Addr::new(127, 0, 0, 99));
    let sign_in = format!("{}/sign-in", gateway.url());
    let refused = stranger.get(&sign_in).send().await.expect("an answer");
    assert_eq!(refused.status(), 503, "other strangers wait");
    assert_eq!(refused.headers()["retry-after"], "1");

    another_council_is_served(&platform, &gateway).await;
    assert!(started.elapsed() < BODY_TIMEOUT, "checked while the attack still held (slow machine?)");

    let mut cut_off = 0;
    for attacker in &mut attackers {
        let answer = until_closed(attacker, NEVER).await.expect("every attacking connection is closed");
        let status = answer.split(' ').nth(1).unwrap_or_default();
        assert!(["408", "429", "503"].contains(&status), "refused or cut off: {answer}");
        if status == "408" {
            cut_off += 1;
            assert!(!answer.contains("Retry-After") && !answer.contains("retry-after"), "{answer}");
        }
    }
    assert!(cut_off > 0, "the bodies that were waited for were cut off with 408");
    let after = stranger.get(&sign_in).send().await.expect("sign-in page");
    assert_eq!(after.status(), 200, "strangers may sign in again once the attack is over");
}

#[tokio::test]
async fn slow_bodies_from_a_signed_in_person_take_no_working_place_from_other_councils() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let mut options = options();
    options.limits.person_at_once = 20;
    let gateway = TestGateway::start(&platform, options).await.expect("gateway");
    let started = Instant::now();
    let attacker = platform.token(Role::LaManager, Some("886"), None);
    let slow_body = format!(
        "POST /api/v1/referrals HTTP/1.1\r\nHost: sen.example\r\nAuthorization: Bearer {attacker}\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"referral\":"
    );
    // Twenty requests from one signed-in person, more than the gateway's eight working places.
    let mut attackers = attack(gateway.addr, 1..2, 20, slow_body.as_bytes()).await;
    until_reading_bodies(&gateway, 20, started + BODY_TIMEOUT).await;
    let schools = format!("{}/api/v1/schools", gateway.url());
    let refused = reqwest::Client::new().get(&schools).bearer_auth(&attacker).send().await.expect("an answer");
    assert_eq!(refused.status(), 429, "the attacker may start no more");

    another_council_is_served(&platform, &gateway).await;
    assert!(started.elapsed() < BODY_TIMEOUT, "checked while the attack still held (slow machine?)");

    for attacker in &mut attackers {
        let answer = until_closed(attacker, NEVER).await.expect("every attacking connection is closed");
        assert!(answer.starts_with("HTTP/1.1 408"), "a body that stopped coming is answered 408: {answer}");
        assert!(answer.contains("DEADLINE_EXCEEDED"), "{answer}");
    }
}

#[tokio::test]
async fn silent_and_slow_connections_are_closed_while_other_councils_are_served() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let gateway = TestGateway::start(&platform, options()).await.expect("gateway");
    let http2_preface_only = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";
    let kinds: [(&str, &[u8]); 4] = [
        ("says nothing at all", b""),
        ("sends half its headers", b"GET /sign-in HTTP/1.1\r\nHost: sen.example\r\nX-Slow: "),
        ("opens HTTP/2 and asks nothing", http2_preface_only),
        (
            "asks once, then sends half the next headers",
            b"GET /healthz HTTP/1.1\r\nHost: sen.example\r\n\r\nGET /healthz HTTP/1.1\r\nHo",
        ),
    ];
    let mut attackers = Vec::new();
    for (n, (kind, bytes)) in (30u8..).zip(kinds) {
        for connection in attack(gateway.addr, n..n + 1, 5, bytes).await {
            attackers.push((kind, connection));
        }
    }

    another_council_is_served(&platform, &gateway).await;

    for (kind, attacker) in &mut attackers {
        let answer = until_closed(attacker, NEVER).await;
        let answer = answer.unwrap_or_else(|| panic!("a connection that {kind} is closed"));
        if kind.starts_with("asks once") {
            assert!(answer.starts_with("HTTP/1.1 200"), "its first request was answered: {answer}");
        }
    }
    let metrics =
        reqwest::get(format!("{}/metrics", gateway.url())).await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("sen_gateway_slow_clients_total{stage=\"headers\"}"), "{metrics}");
}

#[tokio::test]
async fn a_gateway_turning_work_away_is_not_ready_until_it_has_room_again() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let options = GatewayOptions { max_concurrent: 1, ..Default::default() };
    let gateway = TestGateway::start(&platform, options).await.expect("gateway");
    let manager = platform.token(Role::LaManager, Some("886"), None);
    let http = reqwest::Client::new();
    let ready = || async { http.get(format!("{}/readyz", gateway.url())).send().await.expect("readyz") };
    assert_eq!(ready().await.status(), 200);

    // An import whose upload is still open holds the one working place.
    let (chunks, upload) = tokio::sync::mpsc::channel::<pb::ImportSchoolsRequest>(1);
    let mut importer = SchoolsServiceClient::new(gateway.bearer(&manager).await.expect("gateway"));
    let import =
        tokio::spawn(async move { importer.import_schools(tokio_stream::wrappers::ReceiverStream::new(upload)).await });
    // Once the import holds the place, the gateway says it has no room.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut every = tokio::time::interval(Duration::from_millis(50));
    while ready().await.status() != 503 {
        assert!(!import.is_finished(), "the import ended early");
        assert!(Instant::now() < deadline, "readiness never said the gateway had no room");
        every.tick().await;
    }
    let schools = format!("{}/api/v1/schools", gateway.url());
    let shed = http.get(&schools).bearer_auth(&manager).send().await.expect("json");
    assert_eq!(shed.status(), 503, "work is turned away");
    assert_eq!(shed.headers()["retry-after"], "1");

    let report = ready().await;
    assert_eq!(report.status(), 503, "a gateway with no room is not ready");
    let report: serde_json::Value = report.json().await.expect("report");
    assert_eq!(report["saturated"], true, "{report}");

    drop(chunks);
    let _ = import.await.expect("import task");
    let deadline = Instant::now() + Duration::from_secs(10);
    // A refusal keeps the gateway reported saturated for a moment; ask again until it passes.
    let mut every = tokio::time::interval(Duration::from_millis(100));
    while ready().await.status() != 200 {
        assert!(Instant::now() < deadline, "ready again once there is room");
        every.tick().await;
    }
}
