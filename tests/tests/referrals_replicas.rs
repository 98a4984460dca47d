//! The referrals service as production runs it on PostgreSQL: several replicas
//! over one database. A watcher connected to one replica sees every change made
//! through any of them, once and in commit order, within its own scope, and
//! misses nothing while its replica reconnects to the database.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};
use sen_platform::identity::{AttachIdentity, Role};
use sen_platform::testing::{Engine, TestDatabase};
use sen_proto::v1 as pb;
use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
use sen_tests::platform::{ReferralsClient, TestPlatform, today};
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
        let mut client = self.client(n, role, school).await;
        client.watch_referrals(pb::WatchReferralsRequest {}).await.unwrap().into_inner()
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
            primary_need: pb::NeedType::Slcn as i32,
            ..Default::default()
        };
        ids[n] = officer.create_pupil(request).await.expect("pupil").into_inner().id;
    }
    ids
}

async fn submit(client: &mut ReferralsClient, pupil: i64, urn: u32, key: &str) -> pb::Referral {
    let body = pb::ReferralBody {
        pupil_id: pupil,
        school_urn: urn.to_string(),
        kind: "educational_psychology".into(),
        broad_areas: vec!["communication_and_interaction".into()],
        concern: "Speech is hard to understand".into(),
        graduated_approach: Some(pb::GraduatedApproach {
            summary: "Small-group language work".into(),
            ..Default::default()
        }),
        consent: Some(pb::ParentalConsent {
            given_by: "Mother, Amina Ali".into(),
            given_on: Some(pb::Date { year: 2026, month: 11, day: 10 }),
            method: "signed_form".into(),
        }),
        priority: "routine".into(),
    };
    let request = pb::SubmitReferralRequest { referral: Some(body), idempotency_key: key.into() };
    client.submit_referral(request).await.expect("submitted").into_inner()
}

async fn accept(client: &mut ReferralsClient, r: &pb::Referral) -> pb::Referral {
    let request = pb::ChangeReferralStatusRequest {
        id: r.id,
        version: r.version,
        event: pb::ReferralEvent::Accept as i32,
        note: String::new(),
    };
    client.change_referral_status(request).await.expect("accepted").into_inner()
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

use pb::ReferralStatus::{Accepted, Submitted};

#[tokio::test]
async fn a_watcher_on_one_replica_sees_each_change_made_through_another_once_in_order() {
    let replicas = Replicas::start().await;
    let [a, _] = pupils(&replicas.platform).await;
    let mut on_first = replicas.watch(0, Role::LaManager, None).await;
    let mut on_second = replicas.watch(1, Role::LaManager, None).await;

    let mut senco_on_second = replicas.client(1, Role::Senco, Some(100001)).await;
    let r = submit(&mut senco_on_second, a, 100001, "k1").await;
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
    submit(&mut senco_on_second, a, 100001, "not-theirs").await;
    let mut theirs_on_second = replicas.client(1, Role::Senco, Some(100002)).await;
    let own = submit(&mut theirs_on_second, b, 100002, "theirs").await;

    assert_eq!(next(&mut other_school).await, (own.id, Submitted as i32), "nothing of the other school first");
}

#[tokio::test]
async fn a_watcher_misses_nothing_while_the_replicas_reconnect_to_the_database() {
    let replicas = Replicas::start().await;
    let [a, _] = pupils(&replicas.platform).await;
    let mut on_first = replicas.watch(0, Role::LaManager, None).await;
    let _ready = replicas.watch(1, Role::LaManager, None).await;
    let mut senco_on_second = replicas.client(1, Role::Senco, Some(100001)).await;
    let before = submit(&mut senco_on_second, a, 100001, "before").await;
    assert_eq!(next(&mut on_first).await, (before.id, Submitted as i32));

    replicas.cut_listeners().await;
    let during = submit(&mut senco_on_second, a, 100001, "during").await;
    let mut officer_on_first = replicas.client(0, Role::CaseOfficer, None).await;
    accept(&mut officer_on_first, &during).await;

    assert_eq!(next(&mut on_first).await, (during.id, Submitted as i32));
    assert_eq!(next(&mut on_first).await, (during.id, Accepted as i32), "once each");
}
