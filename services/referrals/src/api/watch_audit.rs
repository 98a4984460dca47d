//! A watch stream whose deliveries are audited: every referral a watcher was
//! sent changes of gets an audit entry (`referral.watch`), written when the
//! stream ends, and while it runs whenever [`FLUSH_AFTER`] has passed or
//! [`FLUSH_REFERRALS`] referrals are waiting, so a watch left open for days is
//! not left out of the trail until it closes. A stream's entries are written
//! beside it, not before each change: holding live changes back for a commit
//! would make every watcher as slow as the audit log, and the entries say what
//! was sent, in the order it was sent.

use std::collections::BTreeSet;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use sen_platform::identity::{Actor, Scope};
use sen_proto::v1 as pb;
use tokio_stream::Stream;
use tonic::Status;

use crate::feed::Watch;
use crate::store::{ReadAction, Store};

/// The longest a delivered referral waits for its entry while the stream runs.
const FLUSH_AFTER: Duration = Duration::from_secs(60);
/// The most referrals waiting for their entries while the stream runs.
const FLUSH_REFERRALS: usize = 256;

/// `changes`, with the referrals they deliver audited as read by `actor`.
pub(super) fn audited(changes: Watch, store: Store, scope: Scope, actor: Actor) -> Watch {
    Box::pin(AuditedWatch { changes, store, scope, actor, sent: BTreeSet::new(), since: Instant::now() })
}

struct AuditedWatch {
    changes: Watch,
    store: Store,
    scope: Scope,
    actor: Actor,
    /// Referrals sent since the last entries were written.
    sent: BTreeSet<i32>,
    since: Instant,
}

impl AuditedWatch {
    /// Writes the entries of the referrals sent so far, beside the stream.
    fn flush(&mut self) {
        self.since = Instant::now();
        if self.sent.is_empty() {
            return;
        }
        let ids: Vec<i32> = std::mem::take(&mut self.sent).into_iter().collect();
        let (store, scope, actor) = (self.store.clone(), self.scope.clone(), self.actor.clone());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(referrals = ids.len(), "a watch's deliveries could not be audited: no runtime");
            return;
        };
        // Within the watcher's own council, as the stream that delivered them.
        let wall = sen_platform::walls::current();
        runtime.spawn(sen_platform::walls::within(wall, async move {
            let detail = "changes sent to a watcher";
            if let Err(error) = store.audit_reads(&scope, &actor, &ids, ReadAction::Watch, detail).await {
                tracing::error!(%error, referrals = ids.len(), "a watch's deliveries could not be audited");
            }
        }));
    }
}

impl Stream for AuditedWatch {
    type Item = Result<pb::ReferralChange, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.changes.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Ok(change))) = &polled
            && let Some(id) = change.referral.as_ref().and_then(|r| i32::try_from(r.id).ok())
        {
            self.sent.insert(id);
            if self.sent.len() >= FLUSH_REFERRALS || self.since.elapsed() >= FLUSH_AFTER {
                self.flush();
            }
        }
        polled
    }
}

impl Drop for AuditedWatch {
    fn drop(&mut self) {
        self.flush();
    }
}
