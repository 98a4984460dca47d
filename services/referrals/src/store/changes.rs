//! The outbox of committed changes, through which watchers on every replica hear
//! of them. On PostgreSQL each change is written to `referral_changes` in the
//! transaction that makes it, with a `NOTIFY` carrying its id: PostgreSQL holds
//! notifications back until commit and delivers them in commit order, so a
//! listener hears of exactly the changes that committed. On SQLite (one process)
//! there is no outbox: the api tells its own watchers directly.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement,
};

use super::Store;
use crate::entity::{referral, referral_change, referral_event};
use crate::error::{Error, Result};

/// The PostgreSQL notification channel; the payload is the change's id.
pub const CHANNEL: &str = "sen_referral_changes";

/// How the api encodes a change for watchers: the referral as changed and its
/// timeline entry, to the bytes of a `sen.v1.ReferralChange`.
pub type Describe = Arc<dyn Fn(&referral::Model, &referral_event::Model) -> Result<Vec<u8>> + Send + Sync>;

/// The outbox writer a store was given.
#[derive(Clone)]
pub(super) struct Outbox(Describe);

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Outbox")
    }
}

impl Store {
    /// Whether changes travel through the database to every replica (PostgreSQL),
    /// rather than only to this process's watchers (SQLite).
    pub fn shares_changes(&self) -> bool {
        self.db.get_database_backend() == DatabaseBackend::Postgres
    }

    /// This store, writing each change it makes to the outbox as `describe`
    /// encodes it, when changes are shared (see [`Store::shares_changes`]).
    pub fn with_outbox(mut self, describe: Describe) -> Self {
        self.outbox = self.shares_changes().then_some(Outbox(describe));
        self
    }

    /// Writes a change to the outbox and notifies the listeners, inside the
    /// change's transaction `txn`, so both happen only if it commits.
    pub(super) async fn publish(
        &self,
        txn: &impl ConnectionTrait,
        row: &referral::Model,
        entry: &referral_event::Model,
    ) -> Result<()> {
        let Some(Outbox(describe)) = &self.outbox else { return Ok(()) };
        let change = referral_change::ActiveModel {
            la_code: Set(row.la_code.clone()),
            school_urn: Set(row.school_urn),
            allocated_to: Set(row.allocated_to.clone()),
            message: Set(describe(row, entry)?),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let notify = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), change.id.to_string().into()],
        );
        txn.execute(notify).await?;
        Ok(())
    }

    /// A connection listening on [`CHANNEL`], taken from the store's pool.
    pub async fn listen_for_changes(&self) -> Result<PgListener> {
        if !self.shares_changes() {
            return Err(Error::FailedPrecondition("only PostgreSQL shares changes between replicas".into()));
        }
        let unavailable = |e: sea_orm::sqlx::Error| Error::Unavailable(format!("cannot listen for changes: {e}"));
        let mut listener =
            PgListener::connect_with(self.db.get_postgres_connection_pool()).await.map_err(unavailable)?;
        listener.listen(CHANNEL).await.map_err(unavailable)?;
        Ok(listener)
    }

    /// One change of the outbox, if it is still there.
    pub async fn change(&self, id: i64) -> Result<Option<referral_change::Model>> {
        Ok(referral_change::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// The changes written after change `id`, in id order.
    pub async fn changes_after(&self, id: i64) -> Result<Vec<referral_change::Model>> {
        Ok(referral_change::Entity::find()
            .filter(referral_change::Column::Id.gt(id))
            .order_by_asc(referral_change::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The id of the latest change in the outbox (0 when it is empty).
    pub async fn last_change(&self) -> Result<i64> {
        let last: Option<Option<i64>> = referral_change::Entity::find()
            .select_only()
            .column_as(referral_change::Column::Id.max(), "last")
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(last.flatten().unwrap_or(0))
    }

    /// Deletes the outbox's changes written before `before`; returns how many.
    pub async fn forget_changes_before(&self, before: DateTime<Utc>) -> Result<u64> {
        let deleted = referral_change::Entity::delete_many()
            .filter(referral_change::Column::CreatedAt.lt(before))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected)
    }
}
