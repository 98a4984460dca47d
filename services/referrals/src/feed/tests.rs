//! The feed over a real database on both engines: changes written as the store
//! writes them, watchers as the api opens them.

use std::time::Duration;

use sea_orm::TransactionTrait;
use sen_platform::identity::{DevIssuer, Grant, Role};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::on_both_engines;
use sen_platform::testing::{Engine, TestDatabase};
use tokio_stream::StreamExt;

use super::*;

struct Fixture {
    _db: TestDatabase,
    store: Store,
    feed: Arc<Feed>,
}

async fn fixture(engine: Engine, buffer: usize) -> Fixture {
    let db = TestDatabase::create(engine).await.expect("database");
    let store = Store::connect(&db.url, &Default::default()).await.expect("store");
    // The tests write encoded changes themselves.
    let describe: Describe = Arc::new(|_, _| Err(Error::Corrupt("not used by these tests".into())));
    let feed = Feed::start(&store, describe, buffer);
    Fixture { _db: db, store, feed }
}

impl Fixture {
    /// Commits a change to referral `id` of `tenant`'s school 100001, as the store does.
    async fn commit(&self, tenant: &str, id: i64) {
        let txn = self.store.connection().begin().await.expect("begin");
        let audience = Audience { tenant: tenant.into(), school: 100001, allocated_to: None };
        let message =
            pb::ReferralChange { referral: Some(pb::Referral { id, ..Default::default() }), ..Default::default() };
        rows::write(&txn, &audience, &message).await.expect("written");
        txn.commit().await.expect("committed");
        self.feed.committed_here();
    }

    async fn watch(&self, tenant: &str, start: Start) -> Result<Watching, Refused> {
        self.feed.watch(scope(Role::LaManager, tenant, None, "manager"), start).await
    }
}

impl Feed {
    /// What the store's hand does after a commit.
    fn committed_here(&self) {
        self.relay.wake();
    }
}

fn scope(role: Role, tenant: &str, school: Option<&str>, person: &str) -> Scope {
    let issuer = DevIssuer::generate().expect("issuer");
    let grant = Grant {
        person: person.into(),
        role,
        tenant: LaCode::parse(tenant).ok(),
        school: school.and_then(|s| Urn::parse(s).ok()),
    };
    let token = issuer.signer.mint(&grant, Duration::from_secs(60)).expect("token");
    issuer.verifier.verify(&token).expect("verified").scope().expect("scope")
}

/// The next `n` changes: (position, referral id) each; a change that never
/// arrives fails the test rather than hanging it.
async fn next(watch: &mut Watch, n: usize) -> Vec<(i64, i64)> {
    let mut got = Vec::new();
    for _ in 0..n {
        let change = tokio::time::timeout(Duration::from_secs(20), watch.next())
            .await
            .expect("a change within 20 s")
            .expect("stream open")
            .expect("a change");
        got.push((change.position, change.referral.map_or(0, |r| r.id)));
    }
    got
}

fn increasing(changes: &[(i64, i64)]) -> bool {
    changes.windows(2).all(|pair| pair[0].0 < pair[1].0)
}

async fn a_watcher_that_falls_behind_the_broadcast_catches_up_from_the_outbox(engine: Engine) {
    let f = fixture(engine, 1).await;
    let mut watching = f.watch("886", Start::Now).await.expect("watching").changes;
    let mut relayed = f.feed.changes.subscribe();
    for id in 1..=20 {
        f.commit("886", id).await;
    }
    // Once the relay has sent the last change, a one-change broadcast has
    // dropped the nineteen before it for the watcher that did not read.
    loop {
        match relayed.recv().await {
            Ok(change) if change.message.referral.as_ref().is_some_and(|r| r.id == 20) => break,
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => panic!("the relay stopped"),
        }
    }
    let got = next(&mut watching, 20).await;
    assert_eq!(got.iter().map(|c| c.1).collect::<Vec<_>>(), (1..=20).collect::<Vec<_>>(), "all of them, in order");
    assert!(increasing(&got), "{got:?}");
    f.commit("886", 21).await;
    assert_eq!(next(&mut watching, 1).await[0].1, 21, "and nothing twice");
}

async fn a_watcher_resuming_gets_every_later_change_of_its_authority_across_pages(engine: Engine) {
    let f = fixture(engine, 16).await;
    let start = f.watch("886", Start::Now).await.expect("watching").after;
    for id in 1..=450 {
        f.commit(if id % 2 == 0 { "886" } else { "887" }, id).await;
    }
    let mut resumed = f.watch("886", Start::After(start)).await.expect("resumed").changes;
    let got = next(&mut resumed, 225).await;
    assert_eq!(got.iter().map(|c| c.1).collect::<Vec<_>>(), (1..=450).filter(|id| id % 2 == 0).collect::<Vec<_>>());
    assert!(increasing(&got), "{got:?}");
    f.commit("887", 451).await;
    f.commit("886", 452).await;
    assert_eq!(next(&mut resumed, 1).await[0].1, 452, "then live, its authority's only");
}

async fn changes_past_the_retention_are_forgotten_and_resuming_before_them_is_data_loss(engine: Engine) {
    let f = fixture(engine, 16).await;
    for id in 1..=3 {
        f.commit("886", id).await;
    }
    assert_eq!(forget_old_changes(&f.store, chrono::Utc::now()).await.expect("forgot"), 0, "all are recent");
    let later = chrono::Utc::now() + KEEP_CHANGES + chrono::TimeDelta::minutes(1);
    assert_eq!(forget_old_changes(&f.store, later).await.expect("forgot"), 3);

    let Err(forgotten) = f.watch("886", Start::After(Position(1))).await else { panic!("resumed over a gap") };
    let status = Status::from(forgotten);
    assert_eq!(status.code(), tonic::Code::DataLoss);
    assert!(status.message().contains("reload") && status.message().contains("72 hours"), "{}", status.message());

    let Err(ahead) = f.watch("886", Start::After(Position(4))).await else { panic!("resumed from the future") };
    let status = Status::from(ahead);
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(format!("{status:?}").contains(RESUME_FIELD), "{status:?}");

    // Resuming from the horizon itself misses nothing, and positions go on
    // from where they were, never reused after the deletion.
    let mut resumed = f.watch("886", Start::After(Position(3))).await.expect("resumed").changes;
    f.commit("886", 4).await;
    assert_eq!(next(&mut resumed, 1).await, [(4, 4)]);
}

on_both_engines!(
    a_watcher_that_falls_behind_the_broadcast_catches_up_from_the_outbox,
    a_watcher_resuming_gets_every_later_change_of_its_authority_across_pages,
    changes_past_the_retention_are_forgotten_and_resuming_before_them_is_data_loss,
);

#[test]
fn a_position_sent_by_a_client_is_never_negative() {
    assert_eq!(Position::parse(0), Ok(Position(0)));
    assert_eq!(Position::parse(42).map(Position::get), Ok(42));
    assert!(Position::parse(-1).unwrap_err().contains("0 or more"));
}

#[test]
fn a_change_reaches_its_authority_its_school_and_the_professional_it_is_allocated_to() {
    let audience = Audience { tenant: "886".into(), school: 100001, allocated_to: Some("ep-jones".into()) };
    assert!(audience.includes(&scope(Role::LaManager, "886", None, "m")));
    assert!(!audience.includes(&scope(Role::LaManager, "887", None, "m")), "another authority");
    assert!(audience.includes(&scope(Role::Senco, "886", Some("100001"), "s")));
    assert!(!audience.includes(&scope(Role::Senco, "886", Some("100002"), "s")), "another school");
    assert!(audience.includes(&scope(Role::EducationalPsychologist, "886", None, "ep-jones")));
    assert!(!audience.includes(&scope(Role::EducationalPsychologist, "886", None, "ep-smith")), "not theirs");
    assert!(!audience.includes(&scope(Role::EducationalPsychologist, "887", None, "ep-jones")), "same name, elsewhere");
}
