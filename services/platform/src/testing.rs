//! Fresh databases for tests: a SQLite file in a temporary folder, or a new
//! PostgreSQL database on the server named by `SEN_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped again afterwards.
//! A PostgreSQL test fails, never skips, when the server cannot be reached.

use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, Database};

/// Which database engine a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// SQLite file (the embedded default).
    Sqlite,
    /// PostgreSQL server (production).
    Postgres,
}

/// A database that exists for one test.
pub struct TestDatabase {
    /// Connection URL of the fresh database.
    pub url: String,
    engine: Engine,
    admin_url: String,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL server tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("SEN_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A temporary folder only this account may open, as the platform requires of
/// a data folder (a plain temporary folder is readable by everyone under the
/// usual umask).
pub fn private_tempdir() -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}

/// A loopback port no one is listening on, for a server a test starts in
/// another process (which must be told its port before it binds).
///
/// Ports come from below Linux's ephemeral range (32768–60999), where the
/// kernel never picks the source port of an outgoing connection, so a port
/// handed out here cannot be taken by one of the test's own client sockets
/// between now and the server's bind. Each is handed out once per process, and
/// the process's starting point is spread by its id so test binaries running
/// side by side rarely meet; each is checked free by binding it.
pub fn free_port() -> u16 {
    const FIRST: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let start = std::process::id().wrapping_mul(7_919) % SPAN;
    let _ = NEXT.compare_exchange(u32::MAX, start, Ordering::SeqCst, Ordering::SeqCst);
    for _ in 0..SPAN {
        let port = FIRST + NEXT.fetch_add(1, Ordering::SeqCst) % SPAN;
        let port = u16::try_from(port).unwrap_or(u16::MAX);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port between {FIRST} and {}", FIRST + SPAN)
}

/// The role the services of a test platform connect as on PostgreSQL: neither
/// superuser nor BYPASSRLS, like each service's role in production, so the
/// row-level security walls bind it.
pub const SERVICE_ROLE: &str = "sen_test_service";

impl TestDatabase {
    /// Creates an empty database on `engine`, for a test that works on a store
    /// directly: on PostgreSQL it connects as the server's own (super)user.
    pub async fn create(engine: Engine) -> anyhow::Result<Self> {
        Self::create_as(engine, None).await
    }

    /// Creates an empty database on `engine` for a service the test runs: on
    /// PostgreSQL owned by, and connected to as, [`SERVICE_ROLE`], as a
    /// service's database is in production.
    pub async fn for_service(engine: Engine) -> anyhow::Result<Self> {
        Self::create_as(engine, Some(SERVICE_ROLE)).await
    }

    async fn create_as(engine: Engine, owner: Option<&str>) -> anyhow::Result<Self> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let name = format!("sen_test_{}_{n}_{nanos}", std::process::id());
        match engine {
            Engine::Sqlite => {
                let dir = private_tempdir()?;
                let url = crate::config::sqlite_url(&dir.path().join(format!("{name}.db")));
                Ok(Self { url, engine, admin_url: String::new(), name, _dir: Some(dir) })
            }
            Engine::Postgres => {
                let admin_url = postgres_admin_url();
                let admin = Database::connect(&admin_url).await.map_err(|e| {
                    anyhow::anyhow!(
                        "PostgreSQL for tests is not reachable at {admin_url} (set SEN_TEST_POSTGRES_URL): {e}"
                    )
                })?;
                let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin_url);
                let url = match owner {
                    None => {
                        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
                        format!("{base}/{name}")
                    }
                    Some(role) => {
                        ensure_role(&admin, role).await?;
                        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\" OWNER \"{role}\"")).await?;
                        format!("{}/{name}", as_user(base, role))
                    }
                };
                admin.close().await?;
                Ok(Self { url, engine, admin_url, name, _dir: None })
            }
        }
    }

    /// The engine of this database.
    pub fn engine(&self) -> Engine {
        self.engine
    }
}

/// Creates `role` (able to sign in, nothing more) unless it exists; two test
/// processes creating it at once both go on.
async fn ensure_role(admin: &sea_orm::DatabaseConnection, role: &str) -> anyhow::Result<()> {
    let exists = admin
        .query_one(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT 1 AS one FROM pg_roles WHERE rolname = '{role}'"),
        ))
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    let created =
        admin.execute_unprepared(&format!("CREATE ROLE \"{role}\" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB")).await;
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().contains("already exists") || e.to_string().contains("duplicate key") => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `base` (`postgres://user[:password]@host:port`) with `role` as its user and no password.
fn as_user(base: &str, role: &str) -> String {
    let Some((scheme, rest)) = base.split_once("://") else { return base.to_owned() };
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{role}@{host}")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.engine != Engine::Postgres {
            return;
        }
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, so the cleanup gets a thread and runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// Runs each named `async fn scenario(engine: Engine)` as two tests, `scenario::sqlite`
/// and `scenario::postgres`, so every store behaviour is checked on both engines.
#[macro_export]
macro_rules! on_both_engines {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test]
                async fn sqlite() {
                    super::$scenario($crate::testing::Engine::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::$scenario($crate::testing::Engine::Postgres).await;
                }
            }
        )*
    };
}
