//! The feed across replicas (PostgreSQL): the `referral_changes` outbox, its
//! `NOTIFY`, and each replica's [`relay`], reading the table through [`rows`].
//!
//! Each change is written to the outbox in the transaction that makes it, with a
//! `NOTIFY` carrying its id: PostgreSQL holds notifications back until commit and
//! delivers them in commit order, so a listener hears of exactly the changes that
//! committed. The row carries the encoded `sen.v1.ReferralChange` and what decides
//! who may see it, so any replica can hand it on without reading the referral
//! again (which may have changed since). Nothing is sent after the commit: the
//! relay delivers every change, this replica's own included, once.

mod relay;
mod rows;

use chrono::Utc;
use prost::Message;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, Set, Statement,
};
use sen_platform::identity::Scope;

use self::relay::Relay;
use super::{Changes, Describe, Feed, Watch, follow};
use crate::entity::{referral, referral_change, referral_event};
use crate::error::Result;
use crate::store::Publish;

/// The outbox feed of one replica; dropping it stops its relay.
pub(super) struct OutboxFeed {
    describe: Describe,
    changes: Changes,
    relay: Relay,
}

impl OutboxFeed {
    /// Starts relaying the outbox of `db` to `changes`' watchers, writing each
    /// change as `describe` encodes it. Must be called inside a Tokio runtime.
    pub(super) fn start(db: DatabaseConnection, describe: Describe, changes: Changes) -> Self {
        let relay = Relay::start(db, changes.clone());
        Self { describe, changes, relay }
    }
}

#[async_trait::async_trait]
impl Publish for OutboxFeed {
    /// Writes the change to the outbox and notifies the listeners, inside the
    /// change's transaction, so both happen only if it commits.
    async fn in_transaction(
        &self,
        txn: &DatabaseTransaction,
        row: &referral::Model,
        entry: &referral_event::Model,
    ) -> Result<()> {
        let message = (self.describe)(row, entry)?;
        let change = referral_change::ActiveModel {
            la_code: Set(row.la_code.clone()),
            school_urn: Set(row.school_urn),
            allocated_to: Set(row.allocated_to.clone()),
            message: Set(message.encode_to_vec()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let notify = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [rows::CHANNEL.into(), change.id.to_string().into()],
        );
        txn.execute(notify).await?;
        Ok(())
    }

    /// Nothing: the change went to the outbox with the commit and reaches
    /// watchers through the relay, once.
    fn committed(&self, _row: &referral::Model, _entry: &referral_event::Model) {}
}

#[async_trait::async_trait]
impl Feed for OutboxFeed {
    async fn watch(&self, scope: Scope) -> Result<Watch> {
        // Subscribe first, then wait for the relay to listen: every change
        // committed after this returns reaches the new watcher.
        let changes = self.changes.subscribe();
        self.relay.ready().await?;
        Ok(follow(changes, scope))
    }
}
