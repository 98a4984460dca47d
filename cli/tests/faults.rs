//! The fault suite: the production topology (each service its own `sen serve`
//! process on its own PostgreSQL database, the gateway in front) under write
//! load from several callers, while something goes wrong: a service killed, the
//! database connections cut, the link between two services cut or slowed.
//! Afterwards, for every fault: every acknowledged call is stored exactly once,
//! every failed call left nothing or was completed by its retry, the services
//! agree with each other, and the platform answers again with no manual step.
//!
//! Each test prints a row of figures (`FIGURES | fault | calls | acknowledged |
//! failed | failed but stored | lost | duplicated | recovered within |`) for
//! the runbook's table. The tests take turns, so that one's load does not slow
//! another's recovery.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::check::{Expect, Figures, consistency, failures, recovered_within};
use support::cluster::{Cluster, Options, PARTS};
use support::faults::{
    accepted_referral, allocate_once, case_status, grpc_submission, let_the_reconciler_run, says_unready,
    terminate_database_connections, write_in_flight,
};
use support::load::{Call, Ledger, Load, setup};

/// One fault test at a time: the machine has few cores and the figures are timings.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Callers making load at once.
const CALLERS: usize = 4;

/// Checks the stores against the ledger, prints the figures and fails on any problem.
async fn check_and_report(cluster: &Cluster, fault: &str, ledger: &Ledger, recovered: Duration) -> Figures {
    let refusals = ledger.refusals.lock().expect("ledger").clone();
    assert!(refusals.is_empty(), "{fault}: calls were refused:\n{}", refusals.join("\n"));
    let found = consistency(&cluster.database_urls, ledger, Expect::Everything).await;
    let figures = Figures::of(fault, ledger, &found, recovered);
    println!("FIGURES {figures}");
    println!("failed calls ({fault}): {}", failures(ledger));
    for answer in ledger.failed_answers.lock().expect("ledger").iter() {
        println!("  told: {answer}");
    }
    let problems: Vec<&String> = found.problems.iter().chain(&found.orphans).collect();
    assert!(problems.is_empty(), "{fault}: {} problems:\n{problems:#?}", problems.len());
    assert_eq!((figures.lost, figures.duplicated), (0, 0));
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_service_killed_mid_load_and_started_again_loses_nothing_and_stores_nothing_twice() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let cluster = Arc::new(Cluster::start().await);
    let fixture = setup(&cluster.front(), &|p, r, t, s| cluster.token(p, r, t, s), 8).await;
    let load = Load::start(&cluster.front(), &fixture, CALLERS, "kill");
    load.wait_for_pipelines(4, Duration::from_secs(60)).await;
    let mut slowest = Duration::ZERO;
    for part in PARTS {
        let fault = Instant::now();
        cluster.kill(part);
        assert!(!cluster.ready().await, "the gateway reports {part} down");
        cluster.restart(part);
        cluster.wait_until_ready(Duration::from_secs(60)).await;
        load.wait_for_every_caller(Duration::from_secs(120)).await;
        let calls = load.ledger.calls.lock().expect("ledger").clone();
        let recovered = recovered_within(&calls, fault, Instant::now());
        println!("kill -9 of {part}: every caller acknowledged again within {recovered:.1?}");
        slowest = slowest.max(recovered);
    }
    let ledger = load.finish().await;
    check_and_report(&cluster, "kill -9 of each service in turn, restarted", &ledger, slowest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_connections_terminated_mid_load_are_replaced_by_the_pools_without_a_restart() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let cluster = Arc::new(Cluster::start_with(Options::default()).await);
    let fixture = setup(&cluster.front(), &|p, r, t, s| cluster.token(p, r, t, s), 8).await;
    let load = Load::start(&cluster.front(), &fixture, CALLERS, "pgterm");
    // Readiness as a probe sees it, sampled through the fault.
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let samples = {
        let (cluster, sampling) = (cluster.clone(), sampling.clone());
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while sampling.load(std::sync::atomic::Ordering::SeqCst) {
                samples.push(cluster.ready().await);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            samples
        })
    };
    load.wait_for_pipelines(4, Duration::from_secs(60)).await;
    let mut slowest = Duration::ZERO;
    for round in 0..3 {
        let fault = Instant::now();
        let terminated = terminate_database_connections(&cluster).await;
        assert!(terminated > 0, "round {round}: the services had connections open");
        load.wait_for_every_caller(Duration::from_secs(120)).await;
        let calls = load.ledger.calls.lock().expect("ledger").clone();
        let recovered = recovered_within(&calls, fault, Instant::now());
        println!(
            "round {round}: {terminated} connections terminated; every caller acknowledged again within {recovered:.1?}"
        );
        slowest = slowest.max(recovered);
    }
    let ledger = load.finish().await;
    sampling.store(false, std::sync::atomic::Ordering::SeqCst);
    let samples = samples.await.expect("sampler");
    let unready = samples.iter().filter(|ready| !**ready).count();
    println!("readiness sampled {} times during the faults: {unready} not ready", samples.len());
    assert!(cluster.ready().await, "ready again with no restart:\n{}", cluster.logs());
    check_and_report(&cluster, "every database connection terminated (3 rounds)", &ledger, slowest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_part_stopped_with_sigterm_mid_load_is_unready_first_and_finishes_its_calls() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let admin: std::collections::BTreeMap<&str, u16> =
        ["referrals", "caseloads"].into_iter().map(|part| (part, support::cluster::free_port())).collect();
    let options = Options {
        env: admin.iter().map(|(part, port)| (*part, "SEN_ADMIN_LISTEN", format!("127.0.0.1:{port}"))).collect(),
        // Long enough for every call in flight: none may be cut off.
        grace_seconds: Some(20),
        // Their queries can be held, so that a call is known to be in flight at the signal.
        proxied_databases: vec!["referrals", "caseloads"],
        ..Options::default()
    };
    let cluster = Arc::new(Cluster::start_with(options).await);
    let fixture = setup(&cluster.front(), &|p, r, t, s| cluster.token(p, r, t, s), 8).await;
    let load = Load::start(&cluster.front(), &fixture, CALLERS, "drain");
    load.wait_for_pipelines(4, Duration::from_secs(60)).await;
    let mut slowest = Duration::ZERO;
    for part in ["referrals", "caseloads", "gateway"] {
        let database = cluster.proxy(if part == "referrals" { "referrals" } else { "caseloads" }, "postgres");
        // Only this call's own query is held, so it, and not one of the load's, is in flight.
        let (written, call) = write_in_flight(&cluster, &fixture, &load.ledger, part, database);
        database.wait_for_held(Duration::from_secs(30)).await;
        let signalled = Instant::now();
        cluster.terminate(part);
        // Readiness drops while the part still runs: it cannot stop before the held call ends.
        let admin_port = admin.get(part).copied().unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !says_unready(&cluster, part, admin_port).await {
            assert!(Instant::now() < deadline, "{part} still says it is ready after SIGTERM");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(cluster.is_running(part), "{part} waits for its call in flight");
        database.release();
        let (status, answer) = call.await.expect("the call in flight");
        assert_eq!(status, 200, "the call in flight when {part} was stopped is finished: {answer}");
        load.ledger.single_writes.lock().expect("ledger").push(written);
        let (exit, log) = cluster.wait_exit(part, Duration::from_secs(40)).await;
        let stopped = signalled.elapsed();
        assert!(exit.success(), "{part} stops cleanly on SIGTERM: {exit:?}\n{log}");
        assert!(!log.contains("cut off"), "{part} cut calls off at the end of its grace:\n{log}");
        let in_flight: Vec<bool> = load
            .ledger
            .calls
            .lock()
            .expect("ledger")
            .iter()
            .filter(|c| c.started < signalled && c.ended > signalled)
            .map(|c| c.acknowledged)
            .collect();
        println!(
            "SIGTERM to {part}: stopped {stopped:.1?} after the signal; of the load's calls, {} were in flight, \
             {} of them acknowledged",
            in_flight.len(),
            in_flight.iter().filter(|a| **a).count()
        );
        cluster.restart(part);
        cluster.wait_until_ready(Duration::from_secs(60)).await;
        load.wait_for_every_caller(Duration::from_secs(120)).await;
        let calls = load.ledger.calls.lock().expect("ledger").clone();
        slowest = slowest.max(recovered_within(&calls, signalled, Instant::now()));
    }
    let ledger = load.finish().await;
    let figures = check_and_report(&cluster, "SIGTERM to referrals, caseloads, the gateway", &ledger, slowest).await;
    assert_eq!(figures.failed_but_stored, 0, "no call without a key was seen to fail after it was done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_link_cut_mid_allocation_leaves_nothing_half_done_once_the_reconciler_has_run() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let options = Options {
        proxied: vec![("caseloads", "pupils"), ("caseloads", "referrals")],
        env: vec![("caseloads", "SEN_RECONCILE_INTERVAL_SECONDS", "1".into())],
        ..Options::default()
    };
    let cluster = Arc::new(Cluster::start_with(options).await);
    let front = cluster.front();
    let fixture = setup(&front, &|p, r, t, s| cluster.token(p, r, t, s), 8).await;
    let load = Load::start(&front, &fixture, CALLERS, "linkcut");
    let mut abandoned = Vec::new();
    for n in 0..3 {
        let key = format!("abandoned-{n}");
        abandoned.push((accepted_referral(&front, &fixture, &load.ledger, &key).await, format!("alloc-{key}")));
    }
    load.wait_for_pipelines(4, Duration::from_secs(60)).await;

    // The link to the pupils service drops under load: allocations cannot open
    // the professional's access, nor close it again.
    let pupils = cluster.proxy("caseloads", "pupils");
    let fault = Instant::now();
    pupils.cut();
    for (referral, key) in &abandoned[..2] {
        let (status, body) = allocate_once(&front, &fixture, *referral, key).await;
        assert_eq!(status, 503, "an allocation across a cut link is not acknowledged: {body}");
    }
    let failed_allocations = || {
        let calls = load.ledger.calls.lock().expect("ledger");
        calls.iter().filter(|c| c.what == "allocate" && !c.acknowledged && c.started >= fault).count()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while failed_allocations() < CALLERS {
        assert!(Instant::now() < deadline, "the callers' allocations went on across a cut link");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pupils.restore();
    load.wait_for_every_caller(Duration::from_secs(120)).await;
    let calls = load.ledger.calls.lock().expect("ledger").clone();
    let recovered = recovered_within(&calls, fault, Instant::now());
    println!("link to pupils cut: every caller acknowledged again within {recovered:.1?} of the cut");
    let ledger = load.finish().await;

    // The nastiest moment, with nothing else on the links: the referral is marked
    // allocated, and the link to the referrals service drops before the answer.
    let referrals = cluster.proxy("caseloads", "referrals");
    let (referral, key) = abandoned[2].clone();
    pupils.hold_answers();
    let call = {
        let (front, fixture, key) = (front.clone(), fixture.clone(), key.clone());
        tokio::spawn(async move { allocate_once(&front, &fixture, referral, &key).await })
    };
    pupils.wait_for_held(Duration::from_secs(30)).await;
    referrals.hold_answers();
    pupils.release();
    referrals.wait_for_held(Duration::from_secs(30)).await;
    referrals.cut();
    let (status, body) = call.await.expect("the allocation");
    assert_eq!(status, 503, "the client is not told it is done: {body}");
    referrals.release();
    referrals.restore();
    let marked = format!("SELECT status FROM referrals WHERE id = {referral} AND status = 'allocated'");
    assert_eq!(cluster.query("referrals", &marked).await.len(), 1, "the mark was recorded before the link dropped");
    assert_eq!(case_status(&cluster, &key).await.as_deref(), Some("pending"), "the case waits, not undone");

    // Nobody retries: the reconciler finishes or undoes every allocation left pending.
    let reconciled = Instant::now();
    let_the_reconciler_run(&cluster.database_urls["caseloads"], Duration::from_secs(60)).await;
    println!("the reconciler settled every pending allocation within {:.1?}", reconciled.elapsed());
    for (referral, key) in &abandoned {
        let status = case_status(&cluster, key).await;
        println!("abandoned allocation of referral {referral}: case {status:?}");
        assert!(status.is_none() || status.as_deref() == Some("active"), "{key}: {status:?}");
    }
    assert_eq!(case_status(&cluster, &key).await.as_deref(), Some("active"), "a marked referral's case is completed");
    let audit = cluster
        .query("caseloads", "SELECT action FROM audit_events WHERE person = 'caseloads-reconciler' ORDER BY id")
        .await
        .iter()
        .map(|row| row.try_get::<String>("", "action").expect("action"))
        .collect::<Vec<_>>();
    println!("the reconciler's audit trail: {audit:?}");
    assert!(!audit.is_empty(), "the reconciler's actions are audited");
    check_and_report(&cluster, "link from caseloads cut mid-allocation, then restored", &ledger, recovered).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_service_keeps_each_callers_deadline_sheds_the_excess_and_writes_nothing_twice() {
    use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
    let _turn = ONE_AT_A_TIME.lock().await;
    const LIMIT: usize = 8;
    const CALLS: usize = 24;
    let options = Options {
        proxied: vec![("gateway", "referrals")],
        env: vec![
            ("gateway", "SEN_MAX_CONCURRENT_REQUESTS", LIMIT.to_string()),
            ("gateway", "SEN_REQUEST_TIMEOUT_SECONDS", "2".into()),
        ],
        ..Options::default()
    };
    let cluster = Arc::new(Cluster::start_with(options).await);
    let front = cluster.front();
    let fixture = setup(&front, &|p, r, t, s| cluster.token(p, r, t, s), 4).await;
    let ledger = Ledger::default();
    let ca = std::fs::read(&cluster.ca).expect("CA");
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)).domain_name("localhost");
    let channel = Endpoint::from_shared(cluster.gateway.clone())
        .expect("address")
        .tls_config(tls)
        .expect("TLS")
        .connect()
        .await
        .expect("connects");
    let bearer = sen_platform::identity::AttachBearer::new(&fixture.senco).expect("token");
    let client = ReferralsServiceClient::with_interceptor(channel, bearer);
    // The gateway's connection to the referrals service is open before it slows.
    let (status, body) = front.try_get(&fixture.senco, "/api/v1/referrals").await.expect("answers");
    assert_eq!(status, 200, "{body}");

    cluster.proxy("gateway", "referrals").set_delay(Duration::from_millis(700));
    let deadline = Duration::from_secs(1);
    let calls: Vec<_> = (0..CALLS)
        .map(|n| {
            let (mut client, request) = (client.clone(), grpc_submission(&fixture, &format!("slow-{n}")));
            tokio::spawn(async move {
                let mut request = tonic::Request::new(request);
                request.set_timeout(deadline);
                let started = Instant::now();
                let answer = client.submit_referral(request).await;
                (started, Instant::now(), answer.map(|_| ()).map_err(|status| status.code()))
            })
        })
        .collect();
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    let mut slowest = Duration::ZERO;
    let mut shed = 0;
    let mut timings = Vec::new();
    for call in calls {
        let (started, ended, answer) = call.await.expect("a call");
        let took = ended - started;
        let status = match answer {
            Ok(()) => 200,
            Err(tonic::Code::Unavailable) => 503,
            Err(_) => 504,
        };
        let call = Call { worker: 0, what: "submit (gRPC)", started, ended, acknowledged: status == 200, status };
        ledger.calls.lock().expect("ledger").push(call);
        slowest = slowest.max(took);
        // Refused at once for want of room, rather than queued.
        if answer == Err(tonic::Code::Unavailable) && took < Duration::from_millis(300) {
            shed += 1;
        }
        *outcomes.entry(format!("{answer:?}")).or_default() += 1;
        timings.push(format!("{answer:?} {took:.2?}"));
    }
    // A JSON caller alone, once the burst is over, on a link slower than its
    // limit: it has the gateway's own limit (SEN_REQUEST_TIMEOUT_SECONDS).
    cluster.proxy("gateway", "referrals").set_delay(Duration::from_secs(2));
    let json = {
        let (front, senco) = (front.clone(), fixture.senco.clone());
        let body = serde_json::to_value(serde_json::json!({"referral": {
            "pupil_id": fixture.pupils[2], "school_urn": support::load::SCHOOL, "kind": "educational_psychology",
            "broad_areas": ["communication_and_interaction"], "concern": "Concern slow-json",
            "graduated_approach": {"summary": "Small-group work"},
            "consent": {"given_by": "Mother", "given_on": chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string(), "method": "signed_form"},
            "priority": "routine"}, "idempotency_key": "slow-json", "confirm_duplicate": true}))
        .expect("JSON");
        tokio::spawn(async move {
            let started = Instant::now();
            let answer = front.try_post(&senco, "/api/v1/referrals", body.clone()).await;
            (started.elapsed(), answer.map(|(status, _)| status).unwrap_or(0), body)
        })
    };
    let (json_took, json_status, json_body) = json.await.expect("the JSON call");
    println!(
        "{CALLS} gRPC calls with a {deadline:?} deadline through a slow link, at most {LIMIT} at once: {outcomes:?}; \
         slowest answer {slowest:.2?}, {shed} refused at once; a JSON call (2 s limit): {json_status} after \
         {json_took:.2?}"
    );
    assert!(slowest < deadline + Duration::from_millis(500), "every caller's deadline was kept: {slowest:?}");
    assert!(shed >= CALLS - 2 * LIMIT, "the gateway sheds at once what it has no room for: {timings:?}");
    assert!(json_took < Duration::from_millis(2500), "the JSON call's limit was kept: {json_took:?}");
    assert_eq!(json_status, 504, "a JSON call past its limit is told so");
    let metrics = cluster.http.get(format!("{}/metrics", cluster.admin)).send().await.expect("metrics");
    let metrics = metrics.text().await.expect("text");
    let counted = metrics
        .lines()
        .find_map(|line| line.strip_prefix("sen_gateway_requests_shed_total "))
        .and_then(|n| n.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(counted >= 1.0, "shedding is counted: {counted}");

    // The link is well again: every caller sends its call again with its key.
    cluster.proxy("gateway", "referrals").set_delay(Duration::ZERO);
    for n in 0..CALLS {
        let key = format!("slow-{n}");
        let mut client = client.clone();
        let started = Instant::now();
        let answer = client.submit_referral(grpc_submission(&fixture, &key)).await;
        assert!(answer.is_ok(), "{key} on retry: {answer:?}");
        let call =
            Call { worker: 0, what: "submit (gRPC)", started, ended: Instant::now(), acknowledged: true, status: 200 };
        ledger.calls.lock().expect("ledger").push(call);
        ledger.single_writes.lock().expect("ledger").push(key);
    }
    let (status, body) = front.try_post(&fixture.senco, "/api/v1/referrals", json_body).await.expect("answers");
    assert_eq!(status, 200, "{body}");
    ledger.single_writes.lock().expect("ledger").push("slow-json".into());
    let figures =
        check_and_report(&cluster, "slow link to referrals, 24 callers at a limit of 8", &ledger, Duration::ZERO).await;
    assert_eq!(figures.duplicated, 0);
}
