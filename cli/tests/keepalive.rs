//! A link between two parts that silently stops passing traffic: a firewall,
//! NAT or proxy on the path forgets the connection and drops its packets without
//! closing it. The production topology (real processes, mutual TLS) with the
//! gateway's link to the caseloads service through a proxy that blackholes the
//! connections open at that moment: within seconds both ends give the dead
//! connection up (their HTTP/2 pings go unanswered), and calls go on over a new
//! connection, rather than each waiting out its deadline for as long as TCP
//! takes to notice (many minutes).

mod support;

use std::time::{Duration, Instant};

use support::cluster::{Cluster, Options};

/// Longer than a keep-alive ping's interval and timeout together, far shorter than TCP's own giving up.
const WITHIN: Duration = Duration::from_secs(25);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_link_that_silently_drops_traffic_is_given_up_within_seconds_and_calls_go_on_over_a_new_connection() {
    let options = Options { proxied: vec![("gateway", "caseloads")], ..Options::default() };
    let cluster = Cluster::start_with(options).await;
    let manager = cluster.token("mgr-1", "la_manager", Some("990"), None);
    let (status, body) = cluster.get(&manager, "/api/v1/professionals").await;
    assert_eq!(status, 200, "answered over the link: {body}");
    let proxy = cluster.proxy("gateway", "caseloads");
    let open = proxy.connections_made();
    assert!(open > 0 && proxy.open_connections() > 0, "the gateway holds a connection to the caseloads service");

    proxy.blackhole();
    let blackholed = Instant::now();
    let mut answers = Vec::new();
    loop {
        let answer = cluster.try_get(&manager, "/api/v1/professionals").await;
        let status = answer.as_ref().map(|(status, _)| *status).map_err(ToString::to_string);
        answers.push((blackholed.elapsed(), status.clone()));
        if status == Ok(200) {
            break;
        }
        assert!(
            blackholed.elapsed() < WITHIN,
            "no call went through within {WITHIN:?} of the link going silent: {answers:?}\n{}",
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("calls went through again {:.1?} after the link went silent: {answers:?}", blackholed.elapsed());
    assert!(proxy.connections_made() > open, "over a new connection");

    // Each end gave the dead connection up by itself: the gateway as the
    // caller, the caseloads service as the server (its own pings unanswered).
    let deadline = Instant::now() + WITHIN;
    loop {
        let (by_caller, by_upstream) = proxy.blackholed_closed();
        if by_caller > 0 && by_upstream > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the silent connection is still held open: closed by the gateway {by_caller}, by the service {by_upstream}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) = cluster.get(&manager, "/api/v1/professionals").await;
    assert_eq!(status, 200, "{body}");
}
