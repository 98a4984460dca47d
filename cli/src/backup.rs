//! `sen backup --to DIR` and `sen restore --from DIR`: the embedded platform's
//! data folder (`SEN_DATA_DIR`) copied safely while it runs, and put back.
//!
//! A live SQLite file in write-ahead-log mode cannot be copied as a file: the
//! committed pages may still be in `-wal`, and a copy taken during a write is
//! torn. `VACUUM INTO` instead writes a new database from one read transaction,
//! so each copy is exactly the database as of one commit, while the platform
//! keeps writing. The four services' files are copied one after another,
//! dependents first (caseloads, referrals, pupils, then schools), so that a
//! record named by an older copy is in the newer ones it points into; an
//! allocation half-way through in the caseloads copy is finished or undone by
//! the caseloads reconciler after a restore (docs/OPERATIONS.md, section 10).
//! The development identity key goes along, so tokens and sessions stay valid.
//! `backup.json` is written last: a folder without it is no finished backup.
//!
//! A restore never overwrites: the data folder must be empty or absent, and the
//! refusal says how to get there. Once the copies are in place it settles what
//! the copies' few milliseconds apart can leave: an allocation made after the
//! caseloads copy was taken but before the others is not in the caseloads copy
//! (like any write after a backup), so its access grant is closed and its
//! referral put back to accepted, with a timeline entry, and the case numbers
//! move on past every number the other copies name: the runbook's step 3 for
//! PostgreSQL, done here. PostgreSQL databases are backed up with `pg_dump`
//! instead, as the runbook says.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement, Value as Sql};
use sen_cli::services::SERVICES;
use sen_platform::config::DEFAULT_DATA_DIR;
use sen_platform::identity::DevIssuer;
use serde_json::{Value, json};

/// Where to write the backup.
#[derive(Args)]
pub struct BackupArgs {
    /// An absent or empty folder to write the backup into.
    #[arg(long, value_name = "DIR")]
    to: PathBuf,
}

/// Which backup to restore.
#[derive(Args)]
pub struct RestoreArgs {
    /// A folder written by `sen backup`.
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
}

/// The file that marks a finished backup and says what it holds.
const MANIFEST: &str = "backup.json";

/// The services' database files, dependents first: the order they are copied in.
fn database_files() -> Vec<String> {
    SERVICES.iter().rev().map(|service| format!("{}.db", service.info().part)).collect()
}

/// The embedded data folder, or a refusal when the services use other databases.
fn data_dir() -> anyhow::Result<PathBuf> {
    let database = ["SEN_DATABASE_URL", "SEN_DATABASE_URL_FILE"]
        .into_iter()
        .find(|variable| std::env::var(variable).is_ok_and(|value| !value.trim().is_empty()));
    if let Some(variable) = database {
        bail!(
            "{variable} is set: `sen backup` and `sen restore` work on the embedded platform's data folder \
             (SEN_DATA_DIR). Back up PostgreSQL databases with pg_dump and restore them with pg_restore, \
             as docs/OPERATIONS.md section 10 says"
        );
    }
    Ok(PathBuf::from(std::env::var("SEN_DATA_DIR").unwrap_or_else(|_| DEFAULT_DATA_DIR.into())))
}

fn url_of(path: &Path, query: &str) -> anyhow::Result<String> {
    let path = path.to_str().with_context(|| format!("{} is not a UTF-8 path", path.display()))?;
    Ok(format!("sqlite://{path}?{query}"))
}

/// Opens an existing database file; never creates one.
async fn open(path: &Path, read_only: bool) -> anyhow::Result<DatabaseConnection> {
    let query = if read_only { "mode=ro&immutable=true" } else { "mode=rw" };
    Database::connect(url_of(path, query)?).await.with_context(|| format!("cannot open {}", path.display()))
}

/// `PRAGMA integrity_check` answers `ok`, or the refusal names the file.
async fn check_integrity(path: &Path) -> anyhow::Result<()> {
    let db = open(path, true).await?;
    let row = db.query_one(Statement::from_string(db.get_database_backend(), "PRAGMA integrity_check")).await?;
    db.close().await?;
    let answer: String = row.map(|row| row.try_get_by_index(0)).transpose()?.unwrap_or_default();
    if answer != "ok" {
        bail!("{} is damaged: integrity check says {answer:?}", path.display());
    }
    Ok(())
}

fn is_empty_or_absent(dir: &Path) -> anyhow::Result<Option<Vec<String>>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let names: Vec<String> =
                entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            Ok(if names.is_empty() { None } else { Some(names) })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// Copies each service's database with `VACUUM INTO`, then the key, then the manifest.
pub async fn backup(args: &BackupArgs) -> anyhow::Result<()> {
    let data = data_dir()?;
    let files = database_files();
    let missing: Vec<&String> = files.iter().filter(|file| !data.join(file).is_file()).collect();
    if !missing.is_empty() {
        bail!(
            "{} holds no platform data ({} missing): set SEN_DATA_DIR to the folder the platform runs with",
            data.display(),
            missing.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(names) = is_empty_or_absent(&args.to)? {
        bail!("{} is not empty ({}): give `--to` a new or empty folder", args.to.display(), names.join(", "));
    }
    // The backup holds what the data folder holds: private to this account.
    sen_platform::private::private_folder(&args.to).map_err(anyhow::Error::msg)?;
    let mut copies = Vec::new();
    for file in &files {
        let (source, target) = (data.join(file), args.to.join(file));
        let taken_at = chrono::Utc::now();
        let db = open(&source, false).await?;
        let target_text = target.to_str().with_context(|| format!("{} is not a UTF-8 path", target.display()))?;
        let vacuum = Statement::from_sql_and_values(db.get_database_backend(), "VACUUM INTO ?", [target_text.into()]);
        db.execute(vacuum).await.with_context(|| format!("copying {}", source.display()))?;
        db.close().await?;
        sen_platform::private::private_file(&target).map_err(anyhow::Error::msg)?;
        check_integrity(&target).await?;
        let bytes = std::fs::metadata(&target)?.len();
        eprintln!("copied {} ({bytes} bytes, as of {taken_at})", source.display());
        copies.push(json!({"file": file, "bytes": bytes, "taken_at": taken_at.to_rfc3339()}));
    }
    let key = data.join(DevIssuer::KEY_FILE);
    let with_key = key.is_file();
    if with_key {
        copy_private(&key, &args.to.join(DevIssuer::KEY_FILE))?;
    }
    let manifest = json!({
        "format": 1,
        "sen_version": env!("CARGO_PKG_VERSION"),
        "source": data.display().to_string(),
        "databases": copies,
        "development_key": with_key.then_some(DevIssuer::KEY_FILE),
    });
    let manifest_path = args.to.join(MANIFEST);
    sen_platform::private::private_file(&manifest_path).map_err(anyhow::Error::msg)?;
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest)?)?;
    println!("backup of {} written to {}", data.display(), args.to.display());
    Ok(())
}

/// Puts a finished backup into an empty data folder.
pub async fn restore(args: &RestoreArgs) -> anyhow::Result<()> {
    let data = data_dir()?;
    let manifest_path = args.from.join(MANIFEST);
    let manifest: Value =
        std::fs::read(&manifest_path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).with_context(
            || format!("{} is no finished `sen backup`: {MANIFEST} is missing or unreadable", args.from.display()),
        )?;
    let files: Vec<String> = manifest["databases"]
        .as_array()
        .map(|copies| copies.iter().filter_map(|c| c["file"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let expected = database_files();
    if expected.iter().any(|file| !files.contains(file)) {
        bail!("{} does not hold every service's database ({})", args.from.display(), expected.join(", "));
    }
    for file in &files {
        check_integrity(&args.from.join(file)).await?;
    }
    if let Some(names) = is_empty_or_absent(&data)? {
        bail!(
            "the data folder {data} is not empty ({names}); a restore never overwrites data. Stop `sen` if it is \
             running, then move the folder aside (mv {data} {data}.before-restore) or set SEN_DATA_DIR to a new \
             folder, and run `sen restore --from {from}` again",
            data = data.display(),
            names = names.join(", "),
            from = args.from.display(),
        );
    }
    sen_platform::private::private_folder(&data).map_err(anyhow::Error::msg)?;
    for file in &files {
        // Copied under a temporary name and renamed, so a file in place is always whole.
        let partial = data.join(format!(".{file}.restoring"));
        std::fs::copy(args.from.join(file), &partial).with_context(|| format!("copying {file}"))?;
        sen_platform::private::private_file(&partial).map_err(anyhow::Error::msg)?;
        std::fs::File::open(&partial)?.sync_all()?;
        std::fs::rename(&partial, data.join(file))?;
    }
    if manifest["development_key"].is_string() {
        copy_private(&args.from.join(DevIssuer::KEY_FILE), &data.join(DevIssuer::KEY_FILE))?;
    }
    let lost = settle_allocations(&data).await?;
    if lost > 0 {
        println!(
            "{lost} allocations made while the backup was taken are not in it: their referrals are accepted again"
        );
    }
    println!("restored {} into {}; start the platform with `sen`", args.from.display(), data.display());
    Ok(())
}

/// Closes the access grants and referral marks of cases the caseloads copy does
/// not hold, and moves the case numbers past every number the copies name.
/// Returns how many referrals were put back to accepted.
async fn settle_allocations(data: &Path) -> anyhow::Result<usize> {
    let caseloads = open(&data.join("caseloads.db"), false).await?;
    let pupils = open(&data.join("pupils.db"), false).await?;
    let referrals = open(&data.join("referrals.db"), false).await?;
    let number = "CAST(substr(case_ref, 6) AS INTEGER)";
    let last = single(&caseloads, "SELECT coalesce(max(id), 0) FROM cases", vec![]).await?;
    let now = Sql::from(chrono::Utc::now());
    let revoke = format!(
        "UPDATE case_access SET revoked_at = ? WHERE revoked_at IS NULL AND case_ref LIKE 'CASE-%' AND {number} > ?"
    );
    execute(&pupils, &revoke, vec![now.clone(), last.into()]).await?;
    let find = format!(
        "SELECT id, la_code, status FROM referrals \
         WHERE status IN ('allocated', 'in_progress') AND case_ref LIKE 'CASE-%' AND {number} > ?"
    );
    let lost = referrals.query_all(statement(&referrals, &find, vec![last.into()])).await?;
    for row in &lost {
        let (id, la_code, status): (i64, String, String) =
            (row.try_get_by_index(0)?, row.try_get_by_index(1)?, row.try_get_by_index(2)?);
        let reopen = "UPDATE referrals SET status = 'accepted', allocated_to = NULL, case_ref = NULL, \
                      version = version + 1, updated_at = ? WHERE id = ?";
        execute(&referrals, reopen, vec![now.clone(), id.into()]).await?;
        let entry = "INSERT INTO referral_events (la_code, referral_id, at, by, by_role, from_status, to_status, note) \
                     VALUES (?, ?, ?, 'restore', 'service', ?, 'accepted', \
                     'allocation lost when the backup was restored: allocate again')";
        execute(&referrals, entry, vec![la_code.into(), id.into(), now.clone(), status.into()]).await?;
    }
    let named = single(
        &referrals,
        &format!("SELECT coalesce(max({number}), 0) FROM referrals WHERE case_ref LIKE 'CASE-%'"),
        vec![],
    )
    .await?;
    let granted = single(
        &pupils,
        &format!("SELECT coalesce(max({number}), 0) FROM case_access WHERE case_ref LIKE 'CASE-%'"),
        vec![],
    )
    .await?;
    // AUTOINCREMENT numbers continue from sqlite_sequence, never below it.
    let next = last.max(named).max(granted);
    execute(&caseloads, "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'cases'", vec![next.into()]).await?;
    for db in [caseloads, pupils, referrals] {
        db.close().await?;
    }
    Ok(lost.len())
}

fn statement(db: &DatabaseConnection, sql: &str, values: Vec<Sql>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

async fn execute(db: &DatabaseConnection, sql: &str, values: Vec<Sql>) -> anyhow::Result<()> {
    db.execute(statement(db, sql, values)).await.with_context(|| format!("settling the restored copies: {sql}"))?;
    Ok(())
}

async fn single(db: &DatabaseConnection, sql: &str, values: Vec<Sql>) -> anyhow::Result<i64> {
    let row = db.query_one(statement(db, sql, values)).await?;
    Ok(row.map(|row| row.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0))
}

/// Copies a private key, readable by its owner only.
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(to).with_context(|| format!("cannot write {}", to.display()))?;
    std::io::Write::write_all(&mut file, &bytes)?;
    Ok(())
}
