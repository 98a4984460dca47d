//! The relay: one task per replica that listens for the changes every replica
//! commits (the `NOTIFY` of the outbox, see the parent module) and hands each to
//! this replica's watchers, in the order they committed.
//!
//! If its connection is lost it reconnects, listens again and then reads the
//! outbox rows over a window below the last one it delivered, skipping those it
//! delivered already, so a watcher misses nothing while the replica is cut off,
//! not even a change whose transaction took a lower id but committed later; a
//! change both read that way and notified is delivered once. It also deletes
//! outbox rows older than [`KEEP_CHANGES`], at start and every [`FORGET_EVERY`].

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use prost::Message;
use sea_orm::DatabaseConnection;
use sen_proto::v1 as pb;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::entity::referral_change;
use crate::error::{Error, Result};
use crate::feed::{Change, Changes};

/// How long the outbox keeps a change: far longer than any reconnection.
const KEEP_CHANGES: chrono::TimeDelta = chrono::TimeDelta::days(1);
/// How often old changes are deleted.
const FORGET_EVERY: Duration = Duration::from_secs(60 * 60);
/// The first pause before listening again after a failure; it doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(250);
/// The longest pause between attempts to listen again.
const RETRY_MAX: Duration = Duration::from_secs(30);
/// How long a new watcher waits for the relay's first connection.
const READY_WAIT: Duration = Duration::from_secs(10);

/// A running relay; dropping it stops the task (and with it, its hold on the channel).
pub(super) struct Relay {
    ready: watch::Receiver<bool>,
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
        let task = tokio::spawn(async move {
            tokio::join!(relay(&db, &changes, &ready_tx), forget_old_changes(&db));
        });
        Self { ready, task }
    }

    /// Waits until the relay listens, so a watcher subscribed before this returns
    /// sees every change committed after it. UNAVAILABLE if the database cannot be reached.
    pub(super) async fn ready(&self) -> Result<()> {
        let mut ready = self.ready.clone();
        match tokio::time::timeout(READY_WAIT, ready.wait_for(|listening| *listening)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(Error::Unavailable("changes cannot be followed now: the database is not reachable".into())),
        }
    }
}

/// Listens, and listens again after each failure, for as long as the replica runs.
async fn relay(db: &DatabaseConnection, changes: &Changes, ready: &watch::Sender<bool>) {
    let mut delivered = Delivered::default();
    let mut pause = RETRY_FIRST;
    loop {
        if let Err(e) = follow(db, changes, ready, &mut delivered, &mut pause).await {
            tracing::warn!(error = %e, retry_in_ms = pause.as_millis(), "relaying referral changes stopped; listening again");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RETRY_MAX);
    }
}

/// How far below the highest delivered id a catch-up looks again. Ids are taken
/// when a change is written but become visible when its transaction commits, so
/// a change with a lower id can commit after one with a higher id; a catch-up
/// that started at the highest id would skip it.
const CATCH_UP_WINDOW: i64 = 1_000;

/// The changes already handed to watchers: the highest id, and the recent ids,
/// so that a catch-up over the window and a notification for the same change
/// deliver it once.
#[derive(Default)]
struct Delivered {
    /// The outbox's last id when the replica started: older changes were
    /// committed before anyone here could watch.
    floor: i64,
    highest: Option<i64>,
    recent: std::collections::VecDeque<i64>,
    seen: HashSet<i64>,
}

impl Delivered {
    /// Remembers `id`; false when it was delivered before.
    fn first_time(&mut self, id: i64) -> bool {
        if !self.seen.insert(id) {
            return false;
        }
        self.recent.push_back(id);
        // Remember a little more than the window, so nothing in it is forgotten.
        while self.recent.len() > (2 * CATCH_UP_WINDOW) as usize {
            if let Some(old) = self.recent.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.highest = Some(self.highest.map_or(id, |highest| highest.max(id)));
        true
    }
}

/// One connection's worth of relaying: listen, catch up over the window below
/// the highest delivered change, then deliver each notified change until the
/// connection fails.
async fn follow(
    db: &DatabaseConnection,
    changes: &Changes,
    ready: &watch::Sender<bool>,
    delivered: &mut Delivered,
    pause: &mut Duration,
) -> Result<()> {
    // Listen first, then read: a change committed in between is both read and
    // notified, and `delivered` keeps it from being handed on twice.
    let mut listener = super::rows::listen(db).await?;
    match delivered.highest {
        // At start there is nobody to catch up: watchers wait for `ready`.
        None => {
            let last = super::rows::last_change(db).await?;
            delivered.floor = last;
            delivered.highest = Some(last);
        }
        Some(highest) => {
            for row in super::rows::changes_after(db, (highest - CATCH_UP_WINDOW).max(delivered.floor)).await? {
                if delivered.first_time(row.id) {
                    deliver(changes, row);
                }
            }
        }
    }
    ready.send_replace(true);
    *pause = RETRY_FIRST;
    let lost = |e: sea_orm::sqlx::Error| Error::Unavailable(format!("lost the connection: {e}"));
    while let Some(notification) = listener.try_recv().await.map_err(lost)? {
        let Ok(id) = notification.payload().parse::<i64>() else {
            tracing::warn!(payload = notification.payload(), "ignored a notification that names no change");
            continue;
        };
        if let Some(row) = super::rows::change(db, id).await?
            && delivered.first_time(row.id)
        {
            deliver(changes, row);
        }
    }
    Err(Error::Unavailable("lost the connection".into()))
}

/// Hands one outbox row to this replica's watchers. Never waits (see `Changes::send`).
fn deliver(changes: &Changes, row: referral_change::Model) {
    match pb::ReferralChange::decode(row.message.as_slice()) {
        Ok(message) => {
            changes.send(Change {
                tenant: row.la_code,
                school: row.school_urn,
                allocated_to: row.allocated_to,
                message,
            });
        }
        Err(e) => tracing::error!(change_id = row.id, error = %e, "an outbox change does not decode; skipped"),
    }
}

/// Deletes outbox rows older than [`KEEP_CHANGES`], now and every [`FORGET_EVERY`].
async fn forget_old_changes(db: &DatabaseConnection) {
    let mut every = tokio::time::interval(FORGET_EVERY);
    loop {
        every.tick().await;
        match super::rows::forget_changes_before(db, Utc::now() - KEEP_CHANGES).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "forgot old referral changes"),
            Err(e) => tracing::warn!(error = %e, "could not forget old referral changes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_delivered_once_however_often_it_is_read_or_notified() {
        let mut delivered = Delivered::default();
        assert!(delivered.first_time(7));
        assert!(!delivered.first_time(7));
        assert!(delivered.first_time(5), "a lower id committed later is still new");
        assert_eq!(delivered.highest, Some(7));
    }

    #[test]
    fn only_ids_far_older_than_the_catch_up_window_are_forgotten() {
        let mut delivered = Delivered::default();
        for id in 1..=(3 * CATCH_UP_WINDOW) {
            assert!(delivered.first_time(id));
        }
        let oldest_remembered = CATCH_UP_WINDOW + 1;
        assert!(!delivered.first_time(oldest_remembered), "within twice the window: still remembered");
        assert!(!delivered.first_time(3 * CATCH_UP_WINDOW - CATCH_UP_WINDOW), "the window's ids are remembered");
    }
}
