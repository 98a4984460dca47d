//! The feed of referral changes behind `WatchReferrals`: every committed change,
//! in commit order, each with a [`Position`] that means the same on every
//! replica, so a watcher that lost its stream resumes from the last position it
//! received and misses nothing.
//!
//! The store hands every change to the [`Feed`] as domain data (the referral as
//! changed and its timeline entry, see [`Publish`]): inside the change's
//! transaction and again once it has committed. Here it is encoded for the wire,
//! once, by the [`Describe`] the api gave [`Feed::start`].
//!
//! **The record** ([`rows`]): inside the transaction the change is written to
//! the `referral_changes` outbox, whose id is its position. Positions are taken
//! in commit order: on PostgreSQL the writer first takes a transaction-scoped
//! advisory lock (released by the commit), on SQLite the database's single
//! writer does the same; so once a position is visible, every lower one that
//! will ever commit already has. Rolled-back changes leave gaps, never
//! disorder. Changes are kept for [`KEEP_CHANGES`] ([`retention`]).
//!
//! **Live** ([`relay`]): each process runs one relay that reads the outbox after
//! the last change it delivered and sends each row into this process's bounded
//! broadcast. It is woken by PostgreSQL's `NOTIFY` (sent in the transaction, so
//! heard only on commit, by every replica) or, on SQLite (one process), by the
//! store's hand after the commit.
//!
//! **One watcher** ([`watcher`]): subscribes to the broadcast, then reads the
//! latest position; replays from the outbox what its scope may see after the
//! position it resumed from up to that latest one, then follows the broadcast,
//! skipping what the replay already gave. A watcher that falls behind the
//! broadcast catches up from the outbox the same way, so a slow reader never
//! blocks a writer and never misses a change; only a position older than what
//! is kept ends a watch, with DATA_LOSS.

mod relay;
mod retention;
mod rows;
mod watcher;

use std::pin::Pin;
use std::sync::Arc;

use sea_orm::{DatabaseConnection, DatabaseTransaction};
use sen_platform::identity::Scope;
use sen_proto::v1 as pb;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_stream::Stream;
use tonic::Status;

use crate::entity::{referral, referral_event};
use crate::error::{Error, Result};
use crate::store::{Publish, Store};

pub use retention::{FORGET_EVERY, KEEP_CHANGES};

/// How a change is told to watchers: the referral as changed and its timeline
/// entry, encoded for the wire (the api's encoding, on the day it changed).
pub type Describe = Arc<dyn Fn(&referral::Model, &referral_event::Model) -> Result<pb::ReferralChange> + Send + Sync>;

/// One watcher's changes, in commit order; DATA_LOSS or UNAVAILABLE ends it.
pub type Watch = Pin<Box<dyn Stream<Item = Result<pb::ReferralChange, Status>> + Send + 'static>>;

/// A change's place in the feed: its id in the outbox, increasing in commit
/// order, the same on every replica. Position 0 comes before every change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position(i64);

impl Position {
    /// A position a client sent: never negative.
    pub fn parse(value: i64) -> Result<Self, String> {
        if value < 0 {
            return Err(format!("{value} is not a position: positions are 0 or more"));
        }
        Ok(Self(value))
    }

    /// The number, as on the wire.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a watch begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// With the changes committed from now on.
    Now,
    /// With every change after this position, then the live ones.
    After(Position),
}

/// A watch that began: the position it begins after, and its changes.
pub struct Watching {
    /// Every change after this one is in `changes` (those the scope may see).
    pub after: Position,
    /// The changes, replayed then live.
    pub changes: Watch,
}

/// Why a watch cannot begin where it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Changes after the position asked for are no longer all kept.
    #[error("the changes after position {after} are no longer kept (only those after {kept_after} are)")]
    Forgotten {
        /// The position asked for.
        after: Position,
        /// The changes after this one are kept.
        kept_after: Position,
    },
    /// No change has that position yet.
    #[error("no change has position {after} yet (the latest is {latest})")]
    Ahead {
        /// The position asked for.
        after: Position,
        /// The latest change's position.
        latest: Position,
    },
    /// The database could not be read.
    #[error(transparent)]
    Store(#[from] Error),
}

/// The request field a watcher resumes with.
pub const RESUME_FIELD: &str = "after_position";

impl From<Refused> for Status {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Forgotten { after, kept_after } => Status::data_loss(format!(
                "the changes after position {after} are no longer kept (changes are kept for {} hours; those kept \
                 come after position {kept_after}): reload the referrals, then watch again without {RESUME_FIELD}",
                KEEP_CHANGES.num_hours()
            )),
            Refused::Ahead { after, latest } => Error::invalid(
                RESUME_FIELD,
                format!(
                    "no change has position {after} yet (the latest is {latest}): send the position of the last \
                     change received, or none to watch from now"
                ),
            )
            .into(),
            Refused::Store(error) => error.into(),
        }
    }
}

/// The feed of one process: what the store publishes to and what the api's
/// watchers follow. Dropping it stops its relay and its retention task.
pub struct Feed {
    db: DatabaseConnection,
    describe: Describe,
    changes: Changes,
    relay: relay::Relay,
    retention: JoinHandle<()>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.retention.abort();
    }
}

impl Feed {
    /// The feed over `store`'s database, telling watchers as `describe` encodes,
    /// with a broadcast of `buffer` changes. Starts this process's relay and the
    /// deletion of old changes, so it must be called inside a Tokio runtime.
    pub fn start(store: &Store, describe: Describe, buffer: usize) -> Arc<Self> {
        let db = store.connection().clone();
        let changes = Changes::new(buffer);
        let relay = relay::Relay::start(db.clone(), changes.clone());
        let retention = tokio::spawn(retention::forget_periodically(db.clone()));
        Arc::new(Self { db, describe, changes, relay, retention })
    }

    /// The changes `scope` may see, from `start` on. UNAVAILABLE (as
    /// [`Refused::Store`]) when changes cannot be followed now.
    pub async fn watch(&self, scope: Scope, start: Start) -> Result<Watching, Refused> {
        // Subscribe first, then read the latest position: every change after it
        // reaches the broadcast after this subscription, so nothing falls
        // between the replay and the live changes.
        let live = self.changes.subscribe();
        self.relay.ready().await?;
        let kept = rows::kept(&self.db).await?;
        let after = match start {
            Start::Now => kept.latest,
            Start::After(after) if after > kept.latest => return Err(Refused::Ahead { after, latest: kept.latest }),
            Start::After(after) if after < kept.forgotten_through => {
                return Err(Refused::Forgotten { after, kept_after: kept.forgotten_through });
            }
            Start::After(after) => after,
        };
        let changes = watcher::follow(self.db.clone(), live, scope, after, kept.latest);
        Ok(Watching { after, changes })
    }
}

/// Deletes the changes kept longer than [`KEEP_CHANGES`] as of `now` (as the
/// feed does every [`FORGET_EVERY`]); returns how many. For operators' tools
/// and tests that cannot wait.
pub async fn forget_old_changes(store: &Store, now: chrono::DateTime<chrono::Utc>) -> Result<u64> {
    retention::forget_old_changes(store.connection(), now).await
}

#[async_trait::async_trait]
impl Publish for Feed {
    /// Writes the change to the outbox, taking its position, inside the change's
    /// transaction: both happen only if it commits.
    async fn in_transaction(
        &self,
        txn: &DatabaseTransaction,
        row: &referral::Model,
        entry: &referral_event::Model,
    ) -> Result<()> {
        let message = (self.describe)(row, entry)?;
        rows::write(txn, &Audience::of(row), &message).await
    }

    /// Wakes this process's relay to read the change (on PostgreSQL every
    /// replica's relay also hears the commit's `NOTIFY`).
    fn committed(&self, _row: &referral::Model, _entry: &referral_event::Model) {
        self.relay.wake();
    }
}

/// Who may see a change: the referral's authority, school and allocation as
/// they were when it changed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Audience {
    tenant: String,
    school: i32,
    allocated_to: Option<String>,
}

impl Audience {
    fn of(row: &referral::Model) -> Self {
        // The professional hears of a referral while their case is open, as they
        // read it: the change that finishes it, and any after, are not theirs.
        let open = crate::domain::Status::parse(&row.status).is_ok_and(crate::domain::Status::is_open);
        Self {
            tenant: row.la_code.clone(),
            school: row.school_urn,
            allocated_to: row.allocated_to.clone().filter(|_| open),
        }
    }

    /// Whether `scope` reaches the change, as the store's scoping reaches referrals.
    fn includes(&self, scope: &Scope) -> bool {
        self.tenant == scope.tenant().key()
            && match scope {
                Scope::Tenant(_) => true,
                Scope::School(school) => self.school == school.urn().as_i32(),
                Scope::Caseload(caseload) => self.allocated_to.as_deref() == Some(caseload.person()),
            }
    }
}

/// A committed change, with its position and who may see it.
#[derive(Clone, Debug)]
struct Change {
    position: Position,
    audience: Audience,
    message: pb::ReferralChange,
}

/// This process's watchers: a bounded broadcast channel, in position order.
#[derive(Clone)]
struct Changes(broadcast::Sender<Change>);

impl Changes {
    fn new(buffer: usize) -> Self {
        Self(broadcast::channel(buffer.max(1)).0)
    }

    /// Tells every watcher. Never waits: with nobody watching, or everyone
    /// behind, the send has no receiver to fill.
    fn send(&self, change: Change) {
        let _ = self.0.send(change);
    }

    /// A new watcher's place in the channel: it sees what is sent from now on.
    fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.0.subscribe()
    }
}

#[cfg(test)]
mod tests;
