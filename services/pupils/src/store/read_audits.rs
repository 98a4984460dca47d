//! The audit entries of reads, written by group commit.
//!
//! Every read of a pupil's record by a person is audited, and the read is not
//! answered until its entry is committed. One commit per read would be one
//! synced transaction per read, queued behind SQLite's single writer: a few
//! thousand reads a second at most, whatever else the machine could do. So each
//! read hands its entries to one writer task over a queue and waits; the writer
//! takes everything waiting, inserts it in one transaction, commits once, and
//! then answers every read whose entries that commit carried. While one commit
//! is being synced the next reads queue, so under load one commit carries many
//! reads' entries; a read on its own waits for its own commit only, as before.
//!
//! A read is answered only after its own entries are committed: a failed write
//! refuses every read whose entries it carried, and a read that cannot reach
//! the writer (the store is going away) is refused too. The entries are made by
//! the read itself (when, who, what), exactly as a change's entries are; only
//! their commit is shared. Changes write their entries inside their own
//! transaction instead, so the change and its entry commit together.

use sea_orm::{DatabaseConnection, DbErr, EntityTrait, TransactionTrait};
use sen_platform::error::is_connection_failure;
use tokio::sync::{mpsc, oneshot};

use crate::entity::audit_event;
use crate::error::{Error, Result};

/// Reads that may wait for the writer before the next one waits to queue.
const QUEUE: usize = 1024;
/// Most reads one commit carries.
const READS_PER_COMMIT: usize = 256;
/// Most entries in one INSERT: eight values each, within every engine's limit
/// on bound values (SQLite 32,766; PostgreSQL 65,535).
pub(super) const ENTRIES_PER_INSERT: usize = 500;

/// One read's entries, and the read waiting for their commit.
struct Pending {
    entries: Vec<audit_event::ActiveModel>,
    committed: oneshot::Sender<Outcome>,
}

/// How the commit carrying a read's entries went.
#[derive(Clone, Copy, Debug)]
enum Outcome {
    Committed,
    /// The database could not be reached: the read may be tried again.
    ConnectionFailed,
    /// The database refused the write (logged by the writer).
    Failed,
}

/// The queue to the one writer of reads' audit entries.
#[derive(Clone, Debug)]
pub(super) struct ReadAudits {
    queue: mpsc::Sender<Pending>,
}

impl ReadAudits {
    /// Starts the writer over `db` on the current tokio runtime. It stops when
    /// the last handle is dropped, after committing what was queued.
    pub(super) fn start(db: DatabaseConnection) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(write_commits(db, waiting));
        Self { queue }
    }

    /// Records `entries` and returns once they are committed; an error means
    /// they were not, and the read they record must not be answered.
    pub(super) async fn record(&self, entries: Vec<audit_event::ActiveModel>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let (committed, outcome) = oneshot::channel();
        self.queue.send(Pending { entries, committed }).await.map_err(|_| writer_gone())?;
        match outcome.await.map_err(|_| writer_gone())? {
            Outcome::Committed => Ok(()),
            Outcome::ConnectionFailed => {
                Err(Error::Unavailable("the audit log's database is unavailable; the read was refused".into()))
            }
            Outcome::Failed => {
                Err(Error::Database(DbErr::Custom("the read's audit entry could not be written; see the log".into())))
            }
        }
    }
}

fn writer_gone() -> Error {
    Error::Unavailable("the audit log's writer has stopped; the read was refused".into())
}

/// The writer: waits for a read, takes every read waiting with it, commits their
/// entries once and answers them all.
async fn write_commits(db: DatabaseConnection, mut waiting: mpsc::Receiver<Pending>) {
    let mut reads = Vec::with_capacity(READS_PER_COMMIT);
    while waiting.recv_many(&mut reads, READS_PER_COMMIT).await > 0 {
        let entries: Vec<_> = reads.iter_mut().flat_map(|read| std::mem::take(&mut read.entries)).collect();
        let outcome = match commit(&db, entries).await {
            Ok(()) => Outcome::Committed,
            Err(error) => {
                tracing::error!(%error, reads = reads.len(), "writing reads' audit entries failed; those reads are refused");
                if is_connection_failure(&error) { Outcome::ConnectionFailed } else { Outcome::Failed }
            }
        };
        for read in reads.drain(..) {
            // A read whose caller has gone no longer listens; its entry stands.
            let _ = read.committed.send(outcome);
        }
    }
}

/// Inserts `entries` in one transaction.
async fn commit(db: &DatabaseConnection, entries: Vec<audit_event::ActiveModel>) -> Result<(), DbErr> {
    if entries.len() <= ENTRIES_PER_INSERT {
        // One statement is its own transaction: no BEGIN and COMMIT round trips.
        audit_event::Entity::insert_many(entries).exec(db).await?;
        return Ok(());
    }
    let txn = db.begin().await?;
    for chunk in entries.chunks(ENTRIES_PER_INSERT) {
        audit_event::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    txn.commit().await
}
