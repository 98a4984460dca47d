//! The relay (PostgreSQL): one task per replica that listens for the changes
//! every replica commits (the `NOTIFY` of the outbox, see `store::changes`) and
//! hands each to this replica's watchers, in the order they committed.
//!
//! If its connection is lost it reconnects, listens again and then reads the
//! outbox rows after the last one it delivered, so a watcher misses nothing
//! while the replica is cut off; a change both read that way and notified is
//! delivered once. It also deletes outbox rows older than [`KEEP_CHANGES`], at
//! start and every [`FORGET_EVERY`].

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use prost::Message;
use sen_proto::v1 as pb;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use super::Change;
use crate::entity::referral_change;
use crate::error::{Error, Result};
use crate::store::Store;

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
    /// Starts relaying `store`'s shared changes into `changes`. Must be called
    /// inside a Tokio runtime.
    pub(super) fn start(store: Store, changes: broadcast::Sender<Change>) -> Self {
        let (ready_tx, ready) = watch::channel(false);
        let task = tokio::spawn(async move {
            tokio::join!(relay(&store, &changes, &ready_tx), forget_old_changes(&store));
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
async fn relay(store: &Store, changes: &broadcast::Sender<Change>, ready: &watch::Sender<bool>) {
    let mut last = None;
    let mut pause = RETRY_FIRST;
    loop {
        if let Err(e) = follow(store, changes, ready, &mut last, &mut pause).await {
            tracing::warn!(error = %e, retry_in_ms = pause.as_millis(), "relaying referral changes stopped; listening again");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RETRY_MAX);
    }
}

/// One connection's worth of relaying: listen, catch up after `last`, then
/// deliver each notified change until the connection fails.
async fn follow(
    store: &Store,
    changes: &broadcast::Sender<Change>,
    ready: &watch::Sender<bool>,
    last: &mut Option<i64>,
    pause: &mut Duration,
) -> Result<()> {
    // Listen first, then read: a change committed in between is both read and
    // notified, and `caught_up` keeps it from being delivered twice.
    let mut listener = store.listen_for_changes().await?;
    let mut caught_up = HashSet::new();
    match *last {
        // At start there is nobody to catch up: watchers wait for `ready`.
        None => *last = Some(store.last_change().await?),
        Some(after) => {
            for row in store.changes_after(after).await? {
                caught_up.insert(row.id);
                deliver(changes, row, last);
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
        if caught_up.remove(&id) {
            continue;
        }
        if let Some(row) = store.change(id).await? {
            deliver(changes, row, last);
        }
    }
    Err(Error::Unavailable("lost the connection".into()))
}

/// Hands one outbox row to this replica's watchers. Never waits (see `watch`).
fn deliver(changes: &broadcast::Sender<Change>, row: referral_change::Model, last: &mut Option<i64>) {
    *last = Some(last.map_or(row.id, |last| last.max(row.id)));
    match pb::ReferralChange::decode(row.message.as_slice()) {
        Ok(message) => {
            let change =
                Change { tenant: row.la_code, school: row.school_urn, allocated_to: row.allocated_to, message };
            let _ = changes.send(change);
        }
        Err(e) => tracing::error!(change_id = row.id, error = %e, "an outbox change does not decode; skipped"),
    }
}

/// Deletes outbox rows older than [`KEEP_CHANGES`], now and every [`FORGET_EVERY`].
async fn forget_old_changes(store: &Store) {
    let mut every = tokio::time::interval(FORGET_EVERY);
    loop {
        every.tick().await;
        match store.forget_changes_before(Utc::now() - KEEP_CHANGES).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "forgot old referral changes"),
            Err(e) => tracing::warn!(error = %e, "could not forget old referral changes"),
        }
    }
}
