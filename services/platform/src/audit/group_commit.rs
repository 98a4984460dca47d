//! Audit entries written by group commit, for any service's audit table.
//!
//! Every read of a child's record by a person is audited, and the read is not
//! answered until its entry is committed. One commit per read would be one
//! synced transaction per read, queued behind SQLite's single writer: a few
//! thousand reads a second at most, whatever else the machine could do. So each
//! read hands its entries to one writer task over a queue and waits; the writer
//! takes everything waiting, inserts it in one transaction, commits once, and
//! then answers every read whose entries that commit carried. While one commit
//! is being synced the next reads queue, so under load one commit carries many
//! reads' entries; a read on its own waits for its own commit only.
//!
//! A read is answered only after its own entries are committed: a failed write
//! refuses every read whose entries it carried, and a read that cannot reach
//! the writer (the store is going away) is refused too. The entries are made by
//! the read itself (when, who, what); only their commit is shared. Changes
//! write their entries inside their own transaction instead, so the change and
//! its entry commit together.

use sea_orm::{ActiveModelTrait, DatabaseConnection, DbErr, EntityTrait, Iterable, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use crate::error::is_connection_failure;

/// Reads that may wait for the writer before the next one waits to queue.
const QUEUE: usize = 1024;
/// Most reads one commit carries.
const READS_PER_COMMIT: usize = 256;
/// Most values bound in one INSERT, within every engine's limit (SQLite
/// 32,766; PostgreSQL 65,535).
const VALUES_PER_INSERT: usize = 4_000;

/// Why entries were not committed; the read they record must be refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuditWriteError {
    /// The database could not be reached, or the writer has stopped: the read may be tried again.
    #[error("the audit log is unavailable; the read was refused")]
    Unavailable,
    /// The database refused the write (logged by the writer).
    #[error("the read's audit entry could not be written; see the log")]
    Failed,
}

/// One read's entries, and the read waiting for their commit.
struct Pending<A> {
    entries: Vec<A>,
    committed: oneshot::Sender<Result<(), AuditWriteError>>,
}

/// The queue to the one writer of an audit table's entries (`A`: the table's active model).
#[derive(Debug)]
pub struct GroupCommit<A> {
    queue: mpsc::Sender<Pending<A>>,
}

impl<A> Clone for GroupCommit<A> {
    fn clone(&self) -> Self {
        Self { queue: self.queue.clone() }
    }
}

impl<A> GroupCommit<A>
where
    A: ActiveModelTrait + Send + Sync + 'static,
    A::Entity: EntityTrait<ActiveModel = A>,
{
    /// Starts the writer over `db` on the current tokio runtime. It stops when
    /// the last handle is dropped, after committing what was queued.
    pub fn start(db: DatabaseConnection) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        // One commit carries many callers' entries, of any council.
        tokio::spawn(crate::walls::across_tenants(write_commits(db, waiting)));
        Self { queue }
    }

    /// Records `entries` and returns once they are committed; an error means
    /// they were not, and the read they record must not be answered.
    pub async fn record(&self, entries: Vec<A>) -> Result<(), AuditWriteError> {
        if entries.is_empty() {
            return Ok(());
        }
        let (committed, outcome) = oneshot::channel();
        self.queue.send(Pending { entries, committed }).await.map_err(|_| AuditWriteError::Unavailable)?;
        outcome.await.map_err(|_| AuditWriteError::Unavailable)?
    }
}

/// The most entries of `A` one INSERT carries (for writes inside a change's transaction too).
pub fn entries_per_insert<A: ActiveModelTrait>() -> usize {
    let columns = <<A::Entity as EntityTrait>::Column as Iterable>::iter().count().max(1);
    (VALUES_PER_INSERT / columns).max(1)
}

/// The writer: waits for a read, takes every read waiting with it, commits their
/// entries once and answers them all.
async fn write_commits<A>(db: DatabaseConnection, mut waiting: mpsc::Receiver<Pending<A>>)
where
    A: ActiveModelTrait + Send + Sync + 'static,
    A::Entity: EntityTrait<ActiveModel = A>,
{
    let mut reads = Vec::with_capacity(READS_PER_COMMIT);
    while waiting.recv_many(&mut reads, READS_PER_COMMIT).await > 0 {
        let entries: Vec<A> = reads.iter_mut().flat_map(|read| std::mem::take(&mut read.entries)).collect();
        let outcome = match commit(&db, entries).await {
            Ok(()) => Ok(()),
            Err(error) => {
                tracing::error!(%error, reads = reads.len(), "writing audit entries failed; those reads are refused");
                Err(if is_connection_failure(&error) { AuditWriteError::Unavailable } else { AuditWriteError::Failed })
            }
        };
        for read in reads.drain(..) {
            // A read whose caller has gone no longer listens; its entry stands.
            let _ = read.committed.send(outcome);
        }
    }
}

/// Inserts `entries` in one transaction.
async fn commit<A>(db: &DatabaseConnection, entries: Vec<A>) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send + Sync + 'static,
    A::Entity: EntityTrait<ActiveModel = A>,
{
    let per_insert = entries_per_insert::<A>();
    if entries.len() <= per_insert {
        // One statement is its own transaction: no BEGIN and COMMIT round trips.
        A::Entity::insert_many(entries).exec(db).await?;
        return Ok(());
    }
    let txn = db.begin().await?;
    let mut entries = entries.into_iter().peekable();
    while entries.peek().is_some() {
        let chunk: Vec<A> = entries.by_ref().take(per_insert).collect();
        A::Entity::insert_many(chunk).exec(&txn).await?;
    }
    txn.commit().await
}

impl From<AuditWriteError> for crate::error::ServiceError {
    fn from(error: AuditWriteError) -> Self {
        match error {
            AuditWriteError::Unavailable => Self::Unavailable(error.to_string()),
            AuditWriteError::Failed => Self::Database(DbErr::Custom(error.to_string())),
        }
    }
}
