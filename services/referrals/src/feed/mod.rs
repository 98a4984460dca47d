//! The live feed of referral changes behind `WatchReferrals`: one interface,
//! [`Feed`], and its two implementations, chosen once by [`start`] from the
//! store's engine.
//!
//! The store hands every change to the feed as domain data (the referral as
//! changed and its timeline entry, see [`Publish`]): inside the change's
//! transaction, and again once it has committed. Only here, at the feed's edge,
//! is it encoded for the wire, once, by the [`Describe`] the api gave [`start`];
//! watchers receive it in the order the changes commit. The channel to watchers is bounded and never waits: a watcher that
//! falls too far behind is told so (DATA_LOSS) and reconnects, so a slow reader
//! never blocks a writer.
//!
//! - `local` (SQLite, one process): nothing leaves inside the transaction, so a
//!   change that rolls back is never seen; after the commit it goes straight to
//!   this process's watchers.
//! - `outbox` (PostgreSQL, several replicas over one database): inside the
//!   transaction the change is written to the `referral_changes` outbox and its
//!   id `NOTIFY`d, so both happen only if it commits; each replica's relay
//!   listens, reads the row and hands it to its own watchers. Nothing is sent
//!   after the commit, so a watcher on any replica sees each change once, in
//!   commit order, and a relay that lost its connection catches up from the
//!   outbox.

mod local;
mod outbox;

use std::pin::Pin;
use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sen_platform::identity::Scope;
use sen_proto::v1 as pb;
use tokio::sync::broadcast;
use tokio_stream::Stream;
use tonic::Status;

use crate::entity::{referral, referral_event};
use crate::error::Result;
use crate::store::{Publish, Store};

/// How a change is told to watchers: the referral as changed and its timeline
/// entry, encoded for the wire (the api's encoding, on the day it changed).
pub type Describe = Arc<dyn Fn(&referral::Model, &referral_event::Model) -> Result<pb::ReferralChange> + Send + Sync>;

/// One watcher's changes, in commit order; DATA_LOSS ends it when it fell behind.
pub type Watch = Pin<Box<dyn Stream<Item = Result<pb::ReferralChange, Status>> + Send + 'static>>;

/// The live feed: what the store publishes to and what the api's watchers follow.
#[async_trait::async_trait]
pub trait Feed: Publish {
    /// The changes `scope` may see, from the moment this returns. UNAVAILABLE when
    /// changes cannot be followed now.
    async fn watch(&self, scope: Scope) -> Result<Watch>;
}

/// The feed for `store`'s engine, telling watchers as `describe` encodes, letting
/// each fall at most `buffer` changes behind. On PostgreSQL it starts this
/// replica's relay, so it must be called inside a Tokio runtime; dropping the
/// feed stops the relay.
pub fn start(store: &Store, describe: Describe, buffer: usize) -> Arc<dyn Feed> {
    let changes = Changes::new(buffer);
    let db = store.connection();
    if db.get_database_backend() == DatabaseBackend::Postgres {
        Arc::new(outbox::OutboxFeed::start(db.clone(), describe, changes))
    } else {
        Arc::new(local::LocalFeed::new(describe, changes))
    }
}

/// A committed change, with what decides who may see it.
#[derive(Clone, Debug)]
struct Change {
    tenant: String,
    school: i32,
    allocated_to: Option<String>,
    message: pb::ReferralChange,
}

impl Change {
    /// The change to `row`, as `message` tells it.
    fn of(row: &referral::Model, message: pb::ReferralChange) -> Self {
        Change { tenant: row.la_code.clone(), school: row.school_urn, allocated_to: row.allocated_to.clone(), message }
    }

    fn visible_to(&self, scope: &Scope) -> bool {
        self.tenant == scope.tenant().key()
            && match scope {
                Scope::Tenant(_) => true,
                Scope::School(school) => self.school == school.urn().as_i32(),
                Scope::Caseload(caseload) => self.allocated_to.as_deref() == Some(caseload.person()),
            }
    }
}

/// This process's watchers: a bounded broadcast channel, in the order changes are sent.
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

/// The changes `scope` may see, from one watcher's receiver, in commit order. A
/// watcher that lagged is told (DATA_LOSS) and the stream ends there rather than
/// continue with a gap.
fn follow(changes: broadcast::Receiver<Change>, scope: Scope) -> Watch {
    use tokio::sync::broadcast::error::RecvError;
    Box::pin(futures::stream::unfold(Some((changes, scope)), |state| async move {
        let (mut changes, scope) = state?;
        loop {
            match changes.recv().await {
                Ok(change) if change.visible_to(&scope) => return Some((Ok(change.message), Some((changes, scope)))),
                Ok(_) => continue,
                Err(RecvError::Lagged(missed)) => {
                    let status = Status::data_loss(format!(
                        "this watch fell {missed} changes behind; reload the referrals and watch again"
                    ));
                    return Some((Err(status), None));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sen_platform::identity::{DevIssuer, Grant, Role};
    use sen_platform::ids::LaCode;
    use tokio_stream::StreamExt;

    use super::*;

    fn scope(tenant: &str) -> Scope {
        let issuer = DevIssuer::generate().unwrap();
        let grant =
            Grant { person: "m".into(), role: Role::LaManager, tenant: LaCode::parse(tenant).ok(), school: None };
        issuer.verifier.verify(&issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap()).unwrap().scope().unwrap()
    }

    fn change(tenant: &str, id: i64) -> Change {
        let referral = pb::Referral { id, ..Default::default() };
        let message = pb::ReferralChange { referral: Some(referral), change: None };
        Change { tenant: tenant.into(), school: 100001, allocated_to: None, message }
    }

    #[tokio::test]
    async fn a_watcher_that_fell_behind_is_told_and_its_stream_ends() {
        let changes = Changes::new(2);
        let mut stream = follow(changes.subscribe(), scope("886"));
        for id in 1..=5 {
            changes.send(change("886", id));
        }
        let told = stream.next().await.unwrap().unwrap_err();
        assert_eq!(told.code(), tonic::Code::DataLoss);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn a_watcher_sees_its_own_tenant_in_order() {
        let changes = Changes::new(8);
        let stream = follow(changes.subscribe(), scope("886"));
        for (tenant, id) in [("886", 1), ("887", 2), ("886", 3)] {
            changes.send(change(tenant, id));
        }
        drop(changes);
        let ids: Vec<i64> = stream.map(|c| c.unwrap().referral.unwrap().id).collect().await;
        assert_eq!(ids, [1, 3]);
    }
}
