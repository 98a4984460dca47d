//! `sen.v1.ReferralsService`: decode, authorise, call the store, encode, and tell
//! watchers.
//!
//! | methods | roles |
//! | --- | --- |
//! | SubmitReferral, ResubmitReferral | senco (own school's pupils), case_officer |
//! | GetReferral, ListReferrals, GetReferralTimeline, WatchReferrals | la_manager, case_officer, senco (own school), educational_psychologist and advisory_teacher (allocated to them) |
//! | ChangeReferralStatus: accept, return, decline | la_manager, case_officer |
//! | ChangeReferralStatus: withdraw | senco (the submitting school), case_officer |
//! | ChangeReferralStatus: start, close | the allocated professional, la_manager, case_officer |
//! | MarkAllocated | service (the caseloads service) |
//! | RecordAssessmentDecision, RecordPlanDecision, RecordFinalPlanIssued, RecordClockException, GetStatutoryClockReport, GetReferralStats | la_manager, case_officer |
//!
//! Changes are broadcast to watchers in the order they commit. The channel is
//! bounded and never waits: a watcher that falls too far behind is told so
//! (DATA_LOSS) and reconnects, so a slow reader never blocks a writer.
//!
//! Where a change enters the channel depends on the engine. On SQLite (one
//! process) the handler sends it after the commit. On PostgreSQL, where several
//! replicas share the database, the store writes it to the `referral_changes`
//! outbox and `NOTIFY`s its id in the change's own transaction, and each
//! replica's [`relay`] listens, reads the row and sends it; the handler sends
//! nothing itself, so a watcher on any replica sees each change once, in commit
//! order, and a relay that lost its connection catches up from the outbox.

mod handlers;
mod relay;
mod stats;
mod wire;

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use sen_platform::identity::{Identity, Role, Scope};
use sen_proto::v1 as pb;
use tokio::sync::broadcast;
use tonic::{Request, Status};

use self::relay::Relay;
use crate::entity::{referral, referral_event};
use crate::error::Error;
use crate::pupils::Pupils;
use crate::store::{Actor, Store};

const SUBMITTERS: &[Role] = &[Role::Senco, Role::CaseOfficer];
const READERS: &[Role] =
    &[Role::LaManager, Role::CaseOfficer, Role::Senco, Role::EducationalPsychologist, Role::AdvisoryTeacher];
const TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];
const WORKERS: &[Role] = &[Role::LaManager, Role::CaseOfficer, Role::EducationalPsychologist, Role::AdvisoryTeacher];
const WITHDRAWERS: &[Role] = &[Role::Senco, Role::CaseOfficer];
const SERVICES: &[Role] = &[Role::Service];
/// Changes a watcher may fall behind by before it is told to reconnect.
const WATCH_BUFFER: usize = 1024;

/// Today's date; a parameter so tests can fix it.
pub type Clock = Arc<dyn Fn() -> NaiveDate + Send + Sync>;

/// A committed change, with what decides who may see it.
#[derive(Clone, Debug)]
struct Change {
    tenant: String,
    school: i32,
    allocated_to: Option<String>,
    message: pb::ReferralChange,
}

impl Change {
    fn visible_to(&self, scope: &Scope) -> bool {
        self.tenant == scope.tenant().key()
            && match scope {
                Scope::Tenant(_) => true,
                Scope::School(school) => self.school == school.urn().as_i32(),
                Scope::Caseload(caseload) => self.allocated_to.as_deref() == Some(caseload.person()),
            }
    }
}

/// What watchers receive for a change: the referral as changed, and the entry.
fn change_message(
    row: &referral::Model,
    entry: &referral_event::Model,
    today: NaiveDate,
) -> Result<pb::ReferralChange, Error> {
    Ok(pb::ReferralChange {
        referral: Some(wire::referral_to_proto(row, today)?),
        change: Some(wire::entry_to_proto(entry)),
    })
}

/// The gRPC service.
#[derive(Clone)]
pub struct ReferralsApi {
    store: Store,
    pupils: Pupils,
    today: Clock,
    changes: broadcast::Sender<Change>,
    /// Feeds `changes` from the database (PostgreSQL); none on SQLite.
    relay: Option<Arc<Relay>>,
}

impl ReferralsApi {
    /// A service over `store`, asking `pupils` about pupils, on the system clock.
    /// On PostgreSQL it starts this replica's relay, so it must be built inside a
    /// Tokio runtime.
    pub fn new(store: Store, pupils: Pupils) -> Self {
        Self::with_clock(store, pupils, Arc::new(|| Utc::now().date_naive()))
    }

    /// A service with its own notion of today.
    pub fn with_clock(store: Store, pupils: Pupils, today: Clock) -> Self {
        let clock = today.clone();
        let store = store.with_outbox(Arc::new(move |row, entry| {
            Ok(prost::Message::encode_to_vec(&change_message(row, entry, clock())?))
        }));
        Self::with_channel(store, pupils, today, WATCH_BUFFER)
    }

    /// How many changes a watcher may fall behind by before it is told to reconnect.
    pub fn with_watch_buffer(self, changes: usize) -> Self {
        // A new channel needs a relay feeding it; the old relay stops when dropped.
        Self::with_channel(self.store, self.pupils, self.today, changes.max(1))
    }

    fn with_channel(store: Store, pupils: Pupils, today: Clock, buffer: usize) -> Self {
        let (changes, _) = broadcast::channel(buffer);
        let relay = store.shares_changes().then(|| Arc::new(Relay::start(store.clone(), changes.clone())));
        Self { store, pupils, today, changes, relay }
    }
}

fn caller<T>(request: &Request<T>, allowed: &[Role]) -> Result<(Identity, Actor), Status> {
    let who = Identity::of(request)?;
    who.require_role(allowed)?;
    let actor = Actor::of(&who);
    Ok((who, actor))
}

/// The changes `scope` may see, from one watcher's receiver, in commit order. A
/// watcher that lagged is told (DATA_LOSS) and the stream ends there rather than
/// continue with a gap.
fn watch(
    changes: broadcast::Receiver<Change>,
    scope: Scope,
) -> impl tokio_stream::Stream<Item = Result<pb::ReferralChange, Status>> + Send + 'static {
    use tokio::sync::broadcast::error::RecvError;
    futures::stream::unfold(Some((changes, scope)), |state| async move {
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
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sen_platform::identity::{DevIssuer, Grant};
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
        let (sender, receiver) = broadcast::channel(2);
        let mut stream = Box::pin(watch(receiver, scope("886")));
        for id in 1..=5 {
            sender.send(change("886", id)).unwrap();
        }
        let told = stream.next().await.unwrap().unwrap_err();
        assert_eq!(told.code(), tonic::Code::DataLoss);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn a_watcher_sees_its_own_tenant_in_order() {
        let (sender, receiver) = broadcast::channel(8);
        let stream = Box::pin(watch(receiver, scope("886")));
        for (tenant, id) in [("886", 1), ("887", 2), ("886", 3)] {
            sender.send(change(tenant, id)).unwrap();
        }
        drop(sender);
        let ids: Vec<i64> = stream.map(|c| c.unwrap().referral.unwrap().id).collect().await;
        assert_eq!(ids, [1, 3]);
    }
}
