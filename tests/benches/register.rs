//! How the register's dashboard figures scale with an authority's size.
//!
//! `cargo bench -p sen-tests --bench register` loads a register of 60,000 pupils
//! (a mid-sized authority) across 300 schools, 14 % on SEN support and 5 % with an
//! EHCP, then times the grouped count behind GetRegisterStats and the read of
//! every active plan behind ListTransitionsDue, on SQLite and on PostgreSQL
//! (`SEN_TEST_POSTGRES_URL`). Figures are recorded in docs/PERFORMANCE.md.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sen_platform::identity::{DevIssuer, Grant, Role};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::domain::{NeedCode, PupilDetails, SenRecord, SenStatus, Upn, academic_year_start, transfer_cohorts};
use sen_pupils::store::{SeedPlan, SeedPupil, Store};

const PUPILS: u32 = 60_000;
const SCHOOLS: u32 = 300;
const RUNS: usize = 5;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn register(today: NaiveDate) -> anyhow::Result<Vec<SeedPupil>> {
    let asd = NeedCode::parse("ASD").map_err(anyhow::Error::msg)?;
    let slcn = NeedCode::parse("SLCN").map_err(anyhow::Error::msg)?;
    (0..PUPILS)
        .map(|i| {
            let school = i % SCHOOLS;
            let serial = i / SCHOOLS;
            let upn = Upn::from_body(&format!("886{:04}{:02}{:03}", 2000 + school, serial / 1000, serial % 1000))
                .map_err(anyhow::Error::msg)?;
            let dob = NaiveDate::from_ymd_opt(2010 + (i % 11) as i32, 1 + i % 12, 1).unwrap_or(today);
            let (status, need) = match i % 100 {
                0..=4 => (SenStatus::EhcPlan, Some(asd)),
                5..=18 => (SenStatus::SenSupport, Some(slcn)),
                _ => (SenStatus::NoSen, None),
            };
            let plan = (status == SenStatus::EhcPlan).then(|| SeedPlan {
                issued_on: today - chrono::Duration::days(400),
                named_setting: "School".into(),
                last_review_on: Some(today - chrono::Duration::days(i64::from(i % 380))),
                transfer_decision: None,
            });
            Ok(SeedPupil {
                details: PupilDetails {
                    upn,
                    legal_forename: "Test".into(),
                    legal_surname: "Pupil".into(),
                    preferred_forename: None,
                    preferred_surname: None,
                    date_of_birth: dob,
                    school_urn: Urn::parse(&(100_000 + school).to_string()).map_err(anyhow::Error::msg)?,
                    nc_year_override: None,
                    looked_after: false,
                },
                sen: SenRecord { status, primary: need, secondary: None },
                plan,
                cycles: Vec::new(),
                provision: Vec::new(),
            })
        })
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default();
    let pupils = register(today)?;
    let issuer = DevIssuer::generate().map_err(anyhow::Error::msg)?;
    let la = LaCode::parse("886").map_err(anyhow::Error::msg)?;
    let grant = Grant { person: "bench".into(), role: Role::Service, tenant: Some(la), school: None };
    let token = issuer.signer.mint(&grant, Duration::from_secs(3600)).map_err(anyhow::Error::msg)?;
    let identity = issuer.verifier.verify(&token)?;
    let tenant = identity.tenant_scope()?;
    let scope = identity.scope()?;
    println!("register: {PUPILS} pupils in {SCHOOLS} schools");
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let db = TestDatabase::create(engine).await?;
        let store = Store::connect(&db.url, &Default::default()).await?;
        let started = Instant::now();
        store.load_register(&tenant, "bench", &pupils, today).await?;
        let load = started.elapsed();
        let mut counts = Vec::new();
        let mut plans = Vec::new();
        let mut rows = 0;
        let mut active = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            rows = store.register_counts(&scope).await?.len();
            counts.push(started.elapsed());
            let started = Instant::now();
            let cohorts = transfer_cohorts([], academic_year_start(today));
            active = store.transfer_candidates(&scope, &cohorts, today).await?.len();
            plans.push(started.elapsed());
        }
        println!(
            "{engine:?}: load in one transaction {load:?}; register counts ({rows} grouped rows) median {:?}; \
             active plans for transfers ({active}) median {:?}",
            median(counts),
            median(plans)
        );
    }
    Ok(())
}
