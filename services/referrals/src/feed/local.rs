//! The feed within one process (SQLite): a change reaches this process's
//! watchers once its transaction has committed, straight from the store's hand.
//! Nothing leaves inside the transaction, so a change that rolls back is never
//! seen.

use sea_orm::DatabaseTransaction;
use sen_platform::identity::Scope;

use super::{Change, Changes, Describe, Feed, Watch, follow};
use crate::entity::{referral, referral_event};
use crate::error::Result;
use crate::store::Publish;

/// The in-process feed.
pub(super) struct LocalFeed {
    describe: Describe,
    changes: Changes,
}

impl LocalFeed {
    /// A feed telling `changes`' watchers as `describe` encodes.
    pub(super) fn new(describe: Describe, changes: Changes) -> Self {
        Self { describe, changes }
    }
}

#[async_trait::async_trait]
impl Publish for LocalFeed {
    async fn in_transaction(
        &self,
        _txn: &DatabaseTransaction,
        _row: &referral::Model,
        _entry: &referral_event::Model,
    ) -> Result<()> {
        Ok(())
    }

    fn committed(&self, row: &referral::Model, entry: &referral_event::Model) {
        match (self.describe)(row, entry) {
            Ok(message) => self.changes.send(Change::of(row, message)),
            // The caller's own reply encodes the same row and answers with the failure.
            Err(e) => tracing::error!(referral_id = row.id, error = %e, "a change could not be told to watchers"),
        }
    }
}

#[async_trait::async_trait]
impl Feed for LocalFeed {
    async fn watch(&self, scope: Scope) -> Result<Watch> {
        Ok(follow(self.changes.subscribe(), scope))
    }
}
