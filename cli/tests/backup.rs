//! Backup and restore, as the runbook says (docs/OPERATIONS.md, section 10),
//! taken while callers write: the PostgreSQL databases of the production
//! topology with `pg_dump` / `createdb` / `pg_restore` and the runbook's
//! reconciling statements, and the embedded platform's data folder with
//! `sen backup` / `sen restore`. The restored platform must hold every write
//! acknowledged before the backup began, nothing twice, and its services must
//! agree with each other (no case whose referral or access grant is missing, no
//! referral or grant naming a case that is not theirs).

mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sen_platform::testing::SERVICE_ROLE;
use support::check::{Databases, Expect, consistency};
use support::cluster::{Cluster, Options};
use support::faults::let_the_reconciler_run;
use support::load::{Front, Load, setup};

/// Callers making load at once.
const CALLERS: usize = 4;

/// Runs a command of the runbook, failing the test with its output if it fails.
/// As the runbook says, each session asks for every council's rows
/// (`PGOPTIONS='-c sen.tenant=*'`): the tables of council data have row-level
/// security, and a session that names no council sees none of their rows.
async fn run(program: &str, args: Vec<String>) -> String {
    let shown = format!("{program} {}", args.join(" "));
    let output = tokio::task::spawn_blocking({
        let program = program.to_owned();
        move || Command::new(program).args(args).env("PGOPTIONS", "-c sen.tenant=*").output()
    })
    .await
    .expect("joined")
    .unwrap_or_else(|e| panic!("{shown}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{shown} failed:\n{text}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A database the test made with `createdb`, dropped when the test ends.
struct Created {
    admin: String,
    name: String,
}

impl Drop for Created {
    fn drop(&mut self) {
        let _ = Command::new("dropdb")
            .args([
                format!("--maintenance-db={}", self.admin),
                "--force".into(),
                "--if-exists".into(),
                self.name.clone(),
            ])
            .output();
    }
}

/// `server` (`postgres://user@host:port`) reached as the services' role.
fn as_service_role(server: &str) -> String {
    let (scheme, rest) = server.split_once("://").expect("a URL");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{SERVICE_ROLE}@{host}")
}

/// The server's address and admin database, as the runbook's `$admin` and `…/postgres`.
fn server() -> (String, String) {
    let admin_db = sen_platform::testing::postgres_admin_url();
    let server = admin_db.rsplit_once('/').map(|(server, _)| server.to_owned()).expect("a database URL");
    (server, admin_db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dumps_taken_under_write_load_restore_every_acknowledged_write_and_the_services_agree() {
    let cluster = Arc::new(Cluster::start().await);
    let fixture = setup(&cluster.front(), &|p, r, t, s| cluster.token(p, r, t, s), 8).await;
    let load = Load::start(&cluster.front(), &fixture, CALLERS, "backup");
    load.wait_for_pipelines(8, Duration::from_secs(60)).await;

    // The nightly dump, caseloads first, while the callers keep writing.
    let dumps = tempfile::tempdir().expect("a folder for the dumps");
    let began = Instant::now();
    for part in ["caseloads", "referrals", "pupils", "schools"] {
        let file = dumps.path().join(format!("sen_{part}.dump")).display().to_string();
        let dbname = format!("--dbname={}", cluster.database_urls[part]);
        let args = vec!["--format=custom".into(), "--enable-row-security".into(), dbname, format!("--file={file}")];
        run("pg_dump", args).await;
        // Writes go on between the dumps, as they do on a working day.
        load.wait_for_pipelines(1, Duration::from_secs(60)).await;
    }
    println!("the four dumps took {:.1?}", began.elapsed());
    let ledger = load.finish().await;
    let (calls, pipelines) =
        (ledger.calls.lock().expect("ledger").len(), ledger.pipelines.lock().expect("ledger").len());
    drop(cluster);

    // Each dump into a new database, then the reconciling statements of step 3.
    let (server, admin_db) = server();
    let stamp = format!("{}_{}", std::process::id(), chrono::Utc::now().timestamp_micros());
    let mut created = Vec::new();
    let mut restored: Databases = BTreeMap::new();
    for part in ["caseloads", "referrals", "pupils", "schools"] {
        let name = format!("sen_{part}_restored_{stamp}");
        let owner = format!("--owner={SERVICE_ROLE}");
        run("createdb", vec![format!("--maintenance-db={admin_db}"), owner, name.clone()]).await;
        created.push(Created { admin: admin_db.clone(), name: name.clone() });
        let file = dumps.path().join(format!("sen_{part}.dump")).display().to_string();
        let args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"];
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        args.extend([format!("--role={SERVICE_ROLE}"), format!("--dbname={server}/{name}"), file]);
        run("pg_restore", args).await;
        // The services, and the reconciling statements, work as the service's role.
        restored.insert(part, format!("{}/{name}", as_service_role(&server)));
    }
    let lost = reconcile_restored_dumps(&restored).await;
    println!("allocations lost with the backup, put back for allocation again: {lost}");

    // The platform on the restored databases: migrations run, the reconciler
    // finishes what the caseloads dump caught half-way.
    let options = Options {
        databases: restored.iter().map(|(part, url)| (*part, url.clone())).collect(),
        env: vec![("caseloads", "SEN_RECONCILE_INTERVAL_SECONDS", "1".into())],
        ..Options::default()
    };
    let restored_cluster = Arc::new(Cluster::start_with(options).await);
    let pending = let_the_reconciler_run(&restored["caseloads"], Duration::from_secs(60)).await;
    let found = consistency(&restored, &ledger, Expect::UpTo(began)).await;
    let problems: Vec<&String> = found.problems.iter().chain(&found.orphans).collect();
    assert!(problems.is_empty(), "{} problems after the restore:\n{problems:#?}", problems.len());
    let kept = ledger.pipelines.lock().expect("ledger").iter().filter(|p| p.finished < began).count();
    println!(
        "FIGURES | pg_dump of the four databases, pg_restore into new ones ({calls} calls, {pipelines} pipelines) \
         | {kept} | {} | {} | {lost} | {pending} |",
        found.lost, found.duplicated
    );

    // The restored platform takes new work, with case numbers of its own.
    let fixture = fixture.signed_by(&|p, r, t, s| restored_cluster.token(p, r, t, s));
    let after = Load::start(&restored_cluster.front(), &fixture, 2, "after-restore");
    after.wait_for_pipelines(2, Duration::from_secs(60)).await;
    let after = after.finish().await;
    assert!(after.refusals.lock().expect("ledger").is_empty(), "the restored platform refused work");
    let found = consistency(&restored, &after, Expect::UpTo(Instant::now())).await;
    assert!(found.problems.is_empty() && found.orphans.is_empty(), "after new work: {found:#?}");
    drop(created);
}

/// Step 3 of the runbook's restore, as written there (with `psql`): closes the
/// grants and marks of allocations the caseloads dump does not hold, and moves
/// the case numbers on. Returns how many referrals went back to accepted.
async fn reconcile_restored_dumps(restored: &Databases) -> usize {
    let psql = |url: &str, sql: &str| {
        run("psql", vec![url.to_owned(), "-v".into(), "ON_ERROR_STOP=1".into(), "-Atc".into(), sql.to_owned()])
    };
    let (caseloads, referrals, pupils) = (&restored["caseloads"], &restored["referrals"], &restored["pupils"]);
    let last = psql(caseloads, "SELECT coalesce(max(id), 0) FROM cases").await;
    psql(
        pupils,
        &format!(
            "UPDATE case_access SET revoked_at = now() WHERE revoked_at IS NULL
     AND case_ref LIKE 'CASE-%' AND substr(case_ref, 6)::bigint > {last} RETURNING pupil_id, person, case_ref"
        ),
    )
    .await;
    let lost = psql(
        referrals,
        &format!(
            "WITH lost AS (SELECT id, la_code, status FROM referrals
       WHERE status IN ('allocated', 'in_progress') AND case_ref LIKE 'CASE-%'
         AND substr(case_ref, 6)::bigint > {last} FOR UPDATE),
     reopened AS (UPDATE referrals SET status = 'accepted', allocated_to = NULL, case_ref = NULL,
       version = version + 1, updated_at = now() WHERE id IN (SELECT id FROM lost))
     INSERT INTO referral_events (la_code, referral_id, at, by, by_role, from_status, to_status, note)
     SELECT la_code, id, now(), 'restore', 'service', status, 'accepted',
       'allocation lost when the backup was restored: allocate again' FROM lost RETURNING referral_id"
        ),
    )
    .await;
    let named = psql(
        referrals,
        "SELECT coalesce(max(substr(case_ref, 6)::bigint), 0) FROM referrals WHERE case_ref LIKE 'CASE-%'",
    )
    .await;
    let granted = psql(
        pupils,
        "SELECT coalesce(max(substr(case_ref, 6)::bigint), 0) FROM case_access WHERE case_ref LIKE 'CASE-%'",
    )
    .await;
    psql(
        caseloads,
        &format!("SELECT setval(pg_get_serial_sequence('cases', 'id'), greatest({last}, {named}, {granted}, 1))"),
    )
    .await;
    lost.lines().filter(|line| line.trim().parse::<i64>().is_ok()).count()
}

/// The embedded platform's databases in `data`, for the checks.
fn embedded_databases(data: &std::path::Path) -> Databases {
    ["schools", "pupils", "referrals", "caseloads"]
        .into_iter()
        .map(|part| (part, format!("sqlite://{}?mode=rw", data.join(format!("{part}.db")).display())))
        .collect()
}

/// Runs `sen <args>` on the data folder `data`; its success and what it said.
fn sen_on(data: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = support::sen(data).args(args).output().expect("sen runs");
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sen_backup_of_the_running_embedded_platform_restores_every_acknowledged_write_with_sen_restore() {
    let data = tempfile::tempdir().expect("a data folder");
    std::fs::set_permissions(data.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).expect("private");
    let running = support::start_with(data.path(), &[("SEN_DEMO_DATA", "false")]);
    let front = Front { base: format!("http://{}", running.address), http: reqwest::Client::new() };
    let mint = |dir: &std::path::Path, person: &str, role: &str, tenant: Option<&str>, school: Option<&str>| {
        let mut args = vec!["--role", role, "--person", person, "--minutes", "120"];
        args.extend(tenant.map(|t| ["--tenant", t]).into_iter().flatten());
        args.extend(school.map(|s| ["--school", s]).into_iter().flatten());
        support::token(dir, &args)
    };
    let fixture = setup(&front, &|p, r, t, s| mint(data.path(), p, r, t, s), 8).await;
    let load = Load::start(&front, &fixture, CALLERS, "embedded");
    load.wait_for_pipelines(8, Duration::from_secs(60)).await;

    let backups = tempfile::tempdir().expect("a folder for backups");
    let backup = backups.path().join("sen-backup");
    let began = Instant::now();
    let (done, said) = sen_on(data.path(), &["backup", "--to", &backup.display().to_string()]);
    assert!(done, "sen backup: {said}");
    println!("sen backup took {:.1?}: {said}", began.elapsed());
    load.wait_for_pipelines(2, Duration::from_secs(60)).await;
    let ledger = load.finish().await;

    // Neither command overwrites: not the backup, not a data folder in use.
    let (done, said) = sen_on(data.path(), &["backup", "--to", &backup.display().to_string()]);
    assert!(!done && said.contains("not empty"), "{said}");
    let (done, said) = sen_on(data.path(), &["restore", "--from", &backup.display().to_string()]);
    assert!(!done && said.contains("not empty") && said.contains("mv "), "{said}");
    support::stop(running).await;

    let restored = tempfile::tempdir().expect("a new data folder");
    let fresh = restored.path().join("data");
    let (done, said) = sen_on(&fresh, &["restore", "--from", &backup.display().to_string()]);
    assert!(done, "sen restore: {said}");
    println!("sen restore: {said}");
    let settled = said
        .split_whitespace()
        .zip(said.split_whitespace().skip(1))
        .find_map(|(n, word)| (word == "allocations").then(|| n.parse::<usize>().ok()).flatten())
        .unwrap_or(0);
    let running = support::start_with(&fresh, &[("SEN_DEMO_DATA", "false"), ("SEN_RECONCILE_INTERVAL_SECONDS", "1")]);
    let databases = embedded_databases(&fresh);
    let pending = let_the_reconciler_run(&databases["caseloads"], Duration::from_secs(60)).await;
    let found = consistency(&databases, &ledger, Expect::UpTo(began)).await;
    let problems: Vec<&String> = found.problems.iter().chain(&found.orphans).collect();
    assert!(problems.is_empty(), "{} problems after the restore:\n{problems:#?}", problems.len());
    let kept = ledger.pipelines.lock().expect("ledger").iter().filter(|p| p.finished < began).count();
    println!(
        "FIGURES | sen backup of the running embedded platform, sen restore | {kept} | {} | {} | {settled} | \
         {pending} |",
        found.lost, found.duplicated
    );

    // The restored platform takes new work; the development key came along, so old tokens still work.
    let front = Front { base: format!("http://{}", running.address), http: reqwest::Client::new() };
    let after = Load::start(&front, &fixture, 2, "after-restore");
    after.wait_for_pipelines(2, Duration::from_secs(60)).await;
    let after = after.finish().await;
    assert!(after.refusals.lock().expect("ledger").is_empty(), "the restored platform refused work");
    let found = consistency(&databases, &after, Expect::UpTo(Instant::now())).await;
    assert!(found.problems.is_empty() && found.orphans.is_empty(), "after new work: {found:#?}");
    support::stop(running).await;
}
