//! What the gateway adds to a call: `cargo bench -p sen-tests --bench gateway`
//! starts the services (SQLite) and a gateway in front of them on loopback, then
//! times the same read (`GetSchool`) straight to the service, through the gateway
//! over gRPC (bearer token checked, internal token minted, bytes proxied), and
//! through the JSON API (transcoded through the descriptors), one call at a time;
//! then calls through the gateway from 32 callers at once for throughput.
//! Figures are recorded in docs/PERFORMANCE.md.

use std::time::{Duration, Instant};

use sen_platform::identity::{AttachIdentity, Role};
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;

const CALLS: usize = 2_000;
const CONCURRENT: usize = 32;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index.min(samples.len() - 1)]
}

fn report(what: &str, mut samples: Vec<Duration>) {
    let p50 = percentile(&mut samples, 0.5);
    let p99 = percentile(&mut samples, 0.99);
    println!("{what:<44} p50 {:>7.3} ms   p99 {:>7.3} ms", p50.as_secs_f64() * 1e3, p99.as_secs_f64() * 1e3);
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let platform = TestPlatform::start(Engine::Sqlite).await?;
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let options = GatewayOptions { rate: (1_000_000, 1_000_000), max_concurrent: 4_096, ..Default::default() };
    let gateway = TestGateway::start(&platform, options).await?;
    let token = platform.token(Role::LaManager, Some("886"), None);
    let request = || pb::GetSchoolRequest { urn: "100001".into() };

    let attach = AttachIdentity::new(&token).map_err(anyhow::Error::msg)?;
    let mut direct = SchoolsServiceClient::with_interceptor(platform.channel().await?, attach);
    let mut through = SchoolsServiceClient::new(gateway.bearer(&token).await?);
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/schools/100001", gateway.url());

    // Warm every path (connections, caches) before timing.
    for _ in 0..100 {
        direct.get_school(request()).await?;
        through.get_school(request()).await?;
        http.get(&url).bearer_auth(&token).send().await?.error_for_status()?;
    }

    let mut samples = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        direct.get_school(request()).await?;
        samples.push(started.elapsed());
    }
    report("GetSchool straight to the service", samples);

    let mut samples = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        through.get_school(request()).await?;
        samples.push(started.elapsed());
    }
    report("GetSchool through the gateway (gRPC)", samples);

    let mut samples = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        let body = http.get(&url).bearer_auth(&token).send().await?.error_for_status()?.bytes().await?;
        samples.push(started.elapsed());
        assert!(!body.is_empty());
    }
    report("GET /api/v1/schools/{urn} (JSON)", samples);

    let started = Instant::now();
    let mut callers = Vec::new();
    for _ in 0..CONCURRENT {
        let mut client = through.clone();
        callers.push(tokio::spawn(async move {
            for _ in 0..CALLS / CONCURRENT {
                client.get_school(pb::GetSchoolRequest { urn: "100001".into() }).await?;
            }
            Ok::<_, tonic::Status>(())
        }));
    }
    for caller in callers {
        caller.await??;
    }
    let elapsed = started.elapsed();
    println!(
        "{:<44} {:>7.0} calls/s ({CONCURRENT} callers, {} calls)",
        "GetSchool through the gateway, concurrent",
        (CALLS / CONCURRENT * CONCURRENT) as f64 / elapsed.as_secs_f64(),
        CALLS / CONCURRENT * CONCURRENT
    );
    Ok(())
}
