//! How long a full GIAS extract takes to import, and how much memory it needs.
//!
//! `cargo bench -p sen-tests --bench gias_import` generates an England-sized
//! extract (50,000 rows of 139 columns, Windows-1252) in which one authority has
//! 1,000 establishments, then times reading it for that authority and writing the
//! rows in one transaction on SQLite and on PostgreSQL (`SEN_TEST_POSTGRES_URL`),
//! first into an empty database and then again when nothing has changed. Figures
//! are recorded in docs/PERFORMANCE.md.

use std::time::{Duration, Instant};

use sen_platform::identity::{DevIssuer, Grant, Role};
use sen_platform::ids::LaCode;
use sen_platform::testing::{Engine, TestDatabase};
use sen_schools::Store;
use sen_schools::gias::read_extract;
use sen_tests::gias::{ExtractSpec, generate};

const RUNS: usize = 5;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Peak resident memory of this process so far, from /proc.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let la = LaCode::parse("886").map_err(anyhow::Error::msg)?;
    let extract = generate(&ExtractSpec {
        authorities: vec![(886, "Kent".into(), 1000)],
        other_rows: 49_000,
        bad_rows: vec![],
        seed: 42,
    });
    println!(
        "extract: {} rows, {:.1} MiB; peak RSS before reading {:.0} MiB",
        extract.expected.len() + extract.other_rows,
        extract.bytes.len() as f64 / (1 << 20) as f64,
        peak_rss_mib().unwrap_or(f64::NAN)
    );

    let mut reads = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let parsed = read_extract(&extract.bytes, la).map_err(anyhow::Error::msg)?;
        reads.push(started.elapsed());
        rows = parsed.rows;
    }
    println!(
        "read_extract (decode, parse, validate; {} rows kept): median {:?} of {RUNS}; peak RSS {:.0} MiB",
        rows.len(),
        median(reads),
        peak_rss_mib().unwrap_or(f64::NAN)
    );

    let issuer = DevIssuer::generate().map_err(anyhow::Error::msg)?;
    let grant = Grant { person: "bench".into(), role: Role::LaManager, tenant: Some(la), school: None };
    let token = issuer.signer.mint(&grant, Duration::from_secs(600)).map_err(anyhow::Error::msg)?;
    let tenant = issuer.verifier.verify(&token)?.tenant_scope()?;
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let mut first = Vec::new();
        let mut again = Vec::new();
        for _ in 0..RUNS {
            let db = TestDatabase::create(engine).await?;
            let store = Store::connect(&db.url, &Default::default()).await?;
            store.create_authority(la, "Kent").await?;
            let started = Instant::now();
            store.import_schools(&tenant, &rows, false).await?;
            first.push(started.elapsed());
            let started = Instant::now();
            let counts = store.import_schools(&tenant, &rows, false).await?;
            again.push(started.elapsed());
            assert_eq!(counts.unchanged as usize, rows.len());
        }
        println!(
            "{engine:?}: import {} new schools median {:?}; re-import unchanged median {:?}",
            rows.len(),
            median(first),
            median(again)
        );
    }
    Ok(())
}
