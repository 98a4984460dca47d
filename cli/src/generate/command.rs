//! The `sen generate` command: creates one PostgreSQL database per service on
//! the server given (named `<prefix><service>`, as production keeps them
//! apart), generates into them, and prints how long each step took and the rows
//! of every table.

use std::fmt::Write as _;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};

use super::{Report, Spec, Targets};

/// `sen generate`'s arguments.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// 1.0 makes England (153 authorities, about 22,000 schools, 9 million pupils); 0.01 a small one for CI.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// The seed of every random choice: the same seed, scale and day make the same dataset.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// The day the dataset stands on, YYYY-MM-DD (default: today).
    #[arg(long)]
    pub today: Option<NaiveDate>,
    /// Only the first N authorities (Kent, the largest, first; then by LA code).
    #[arg(long)]
    pub authorities: Option<usize>,
    /// The PostgreSQL server, as the URL of any database on it; the services' databases are created beside it.
    #[arg(long, env = "SEN_GENERATE_POSTGRES_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub postgres: String,
    /// Each service's database is this prefix and its name: sen_schools, sen_pupils, sen_referrals, sen_caseloads.
    #[arg(long, default_value = "sen_")]
    pub database_prefix: String,
    /// Drop those databases first if they exist (otherwise an existing one stops the run).
    #[arg(long)]
    pub replace: bool,
}

/// The URL of database `name` on the server `url` points at.
fn database_url(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let server = match base.find("://").map(|i| i + 3) {
        Some(start) => match base[start..].find('/') {
            Some(slash) => &base[..start + slash],
            None => base,
        },
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// Runs `sen generate`.
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    if args.database_prefix.is_empty()
        || !args.database_prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        anyhow::bail!("--database-prefix takes lower-case letters, digits and _ only");
    }
    let today = args.today.unwrap_or_else(|| chrono::Local::now().date_naive());
    let spec = Spec { scale: args.scale, seed: args.seed, today, authorities: args.authorities };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let name = |part: &str| format!("{}{part}", args.database_prefix);
        let admin = Database::connect(&args.postgres)
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach {}: {e}", sen_platform::db::redact(&args.postgres)))?;
        let created = std::time::Instant::now();
        for part in ["schools", "pupils", "referrals", "caseloads"] {
            let db = name(part);
            let sql = "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS found";
            let found = admin
                .query_one(Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, [db.clone().into()]))
                .await?
                .map(|row| row.try_get::<bool>("", "found"))
                .transpose()?
                .unwrap_or(false);
            if found && !args.replace {
                anyhow::bail!("database {db} exists: pass --replace to drop it and generate afresh");
            }
            if found {
                admin.execute_unprepared(&format!("DROP DATABASE \"{db}\" WITH (FORCE)")).await?;
            }
            admin.execute_unprepared(&format!("CREATE DATABASE \"{db}\"")).await?;
        }
        admin.close().await?;
        let created = created.elapsed();
        let targets = Targets {
            schools: database_url(&args.postgres, &name("schools")),
            pupils: database_url(&args.postgres, &name("pupils")),
            referrals: database_url(&args.postgres, &name("referrals")),
            caseloads: database_url(&args.postgres, &name("caseloads")),
        };
        eprintln!(
            "generating scale {} (seed {}, as of {today}) into {}…",
            spec.scale,
            spec.seed,
            sen_platform::db::redact(&database_url(&args.postgres, &name("*")))
        );
        let mut report = super::generate(&spec, &targets, |line| eprintln!("  {line}")).await?;
        report.steps.insert(0, ("create the four databases".into(), created));
        print!("{}", summary(&report, &targets));
        Ok(())
    })
}

/// The report as the command prints it.
pub fn summary(report: &Report, targets: &Targets) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{:<52} {:>10}", "step", "seconds");
    for (step, took) in &report.steps {
        let _ = writeln!(out, "{step:<52} {:>10.1}", took.as_secs_f64());
    }
    let _ = writeln!(out, "\n{:<10} {:<20} {:>12} {:>16}", "service", "table", "rows", "COPY seconds");
    let mut total = 0;
    for (service, table, load) in &report.tables {
        total += load.rows;
        let _ = writeln!(out, "{service:<10} {table:<20} {:>12} {:>16.1}", load.rows, load.time.as_secs_f64());
    }
    let _ = writeln!(out, "{:<31} {total:>12}", "every table");
    let l = &report.largest;
    let _ = writeln!(
        out,
        "\n{} authorities. The largest, {} {}: {} schools, {} pupils, {} on SEN support, {} with an EHC plan, {} referrals.",
        report.authorities, l.la_code, l.name, l.schools, l.pupils, l.support, l.plans, l.referrals
    );
    let _ = writeln!(
        out,
        "Sign in there as la_manager or case_officer of {}, as senco of school {}, or as {} (the busiest professional).",
        l.la_code, l.largest_school, l.busiest_professional
    );
    let _ = writeln!(
        out,
        "Serve it: SEN_MODE=production SEN_DATABASE_URL=<the service's database> sen serve <service>, with"
    );
    for (part, url) in targets.by_part() {
        let _ = writeln!(out, "  {part:<10} {}", sen_platform::db::redact(url));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_database_sits_beside_the_one_given() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "sen_pupils"),
            "postgres://postgres@127.0.0.1:5432/sen_pupils"
        );
        assert_eq!(
            database_url("postgres://u:p@db/x?sslmode=require", "sen_schools"),
            "postgres://u:p@db/sen_schools?sslmode=require"
        );
        assert_eq!(database_url("postgres://db:5432", "sen_caseloads"), "postgres://db:5432/sen_caseloads");
    }
}
