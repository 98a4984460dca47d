//! The referrals service as production runs it on PostgreSQL: several replicas
//! over one database. A watcher connected to one replica sees every change made
//! through any of them, once and in commit order, within its own scope, and
//! misses nothing while its replica reconnects to the database. Positions mean
//! the same on every replica: a watcher resumes on another replica from the last
//! position the first gave it.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};
use sen_platform::identity::{AttachIdentity, Role};
use sen_platform::testing::{Engine, TestDatabase};
use sen_proto::v1 as pb;
use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
use sen_tests::platform::{ReferralsClient, TestPlatform, today};
use sen_tests::referral_steps::{accept, submit};
use tokio_stream::StreamExt;
use tonic::Streaming;
use tonic::transport::Endpoint;

/// Two referrals replicas over one fresh PostgreSQL database, beside a platform
/// that answers for schools and pupils.
struct Replicas {
    platform: TestPlatform,
    db: TestDatabase,
    addrs: [std::net::SocketAddr; 2],
}

impl Replicas {
    async fn start() -> Self {
        let platform = TestPlatform::start(Engine::Postgres).await.unwrap();
        let db = TestDatabase::create(Engine::Postgres).await.unwrap();
        let mut addrs = Vec::new();
        for _ in 0..2 {
            // Each replica has its own pool, as separate processes would.
            let store = sen_referrals::Store::connect(&db.url, &Default::default()).await.unwrap();
            let pupils = Endpoint::from_shared(format!("http://{}", platform.addr)).unwrap().connect_lazy();
            let api = sen_referrals::ReferralsApi::with_clock(
                store,
                sen_referrals::pupils::Pupils::new(pupils),
                Arc::new(today),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addrs.push(listener.local_addr().unwrap());
            tokio::spawn(
                tonic::transport::Server::builder()
                    .add_service(sen_referrals::service(api, &platform.issuer.verifier))
                    .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
            );
        }
        Self { platform, db, addrs: [addrs[0], addrs[1]] }
    }

    /// A client of replica `n` for `role` in 886 (and `school`).
    async fn client(&self, n: usize, role: Role, school: Option<u32>) -> ReferralsClient {
        let channel = Endpoint::from_shared(format!("http://{}", self.addrs[n])).unwrap().connect().await.unwrap();
        let attach = AttachIdentity::new(&self.platform.token(role, Some("886"), school)).unwrap();
        ReferralsServiceClient::with_interceptor(channel, attach)
    }

    async fn watch(&self, n: usize, role: Role, school: Option<u32>) -> Streaming<pb::ReferralChange> {
        self.watch_after(n, role, school, None).await
    }

    /// A watch on replica `n` resuming after `after`.
    async fn watch_after(
        &self,
        n: usize,
        role: Role,
        school: Option<u32>,
        after: Option<i64>,
    ) -> Streaming<pb::ReferralChange> {
        let mut client = self.client(n, role, school).await;
        let request = pb::WatchReferralsRequest { after_position: after };
        client.watch_referrals(request).await.unwrap().into_inner()
    }

    /// Cuts every replica's listening connection, as a network failure would.
    async fn cut_listeners(&self) {
        let db = Database::connect(&self.db.url).await.unwrap();
        let cut = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                   WHERE datname = current_database() AND query ILIKE 'LISTEN%'";
        let rows = db.query_all(sea_orm::Statement::from_string(db.get_database_backend(), cut)).await.unwrap();
        assert_eq!(rows.len(), 2, "each replica listens on one connection");
        db.close().await.unwrap();
    }
}

/// Schools 100001 and 100002 of 886 with a pupil at each; returns the pupils' ids.
async fn pupils(platform: &TestPlatform) -> [i64; 2] {
    let mut officer = platform.pupils(Role::CaseOfficer, Some("886"), None).await;
    let mut ids = [0; 2];
    for (n, urn) in [100001u32, 100002].into_iter().enumerate() {
        platform.school_886(urn, &format!("200{}", n + 1), pb::Phase::Primary, (4, 11), 200).await;
        let upn = sen_pupils::domain::Upn::from_body(&format!("886200125{:03}", n + 1)).expect("upn");
        let fields = pb::PupilFields {
            upn: upn.as_str().into(),
            legal_forename: "Musa".into(),
            legal_surname: "Ali".into(),
            date_of_birth: Some(pb::Date { year: 2017, month: 2, day: 2 }),
            school_urn: urn.to_string(),
            ..Default::default()
        };
        let request = pb::CreatePupilRequest {
            pupil: Some(fields),
            sen_status: pb::SenProvision::SenSupport as i32,
            primary_need_code: "SLCN".into(),
            ..Default::default()
        };
        ids[n] = officer.create_pupil(request).await.expect("pupil").into_inner().id;
    }
    ids
}

/// The next change on `stream`: (referral id, status it moved to). A change that
/// never arrives fails the test rather than hanging it.
async fn next(stream: &mut Streaming<pb::ReferralChange>) -> (i64, i32) {
    let change = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("a change within 20 s")
        .expect("stream open")
        .expect("change");
    (change.referral.map_or(0, |r| r.id), change.change.map_or(0, |c| c.to))
}

/// The next change with its position: (position, referral id, status it moved to).
async fn next_at(stream: &mut Streaming<pb::ReferralChange>) -> (i64, i64, i32) {
    let change = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("a change within 20 s")
        .expect("stream open")
        .expect("change");
    (change.position, change.referral.map_or(0, |r| r.id), change.change.map_or(0, |c| c.to))
}

use pb::ReferralStatus::{Accepted, Submitted};

#[tokio::test]
async fn a_watcher_on_one_replica_sees_each_change_made_through_another_once_in_order() {
    let replicas = Replicas::start().await;
    let [a, _] = pupils(&replicas.platform).await;
    let mut on_first = replicas.watch(0, Role::LaManager, None).await;
    let mut on_second = replicas.watch(1, Role::LaManager, None).await;

    let mut senco_on_second = replicas.client(1, Role::Senco, Some(100001)).await;
    let r = submit(&mut senco_on_second, a, "100001", "k1").await;
    let mut officer_on_first = replicas.client(0, Role::CaseOfficer, None).await;
    accept(&mut officer_on_first, &r).await;

    // Had either replica delivered a change twice (its own send and the relay's),
    // the second message would repeat the first.
    for watcher in [&mut on_first, &mut on_second] {
        assert_eq!(next(watcher).await, (r.id, Submitted as i32));
        assert_eq!(next(watcher).await, (r.id, Accepted as i32));
    }
}

#[tokio::test]
async fn a_watcher_on_another_replica_sees_only_its_scope() {
    let replicas = Replicas::start().await;
    let [a, b] = pupils(&replicas.platform).await;
    let mut other_school = replicas.watch(0, Role::Senco, Some(100002)).await;

    let mut senco_on_second = replicas.client(1, Role::Senco, Some(100001)).await;
    submit(&mut senco_on_second, a, "100001", "not-theirs").await;
    let mut theirs_on_second = replicas.client(1, Role::Senco, Some(100002)).await;
    let own = submit(&mut theirs_on_second, b, "100002", "theirs").await;

    assert_eq!(next(&mut other_school).await, (own.id, Submitted as i32), "nothing of the other school first");
}

#[tokio::test]
async fn a_watcher_misses_nothing_while_the_replicas_reconnect_to_the_database() {
    let replicas = Replicas::start().await;
    let [a, _] = pupils(&replicas.platform).await;
    let mut on_first = replicas.watch(0, Role::LaManager, None).await;
    let _ready = replicas.watch(1, Role::LaManager, None).await;
    let mut senco_on_second = replicas.client(1, Role::Senco, Some(100001)).await;
    let before = submit(&mut senco_on_second, a, "100001", "before").await;
    assert_eq!(next(&mut on_first).await, (before.id, Submitted as i32));

    replicas.cut_listeners().await;
    let during = submit(&mut senco_on_second, a, "100001", "during").await;
    let mut officer_on_first = replicas.client(0, Role::CaseOfficer, None).await;
    accept(&mut officer_on_first, &during).await;

    assert_eq!(next(&mut on_first).await, (during.id, Submitted as i32));
    assert_eq!(next(&mut on_first).await, (during.id, Accepted as i32), "once each");
}

#[tokio::test]
async fn a_watcher_resumes_on_another_replica_from_the_position_the_first_gave_it() {
    let replicas = Replicas::start().await;
    let [a, _] = pupils(&replicas.platform).await;
    let mut on_first = replicas.watch(0, Role::LaManager, None).await;
    let mut senco_on_second = replicas.client(1, Role::Senco, Some(100001)).await;
    let first = submit(&mut senco_on_second, a, "100001", "first").await;
    let (last, id, _) = next_at(&mut on_first).await;
    assert_eq!(id, first.id);
    drop(on_first);

    // Four changes, through both replicas, while the watcher is away.
    let mut officer_on_first = replicas.client(0, Role::CaseOfficer, None).await;
    let mut senco_on_first = replicas.client(0, Role::Senco, Some(100001)).await;
    let second = submit(&mut senco_on_first, a, "100001", "second").await;
    accept(&mut officer_on_first, &first).await;
    let third = submit(&mut senco_on_second, a, "100001", "third").await;
    accept(&mut officer_on_first, &second).await;

    let mut on_second = replicas.watch_after(1, Role::LaManager, None, Some(last)).await;
    let mut missed = Vec::new();
    for _ in 0..4 {
        missed.push(next_at(&mut on_second).await);
    }
    let what: Vec<(i64, i32)> = missed.iter().map(|m| (m.1, m.2)).collect();
    assert_eq!(
        what,
        [
            (second.id, Submitted as i32),
            (first.id, Accepted as i32),
            (third.id, Submitted as i32),
            (second.id, Accepted as i32)
        ]
    );
    assert!(missed.windows(2).all(|p| p[0].0 < p[1].0) && missed[0].0 > last, "{missed:?}");
    let live = accept(&mut officer_on_first, &third).await;
    assert_eq!(next_at(&mut on_second).await.1, live.id, "then live, nothing replayed twice");
}

#[tokio::test]
async fn every_replica_gives_the_same_positions_in_the_same_order_under_writes_through_both() {
    const EACH: usize = 8;
    let replicas = Arc::new(Replicas::start().await);
    let [a, _] = pupils(&replicas.platform).await;
    let mut watchers = [replicas.watch(0, Role::LaManager, None).await, replicas.watch(1, Role::LaManager, None).await];
    // A third watcher hops from replica to replica every three changes.
    let mut hopping_stream = replicas.watch(0, Role::LaManager, None).await;
    let mut writers = Vec::new();
    for replica in 0..2 {
        for w in 0..2 {
            let replicas = replicas.clone();
            writers.push(tokio::spawn(async move {
                let mut senco = replicas.client(replica, Role::Senco, Some(100001)).await;
                let mut officer = replicas.client(1 - replica, Role::CaseOfficer, None).await;
                for n in 0..EACH {
                    let r = submit(&mut senco, a, "100001", &format!("r{replica}-w{w}-{n}")).await;
                    accept(&mut officer, &r).await;
                }
            }));
        }
    }
    let total = 4 * EACH * 2;
    let mut hopping = Vec::new();
    let mut replica = 0;
    loop {
        for _ in 0..3.min(total - hopping.len()) {
            hopping.push(next_at(&mut hopping_stream).await);
        }
        let Some(&(last, _, _)) = hopping.last().filter(|_| hopping.len() < total) else { break };
        replica = 1 - replica;
        hopping_stream = replicas.watch_after(replica, Role::LaManager, None, Some(last)).await;
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    let mut sequences = Vec::new();
    for watcher in &mut watchers {
        let mut seen = Vec::new();
        for _ in 0..total {
            seen.push(next_at(watcher).await);
        }
        sequences.push(seen);
    }
    assert!(sequences[0].windows(2).all(|p| p[0].0 < p[1].0), "positions only go up: {:?}", sequences[0]);
    assert_eq!(
        sequences[0], sequences[1],
        "both replicas tell the same changes at the same positions, in the same order"
    );
    let distinct: std::collections::BTreeSet<(i64, i32)> = sequences[0].iter().map(|s| (s.1, s.2)).collect();
    assert_eq!(distinct.len(), total, "each change once");
    assert_eq!(hopping, sequences[0], "a watcher resuming on either replica sees exactly the same");
}
