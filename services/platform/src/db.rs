//! Database connections: PostgreSQL in production, SQLite as the embedded default.
//! Each service brings its own migrator; migrations run at start, before the
//! service reports healthy, one migrator at a time per database.

use std::path::Path;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, TransactionTrait};
use sea_orm_migration::MigratorTrait;

use crate::config::PoolConfig;

/// Opens a pool for `url` (`sqlite://…` or `postgres://…`).
///
/// SQLite gets a single connection in write-ahead-log mode: writes are serialised
/// by the pool rather than failing with SQLITE_BUSY when two transactions try to
/// upgrade their locks at once, and readers never block on a writer's file lock
/// ([`Db`] adds read-only connections beside it for reads). (Every statement still crosses to the connection's own thread and back; that
/// hand-over, not SQLite, is most of a read's cost: see docs/PERFORMANCE.md.)
pub async fn connect(url: &str, pool: &PoolConfig) -> anyhow::Result<DatabaseConnection> {
    let is_sqlite = url.starts_with("sqlite:");
    if is_sqlite {
        ensure_sqlite_folder(url)?;
    }
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return connect_postgres(url, pool).await;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options.connect_timeout(pool.connect_timeout).acquire_timeout(pool.acquire_timeout).sqlx_logging(false);
    if is_sqlite {
        // A local file's connection cannot have gone away, so it is not pinged
        // before each query: on SQLite a ping is a round trip to the connection's
        // own thread, as costly as the query it precedes.
        options.max_connections(1).min_connections(1).test_before_acquire(false);
    } else {
        options.max_connections(pool.max_connections).min_connections(pool.min_connections);
    }
    let db = Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", redact(url)))?;
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;").await?;
    }
    Ok(db)
}

/// A PostgreSQL pool whose every connection says whose rows it works on before
/// its first statement after it is taken (see [`crate::walls`]): the
/// `set_config` also shows the connection is alive, so it replaces the ping a
/// pool would otherwise send, at no extra round trip.
async fn connect_postgres(url: &str, pool: &PoolConfig) -> anyhow::Result<DatabaseConnection> {
    use sea_orm::sqlx::ConnectOptions as _;
    use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};

    fn wall(connection: &mut PgConnection) -> futures::future::BoxFuture<'_, Result<(), sea_orm::sqlx::Error>> {
        let setting = crate::walls::setting_now();
        Box::pin(async move {
            sea_orm::sqlx::query(crate::walls::SET_WALL).bind(setting).execute(connection).await.map(|_| ())
        })
    }

    let options: PgConnectOptions =
        url.parse().map_err(|e| anyhow::anyhow!("cannot read the database URL {}: {e}", redact(url)))?;
    let options = with_session_settings(options);
    let connections = PgPoolOptions::new()
        .max_connections(pool.max_connections)
        .min_connections(pool.min_connections)
        .acquire_timeout(pool.acquire_timeout)
        .test_before_acquire(false)
        .after_connect(|connection, _| wall(connection))
        .before_acquire(|connection, _| {
            let walled = wall(connection);
            Box::pin(async move { walled.await.map(|()| true) })
        })
        .connect_with(options.disable_statement_logging())
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", redact(url)))?;
    Ok(sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(connections))
}

/// How the platform's PostgreSQL sessions plan their statements, each unless
/// the URL's `options` (or `PGOPTIONS`) already set it. Set at connection
/// start-up, they cost no statement of their own (docs/PERFORMANCE.md,
/// "Plans fitted to each council").
///
/// - `plan_cache_mode = force_custom_plan`: every statement is planned for the
///   values it is run with. After five runs of a prepared statement PostgreSQL
///   may switch to a generic plan, costed for an average council; councils
///   differ a thousandfold (the City of London's 214 pupils, Kent's 233,515),
///   and the plan fitted to the average one is the wrong one for a large one
///   (Kent's sessions this term: 9,824 index probes, 26 ms, instead of a hash
///   join, 5 ms). Planning each run costs well under a millisecond.
/// - `jit = off`: a statement over a large council may be estimated above
///   `jit_above_cost`, and PostgreSQL then compiles it afresh on every run:
///   tens of milliseconds of CPU for statements that read one council's rows
///   through an index in a few.
const SESSION_SETTINGS: [(&str, &str); 2] = [("plan_cache_mode", "force_custom_plan"), ("jit", "off")];

fn with_session_settings(
    mut options: sea_orm::sqlx::postgres::PgConnectOptions,
) -> sea_orm::sqlx::postgres::PgConnectOptions {
    for (name, value) in SESSION_SETTINGS {
        if !options.get_options().is_some_and(|chosen| chosen.contains(name)) {
            options = options.options([(name, value)]);
        }
    }
    options
}

/// Opens the pool and brings the schema up to date with migrator `M`.
pub async fn connect_and_migrate<M: MigratorTrait>(url: &str, pool: &PoolConfig) -> anyhow::Result<DatabaseConnection> {
    let db = connect(url, pool).await?;
    migrate::<M>(&db).await.map_err(|e| anyhow::anyhow!("migrating {} failed: {e}", redact(url)))?;
    Ok(db)
}

/// The PostgreSQL advisory lock every migrator of a database takes; one number
/// for the whole platform, since each service has a database of its own.
const MIGRATION_LOCK: i64 = 0x5345_4e5f_4d49_4752; // "SEN_MIGR"

/// Applies `M`'s pending migrations, one migrator at a time per database.
///
/// Two pods starting together (two replicas, or a replica and the migration
/// Job) would otherwise both find a migration pending and both run it: the
/// second fails half-way on "relation already exists", or both create the
/// migrations table at once. On PostgreSQL the migrations therefore run in one
/// transaction that first takes a transaction-scoped advisory lock: the second
/// migrator waits for the first to commit, then finds nothing pending. The lock
/// goes with the transaction, so a migrator that dies releases it. SQLite needs
/// no lock: its single writer already serialises them.
async fn migrate<M: MigratorTrait>(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return M::up(db, None).await;
    }
    let transaction = db.begin().await?;
    transaction.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")).await?;
    // A migration may move any council's rows.
    crate::walls::open_transaction_to_every_tenant(&transaction).await?;
    // Inside a transaction the migrator works in a savepoint of it.
    M::up(&transaction, None).await?;
    let walled = crate::walls::wall_every_tenant_table(&transaction).await?;
    if !walled.is_empty() {
        tracing::info!(tables = %walled.join(", "), "row-level security now walls these tables by tenant");
    }
    transaction.commit().await?;
    if crate::walls::bypassed_by_role(db).await? {
        tracing::warn!(
            "the database role is a superuser or has BYPASSRLS: the tenant walls of row-level security do not bind it; \
             give each service a role of its own without them (docs/OPERATIONS.md, step 1)"
        );
    }
    Ok(())
}

/// A service's database, opened for changes and for reads.
///
/// `write` takes every change, and the reads inside a change's transaction;
/// `read` answers the reads outside one. On PostgreSQL both are the one pool. On
/// SQLite `write` is the single connection that serialises writes, and `read` a
/// few read-only connections beside it, so reads neither queue behind one
/// another on one connection nor wait for a write: in WAL mode a statement sees
/// every transaction committed before it starts, so a read begun after a write
/// was acknowledged sees that write (read-your-writes holds for a caller).
#[derive(Clone, Debug)]
pub struct Db {
    /// Changes, and reads that must see a transaction's own writes.
    pub write: DatabaseConnection,
    /// Reads outside a transaction.
    pub read: DatabaseConnection,
}

impl Db {
    /// Opens the database at `url`, brings the schema up to date with migrator
    /// `M`, then (SQLite on a file) opens the read-only connections.
    pub async fn connect_and_migrate<M: MigratorTrait>(url: &str, pool: &PoolConfig) -> anyhow::Result<Self> {
        let write = connect_and_migrate::<M>(url, pool).await?;
        if write.get_database_backend() != DatabaseBackend::Sqlite || is_sqlite_memory(url) {
            return Ok(Self::single(write));
        }
        let readers = sqlite_readers();
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .connect_timeout(pool.connect_timeout)
            .acquire_timeout(pool.acquire_timeout)
            .sqlx_logging(false)
            .max_connections(readers)
            .min_connections(readers)
            .test_before_acquire(false)
            // Read-only: a statement that tried to write here would fail, never
            // slip past the writer's serialisation.
            .map_sqlx_sqlite_opts(|o| o.read_only(true).create_if_missing(false));
        let read = Database::connect(options)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the database {} for reading: {e}", redact(url)))?;
        Ok(Self { write, read })
    }

    /// One pool for both reads and writes: PostgreSQL, or a connection a caller
    /// opened itself (a test watching every statement).
    pub fn single(db: DatabaseConnection) -> Self {
        Self { read: db.clone(), write: db }
    }
}

/// How many read-only SQLite connections: one per core, two to four. Each has
/// its own thread in sqlx, so more than the cores only adds switching.
fn sqlite_readers() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores.clamp(2, 4)).unwrap_or(2)
}

/// An in-memory SQLite database lives in its one connection; others would see another.
fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

fn ensure_sqlite_folder(url: &str) -> anyhow::Result<()> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    // The folder holds pupils' records: private to this account, or no start.
    if let Some(folder) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::private::private_folder(folder).map_err(anyhow::Error::msg)?;
    }
    crate::private::private_file(Path::new(path)).map_err(anyhow::Error::msg)
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://sen:s3cret@db:5432/schools"), "postgres://sen:***@db:5432/schools");
        assert_eq!(redact("postgres://postgres@127.0.0.1/x"), "postgres://postgres@127.0.0.1/x");
        assert_eq!(redact("sqlite://./data/schools.db?mode=rwc"), "sqlite://./data/schools.db?mode=rwc");
    }

    /// No migrations: the tests make their own table.
    struct NoMigrations;

    impl MigratorTrait for NoMigrations {
        fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
            Vec::new()
        }
    }

    async fn count(db: &DatabaseConnection) -> i64 {
        let row = db
            .query_one(sea_orm::Statement::from_string(DatabaseBackend::Sqlite, "SELECT count(*) AS n FROM notes"))
            .await
            .expect("the count")
            .expect("a row");
        row.try_get("", "n").expect("a number")
    }

    #[tokio::test]
    async fn sqlite_reads_see_every_acknowledged_write_and_cannot_write() {
        let dir = tempfile::tempdir().expect("a folder");
        let url = crate::config::sqlite_url(&dir.path().join("data").join("notes.db"));
        let db = Db::connect_and_migrate::<NoMigrations>(&url, &PoolConfig::default()).await.expect("opened");
        db.write.execute_unprepared("CREATE TABLE notes (id INTEGER PRIMARY KEY)").await.expect("a table");
        for n in 1..=20 {
            db.write.execute_unprepared("INSERT INTO notes DEFAULT VALUES").await.expect("a write");
            // Every reader, whichever the pool hands out, sees the write just acknowledged.
            let seen = futures::future::join_all((0..4).map(|_| count(&db.read))).await;
            assert!(seen.iter().all(|&c| c == n), "after write {n} the readers saw {seen:?}");
        }
        let refused = db.read.execute_unprepared("INSERT INTO notes DEFAULT VALUES").await;
        assert!(refused.is_err(), "a read connection wrote");
        assert_eq!(count(&db.read).await, 20);
    }

    async fn settings(url: &str) -> (String, String) {
        let db = connect(url, &PoolConfig::default()).await.expect("connected");
        let sql = "SELECT current_setting('plan_cache_mode') AS plans, current_setting('jit') AS jit";
        let row = db
            .query_one(sea_orm::Statement::from_string(DatabaseBackend::Postgres, sql))
            .await
            .expect("the settings")
            .expect("a row");
        (row.try_get("", "plans").expect("text"), row.try_get("", "jit").expect("text"))
    }

    #[tokio::test]
    async fn postgres_sessions_plan_for_each_councils_values_and_never_jit_compile_unless_the_url_chooses() {
        let url = crate::testing::postgres_admin_url();
        assert_eq!(settings(&url).await, ("force_custom_plan".to_owned(), "off".to_owned()));
        let joiner = if url.contains('?') { '&' } else { '?' };
        let chosen = format!("{url}{joiner}options=-c%20jit%3Don%20-c%20plan_cache_mode%3Dauto");
        assert_eq!(settings(&chosen).await, ("auto".to_owned(), "on".to_owned()));
    }
}
