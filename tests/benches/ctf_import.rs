//! How long a secondary school's Common Transfer File takes to import.
//!
//! `cargo bench -p sen-tests --bench ctf_import` generates a CTF 24 of a
//! 2,000-pupil secondary school (Years 7 to 13; 14 % on SEN support and 4 %
//! with an EHC plan, each with a SEN history of one or two spells and ranked
//! needs; fictional names and UPNs with valid check letters), then times reading
//! and checking it (`ctf::read_file`) and importing it in one transaction on
//! SQLite and on PostgreSQL (`SEN_TEST_POSTGRES_URL`): into an empty register,
//! then again when nothing has changed. Figures are in docs/PERFORMANCE.md.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sen_platform::identity::{DevIssuer, Grant, Role};
use sen_platform::ids::LaCode;
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::Store;
use sen_pupils::ctf::read_file;
use sen_pupils::domain::Upn;

const RUNS: usize = 5;
const PUPILS: u32 = 2_000;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// A CTF of `PUPILS` pupils of secondary school 100005 (LA 886, estab 4001).
fn generate() -> anyhow::Result<String> {
    const NEEDS: [&str; 8] = ["SEMH", "SLCN", "ASD", "SPLD", "MLD", "HI", "VI", "PD"];
    const FORENAMES: [&str; 8] = ["Ada", "Bryn", "Cleo", "Dev", "Esme", "Finn", "Greta", "Hugo"];
    const SURNAMES: [&str; 8] =
        ["Ashdown", "Birchall", "Coldwell", "Dunmore", "Elphick", "Fernley", "Garside", "Hollins"];
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CTfile>\n  <Header>\n    <DocumentName>Common Transfer File</DocumentName>\n    \
         <CTFversion>24.0</CTFversion>\n    <DateTime>2026-11-20T09:30:00</DateTime>\n    <DocumentQualifier>full</DocumentQualifier>\n    \
         <SourceSchool>\n      <LEA>886</LEA>\n      <Estab>4001</Estab>\n      <URN>100005</URN>\n      \
         <SchoolName>Bench Academy</SchoolName>\n      <AcademicYear>2026</AcademicYear>\n    </SourceSchool>\n  </Header>\n  <CTFpupilData>\n",
    );
    for i in 0..PUPILS {
        let year = 7 + i % 7;
        // Year y in 2026/27 was born September 2021 − y to August 2022 − y.
        let born = NaiveDate::from_ymd_opt(2021 - year as i32, 9, 1).unwrap_or_default()
            + chrono::Duration::days(i64::from(i * 37 % 365));
        let upn = Upn::from_body(&format!("8864001{:02}{:03}", 10 + i / 1000, i % 1000)).map_err(anyhow::Error::msg)?;
        let (fore, sur) = (FORENAMES[(i % 8) as usize], SURNAMES[(i / 8 % 8) as usize]);
        write!(
            xml,
            "    <Pupil>\n      <UPN>{upn}</UPN>\n      <Surname>{sur}</Surname>\n      <Forename>{fore}</Forename>\n      \
             <DOB>{born}</DOB>\n      <Sex>{}</Sex>\n      <BasicDetails>\n        <PreferredForename>{fore}</PreferredForename>\n        \
             <NCyearActual>{year}</NCyearActual>\n      </BasicDetails>\n",
            if i % 2 == 0 { "F" } else { "M" }
        )?;
        let status = match i % 50 {
            0 | 1 => Some("E"),
            2..=8 => Some("K"),
            _ => None,
        };
        if let Some(status) = status {
            xml.push_str("      <SENhistory>\n");
            if status == "E" {
                xml.push_str("        <SEN><StartDate>2020-09-07</StartDate><SENprovision>K</SENprovision><EndDate>2023-01-15</EndDate></SEN>\n");
                xml.push_str("        <SEN><StartDate>2023-01-16</StartDate><SENprovision>E</SENprovision></SEN>\n");
            } else {
                xml.push_str("        <SEN><StartDate>2024-09-04</StartDate><SENprovision>K</SENprovision></SEN>\n");
            }
            let (first, second) = (NEEDS[(i % 8) as usize], NEEDS[((i + 3) % 8) as usize]);
            write!(
                xml,
                "      </SENhistory>\n      <SENneeds>\n        <SENneed><SENtype>{first}</SENtype><SENtypeRank>1</SENtypeRank></SENneed>\n        \
                 <SENneed><SENtype>{second}</SENtype><SENtypeRank>2</SENtypeRank></SENneed>\n      </SENneeds>\n"
            )?;
        }
        xml.push_str("    </Pupil>\n");
    }
    xml.push_str("  </CTFpupilData>\n</CTfile>\n");
    Ok(xml)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let la = LaCode::parse("886").map_err(anyhow::Error::msg)?;
    let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default();
    let file = generate()?;
    println!("CTF: {PUPILS} pupils, {:.2} MiB", file.len() as f64 / (1 << 20) as f64);
    let issuer = DevIssuer::generate().map_err(anyhow::Error::msg)?;
    let grant = Grant { person: "bench".into(), role: Role::LaManager, tenant: Some(la), school: None };
    let token = issuer.signer.mint(&grant, Duration::from_secs(600)).map_err(anyhow::Error::msg)?;
    let identity = issuer.verifier.verify(&token)?;
    let (scope, actor) = (identity.scope()?, identity.actor());
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let (mut reads, mut first, mut again) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let db = TestDatabase::create(engine).await?;
            let store = Store::connect(&db.url, &Default::default()).await?;
            let codes = store.need_types(scope.tenant()).await?;
            let started = Instant::now();
            let checked = read_file(file.as_bytes(), &codes, today)?;
            reads.push(started.elapsed());
            assert!(checked.refused.is_empty(), "{:?}", checked.refused.first());
            let import = store.import_ctf(&scope, &actor, &checked, false, today).await?;
            first.push(started.elapsed());
            assert_eq!(import.created, PUPILS);
            let started = Instant::now();
            let checked = read_file(file.as_bytes(), &codes, today)?;
            let import = store.import_ctf(&scope, &actor, &checked, false, today).await?;
            again.push(started.elapsed());
            assert_eq!(import.unchanged, PUPILS, "{:?}", import.changes.first());
        }
        println!(
            "{engine:?}: read and check median {:?}; read, check and import {PUPILS} new pupils median {:?}; \
             again with nothing changed median {:?} (of {RUNS})",
            median(reads),
            median(first),
            median(again)
        );
    }
    Ok(())
}
