//! How long the outbox keeps changes, which is how far back a watcher can
//! resume: [`KEEP_CHANGES`], 72 hours. That covers a stream dropped over a
//! weekend (a laptop shut on Friday evening, opened on Monday morning) and any
//! restart or failover of the platform; a watcher away longer reloads its list,
//! which costs one call. The rows hold referrals' details (special-category
//! data), copies of what the `referrals` table keeps, so they are kept no longer
//! than resuming needs.
//!
//! Every process deletes, at start and every [`FORGET_EVERY`], the changes up to
//! the latest one written more than [`KEEP_CHANGES`] ago (by the writer's clock),
//! so a change is kept for at least 72 hours and about an hour more at most, and
//! what is kept is always every change after one position. That position, the
//! horizon, is stored with the deletion: a watcher asking to resume from before
//! it is told DATA_LOSS. Several replicas deleting at once agree: the horizon
//! only moves forward.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::DatabaseConnection;

use super::rows;
use crate::error::Result;

/// How long a change is kept for watchers to resume from: 72 hours.
pub const KEEP_CHANGES: TimeDelta = TimeDelta::hours(72);
/// How often each process deletes the changes older than [`KEEP_CHANGES`].
pub const FORGET_EVERY: Duration = Duration::from_secs(60 * 60);

/// Deletes the changes kept longer than [`KEEP_CHANGES`] as of `now`; returns how many.
pub(super) async fn forget_old_changes(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64> {
    // Every council's changes age alike.
    sen_platform::walls::across_tenants(rows::forget_written_before(db, now - KEEP_CHANGES)).await
}

/// Forgets old changes now and every [`FORGET_EVERY`], for as long as the process runs.
pub(super) async fn forget_periodically(db: DatabaseConnection) {
    let mut every = tokio::time::interval(FORGET_EVERY);
    loop {
        every.tick().await;
        match forget_old_changes(&db, Utc::now()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "forgot referral changes older than the retention"),
            Err(e) => tracing::warn!(error = %e, "could not forget old referral changes"),
        }
    }
}
