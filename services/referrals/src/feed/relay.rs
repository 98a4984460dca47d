//! The relay: one task per process that hands every committed change to this
//! process's watchers, in position order, once.
//!
//! Each time it is woken it reads the outbox after the last position it
//! delivered. Positions become visible in order (see the parent module), so
//! that read never skips a change that commits later. It is woken by the
//! `NOTIFY` every commit sends on PostgreSQL, heard by every replica; on SQLite
//! (one process) by the store's hand after each commit. If its connection is
//! lost it listens again and reads from where it was, so a watcher misses
//! nothing while the replica is cut off.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::{Changes, Position, rows};
use crate::error::{Error, Result};

/// The first pause before listening again after a failure; it doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(250);
/// The longest pause between attempts to listen again.
const RETRY_MAX: Duration = Duration::from_secs(30);
/// How long a new watcher waits for the relay's first connection.
const READY_WAIT: Duration = Duration::from_secs(10);
/// Changes read from the outbox at a time.
const PAGE: u64 = 500;

/// A running relay; dropping it stops the task (and with it, its hold on the channel).
pub(super) struct Relay {
    ready: watch::Receiver<bool>,
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Relay {
    /// Starts relaying the outbox of `db` to `changes`' watchers. Must be called
    /// inside a Tokio runtime.
    pub(super) fn start(db: DatabaseConnection, changes: Changes) -> Self {
        let (ready_tx, ready) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        // The outbox is every council's; each watcher is told only its own scope's changes.
        let task = tokio::spawn(sen_platform::walls::across_tenants(run(db, changes, ready_tx, wake.clone())));
        Self { ready, wake, task }
    }

    /// Waits until the relay has started reading, so that a watcher subscribed
    /// before this returns receives every change after the latest position it
    /// reads next. UNAVAILABLE if the database cannot be reached.
    pub(super) async fn ready(&self) -> Result<()> {
        let mut ready = self.ready.clone();
        match tokio::time::timeout(READY_WAIT, ready.wait_for(|listening| *listening)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(Error::Unavailable("changes cannot be followed now: the database is not reachable".into())),
        }
    }

    /// A change committed in this process: read the outbox. Never waits.
    pub(super) fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Relays, and starts again after each failure, for as long as the process runs.
async fn run(db: DatabaseConnection, changes: Changes, ready: watch::Sender<bool>, wake: Arc<Notify>) {
    let mut delivered = None;
    let mut pause = RETRY_FIRST;
    loop {
        if let Err(e) = relay(&db, &changes, &ready, &wake, &mut delivered, &mut pause).await {
            tracing::warn!(error = %e, retry_in_ms = pause.as_millis(), "relaying referral changes stopped; starting again");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RETRY_MAX);
    }
}

/// What wakes the relay.
enum Wakeups {
    /// PostgreSQL's notifications, from every replica.
    Notified(Box<PgListener>),
    /// This process's store, after each commit (SQLite).
    Local(Arc<Notify>),
}

impl Wakeups {
    async fn open(db: &DatabaseConnection, local: &Arc<Notify>) -> Result<Self> {
        Ok(match db.get_database_backend() {
            DatabaseBackend::Postgres => Self::Notified(Box::new(rows::listen(db).await?)),
            _ => Self::Local(local.clone()),
        })
    }

    /// Waits for the next commit. Several at once wake the relay once.
    async fn next(&mut self) -> Result<()> {
        match self {
            Self::Notified(listener) => match listener.try_recv().await {
                Ok(Some(_)) => {
                    while listener.next_buffered().is_some() {}
                    Ok(())
                }
                Ok(None) => Err(Error::Unavailable("lost the connection".into())),
                Err(e) => Err(Error::Unavailable(format!("lost the connection: {e}"))),
            },
            Self::Local(notify) => {
                notify.notified().await;
                Ok(())
            }
        }
    }
}

/// One connection's worth of relaying: listen, catch up from the last position
/// delivered, then read again at each wake-up until the connection fails.
async fn relay(
    db: &DatabaseConnection,
    changes: &Changes,
    ready: &watch::Sender<bool>,
    wake: &Arc<Notify>,
    delivered: &mut Option<Position>,
    pause: &mut Duration,
) -> Result<()> {
    // Listen first, then read: a change committed in between is read now and
    // notified too, and the second read finds nothing after it.
    let mut wakeups = Wakeups::open(db, wake).await?;
    let from = match *delivered {
        Some(position) => position,
        // At start, nobody here watched before: watchers replay what they
        // missed themselves, so begin at the latest change.
        None => rows::kept(db).await?.latest,
    };
    *delivered = Some(from);
    catch_up(db, changes, delivered).await?;
    ready.send_replace(true);
    *pause = RETRY_FIRST;
    loop {
        wakeups.next().await?;
        catch_up(db, changes, delivered).await?;
    }
}

/// Hands every change after `delivered` to the watchers, in position order.
async fn catch_up(db: &DatabaseConnection, changes: &Changes, delivered: &mut Option<Position>) -> Result<()> {
    loop {
        let page = rows::after(db, delivered.unwrap_or_default(), PAGE).await?;
        for change in page.changes {
            changes.send(change);
        }
        *delivered = Some(page.reached);
        if !page.more {
            return Ok(());
        }
    }
}
