//! `sen generate`: fills PostgreSQL with an England-shaped, multi-tenant dataset
//! for measuring the platform at national scale, one database per service as in
//! production, each brought up to date by its service's own migrations first.
//!
//! At scale 1 it makes England's 153 authorities with about 22,000 schools and
//! 9 million pupils on their rolls, 14.2 % on SEN support and 5.3 % with an EHC
//! plan (DfE, January 2025), with Kent (886) sized like the largest authority:
//! about 600 schools, 20,600 plans and 34,000 pupils on SEN support. Scale
//! multiplies the number of schools (rolls stay the size of real schools), so
//! `--scale 0.01` makes a small England for CI. Around the register: SENCOs,
//! two years of referrals with EHC needs assessment requests at every stage of
//! the statutory clock, annual reviews, phase-transfer decisions, EPs and
//! advisory teachers with cases, activity and the access grants their cases
//! open. What each part makes, and why it is shaped so, is in its module.
//!
//! Every row is one the services themselves could have written: values pass the
//! domain's own checks, derived columns (award deadlines, birth cohorts, next
//! review dates, statutory due dates, fingerprints) come from the domain's and
//! stores' own functions, status changes follow the lifecycle, versions count
//! the changes, and counters kept on one row (a professional's open cases)
//! agree with the rows they count. The same seed, scale and day make the same
//! dataset.
//!
//! It loads with `COPY`, one authority at a time (the next authority is planned
//! while the last one loads), the four services' databases at once, so memory
//! holds about two authorities, never England.

mod caseloads;
pub mod command;
mod copy;
mod dice;
mod england;
mod plan;
mod pupil_rows;
mod referral_rows;
mod referrals;
mod register;
mod schools;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use sen_platform::config::PoolConfig;
use sen_platform::ids::LaCode;

use copy::Sink;
pub use copy::TableLoad;
use plan::{Ids, Run};

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spec {
    /// 1.0 is England; the number of schools scales with it.
    pub scale: f64,
    /// The seed every random choice is drawn from.
    pub seed: u64,
    /// The day the dataset stands on: deadlines fall due, or passed, relative to it.
    pub today: NaiveDate,
    /// Only the first so many authorities (the largest first, then by LA code).
    pub authorities: Option<usize>,
}

/// The services' databases (PostgreSQL), each empty or up to date with its migrations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Targets {
    /// The schools service's database.
    pub schools: String,
    /// The pupils service's database.
    pub pupils: String,
    /// The referrals service's database.
    pub referrals: String,
    /// The caseloads service's database.
    pub caseloads: String,
}

impl Targets {
    /// Each service's part name and database URL, in the platform's service order.
    pub fn by_part(&self) -> [(&'static str, &str); 4] {
        [
            ("schools", &self.schools),
            ("pupils", &self.pupils),
            ("referrals", &self.referrals),
            ("caseloads", &self.caseloads),
        ]
    }
}

/// The largest authority as generated, with people to sign in as.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Largest {
    /// LA code.
    pub la_code: String,
    /// Name.
    pub name: String,
    /// Schools, open and closed.
    pub schools: usize,
    /// Pupils on roll.
    pub pupils: usize,
    /// On SEN support.
    pub support: usize,
    /// With an EHC plan.
    pub plans: usize,
    /// Referrals.
    pub referrals: usize,
    /// The URN of its largest school, whose SENCO is `senco-<urn>`.
    pub largest_school: u32,
    /// The person id of the professional with the most open cases.
    pub busiest_professional: String,
}

/// What a run made and how long each step took.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Steps in order: (what, how long).
    pub steps: Vec<(String, Duration)>,
    /// Rows and load time per (service, table).
    pub tables: Vec<(&'static str, &'static str, TableLoad)>,
    /// Authorities made.
    pub authorities: usize,
    /// The largest authority.
    pub largest: Largest,
}

/// One service's database during a run.
struct Target {
    part: &'static str,
    db: DatabaseConnection,
    sink: Sink,
}

/// Tables whose ids the generator gives (other rows refer to them), per service:
/// their sequences are moved past the ids used once everything is loaded.
const GIVEN_IDS: [(&str, &[&str]); 4] = [
    ("schools", &["schools"]),
    ("pupils", &["pupils", "support_cycles", "provisions"]),
    ("referrals", &["referrals"]),
    ("caseloads", &["professionals", "cases"]),
];

/// A table of each service that must be empty before generating into it.
const FIRST_TABLES: [(&str, &str); 4] =
    [("schools", "authorities"), ("pupils", "pupils"), ("referrals", "referrals"), ("caseloads", "professionals")];

/// Generates the dataset `spec` describes into `targets`, telling `progress` of each authority.
pub async fn generate(spec: &Spec, targets: &Targets, mut progress: impl FnMut(&str)) -> anyhow::Result<Report> {
    if !(spec.scale > 0.0 && spec.scale <= 10.0) {
        anyhow::bail!("scale {} is outside 0 (exclusive) to 10", spec.scale);
    }
    let mut report = Report::default();
    let started = Instant::now();
    let pool = PoolConfig { max_connections: 12, acquire_timeout: Duration::from_secs(300), ..PoolConfig::default() };
    for (part, url) in targets.by_part() {
        let service = crate::services::by_part(part).ok_or_else(|| anyhow::anyhow!("no {part} service"))?;
        service.migrate(url, &pool).await?;
    }
    let mut connected = Vec::new();
    for (part, url) in targets.by_part() {
        let db = sen_platform::db::connect(url, &pool).await?;
        if db.get_database_backend() != DatabaseBackend::Postgres {
            anyhow::bail!("the {part} database is not PostgreSQL: the generator loads with COPY");
        }
        let sink = Sink::new(db.get_postgres_connection_pool().clone());
        connected.push(Target { part, db, sink });
    }
    for (target, (part, table)) in connected.iter().zip(FIRST_TABLES) {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {table}) AS taken");
        let row = target.db.query_one(Statement::from_string(DatabaseBackend::Postgres, sql)).await?;
        if row.map(|r| r.try_get::<bool>("", "taken")).transpose()?.unwrap_or(false) {
            anyhow::bail!("the {part} database already holds data: generate into empty databases");
        }
    }
    report.steps.push(("create the schemas (each service's migrations)".into(), started.elapsed()));
    let load_started = Instant::now();
    let run = Run { seed: spec.seed, today: spec.today };
    let sizings = england::authorities(spec.scale, spec.authorities);
    report.authorities = sizings.len();
    let mut ids = Ids::default();
    let mut planning = tokio::task::spawn_blocking({
        let first = sizings.first().copied();
        move || first.map(|s| plan_authority(&run, &s, &mut ids).map(|a| (a, ids))).transpose()
    });
    for n in 0..sizings.len() {
        let Some((authority, ids_after)) = planning.await?? else { break };
        let next = sizings.get(n + 1).copied();
        planning = tokio::task::spawn_blocking(move || {
            let mut ids = ids_after;
            next.map(|s| plan_authority(&run, &s, &mut ids).map(|a| (a, ids))).transpose()
        });
        let loading = Instant::now();
        let [schools, pupils, referrals, caseloads] = [0, 1, 2, 3].map(|i| &connected[i].sink);
        tokio::try_join!(
            schools::load(schools, &run, &authority),
            pupil_rows::load(pupils, &run, &authority),
            referral_rows::load(referrals, &authority),
            caseloads::load(caseloads, &run, &authority),
        )?;
        if n == 0 {
            report.largest = largest(&authority);
        }
        progress(&format!(
            "{} {}: {} schools, {} pupils, {} referrals, loaded in {:.1} s ({}/{})",
            authority.la,
            authority.name,
            authority.schools.len(),
            authority.pupils.len(),
            authority.referrals.len(),
            loading.elapsed().as_secs_f64(),
            n + 1,
            sizings.len()
        ));
    }
    report.steps.push(("plan and load every authority (COPY)".into(), load_started.elapsed()));
    let finishing = Instant::now();
    for (target, (_, tables)) in connected.iter().zip(GIVEN_IDS) {
        for table in tables {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            );
            target.db.execute_unprepared(&sql).await?;
        }
    }
    report.steps.push(("move the id sequences past the ids given".into(), finishing.elapsed()));
    let analysing = Instant::now();
    let [a, b, c, d] = [0, 1, 2, 3].map(|i| connected[i].db.execute_unprepared("ANALYZE"));
    tokio::try_join!(a, b, c, d)?;
    report.steps.push(("ANALYZE".into(), analysing.elapsed()));
    for target in &connected {
        let tally: BTreeMap<&'static str, TableLoad> = target.sink.tally();
        report.tables.extend(tally.into_iter().map(|(table, load)| (target.part, table, load)));
    }
    report.steps.push(("total".into(), started.elapsed()));
    for target in connected {
        target.db.close().await?;
    }
    Ok(report)
}

fn largest(authority: &plan::Authority) -> Largest {
    use sen_pupils::domain::SenStatus;
    let count = |status: SenStatus| authority.pupils.iter().filter(|p| p.status == status).count();
    Largest {
        la_code: authority.la.to_string(),
        name: authority.name.to_owned(),
        schools: authority.schools.len(),
        pupils: authority.pupils.len(),
        support: count(SenStatus::SenSupport),
        plans: count(SenStatus::EhcPlan),
        referrals: authority.referrals.len(),
        largest_school: authority.schools.iter().max_by_key(|s| s.roll).map_or(0, |s| s.urn.get()),
        busiest_professional: authority
            .staff
            .iter()
            .max_by_key(|p| p.open_cases)
            .map(|p| p.person.clone())
            .unwrap_or_default(),
    }
}

/// Plans authority `sizing` with ids following `ids`.
fn plan_authority(run: &Run, sizing: &england::Sizing, ids: &mut Ids) -> anyhow::Result<plan::Authority> {
    let la = LaCode::parse(&sizing.code.to_string()).map_err(anyhow::Error::msg)?;
    let dice = dice::Dice::new(run.seed, u64::from(sizing.code));
    let schools = schools::plan(run, la, sizing, &mut dice.split(1), ids)?;
    let pupils = register::plan(run, la, sizing, &schools, &dice.split(2), ids)?;
    let officers = (pupils.len() as u32 / 20_000).max(2);
    let (staff, links) = caseloads::plan_staff(la, &schools, pupils.len(), &mut dice.split(3), ids);
    let mut authority =
        plan::Authority { la, name: sizing.name, schools, pupils, staff, links, referrals: Vec::new(), officers };
    authority.referrals = referrals::plan(run, &mut authority, &dice.split(4), ids)?;
    Ok(authority)
}
