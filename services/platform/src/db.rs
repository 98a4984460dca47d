//! Database connections: PostgreSQL in production, SQLite as the embedded default.
//! Each service brings its own migrator; migrations run at start, before the
//! service reports healthy.

use std::path::Path;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection};
use sea_orm_migration::MigratorTrait;

use crate::config::PoolConfig;

/// Opens a pool for `url` (`sqlite://…` or `postgres://…`).
///
/// SQLite gets a single connection in write-ahead-log mode: writes are serialised
/// by the pool rather than failing with SQLITE_BUSY when two transactions try to
/// upgrade their locks at once, and readers never block on a writer's file lock.
pub async fn connect(url: &str, pool: &PoolConfig) -> anyhow::Result<DatabaseConnection> {
    let is_sqlite = url.starts_with("sqlite:");
    if is_sqlite {
        ensure_sqlite_folder(url)?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options.connect_timeout(pool.connect_timeout).acquire_timeout(pool.acquire_timeout).sqlx_logging(false);
    if is_sqlite {
        options.max_connections(1).min_connections(1);
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

/// Opens the pool and brings the schema up to date with migrator `M`.
pub async fn connect_and_migrate<M: MigratorTrait>(url: &str, pool: &PoolConfig) -> anyhow::Result<DatabaseConnection> {
    let db = connect(url, pool).await?;
    M::up(&db, None).await.map_err(|e| anyhow::anyhow!("migrating {} failed: {e}", redact(url)))?;
    Ok(db)
}

fn ensure_sqlite_folder(url: &str) -> anyhow::Result<()> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("cannot create the data folder {}: {e}", parent.display()))?;
    }
    Ok(())
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
}
