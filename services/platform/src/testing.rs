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

impl TestDatabase {
    /// Creates an empty database on `engine`.
    pub async fn create(engine: Engine) -> anyhow::Result<Self> {
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
                admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
                admin.close().await?;
                let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin_url);
                let url = format!("{base}/{name}");
                Ok(Self { url, engine, admin_url, name, _dir: None })
            }
        }
    }

    /// The engine of this database.
    pub fn engine(&self) -> Engine {
        self.engine
    }
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
