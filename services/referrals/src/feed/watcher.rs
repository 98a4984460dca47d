//! One watcher's stream: the changes its scope may see after the position it
//! began from, replayed from the outbox up to the latest position when it
//! began, then live from the broadcast.
//!
//! The seam: the watcher subscribed to the broadcast before the latest position
//! was read, so every change after that position reaches the subscription; the
//! live changes at or below the watcher's cursor (what the replay covered) are
//! skipped. So nothing is given twice and nothing falls between, whatever
//! commits meanwhile. A watcher that falls behind the broadcast does the same
//! again from its cursor: subscribes afresh and replays what it lost from the
//! outbox. Only when changes it still needs were deleted (see `retention`) does
//! the stream end, with DATA_LOSS.

use std::collections::VecDeque;

use sea_orm::DatabaseConnection;
use sen_platform::identity::Scope;
use sen_proto::v1 as pb;
use tokio::sync::broadcast::{self, error::RecvError};
use tonic::Status;

use super::{Change, Position, Refused, Watch, rows};
use crate::error::Error;

/// Changes replayed from the outbox per read.
const PAGE: u64 = 200;

/// The changes `scope` may see after `after`: replayed up to `upto` (the latest
/// position, read after `live` subscribed), then live.
pub(super) fn follow(
    db: DatabaseConnection,
    live: broadcast::Receiver<Change>,
    scope: Scope,
    after: Position,
    upto: Position,
) -> Watch {
    let watcher = Watcher { db, live, scope, cursor: after, read: after, upto, page: VecDeque::new() };
    Box::pin(futures::stream::unfold(Some(watcher), |state| async move {
        let mut watcher = state?;
        match watcher.next().await {
            Some(Ok(change)) => Some((Ok(change), Some(watcher))),
            // An error ends the stream: the watcher resumes from its last position.
            Some(Err(status)) => Some((Err(status), None)),
            None => None,
        }
    }))
}

struct Watcher {
    db: DatabaseConnection,
    live: broadcast::Receiver<Change>,
    scope: Scope,
    /// Every change up to here was given, or was not the scope's.
    cursor: Position,
    /// The replay has read the outbox up to here.
    read: Position,
    /// The replay runs up to here; later changes come live.
    upto: Position,
    /// Changes replayed but not yet given.
    page: VecDeque<Change>,
}

impl Watcher {
    /// The next change the scope may see; `None` when the feed stops.
    async fn next(&mut self) -> Option<Result<pb::ReferralChange, Status>> {
        loop {
            if let Some(change) = self.page.pop_front() {
                return Some(Ok(change.message));
            }
            self.cursor = self.cursor.max(self.read);
            if self.read < self.upto {
                if let Err(status) = self.replay_page().await {
                    return Some(Err(status));
                }
                continue;
            }
            match self.live.recv().await {
                // The replay gave it already.
                Ok(change) if change.position <= self.cursor => continue,
                Ok(change) => {
                    self.cursor = change.position;
                    if change.audience.includes(&self.scope) {
                        return Some(Ok(change.message));
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    if let Err(status) = self.catch_up().await {
                        return Some(Err(status));
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Reads the next page of the replay, checking that nothing in it was deleted.
    async fn replay_page(&mut self) -> Result<(), Status> {
        let page = rows::visible_between(&self.db, &self.scope, self.read, self.upto, PAGE)
            .await
            .map_err(|e| self.unreadable(e))?;
        // Read after the page: had old changes been deleted before the page was
        // read, the horizon says so now.
        let forgotten_through = rows::forgotten_through(&self.db).await.map_err(|e| self.unreadable(e))?;
        if forgotten_through > self.read {
            return Err(Refused::Forgotten { after: self.read, kept_after: forgotten_through }.into());
        }
        self.page = page.changes.into();
        self.read = page.reached;
        Ok(())
    }

    /// The broadcast moved on without this watcher: subscribe afresh and replay
    /// from the cursor up to the latest position.
    async fn catch_up(&mut self) -> Result<(), Status> {
        self.live = self.live.resubscribe();
        let kept = rows::kept(&self.db).await.map_err(|e| self.unreadable(e))?;
        self.read = self.cursor;
        self.upto = kept.latest.max(self.cursor);
        Ok(())
    }

    /// The outbox could not be read: the stream ends, and the watcher resumes
    /// from the last position it received.
    fn unreadable(&self, error: Error) -> Status {
        tracing::warn!(error = %error, position = %self.cursor, "a watcher's changes could not be read");
        Status::unavailable(
            "changes cannot be read now; watch again with after_position set to the last position received",
        )
    }
}
